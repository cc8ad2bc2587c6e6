"""DELIGAN (seed 000's baseline): the learned mixture-of-Gaussians latent, its regulariser and floor,
the component draw, saving, and training through the stacked engine."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import gan_keras  # noqa: F401  (registers the custom layers needed to load .keras files)
from gan_keras import rundir
from gan_keras.models.deligan import SIGMA_FLOOR, MinValue, MixtureOfGaussiansLatent, SigmaRegularizer
from gan_keras.registry import get_model, hyperparameter_table
from gan_keras.training.checkpoints import load_generator
from gan_keras.training.engine import build_engine

MNIST = (28, 28, 1)


def engine(**hp):
    keras.utils.set_random_seed(5)
    spec = get_model("DELIGAN")
    return build_engine(spec, spec.hyperparams(**hp), MNIST)


def mixture_of(generator) -> MixtureOfGaussiansLatent:
    (layer,) = [l for l in generator.layers if isinstance(l, MixtureOfGaussiansLatent)]
    return layer


def batches(seed, n=3, shape=MNIST):
    rng = np.random.default_rng(seed)
    return lambda: rng.uniform(-1, 1, (n, *shape)).astype(np.float32)


def eps(n, dim=100, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@pytest.fixture(scope="module")
def trained():
    """A DELIGAN engine (28x28, defaults) before and after 3 stacked iterations."""
    e = engine()
    mix = mixture_of(e.generator)
    before = {"mu": mix.mu.numpy().copy(), "sigma": mix.sigma.numpy().copy(),
              "d": [w.numpy().copy() for w in e.discriminator.trainable_weights]}
    rng = np.random.default_rng(0)
    logs = [e.train_iteration(batches(1), rng) for _ in range(3)]
    return e, before, logs


# -- the networks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,shape", [("dissertation", MNIST), ("radford", (32, 32, 1))])
def test_the_generator_is_dcgan_plus_the_mixture(arch, shape):
    deli, dc = get_model("DELIGAN"), get_model("DCGAN")
    hp = deli.hyperparams(arch=arch, components=7, latent_dim=20)
    g = deli.build_generator(shape, hp)
    g_dc = dc.build_generator(shape, dc.hyperparams(arch=arch, latent_dim=20))
    assert g.count_params() == g_dc.count_params() + 2 * 7 * 20
    assert isinstance(g.layers[0], MixtureOfGaussiansLatent)
    assert [type(l) for l in g.layers[1:]] == [type(l) for l in g_dc.layers]
    assert g.input_shape == (None, 20) and g.output_shape == (None, *shape)
    nt = lambda m: sum(int(np.prod(w.shape)) for w in m.non_trainable_weights)  # noqa: E731
    assert nt(g) == nt(g_dc)                                     # mu and sigma are trainable
    d = deli.build_discriminator(shape, hp)                      # D is DCGAN's
    assert d.count_params() == dc.build_discriminator(shape, dc.hyperparams(arch=arch)).count_params()


def test_hyperparameters_are_deligans_own():
    hp = get_model("DELIGAN").hyperparams()
    assert (hp.components, hp.sigma_init, hp.sigma_weight) == (50, 0.2, 0.05)
    assert (hp.d_lr, hp.g_lr, hp.beta_1, hp.latent) == (2e-4, 2e-4, 0.5, "normal")   # DCGAN's
    table = hyperparameter_table()
    for name in ("components", "sigma_init", "sigma_weight"):
        assert set(table[name][1]) == {"DELIGAN"}
    with pytest.raises(gan_keras.errors.ConfigError, match="--components does not apply to DCGAN"):
        get_model("DCGAN").hyperparams(components=3)
    mix = mixture_of(get_model("DELIGAN").build_generator(MNIST, get_model("DELIGAN").hyperparams(
        components=4, sigma_init=0.5, sigma_weight=2.0, latent_dim=8)))
    assert mix.mu.shape == mix.sigma.shape == (4, 8)
    np.testing.assert_array_equal(mix.sigma.numpy(), 0.5)
    assert mix.sigma.regularizer.weight == 2.0 and mix.sigma.constraint.floor == SIGMA_FLOOR
    assert np.all(np.abs(mix.mu.numpy()) <= 1.0) and np.ptp(mix.mu.numpy()) > 1.0    # U(-1, 1)


# -- the regulariser -----------------------------------------------------------------------------------
def test_regulariser_closed_form():
    sigma = np.array([[0.2, 1.0, 3.0], [0.0, 0.5, 1.5]], np.float32)
    expected = 0.3 * np.mean((1 - sigma) ** 2)            # 0.3 * (0.64 + 0 + 4 + 1 + 0.25 + 0.25) / 6
    assert float(SigmaRegularizer(0.3)(sigma)) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.3 * 6.14 / 6)
    assert float(SigmaRegularizer(0.3)(np.ones((4, 5), np.float32))) == 0.0
    assert SigmaRegularizer.from_config(SigmaRegularizer(0.3).get_config()).weight == 0.3


def test_regulariser_is_in_the_stacked_loss_and_not_in_ds():
    """The stacked model's train_on_batch loss is BCE + lambda * mean((1 - sigma)^2), computed here by
    hand from the same random draws (the seed states are restored in between); D has no such loss."""
    e = engine(sigma_weight=10.0, components=5)
    mix = mixture_of(e.generator)
    sigma = np.linspace(0.1, 2.0, mix.sigma.numpy().size, dtype=np.float32).reshape(mix.sigma.shape)
    mix.sigma.assign(sigma)
    reg = 10.0 * np.mean((1 - sigma) ** 2)
    assert [float(x) for x in e.stacked.losses] == pytest.approx([reg], rel=1e-5)
    assert e.discriminator.losses == []

    z, labels = eps(4), np.ones((4, 1), np.float32)
    e.discriminator.trainable = False
    e.stacked.train_on_batch(z, labels)              # trace once (draws are advanced, state saved below)
    seeds = [v for v in e.state_variables() if "seed_generator_state" in v.path]
    assert any(v is mix.seed_generator.state for v in seeds)
    saved = [v.numpy().copy() for v in seeds]
    bce = float(keras.losses.BinaryCrossentropy()(labels, e.stacked(z, training=True)))
    for v, s in zip(seeds, saved):
        v.assign(s)
    sigma_now = mix.sigma.numpy().copy()
    loss = float(e.stacked.train_on_batch(z, labels, return_dict=True)["loss"])
    e.discriminator.trainable = True
    reg_now = 10.0 * np.mean((1 - sigma_now) ** 2)
    assert reg_now > 1.0                                          # big enough to be seen
    assert loss == pytest.approx(bce + reg_now, abs=1e-3)
    assert abs(loss - bce) > 1.0                                  # fails if the regulariser were missing


# -- gradients and training ----------------------------------------------------------------------------
def test_mu_and_sigma_get_gradients_from_the_generators_loss():
    e = engine(components=3)
    mix, D = mixture_of(e.generator), e.discriminator
    z = tf.constant(eps(4))
    with tf.GradientTape() as tape:
        out = D(e.generator(z, training=True), training=True)
        loss = keras.losses.BinaryCrossentropy()(tf.ones_like(out), out)   # the adversarial part only
    g_mu, g_sigma = tape.gradient(loss, [mix.mu, mix.sigma])
    assert np.count_nonzero(g_mu.numpy()) > 0 and np.count_nonzero(g_sigma.numpy()) > 0
    assert np.all(np.isfinite(g_mu.numpy())) and np.all(np.isfinite(g_sigma.numpy()))


def test_training_moves_mu_sigma_and_d(trained):
    e, before, logs = trained
    mix = mixture_of(e.generator)
    assert not np.array_equal(mix.mu.numpy(), before["mu"])
    assert not np.array_equal(mix.sigma.numpy(), before["sigma"])
    assert all(not np.array_equal(w.numpy(), b) for w, b in zip(e.discriminator.trainable_weights, before["d"]))
    assert all(set(l) == {"d_loss", "d_acc", "g_loss", "divergence"} and all(np.isfinite(list(l.values())))
               for l in logs)
    assert np.all(mix.sigma.numpy() >= SIGMA_FLOOR)


def test_sigma_never_goes_below_the_floor():
    # 1. an optimizer step that would make sigma very negative
    layer = MixtureOfGaussiansLatent(components=3, sigma_init=0.2, seed=1)
    layer.build((None, 4))
    opt = keras.optimizers.SGD(learning_rate=100.0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(tf.ones((6, 4))))        # d loss / d sigma >= 0 everywhere chosen
    opt.apply(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables)
    assert np.min(layer.sigma.numpy()) == pytest.approx(SIGMA_FLOOR)
    # 2. negative values restored by the next update of the engine's stacked step
    e = engine(components=4)
    mix = mixture_of(e.generator)
    mix.sigma.assign(np.full(mix.sigma.shape, -0.5, np.float32))
    e.discriminator.trainable = False
    e.stacked.train_on_batch(eps(3), np.ones((3, 1), np.float32))
    e.discriminator.trainable = True
    assert np.min(mix.sigma.numpy()) >= SIGMA_FLOOR
    assert MinValue(0.1)(np.array([-3.0, 0.05, 2.0], np.float32)).numpy().tolist() == pytest.approx([0.1, 0.1, 2.0])


# -- the component draw -----------------------------------------------------------------------------------
def test_components_are_uniform_and_deterministic_under_a_seed():
    def layer(seed):
        m = MixtureOfGaussiansLatent(components=5, seed=seed)
        m.build((None, 3))
        return m

    a, b, c = layer(11), layer(11), layer(12)
    z = tf.zeros((6000, 3))
    picks = a.choose(z).numpy()
    assert picks.min() == 0 and picks.max() == 4
    counts = np.bincount(picks, minlength=5)
    assert np.all(np.abs(counts - 1200) < 150), counts           # ~5 standard deviations
    chi2 = np.sum((counts - 1200) ** 2 / 1200)
    assert chi2 < 20.5                                           # p ~ 0.0004 for 4 degrees of freedom
    assert np.array_equal(b.choose(z).numpy(), picks)            # the same seed: the same stream
    assert not np.array_equal(c.choose(z).numpy(), picks)
    assert not np.array_equal(a.choose(z).numpy(), picks)        # the stream moves on
    # through call(): with eps = 0, each row is exactly one component's mean, as chosen
    b.mu.assign(np.arange(15, dtype=np.float32).reshape(5, 3))
    before = b.seed_generator.state.numpy().copy()
    expected = b.choose(tf.zeros((8, 3))).numpy()
    b.seed_generator.state.assign(before)
    out = b(tf.zeros((8, 3))).numpy()
    np.testing.assert_array_equal(out, b.mu.numpy()[expected])
    # and with eps != 0, mu_c + sigma_c * eps
    b.seed_generator.state.assign(before)
    e = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    np.testing.assert_allclose(b(e).numpy(), b.mu.numpy()[expected] + b.sigma.numpy()[expected] * e, rtol=1e-6)


def test_the_seed_state_is_a_checkpointed_variable_and_resumes_the_stream():
    e = engine(components=6)
    mix = mixture_of(e.generator)
    assert any(v is mix.seed_generator.state for v in e.state_variables())
    assert all(v is not mix.seed_generator.state for v in e.generator.weights)   # not a parameter
    saved = [v.numpy().copy() for v in e.state_variables()]
    z = eps(5)
    first = e.generate(z)
    second = e.generate(z)
    assert not np.array_equal(first, second)                  # a new component draw per call
    for v, s in zip(e.state_variables(), saved):
        v.assign(s)
    np.testing.assert_array_equal(e.generate(z), first)


# -- saving ------------------------------------------------------------------------------------------------
def test_the_generator_saves_and_loads_with_its_seed_state(tmp_path):
    e = engine(components=6, sigma_weight=0.3)
    e.train_iteration(batches(2), np.random.default_rng(0))
    path = str(tmp_path / "generator.keras")
    e.generator.save(path)
    loaded = load_generator(path)
    mix, mix2 = mixture_of(e.generator), mixture_of(loaded)
    assert (mix2.components, mix2.sigma_weight, mix2.sigma_init) == (6, 0.3, 0.2)
    np.testing.assert_array_equal(mix2.seed_generator.state.numpy(), mix.seed_generator.state.numpy())
    assert loaded.count_params() == e.generator.count_params()
    assert isinstance(mix2.sigma.regularizer, SigmaRegularizer) and isinstance(mix2.sigma.constraint, MinValue)
    z = eps(4)
    np.testing.assert_array_equal(loaded.predict_on_batch(z), e.generate(z))   # same weights, same stream
    np.testing.assert_array_equal(loaded.predict_on_batch(z), e.generate(z))


# -- a whole run ----------------------------------------------------------------------------------------
def test_a_deligan_run_resumes_bit_identically(tmp_path, image_folder):
    from tests.test_run import read_rows, run, same_weights, weights_of

    kw = dict(model="DELIGAN", dataset=image_folder, image_size=28, epochs=2, batch_size=2, sample_interval=1,
              save_model_interval=1)
    straight = run(tmp_path, "straight", **kw)
    rows = read_rows(straight)
    assert [set(r) for r in rows] == [{"iteration", "d_loss", "d_acc", "g_loss", "divergence"}] * 2
    run(tmp_path, "part", **{**kw, "epochs": 1})
    resumed = run(tmp_path, "part", **kw)
    assert read_rows(resumed) == rows
    last = lambda d: rundir.list_checkpoints(d)[-1]  # noqa: E731
    assert same_weights(weights_of(last(resumed).generator_path), weights_of(last(straight).generator_path))
    assert os.path.isfile(os.path.join(straight, rundir.SAMPLES, rundir.sample_name(2)))
