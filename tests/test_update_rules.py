"""Which loss moves which network, by how much: one iteration of each engine with plain SGD against
the same iteration written out by hand (GradientTape, the papers' losses in plain ops).

The other tests show that weights move and that two engines agree; these pin the arithmetic
itself: labels and signs, the gradient penalty's weight and where it is taken, one real batch per
critic step, which network each loss updates and in what order. Tiny stand-in networks (4x4x1
images, a 3-d z, no BatchNorm or Dropout unless a test is about training mode) keep the hand
computation exact and fast.
"""
import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_keras.hparams import draw_latent
from gan_keras.models.spec import Networks
from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine

SHAPE, Z, N, LR = (4, 4, 1), 3, 5, 0.05


def init(seed):
    return keras.initializers.RandomUniform(-0.6, 0.6, seed=seed)


def tiny_generator(frozen_bn="batch", latent_dim=Z):
    return keras.Sequential([keras.Input((latent_dim,)),
                             keras.layers.Dense(6, activation="tanh", kernel_initializer=init(1)),
                             keras.layers.Dense(16, activation="tanh", kernel_initializer=init(2)),
                             keras.layers.Reshape(SHAPE)], name="generator")


def tiny_bn_generator(frozen_bn="batch", latent_dim=Z):
    """tiny_generator with a BatchNormalization (a quick momentum, so one update shows), where
    training mode matters: batch statistics and moving-statistic updates."""
    return keras.Sequential([keras.Input((latent_dim,)),
                             keras.layers.Dense(6, kernel_initializer=init(1)),
                             keras.layers.BatchNormalization(momentum=0.5),
                             keras.layers.Activation("tanh"),
                             keras.layers.Dense(16, activation="tanh", kernel_initializer=init(2)),
                             keras.layers.Reshape(SHAPE)], name="generator")


def tiny_discriminator(output_activation):
    def build(frozen_bn="batch"):
        return keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(),
                                 keras.layers.Dense(6, activation="tanh", kernel_initializer=init(3)),
                                 keras.layers.Dense(1, activation=output_activation, kernel_initializer=init(4))],
                                name="discriminator")
    return build


def tiny_engine(model, output_activation, generator=tiny_generator, **hp):
    spec = get_model(model)
    spec = dataclasses.replace(spec, networks={"dissertation": Networks(
        generators={SHAPE: generator}, discriminators={SHAPE: tiny_discriminator(output_activation)})})
    return build_engine(spec, spec.hyperparams(optimizer="sgd", d_lr=LR, g_lr=LR, latent_dim=Z, **hp), SHAPE)


def real_batches(count):
    rng = np.random.default_rng(42)
    return [rng.uniform(-1, 1, (N, *SHAPE)).astype("float32") for _ in range(count)]


def copies(engine):
    """Stand-alone copies of G and D to compute the expected iteration on."""
    out = []
    for model in (engine.generator, engine.discriminator):
        twin = keras.models.clone_model(model)
        twin.set_weights(model.get_weights())
        out.append(twin)
    return out


def sgd_step(model, loss_fn):
    """One plain SGD step of ``model``'s weights down ``loss_fn()``'s gradient."""
    with tf.GradientTape() as tape:
        loss = loss_fn()
    for w, g in zip(model.trainable_weights, tape.gradient(loss, model.trainable_weights)):
        w.assign(w - LR * g)


def assert_same_weights(engine, g, d):
    for mine, expected in ((engine.discriminator, d), (engine.generator, g)):
        for a, b in zip(mine.get_weights(), expected.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=mine.name)


def test_stacked_bce_iteration_is_the_dissertations_update():
    """D: a step on its real batch labelled 1, then one on G(z) labelled 0 (G in inference mode);
    G: a step on -log D(G(z')) through the updated, frozen D."""
    engine = tiny_engine("GAN", "sigmoid")
    g, d = copies(engine)
    real = real_batches(1)[0]
    rng, replay = np.random.default_rng(7), np.random.default_rng(7)
    z_d, z_g = draw_latent(replay, (N, Z)), draw_latent(replay, (N, Z))

    fake = g(z_d, training=False)
    sgd_step(d, lambda: -tf.reduce_mean(tf.math.log(d(real, training=True))))
    sgd_step(d, lambda: -tf.reduce_mean(tf.math.log(1.0 - d(fake, training=True))))
    sgd_step(g, lambda: -tf.reduce_mean(tf.math.log(d(g(z_g, training=True), training=False))))

    engine.train_iteration(lambda: real, rng)
    assert_same_weights(engine, g, d)


def test_stacked_wasserstein_iteration_clips_after_each_critic_update():
    """WGAN (eq. 3-1, Keras-GAN's labels): the critic steps up E f(x), then down E f(G(z)), each
    followed by clipping to [-c, c]; G steps up E f(G(z'))."""
    engine = tiny_engine("WGAN", "linear", critic_steps=1, clip_value=0.3)
    g, d = copies(engine)
    real = real_batches(1)[0]
    rng, replay = np.random.default_rng(8), np.random.default_rng(8)
    z_d, z_g = draw_latent(replay, (N, Z)), draw_latent(replay, (N, Z))

    def clip():
        for w in d.trainable_weights:
            w.assign(tf.clip_by_value(w, -0.3, 0.3))

    fake = g(z_d, training=False)
    sgd_step(d, lambda: -tf.reduce_mean(d(real, training=True)))
    clip()
    sgd_step(d, lambda: tf.reduce_mean(d(fake, training=True)))
    clip()
    sgd_step(g, lambda: -tf.reduce_mean(d(g(z_g, training=True), training=False)))

    engine.train_iteration(lambda: real, rng)
    assert_same_weights(engine, g, d)


def wgangp_draws(engine, critic_steps):
    """The step's draws from its seed generator, replayed: per critic step epsilon, then the critic's
    z; at the end G's z. The generator's state is put back, so the engine draws the same."""
    seed_state = engine.model.seed_generator.state
    saved = seed_state.numpy()
    draws = [(keras.random.uniform((N, 1, 1, 1), seed=engine.model.seed_generator),
              keras.random.normal((N, Z), seed=engine.model.seed_generator)) for _ in range(critic_steps)]
    z_g = keras.random.normal((N, Z), seed=engine.model.seed_generator)
    seed_state.assign(saved)
    return draws, z_g


def gulrajani_critic_loss(d, fake, real, eps, gp_weight):
    """E f(G(z)) - E f(x) + lambda E (||grad f(x_hat)|| - 1)^2 at x_hat = eps x + (1 - eps) G(z)."""
    x_hat = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as inner:
        inner.watch(x_hat)
        score = tf.reduce_sum(d(x_hat, training=True))
    norms = tf.sqrt(tf.reduce_sum(tf.square(inner.gradient(score, x_hat)), axis=[1, 2, 3]))
    penalty = tf.reduce_mean(tf.square(norms - 1.0))
    return tf.reduce_mean(d(fake, training=True)) - tf.reduce_mean(d(real, training=True)) + gp_weight * penalty


@pytest.mark.parametrize("critic_call", ["separate", "joint"])
def test_wgangp_iteration_is_gulrajanis_update(critic_call):
    """Two critic steps, each on its own real batch, fresh z and epsilon: E f(G(z)) - E f(x) +
    lambda E (||grad f(x_hat)|| - 1)^2 at x_hat = eps x + (1 - eps) G(z); then G steps down
    -E f(G(z')) through the updated critic. The critic is nonlinear, so where the penalty is
    taken matters. ``--critic-call joint`` (real and fake in one critic call) is the same update."""
    engine = tiny_engine("WGANGP", "linear", critic_steps=2, gp_weight=3.0, critic_call=critic_call)
    g, d = copies(engine)
    reals = real_batches(2)
    draws, z_g = wgangp_draws(engine, 2)

    for real, (eps, z) in zip(reals, draws):
        sgd_step(d, lambda: gulrajani_critic_loss(d, g(z, training=True), real, eps, 3.0))
    sgd_step(g, lambda: -tf.reduce_mean(d(g(z_g, training=True), training=True)))

    logs = engine.train_iteration(iter(reals).__next__, np.random.default_rng(0))
    assert_same_weights(engine, g, d)
    assert logs["d_loss"] == pytest.approx(-logs["divergence"] + 3.0 * logs["gp"], rel=1e-5)


def test_wgangp_joint_critic_call_scores_both_batches_in_one_call_and_refuses_batchnorm():
    from gan_keras.errors import ConfigError

    engine = tiny_engine("WGANGP", "linear", critic_steps=1, critic_call="joint")
    real, fake = real_batches(2)
    calls, call = [], engine.discriminator.call
    engine.discriminator.call = lambda x, **kw: (calls.append(x.shape[0]), call(x, **kw))[1]
    real_score, fake_score = engine.model.critic_scores(real, fake)
    d = engine.discriminator
    assert calls == [2 * N]
    assert (float(real_score), float(fake_score)) == pytest.approx(
        (float(tf.reduce_mean(d(real))), float(tf.reduce_mean(d(fake)))), rel=1e-6)

    def bn_critic(frozen_bn="batch"):
        return keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(6),
                                 keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(1)])
    spec = get_model("WGANGP")
    spec = dataclasses.replace(spec, networks={"dissertation": Networks(
        generators={SHAPE: tiny_generator}, discriminators={SHAPE: bn_critic})})
    with pytest.raises(ConfigError, match=r"BatchNorm \(bn\).*--critic-call separate"):
        build_engine(spec, spec.hyperparams(latent_dim=Z, critic_call="joint"), SHAPE)
    build_engine(spec, spec.hyperparams(latent_dim=Z), SHAPE)   # separate calls: allowed


def test_wgangp_runs_g_in_training_mode_in_the_critic_steps_too():
    """With BatchNorm in G: the critic's fakes come from G with batch statistics, and G's moving
    statistics move in every critic step as well as in G's (wgangp.py's docstring: as Keras-GAN
    under Keras 2.2 did). Inference mode would train the critic on other fakes than G's update sees."""
    engine = tiny_engine("WGANGP", "linear", generator=tiny_bn_generator, critic_steps=2, gp_weight=3.0)
    g, d = copies(engine)
    reals = real_batches(2)
    draws, z_g = wgangp_draws(engine, 2)
    moving = [w for w in g.non_trainable_weights if "moving" in w.path]
    initial = [w.numpy() for w in moving]

    for real, (eps, z) in zip(reals, draws):
        sgd_step(d, lambda: gulrajani_critic_loss(d, g(z, training=True), real, eps, 3.0))
    sgd_step(g, lambda: -tf.reduce_mean(d(g(z_g, training=True), training=True)))

    engine.train_iteration(iter(reals).__next__, np.random.default_rng(0))
    assert_same_weights(engine, g, d)   # get_weights() holds the BatchNorm moving statistics too
    assert len(moving) == 2 and all(np.abs(w.numpy() - v).max() > 1e-3 for w, v in zip(moving, initial))


def test_published_training_defaults_reach_the_optimizers_and_engines():
    """The defaults that shape training, as built (not only as declared)."""
    wgangp = build_engine(get_model("WGANGP"), get_model("WGANGP").hyperparams(), (28, 28, 1))
    assert wgangp.model.hp.critic_steps == 5 and wgangp.model.hp.gp_weight == 10.0
    assert (float(wgangp.d_optimizer.learning_rate), wgangp.d_optimizer.beta_1, wgangp.d_optimizer.beta_2) == \
        pytest.approx((1e-4, 0.5, 0.9))
    dcgan = build_engine(get_model("DCGAN"), get_model("DCGAN").hyperparams(), (28, 28, 1))
    assert dcgan.hp.frozen_bn == "batch" and dcgan.hp.critic_steps == 1
    assert (float(dcgan.g_optimizer.learning_rate), dcgan.g_optimizer.beta_1, dcgan.g_optimizer.beta_2,
            dcgan.g_optimizer.epsilon) == pytest.approx((2e-4, 0.5, 0.999, 1e-7))
    wgan = build_engine(get_model("WGAN"), get_model("WGAN").hyperparams(), (28, 28, 1))
    assert type(wgan.d_optimizer).__module__ == "gan_keras.training.optimizers"
    assert (wgan.hp.critic_steps, wgan.hp.clip_value, float(wgan.d_optimizer.learning_rate)) == \
        pytest.approx((5, 0.01, 5e-5))


def test_every_batch_reaches_the_networks_in_minus_one_to_one():
    """uint8 0 / 255 become exactly -1 / 1 on the host (ImageDataset.batch) and on the device
    (--engine compiled's DeviceData), where the generator's tanh lives."""
    from gan_keras.data.base import ImageDataset
    from gan_keras.training.compiled import DeviceData

    levels = np.array([0, 85, 170, 255], np.uint8)
    images = np.broadcast_to(levels[:, None, None, None], (4, 2, 2, 1)).copy()
    expected = levels.astype(np.float32) / 127.5 - 1.0
    assert expected[0] == -1.0 and expected[-1] == 1.0
    host = ImageDataset("levels", images).batch(np.arange(4))
    np.testing.assert_array_equal(host, np.broadcast_to(expected[:, None, None, None], (4, 2, 2, 1)))
    device = np.asarray(DeviceData(images, 16, keras.random.SeedGenerator(0)).batches(2))
    assert device.shape == (2, 16, 2, 2, 1)
    firsts = device[..., 0, 0, 0].ravel()
    assert set(firsts.tolist()) <= set(expected.tolist()) and len(set(firsts.tolist())) > 1
    assert np.all(device == device[..., :1, :1, :])   # each drawn image whole, as stored


# -- hyperparameters that must reach the step (a mutation audit found these untested) ------------
def test_the_stacked_engine_draws_the_runs_latent_for_d_and_for_g():
    engine = tiny_engine("GAN", "sigmoid", latent="uniform")
    seen = []
    for model, method in ((engine.generator, "predict_on_batch"), (engine.stacked, "train_on_batch")):
        original = getattr(model, method)
        setattr(model, method, lambda z, *a, _original=original, **k: (seen.append(np.asarray(z)), _original(z, *a, **k))[1])
    engine.train_iteration(lambda: real_batches(1)[0], np.random.default_rng(0))
    assert len(seen) == 2
    for z in seen:   # U[-1, 1], not N(0, 1) nor U[0, 1)
        assert z.shape == (N, Z) and np.abs(z).max() <= 1.0 and z.min() < 0.0


def test_wgangp_takes_the_penalty_in_the_runs_form(monkeypatch):
    from gan_keras.training import wgangp

    forms, original = [], wgangp.gradient_penalty
    monkeypatch.setattr(wgangp, "gradient_penalty", lambda *a: (forms.append(a[-1]), original(*a))[1])
    engine = tiny_engine("WGANGP", "linear", critic_steps=1, gp_form="one-sided")
    engine.train_iteration(lambda: real_batches(1)[0], np.random.default_rng(0))
    assert forms and set(forms) == {"one-sided"}


def test_decision_thresholds_are_the_midpoint_of_the_targets():
    from gan_keras.training.d_f1 import MIDPOINT
    from gan_keras.training.losses import LOSSES

    for name in ("bce", "least_squares"):
        row = LOSSES[name]
        assert row.decision_threshold == (row.real_label + row.fake_label) / 2 == 0.5, name
    assert LOSSES["wasserstein"].decision_threshold == MIDPOINT   # a critic's output has no fixed scale
