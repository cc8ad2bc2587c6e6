"""BEGAN, BEGAN-CS and BEGAN v3 training steps (seed 001), on tiny stand-in networks (8x8x1, 4-d z)."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_keras.errors import ConfigError
from gan_keras.hparams import COMMON, Hyperparams, make_optimizer
from gan_keras.models.spec import ModelSpec, Networks
from gan_keras.registry import get_model
from gan_keras.training import began
from gan_keras.training.began import (BEGANCSStep, BEGANStep, constraint_loss, next_k, reconstruction_loss)
from gan_keras.training.began_v3 import BEGANV3Step, kl_divergence
from gan_keras.training.engine import build_engine

SHAPE, Z = (8, 8, 1), 4
STEPS = (BEGANStep, BEGANCSStep, BEGANV3Step)
# The forms every run had before l2_form and constraint_form existed (their declared defaults).
OLD_FORMS = {"l2_form": "pixel_mean", "constraint_form": "l2_norm"}


# -- stand-in networks -------------------------------------------------------------------------------
class Sampling(keras.layers.Layer):
    """mean + exp(log_var / 2) * eps with its own seed generator when training, the mean otherwise."""

    def __init__(self, seed, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        mean, log_var = inputs
        if not training:
            return mean
        eps = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * eps


def init(seed):
    return keras.initializers.GlorotUniform(seed)


def generator(seed=0):
    z = keras.Input((Z,))
    h = keras.layers.Dense(16, activation="leaky_relu", kernel_initializer=init(seed))(z)
    x = keras.layers.Dense(64, activation="tanh", kernel_initializer=init(seed + 1))(h)
    return keras.Model(z, keras.layers.Reshape(SHAPE)(x))


def autoencoder(seed=0, variational=False):
    x = keras.Input(SHAPE)
    h = keras.layers.Dense(16, activation="elu", kernel_initializer=init(seed + 2))(keras.layers.Flatten()(x))
    mean = keras.layers.Dense(Z, kernel_initializer=init(seed + 3))(h)
    outputs, code = [mean], mean
    if variational:
        log_var = keras.layers.Dense(Z, kernel_initializer=init(seed + 4))(h)
        outputs, code = [mean, log_var], Sampling(seed + 5)([mean, log_var])
    d = keras.layers.Dense(16, activation="elu", kernel_initializer=init(seed + 6))(code)
    reconstruction = keras.layers.Reshape(SHAPE)(keras.layers.Dense(64, kernel_initializer=init(seed + 7))(d))
    return keras.Model(x, [reconstruction, *outputs])


def hyperparams(cls, **values):
    declared = {p.name: p for p in COMMON + cls.PARAMS}
    return Hyperparams(declared, {**cls.PUBLISHED_DEFAULTS, "latent_dim": Z, "d_lr": 1e-3, "g_lr": 1e-3, **values})


def make_step(cls, seed=0, net_seed=0, jit_compile=False, **values):
    hp = hyperparams(cls, **values)
    G, D = generator(net_seed), autoencoder(net_seed, variational=cls is BEGANV3Step)
    step = cls(G, D, hp, seed=seed)
    d_opt, g_opt = make_optimizer(hp, "d"), make_optimizer(hp, "g")
    step.compile(d_optimizer=d_opt, g_optimizer=g_opt, jit_compile=jit_compile)
    d_opt.build(D.trainable_variables)  # as TrainStepEngine does: the optimizer state exists before step 1
    g_opt.build(G.trainable_variables)
    return step


def reals(seed, batch=6):
    return np.random.default_rng(seed).uniform(-1, 1, (1, batch, *SHAPE)).astype(np.float32)


def state(step):
    """What a checkpoint of the train-step engine holds (TrainStepEngine.state_variables)."""
    from gan_keras.training.base import all_variables

    return all_variables(step.generator, step.discriminator, step.d_optimizer, step.g_optimizer) + \
        step.extra_state_variables()


# -- the losses, by hand --------------------------------------------------------------------------------
def residual_pair():
    """Two 2x2x1 images of zeros and reconstructions whose residuals are [1, 0, 0, 0] and [2, -2, 2, 2]."""
    images = np.zeros((2, 2, 2, 1), np.float32)
    recon = np.array([[[[1.0], [0.0]], [[0.0], [0.0]]], [[[2.0], [-2.0]], [[2.0], [2.0]]]], np.float32)
    return tf.constant(images), tf.constant(recon)


def test_reconstruction_loss_is_a_per_pixel_mean_then_a_batch_mean():
    images, recon = residual_pair()
    assert float(reconstruction_loss(images, recon, 1)) == pytest.approx((1 / 4 + 8 / 4) / 2)
    assert float(reconstruction_loss(images, recon, 2)) == pytest.approx((1 / 4 + 16 / 4) / 2)
    assert float(reconstruction_loss(images, recon, 2, "pixel_mean")) == pytest.approx((1 / 4 + 16 / 4) / 2)


def test_batch_norm_l2_is_the_whole_batchs_euclidean_norm_over_the_batch_size():
    """BEGAN-CS's code: sqrt(2 * tf.nn.l2_loss(out - x)) / batch_size = sqrt(1 + 4 * 4) / 2."""
    images, recon = residual_pair()
    assert float(reconstruction_loss(images, recon, 2, "batch_norm")) == pytest.approx(math.sqrt(17) / 2, rel=1e-6)
    # L1 is the per-pixel mean in every code: the form is read only with eta 2
    assert float(reconstruction_loss(images, recon, 1, "batch_norm")) == pytest.approx((1 / 4 + 8 / 4) / 2)
    # the brief's scale: an rms residual of 0.09 at 128 x 64x64x3 reads 0.882 (pixel_mean: 0.0081)
    x, out = tf.zeros((128, 64, 64, 3)), tf.fill((128, 64, 64, 3), 0.09)
    assert float(reconstruction_loss(x, out, 2, "batch_norm")) == pytest.approx(0.09 * math.sqrt(12288 / 128), rel=1e-4)
    assert float(reconstruction_loss(x, out, 2, "pixel_mean")) == pytest.approx(0.0081, rel=1e-4)
    with pytest.raises(ValueError, match="l2_form"):
        reconstruction_loss(images, recon, 2, "batch")


def test_kl_term_matches_the_closed_form():
    rng = np.random.default_rng(0)
    mean, sigma = rng.normal(size=(5, Z)), rng.uniform(0.2, 3.0, (5, Z))
    # KL(N(mu, s^2) || N(0, 1)) = log(1/s) + (s^2 + mu^2)/2 - 1/2 per dimension, summed, then batch mean.
    expected = np.mean(np.sum(-np.log(sigma) + (sigma ** 2 + mean ** 2) / 2 - 0.5, axis=1))
    got = float(kl_divergence(mean.astype(np.float32), np.log(sigma ** 2).astype(np.float32)))
    assert got == pytest.approx(expected, rel=1e-5)
    assert float(kl_divergence(np.zeros((3, Z)), np.zeros((3, Z)))) == 0.0  # the posterior is the prior
    one = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)  # mean 1 in one dimension, unit variance
    assert float(kl_divergence(one, np.zeros_like(one))) == pytest.approx(0.5)


def test_k_update_and_its_clip_by_hand():
    assert float(next_k(0.5, 0.4, 0.1, 0.5, 0.001)) == pytest.approx(0.5 + 0.001 * (0.2 - 0.1))
    assert float(next_k(0.5, 0.4, 0.5, 0.5, 0.001)) == pytest.approx(0.5 - 0.001 * 0.3)
    assert float(next_k(0.0, 0.1, 0.9, 0.5, 0.001)) == 0.0       # would go negative
    assert float(next_k(0.9999, 1.0, 0.0, 0.5, 0.001)) == 1.0    # would pass 1
    step = make_step(BEGANStep, gamma=0.7, lambda_k=0.01)
    step.k_t.assign(0.25)
    step.update_k(tf.constant(2.0), tf.constant(0.4))
    assert float(step.k_t.numpy()) == pytest.approx(0.25 + 0.01 * (0.7 * 2.0 - 0.4))


def identity_pair(variational):
    """G writes z into the first Z pixels; D's code (a VAE's mean) reads them back: Enc(G(z)) = z."""
    pick = np.zeros((64, Z), np.float32)
    pick[:Z] = np.eye(Z)
    G = keras.Sequential([keras.Input((Z,)), keras.layers.Dense(64, use_bias=False), keras.layers.Reshape(SHAPE)])
    G.layers[0].kernel.assign(pick.T)
    x = keras.Input(SHAPE)
    encoder = keras.layers.Dense(Z, use_bias=False)
    mean = encoder(keras.layers.Flatten()(x))
    encoder.kernel.assign(pick)
    extra = [keras.layers.Dense(Z)(keras.layers.Flatten()(x))] if variational else []
    reconstruction = keras.layers.Reshape(SHAPE)(keras.layers.Dense(64)(mean))
    return G, keras.Model(x, [reconstruction, mean, *extra])


def test_constraint_loss_forms_by_hand():
    z, code = tf.constant([[3.0, 4.0], [0.0, 0.0]]), tf.zeros((2, 2))
    assert float(constraint_loss(z, code)) == pytest.approx(2.5)                 # (5 + 0) / 2
    assert float(constraint_loss(z, code, "l2_norm")) == pytest.approx(2.5)
    assert float(constraint_loss(z, code, "mean_abs")) == pytest.approx(7 / 4)   # (3 + 4 + 0 + 0) / 4
    assert float(constraint_loss(z, tf.constant([[1.0, 6.0], [-1.0, 0.5]]), "mean_abs")) == \
        pytest.approx((2 + 2 + 1 + 0.5) / 4)
    with pytest.raises(ValueError, match="same size"):
        constraint_loss(tf.zeros((2, 3)), tf.zeros((2, 4)))
    with pytest.raises(ValueError, match="constraint_form"):
        constraint_loss(z, code, "l1")


@pytest.mark.parametrize("form,shifted_value", [("l2_norm", 5.0), ("mean_abs", 7 / 4)])
def test_constraint_is_zero_when_the_encoder_inverts_the_generator(form, shifted_value):
    z = tf.constant(np.random.default_rng(1).uniform(-1, 1, (6, Z)).astype(np.float32))
    for cls in (BEGANCSStep, BEGANV3Step):
        G, D = identity_pair(variational=cls is BEGANV3Step)
        step = cls(G, D, hyperparams(cls, constraint_form=form), seed=0)
        penalty, logged = step.penalty(z, D(G(z), training=True))
        assert float(logged["constraint"]) == pytest.approx(0.0, abs=1e-5)
        assert float(penalty) == pytest.approx(0.0, abs=1e-6)
        # every sample's z_D - Enc(G(z)) is (3, 4, 0, 0): Euclidean norm 5, mean absolute value 7/4
        shifted = z + tf.constant([[3.0, 4.0, 0.0, 0.0]])
        penalty, logged = step.penalty(shifted, D(G(z), training=True))
        assert float(logged["constraint"]) == pytest.approx(shifted_value, rel=1e-5)
        assert float(penalty) == pytest.approx(0.1 * shifted_value, rel=1e-5)


# -- one iteration ---------------------------------------------------------------------------------------
def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


@pytest.mark.parametrize("cls", STEPS)
def test_one_iteration_trains_every_weight_and_moves_k_by_the_control_law(cls):
    step = make_step(cls, k_0=0.5, gamma=0.5, lambda_k=0.01)
    G, D = step.generator, step.discriminator
    d_before, g_before = snapshot(D.trainable_weights), snapshot(G.trainable_weights)
    k_before = float(step.k_t.numpy())
    logs = step.train_on_batch(reals(0), return_dict=True)
    moved = {w.path: not np.array_equal(b, w.numpy()) for b, w in zip(d_before + g_before,
                                                                     D.trainable_weights + G.trainable_weights)}
    assert all(moved.values()), [p for p, m in moved.items() if not m]
    assert step.d_optimizer.iterations.numpy() == 1 and step.g_optimizer.iterations.numpy() == 1
    # k_{t+1} - k_t = lambda_k (gamma L(x) - L(G(z_G))), with the losses the step logged
    expected = 0.01 * (0.5 * logs["loss_real"] - logs["loss_fake"])
    assert abs(expected) > 1e-4, "the test needs a visible move of k_t"
    assert float(step.k_t.numpy()) - k_before == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert logs["k_t"] == pytest.approx(float(step.k_t.numpy()))
    assert logs["g_loss"] == logs["loss_fake"]
    assert logs["m_global"] == pytest.approx(logs["loss_real"] + abs(0.5 * logs["loss_real"] - logs["loss_fake"]))
    owned = [step.k_t, step.k_history, step.collapse_armed]
    for weights in (step.trainable_weights, D.trainable_weights, G.trainable_weights):
        assert not any(w is v for w in weights for v in owned)
    assert not any(v.trainable for v in owned)


def seed_states(step):
    """The step's noise state and D's sampling state (a VAE's), to replay the step's random draws."""
    return [step.seed_generator.state] + [v for v in step.discriminator.non_trainable_variables
                                          if "seed_generator" in v.path]


def test_each_network_steps_down_its_own_loss_from_the_same_start():
    """With plain SGD: D's weights move by -lr dL_D/dtheta_D with L_D = L(x) - k_t L(G(z_D)), and G's
    by -lr dL(G(z_G))/dtheta_G, both gradients at the iteration's starting weights (eq. 8's
    simultaneous update). Swapped roles or a sequential update would move them elsewhere."""
    step = make_step(BEGANStep, k_0=0.3, optimizer="sgd", d_lr=0.05, g_lr=0.05)
    g, d = (keras.models.clone_model(m) for m in (step.generator, step.discriminator))
    g.set_weights(step.generator.get_weights())
    d.set_weights(step.discriminator.get_weights())
    x = tf.constant(reals(3)[0])
    saved = [v.numpy() for v in seed_states(step)]
    z_d, z_g = step.noise(6), step.noise(6)
    for v, value in zip(seed_states(step), saved):
        v.assign(value)
    eta, form = step.hp.eta, step.hp.l2_form
    with tf.GradientTape() as d_tape:
        fake_d = g(z_d, training=True)
        d_loss = reconstruction_loss(x, d(x, training=True)[0], eta, form) - \
            0.3 * reconstruction_loss(fake_d, d(fake_d, training=True)[0], eta, form)
    with tf.GradientTape() as g_tape:
        fake_g = g(z_g, training=True)
        g_loss = reconstruction_loss(fake_g, d(fake_g, training=True)[0], eta, form)
    d_grads = d_tape.gradient(d_loss, d.trainable_weights)
    g_grads = g_tape.gradient(g_loss, g.trainable_weights)
    for model, grads in ((d, d_grads), (g, g_grads)):
        for w, grad in zip(model.trainable_weights, grads):
            w.assign(w - 0.05 * grad)
    step.train_on_batch(x.numpy()[None], return_dict=True)
    for mine, expected in ((step.discriminator, d), (step.generator, g)):
        for a, b in zip(mine.get_weights(), expected.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,forms", [(cls, forms) for cls in STEPS for forms in ({}, OLD_FORMS)
                                       if cls is not BEGANStep or not forms])
def test_logged_losses_use_independent_z_d_z_g_and_the_weights_before_the_updates(cls, forms):
    """Replays the step's draws eagerly: D's loss is eq. 8 / 9 / 21 on G(z_D), G's is L(G(z_G)), all
    from the weights at the start of the iteration (BEGAN's simultaneous update); with each model's
    published forms ({}) and with the forms from before they existed (BEGAN's are both)."""
    step = make_step(cls, k_0=0.3, **forms)
    G, D, hp, k = step.generator, step.discriminator, step.hp, 0.3
    x = tf.constant(reals(3)[0])
    saved = [v.numpy() for v in seed_states(step)]
    z_d, z_g = step.noise(6), step.noise(6)
    real_out, fd_out, fg_out = D(x, training=True), D(G(z_d), training=True), D(G(z_g), training=True)
    for v, value in zip(seed_states(step), saved):
        v.assign(value)

    def loss(v, out):
        return float(reconstruction_loss(v, out[0], hp.eta, hp.l2_form))

    l_x, l_fd, l_fg = loss(x, real_out), loss(G(z_d), fd_out), loss(G(z_g), fg_out)
    expected = l_x - k * l_fd
    if cls is BEGANV3Step:
        l_r = float(kl_divergence(real_out[1], real_out[2]) - k * kl_divergence(fd_out[1], fd_out[2]))
        expected = (expected + l_r) / 2   # eq. 21
    if cls is not BEGANStep:
        expected += 0.1 * float(constraint_loss(z_d, fd_out[1], hp.constraint_form))
    logs = step.train_on_batch(x.numpy()[None], return_dict=True)
    assert abs(l_fd - l_fg) > 1e-4, "z_D and z_G must be independent draws"
    assert logs["loss_real"] == pytest.approx(l_x, rel=1e-5)
    assert logs["loss_fake_d"] == pytest.approx(l_fd, rel=1e-5)
    assert logs["loss_fake"] == pytest.approx(l_fg, rel=1e-5) and logs["g_loss"] == logs["loss_fake"]
    assert logs["d_loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["k_t"] == pytest.approx(min(1.0, max(0.0, k + 0.001 * (0.5 * l_x - l_fg))), rel=1e-6)


@pytest.mark.parametrize("model,expected", [
    ("BEGAN", dict(eta=1, l2_form="pixel_mean")),                                   # BEGAN's code: L1
    ("BEGANCS", dict(eta=2, l2_form="batch_norm", constraint_form="mean_abs")),     # BEGAN_CS.py
    ("BEGANV3", dict(eta=2, l2_form="batch_norm", constraint_form="mean_abs")),     # "As with BEGAN-CS ... L2"
])
def test_each_models_published_loss_forms(model, expected):
    hp = get_model(model).hyperparams()
    assert {name: hp.get(name) for name in expected} == expected
    assert ("constraint_form" in hp.to_dict()) == (model != "BEGAN")
    # the declared defaults are the forms from before they existed: what an old run resumes with
    declared = get_model(model).declared_params()
    assert declared["l2_form"].default == "pixel_mean" and declared["eta"].default == 1
    if model != "BEGAN":
        assert declared["constraint_form"].default == "l2_norm"


def test_eta_must_be_1_or_2_and_gamma_in_0_1():
    with pytest.raises(ConfigError, match="eta"):
        make_step(BEGANStep, eta=3)
    with pytest.raises(ConfigError, match=r"--gamma \(gamma\): must be in \(0, 1\]"):
        make_step(BEGANStep, gamma=3.0)
    assert make_step(BEGANStep, gamma=1.0).hp.gamma == 1.0
    with pytest.raises(ConfigError, match="--l2-form"):
        hyperparams(BEGANStep).replace(l2_form="sum")


@pytest.mark.parametrize("cls", [BEGANCSStep, BEGANV3Step])
def test_batch_norm_l2_is_refused_over_several_replicas(cls, monkeypatch):
    """||v - D(v)||_2 of the whole batch / B does not split over replicas: refused when the step is
    built in a strategy's scope with several replicas, and inside a replica's step."""
    monkeypatch.setattr(began.distribute, "replicas_in_scope", lambda: 2)
    with pytest.raises(ConfigError, match="--l2-form pixel_mean or train on one device"):
        make_step(cls)
    make_step(cls, l2_form="pixel_mean")     # the per-image mean splits: each replica's share of it
    make_step(cls, eta=1)                     # L1 ignores the form
    monkeypatch.setattr(began, "replica_share", lambda: (0, 2))
    images, recon = residual_pair()
    with pytest.raises(ConfigError, match="--l2-form pixel_mean"):
        reconstruction_loss(images, recon, 2, "batch_norm")
    reconstruction_loss(images, recon, 2, "pixel_mean")


@pytest.mark.parametrize("cls", STEPS)
def test_sample_grids_are_inference_mode_reconstructions(cls):
    step = make_step(cls)
    real = reals(4)[0]
    grids = step.sample_grids(real)
    assert set(grids) == {"reconstructions"} and isinstance(grids["reconstructions"], np.ndarray)
    np.testing.assert_array_equal(grids["reconstructions"], step.sample_grids(real)["reconstructions"])
    np.testing.assert_allclose(grids["reconstructions"], np.asarray(step.discriminator(real, training=False)[0]))


# -- the collapse flag ---------------------------------------------------------------------------------
def run_rule(sequence, **values):
    step = make_step(BEGANStep, **{"collapse_window": 10, "collapse_ratio": 0.5, "collapse_floor": 0.01, **values})
    return np.array([float(step.detect_collapse(tf.constant(k, tf.float32))) for k in sequence])


def test_collapse_rule_fires_once_on_a_sudden_fall_and_rearms_after_recovery():
    rise, hold = np.linspace(0.0, 0.1, 40), np.full(20, 0.1)
    fall = np.array([0.08, 0.06, 0.045, 0.03, 0.02])
    jitter = 0.02 + 0.003 * (-1) ** np.arange(30)     # lingers low: one event, not one per wobble
    sequence = np.concatenate([rise, hold, fall, jitter])
    flags = run_rule(sequence)
    assert flags.sum() == 1 and np.flatnonzero(flags)[0] == 40 + 20 + 2   # the first k_t below 0.05
    # k_t settles, then recovers, and a second sudden fall is a second event
    again = np.concatenate([sequence, np.linspace(0.02, 0.08, 30), np.full(10, 0.08), [0.05, 0.03]])
    flags = run_rule(again)
    assert flags.sum() == 2 and np.flatnonzero(flags)[1] == len(again) - 1


def test_collapse_rule_ignores_slow_decay_and_noise_near_zero():
    slow = np.concatenate([np.linspace(0.0, 0.1, 40), 0.1 * 0.5 ** (np.arange(300) / 30.0)])  # half-life 30 > 10
    assert run_rule(slow).sum() == 0
    near_zero = np.tile([0.004, 0.0005], 50)   # halves and more, but below the floor
    assert run_rule(near_zero).sum() == 0
    assert run_rule(near_zero, collapse_floor=0.001).sum() > 0   # the floor is what kept it quiet


# -- declarations ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", STEPS)
def test_declarations_match_what_train_step_returns(cls):
    logs = make_step(cls).train_on_batch(reals(5), return_dict=True)
    cls.LOG.check(logs)   # nothing undeclared ...
    assert set(logs) == set(cls.LOG.names)   # ... and nothing declared but missing
    required = {"d_loss", "g_loss", "loss_real", "loss_fake", "k_t", "m_global", "collapse"}
    assert required <= set(logs) and ("constraint" in logs) == (cls is not BEGANStep)
    assert all(math.isfinite(v) for v in logs.values()) and logs["collapse"] in (0.0, 1.0)
    assert cls.LOG.value("collapse").alarm and cls.DECISION_THRESHOLD is None
    plots = {p.file: p for p in cls.LOG.plots}
    assert plots["losses.png"].values == ("d_loss", "g_loss")
    assert plots["k_t.png"].events == ("collapse",) and plots["m_global.png"].events == ("collapse",)
    # Each hyperparameter declared once; a subclass extends its parent's declarations (same objects).
    names = [p.name for p in cls.PARAMS]
    assert len(set(names)) == len(names) and not set(names) & {p.name for p in COMMON}
    for parent in cls.__mro__[1:]:
        if parent in STEPS:
            assert cls.PARAMS[:len(parent.PARAMS)] == parent.PARAMS
            assert all(a is b for a, b in zip(cls.PARAMS, parent.PARAMS))
    assert set(cls.PUBLISHED_DEFAULTS) <= set(hyperparams(cls).to_dict())


# -- determinism and exact resume --------------------------------------------------------------------
@pytest.mark.parametrize("cls", STEPS)
def test_two_runs_with_the_same_seed_are_identical(cls):
    runs = []
    for _ in range(2):
        step = make_step(cls, seed=3)
        logs = [step.train_on_batch(reals(i), return_dict=True) for i in range(3)]
        runs.append((logs, snapshot(state(step))))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    other = make_step(cls, seed=4)
    assert [other.train_on_batch(reals(i), return_dict=True) for i in range(3)] != runs[0][0]


def spec_of(cls, net_seed):
    return ModelSpec(
        name=cls.__name__, description="stand-in networks", training_form="train_step", train_step=cls,
        networks={"dissertation": Networks(
            generators={SHAPE: lambda frozen_bn, latent_dim: generator(net_seed)},
            discriminators={SHAPE: lambda frozen_bn: autoencoder(net_seed, variational=cls is BEGANV3Step)})},
        defaults={**cls.PUBLISHED_DEFAULTS, "latent_dim": Z, "d_lr": 1e-3, "g_lr": 1e-3, "lambda_k": 0.05,
                  "collapse_window": 3})


def continue_run(engine, start, n):
    batches = iter([reals(start + i)[0] for i in range(n)])
    return [engine.train_iteration(lambda: next(batches), None) for _ in range(n)]


@pytest.mark.parametrize("cls", STEPS)
def test_restoring_the_checkpointed_state_mid_run_continues_exactly(cls):
    """Through the real adapter: what TrainStepEngine.state_variables() lists (networks, optimizers,
    the step's seed generator, k_t and the collapse rule's state) is enough for a bit-identical resume."""
    keras.utils.set_random_seed(1)
    spec = spec_of(cls, net_seed=0)
    a = build_engine(spec, spec.hyperparams(k_0=0.4), SHAPE)
    continue_run(a, 0, 2)
    saved = snapshot(a.state_variables())
    # The step owns no state the checkpoint misses.
    listed = {id(v) for v in a.state_variables()}
    assert all(id(v) in listed for v in a.model.variables)

    def fresh():
        keras.utils.set_random_seed(2)
        other = spec_of(cls, net_seed=10)
        return build_engine(other, other.hyperparams(k_0=0.9), SHAPE)   # other weights, seed and k_t

    b = fresh()
    for v, value in zip(b.state_variables(), saved):
        v.assign(value)
    expected = continue_run(a, 2, 3)
    assert continue_run(b, 2, 3) == expected
    assert all(np.array_equal(x, y) for x, y in zip(snapshot(a.state_variables()), snapshot(b.state_variables())))
    # Without the step's extra state (k_t, the noise, the rule) the continuation differs.
    c = fresh()
    extra = len(c.model.extra_state_variables())
    for v, value in zip(c.state_variables()[:-extra], saved[:-extra]):
        v.assign(value)
    assert continue_run(c, 2, 3) != expected


def test_the_step_also_runs_under_xla():
    """jit_compile="auto" may choose XLA (e.g. on a GPU): the step, the ring of k_t and the flag must compile."""
    step = make_step(BEGANV3Step, jit_compile=True, k_0=0.5, lambda_k=0.01)
    for i in range(2):
        k_before = float(step.k_t.numpy())
        logs = step.train_on_batch(reals(i), return_dict=True)
        assert float(step.k_t.numpy()) - k_before == pytest.approx(
            0.01 * (0.5 * logs["loss_real"] - logs["loss_fake"]), rel=1e-4, abs=1e-7)
    assert np.count_nonzero(step.k_history.numpy()) == 2 and step.collapse_armed.numpy() == 1.0
