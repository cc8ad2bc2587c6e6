"""DiffAugment (Zhao et al. 2020): the policy, each operation on known inputs, gradients, seeds, and
its use in the stacked engine and the custom train steps (tiny images and batches)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_keras.errors import ConfigError
from gan_keras.registry import MODELS, get_model
from gan_keras.training.augment import (POLICY, DiffAugment, cutout_mask, diff_augment, normalise_policy,
                                        parse_policy, rand_brightness, rand_contrast, rand_cutout,
                                        rand_saturation, rand_translation)
from gan_keras.training.began import BEGANCSStep, constraint_loss, reconstruction_loss
from gan_keras.training.began_v3 import BEGANV3Step, kl_divergence
from gan_keras.training.engine import build_engine
from tests.test_began_steps import make_step, reals

FULL = "color,translation,cutout"
MNIST = (28, 28, 1)


def images(shape=(6, 16, 16, 3), seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32))


def seed(value=1):
    return keras.random.SeedGenerator(value)


# -- the policy ---------------------------------------------------------------------------------------
def test_policy_is_normalised_to_the_canonical_order():
    assert normalise_policy("cutout,color") == "color,cutout"
    assert normalise_policy(" Translation , color,") == "color,translation"
    assert normalise_policy(["cutout", "color", "cutout"]) == "color,cutout"
    assert normalise_policy("") == normalise_policy("none") == "none"
    assert parse_policy("translation,cutout,color") == ("color", "translation", "cutout")
    assert parse_policy("none") == ()
    assert POLICY.parse("cutout,translation") == "translation,cutout"  # the command line's path


@pytest.mark.parametrize("bad", ["colour", "color,flip", "none,color", 3])
def test_an_unknown_item_is_refused_in_one_line_naming_the_flag_and_the_items(bad):
    with pytest.raises(ConfigError) as info:
        normalise_policy(bad)
    message = str(info.value)
    assert message.startswith("--diffaugment (diffaugment): ") and "\n" not in message
    assert "color, translation, cutout, or none" in message
    if bad == "colour":
        assert "unknown item 'colour'" in message


def test_the_command_line_normalises_and_refuses():
    from gan_keras.cli.train import build_parser, hyperparam_overrides

    parser = build_parser()
    args = parser.parse_args(["DCGAN", "shapes", "1", "1", "1", "1", "--diffaugment", "cutout,color"])
    assert hyperparam_overrides(args) == {"diffaugment": "color,cutout"}
    with pytest.raises(SystemExit):
        parser.parse_args(["DCGAN", "shapes", "1", "1", "1", "1", "--diffaugment", "rotate"])


def test_every_model_reads_it_and_none_is_the_default():
    for name, spec in MODELS.items():
        assert spec.hyperparams().diffaugment == "none", name
        assert spec.hyperparams(diffaugment="color").diffaugment == "color", name
        assert spec.hyperparams(diffaugment="cutout,translation").diffaugment == "translation,cutout", name


def test_none_is_the_identity_and_draws_nothing():
    x, generator = images(), seed()
    state = generator.state.numpy().copy()
    assert diff_augment(x, "none", generator) is x
    np.testing.assert_array_equal(generator.state.numpy(), state)


# -- each operation on known inputs --------------------------------------------------------------------
def test_brightness_adds_one_number_in_half_a_unit_per_image():
    x = images((32, 8, 8, 3))
    shift = (rand_brightness(x, seed()) - x).numpy()
    per_image = shift.reshape(32, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1] * np.ones_like(per_image), atol=1e-6)
    assert np.all(np.abs(per_image[:, 0]) <= 0.5) and np.ptp(per_image[:, 0]) > 0.3


def test_saturation_scales_the_deviation_from_the_channel_mean():
    grey = images((4, 8, 8, 1))
    np.testing.assert_array_equal(rand_saturation(grey, seed()).numpy(), grey.numpy())  # nothing to scale
    x = images((32, 8, 8, 3)).numpy()
    y = rand_saturation(tf.constant(x), seed()).numpy()
    mean = x.mean(-1, keepdims=True)
    np.testing.assert_allclose(y.mean(-1, keepdims=True), mean, atol=1e-5)   # the grey value stays
    factor = (y - mean)[..., 0, 0, 0] / (x - mean)[..., 0, 0, 0]
    np.testing.assert_allclose(y - mean, factor[:, None, None, None] * (x - mean), atol=1e-5)
    assert np.all((factor >= 0) & (factor <= 2)) and np.ptp(factor) > 0.5


def test_contrast_scales_the_deviation_from_the_image_mean():
    x = images((32, 8, 8, 3)).numpy()
    y = rand_contrast(tf.constant(x), seed()).numpy()
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(y.mean(axis=(1, 2, 3), keepdims=True), mean, atol=1e-5)
    factor = (y - mean)[:, 0, 0, 0] / (x - mean)[:, 0, 0, 0]
    np.testing.assert_allclose(y - mean, factor[:, None, None, None] * (x - mean), atol=1e-5)
    assert np.all((factor >= 0.5 - 1e-5) & (factor <= 1.5 + 1e-5)) and np.ptp(factor) > 0.3


def test_color_keeps_shapes_and_dtype():
    for shape in ((3, 8, 8, 3), (2, 16, 16, 1)):
        y = diff_augment(images(shape), FULL, seed())
        assert tuple(y.shape) == shape and y.dtype == tf.float32


def test_translation_moves_a_pixel_by_an_integer_within_an_eighth_and_fills_zeros():
    x = np.zeros((48, 16, 16, 1), np.float32)
    x[:, 8, 8, 0] = 1.0
    y = rand_translation(tf.constant(x), seed()).numpy()
    assert set(np.unique(y)) <= {0.0, 1.0} and np.all(y.reshape(48, -1).sum(1) == 1)  # one pixel, moved exactly
    moves = np.array([np.argwhere(image[..., 0] == 1)[0] - 8 for image in y])
    assert np.abs(moves).max() <= 2 and len({tuple(m) for m in moves}) > 5     # 16 / 8 = 2, several shifts
    # A random image: the output is an exact shifted copy, zeros where the shift reads outside.
    z = images((24, 16, 16, 1), seed=5).numpy()
    shifted = rand_translation(tf.constant(z), seed(3)).numpy()
    for image, out in zip(z, shifted):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(out, np.pad(image, ((2, 2), (2, 2), (0, 0)))[2 + dy:18 + dy, 2 + dx:18 + dx])]
        assert found, "not an exact zero-filled shift within [-2, 2]"


def test_cutout_zeros_one_clipped_square_of_half_the_side_and_keeps_the_rest():
    mask = cutout_mask(64, 16, 16, seed())[..., 0].numpy()
    assert set(np.unique(mask)) == {0.0, 1.0}
    full = 0
    for m in mask:
        rows, cols = np.where((m == 0).any(1))[0], np.where((m == 0).any(0))[0]
        assert np.array_equal(m == 0, np.outer(np.isin(range(16), rows), np.isin(range(16), cols)))  # a rectangle
        for covered in (rows, cols):
            assert np.array_equal(covered, np.arange(covered[0], covered[-1] + 1)) and 4 <= len(covered) <= 8
            if len(covered) < 8:  # clipped: only at a border
                assert covered[0] == 0 or covered[-1] == 15
        full += len(rows) == len(cols) == 8
    assert full > 10
    x = images((4, 16, 16, 3)).numpy()
    out = rand_cutout(tf.constant(x), seed(9)).numpy()
    kept = cutout_mask(4, 16, 16, seed(9)).numpy()
    np.testing.assert_array_equal(out, x * kept)  # the rest is untouched


def test_at_28x28_the_shift_reaches_4_and_the_cutout_side_is_14():
    """MNIST's size, where the rounding matters: int(28 / 8 + 0.5) = 4 (the authors' TensorFlow
    code, rounding down, gives 3) and int(28 / 2 + 0.5) = 14."""
    x = np.zeros((400, 28, 28, 1), np.float32)
    x[:, 14, 14, 0] = 1.0
    y = rand_translation(tf.constant(x), seed(4)).numpy()
    moves = np.array([np.argwhere(image[..., 0] == 1)[0] - 14 for image in y])
    assert moves.min() == -4 and moves.max() == 4
    mask = cutout_mask(400, 28, 28, seed(5))[..., 0].numpy()
    sides = [int((m == 0).any(1).sum()) for m in mask]
    assert max(sides) == 14 and min(sides) >= 7


# -- differentiable and seeded -------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["color", "translation", "cutout", FULL])
def test_gradients_flow_to_the_images(policy):
    x = images((4, 16, 16, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(diff_augment(x, policy, seed()) ** 2)
    grad = tape.gradient(total, x).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


def test_the_same_seed_gives_the_same_augmentation():
    x = images()
    a, b = diff_augment(x, FULL, seed(7)).numpy(), diff_augment(x, FULL, seed(7)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, diff_augment(x, FULL, seed(8)).numpy())


def test_the_layer_augments_only_in_training_and_round_trips_its_config():
    layer = DiffAugment("cutout,color", seed=4)
    x = images((2, 8, 8, 3))
    assert layer(x, training=False) is x and layer(x) is x
    assert not np.array_equal(layer(x, training=True).numpy(), x.numpy())
    clone = DiffAugment.from_config(layer.get_config())
    assert (clone.policy, clone.seed) == ("color,cutout", 4)
    assert keras.saving.get_registered_name(DiffAugment) == "gan_keras>DiffAugment"


# -- the stacked engine ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stacked_pair():
    spec = get_model("DCGAN")
    return (build_engine(spec, spec.hyperparams(diffaugment=FULL), MNIST),
            build_engine(spec, spec.hyperparams(), MNIST))


def batches(rng, n=4):
    return lambda: rng.uniform(-1, 1, (n, *MNIST)).astype(np.float32)


def test_stacked_without_diffaugment_is_unchanged(stacked_pair):
    _, off = stacked_pair
    assert off.augmenter is None and off.d_train is off.discriminator
    assert [type(l).__name__ for l in off.stacked.layers] == ["InputLayer", "Sequential", "Sequential"]


def test_stacked_trains_d_through_the_augment_layer(stacked_pair, tmp_path):
    on, off = stacked_pair
    assert isinstance(on.d_train.layers[1], DiffAugment) and on.d_train.layers[2] is on.discriminator
    assert any(l is on.augmenter for l in on.stacked.layers)  # G -> T -> D
    # 1. The seed state is checkpointed (only when on: the off list is today's).
    assert on.state_variables()[-1] is on.augmenter.seed_generator.state
    assert len(on.state_variables()) == len(off.state_variables()) + 1
    # 2. D learns in an iteration, and the layer draws.
    rng = np.random.default_rng(0)
    d_before = [w.numpy().copy() for w in on.discriminator.trainable_weights]
    seed_before = on.augmenter.seed_generator.state.numpy().copy()
    calls, d_train_on_batch = [], on.d_train.train_on_batch
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(on.d_train, "train_on_batch", lambda *a, **k: calls.append(1) or d_train_on_batch(*a, **k))
        logs = on.train_iteration(batches(rng), rng)
    assert len(calls) == 2  # D's real and fake updates go through T
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(d_before, on.discriminator.trainable_weights))
    assert not np.array_equal(seed_before, on.augmenter.seed_generator.state.numpy())
    assert all(np.isfinite(v) for v in logs.values())
    # 3. Restoring the state replays the iteration exactly (the resume guarantee).
    saved = [v.numpy().copy() for v in on.state_variables()]
    first = on.train_iteration(batches(np.random.default_rng(5)), np.random.default_rng(6))
    for v, value in zip(on.state_variables(), saved):
        v.assign(value)
    assert on.train_iteration(batches(np.random.default_rng(5)), np.random.default_rng(6)) == first
    # 4. The saved discriminator is the plain D.
    on.discriminator.save(tmp_path / "d.keras")
    loaded = keras.saving.load_model(tmp_path / "d.keras", compile=False)
    assert not any(isinstance(l, DiffAugment) for l in loaded.layers)
    assert loaded.count_params() == off.discriminator.count_params()


# -- the custom train steps ------------------------------------------------------------------------------
def count_augment_calls(step, monkeypatch):
    calls = []
    original = step.augment

    def spy(images):
        calls.append(tuple(images.shape))
        return original(images)
    monkeypatch.setattr(step, "augment", spy)
    return calls


def test_wgangp_augments_every_critic_input_and_trains(monkeypatch):
    spec = get_model("WGANGP")
    e = build_engine(spec, spec.hyperparams(critic_steps=1, diffaugment=FULL), MNIST)
    calls = count_augment_calls(e.model, monkeypatch)
    rng = np.random.default_rng(0)
    logs = e.train_iteration(batches(rng, 2), rng)
    assert len(calls) == 3  # the real and the fake batch of the critic step, G's fake batch
    assert set(logs) == {"d_loss", "g_loss", "divergence", "gp"} and all(np.isfinite(v) for v in logs.values())


def test_wgangp_penalises_the_critic_between_the_augmented_images(monkeypatch):
    """The gradient penalty is taken where the critic looks: between T(x) and T(G(z)), not x and G(z).
    With T mapping every image to the constant 0.25, every interpolate is that constant whatever
    epsilon, so the logged GP is (||grad f(0.25)|| - 1)^2 under the critic's first weights (its
    Dropout layers switched off so that the hand computation sees the same critic)."""
    spec = get_model("WGANGP")
    e = build_engine(spec, spec.hyperparams(critic_steps=1, diffaugment=FULL), MNIST)
    for layer in e.model.discriminator.layers:
        if isinstance(layer, keras.layers.Dropout):
            monkeypatch.setattr(layer, "rate", 0.0)
    monkeypatch.setattr(e.model, "augment", lambda images: 0.0 * images + 0.25)  # G still gets a (zero) gradient
    constant = tf.fill((2, *MNIST), 0.25)
    with tf.GradientTape() as tape:
        tape.watch(constant)
        scores = e.model.discriminator(constant, training=True)
    norms = tf.norm(tf.reshape(tape.gradient(scores, constant), (2, -1)), axis=1)
    expected = float(tf.reduce_mean(tf.square(norms - 1.0)))
    rng = np.random.default_rng(0)
    logs = e.train_iteration(batches(rng, 2), rng)
    assert logs["gp"] == pytest.approx(expected, rel=1e-4)


def test_augment_is_the_identity_without_diffaugment():
    step = make_step(BEGANCSStep)
    x = tf.constant(reals(0)[0])
    state = step.seed_generator.state.numpy().copy()
    assert step.augment(x) is x
    np.testing.assert_array_equal(step.seed_generator.state.numpy(), state)


@pytest.mark.parametrize("cls", [BEGANCSStep, BEGANV3Step])
def test_began_reconstructs_encodes_and_constrains_the_augmented_images(cls, monkeypatch):
    """With a known T, the logged losses are L(T(v)) and (v3) the KL of T(v), and BEGAN-CS's L_c is
    ||z_D - Enc(T(G(z_D)))||: every term sees the same augmented batch (replayed as in test_began_steps)."""
    step = make_step(cls, k_0=0.3)

    def transform(v):
        return 0.5 * v + 0.25
    monkeypatch.setattr(step, "augment", transform)
    G, D, eta, k = step.generator, step.discriminator, step.hp.eta, 0.3
    x = tf.constant(reals(3)[0])
    seeds = [step.seed_generator.state] + [v for v in D.non_trainable_variables if "seed_generator" in v.path]
    saved = [v.numpy() for v in seeds]
    z_d, z_g = step.noise(6), step.noise(6)
    tx, tfd, tfg = transform(x), transform(G(z_d)), transform(G(z_g))
    real_out, fd_out, fg_out = D(tx, training=True), D(tfd, training=True), D(tfg, training=True)
    for v, value in zip(seeds, saved):
        v.assign(value)
    form = step.hp.l2_form   # the published forms (BEGAN-CS and v3: the authors' batch norm, mean_abs)
    l_x, l_fd = (float(reconstruction_loss(tx, real_out[0], eta, form)),
                 float(reconstruction_loss(tfd, fd_out[0], eta, form)))
    expected = l_x - k * l_fd
    if cls is BEGANV3Step:
        expected = (expected + float(kl_divergence(real_out[1], real_out[2]) - k * kl_divergence(fd_out[1], fd_out[2]))) / 2
    expected += 0.1 * float(constraint_loss(z_d, fd_out[1], step.hp.constraint_form))
    logs = step.train_on_batch(x.numpy()[None], return_dict=True)
    assert logs["loss_real"] == pytest.approx(l_x, rel=1e-5)
    assert logs["loss_fake"] == pytest.approx(float(reconstruction_loss(tfg, fg_out[0], eta, form)), rel=1e-5)
    assert logs["d_loss"] == pytest.approx(expected, rel=1e-5)


def test_began_v3_trains_with_the_real_diffaugment():
    step = make_step(BEGANV3Step, diffaugment=FULL)
    state = step.seed_generator.state.numpy().copy()
    logs = step.train_on_batch(reals(0), return_dict=True)
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert not np.array_equal(state, step.seed_generator.state.numpy())
