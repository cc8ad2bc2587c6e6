"""The training engines: who learns when, BatchNorm modes, clipping, the gradient penalty."""
import math

import keras
import numpy as np
import pytest

from gan_keras.models.blocks import GANBatchNormalization
from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine
from gan_keras.training.losses import js_divergence_estimate, wasserstein_loss
from gan_keras.training.wgangp import gradient_penalty

MNIST = (28, 28, 1)


def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


def fake_data(rng, batch_size, shape=MNIST):
    return lambda: rng.uniform(-1, 1, (batch_size, *shape)).astype(np.float32)


@pytest.fixture(scope="module")
def dcgan():
    spec = get_model("DCGAN")
    return build_engine(spec, spec.hyperparams(), MNIST)


def test_stacked_pattern_trains_d_only_in_its_own_steps_for_several_batch_sizes(dcgan):
    """Keras 3 re-traces per batch shape; D must learn in its steps and stay fixed in the stacked one."""
    e, rng = dcgan, np.random.default_rng(0)
    D, G = e.discriminator, e.generator
    for batch_size in (4, 7, 4, 3):
        real = fake_data(rng, batch_size)()
        labels = np.ones((batch_size, 1), np.float32)

        d_before, g_before = snapshot(D.weights), snapshot(G.weights)
        D.trainable = True
        D.train_on_batch(real, labels)
        assert all(changed(d_before, D.weights)), f"D did not learn in its own step (batch {batch_size})"
        assert not any(changed(g_before, G.weights)), "G moved during D's step"

        d_before, g_before = snapshot(D.weights), snapshot(G.weights)
        D.trainable = False
        e.stacked.train_on_batch(rng.standard_normal((batch_size, 100)).astype(np.float32), labels)
        D.trainable = True
        assert not any(changed(d_before, D.weights)), f"D moved in the stacked step (batch {batch_size})"
        assert all(changed(g_before, G.trainable_weights)), "G did not learn in the stacked step"


def test_a_full_iteration_moves_both_networks(dcgan):
    rng = np.random.default_rng(1)
    d_before, g_before = snapshot(dcgan.discriminator.trainable_weights), snapshot(dcgan.generator.trainable_weights)
    for batch_size in (5, 6):
        logs = dcgan.train_iteration(fake_data(rng, batch_size), rng)
    assert all(changed(d_before, dcgan.discriminator.trainable_weights))
    assert all(changed(g_before, dcgan.generator.trainable_weights))
    assert set(logs) == {"d_loss", "d_acc", "g_loss", "divergence"}
    assert logs["divergence"] == pytest.approx(math.log(2) - logs["d_loss"])
    assert 0.0 <= logs["d_acc"] <= 1.0


def test_dissertation_order_without_the_toggle_never_trains_d():
    """The pitfall the engine avoids: freeze D once (3.4.2's order) and its own train_on_batch is a no-op."""
    spec = get_model("DCGAN")
    D = spec.build_discriminator(MNIST)
    D.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(2e-4, 0.5))
    D.trainable = False  # as in 3.4.2, and never set back
    before = snapshot(D.trainable_weights + D.non_trainable_weights)
    with pytest.warns(UserWarning, match="trainable weights"):
        D.train_on_batch(np.zeros((4, *MNIST), np.float32), np.ones((4, 1), np.float32))
    assert not any(changed(before, D.trainable_weights + D.non_trainable_weights))


@pytest.mark.parametrize("mode", ["batch", "moving"])
def test_frozen_batchnorm_modes(mode):
    layer = GANBatchNormalization(momentum=0.8, frozen_mode=mode)
    x = np.random.default_rng(0).normal(3.0, 2.0, (16, 5)).astype(np.float32)
    layer.build(x.shape)
    layer.moving_mean.assign(np.full(5, -1.0, np.float32))
    layer.moving_variance.assign(np.full(5, 4.0, np.float32))
    layer.trainable = False
    out = np.asarray(layer(x, training=True))
    if mode == "batch":  # Keras 2.2: the batch's own statistics
        expected = (x - x.mean(0)) / np.sqrt(x.var(0) + layer.epsilon)
    else:  # Keras 3: the moving statistics
        expected = (x + 1.0) / np.sqrt(4.0 + layer.epsilon)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), -1.0)  # never updated while frozen
    np.testing.assert_array_equal(layer.moving_variance.numpy(), 4.0)


def test_trainable_batchnorm_updates_moving_statistics():
    layer = GANBatchNormalization(momentum=0.8)
    x = np.full((8, 3), 5.0, np.float32)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.2 * 5.0, rtol=1e-6)


@pytest.mark.parametrize("mode", ["batch", "moving"])
def test_stacked_model_applies_the_chosen_frozen_bn_mode(mode):
    """Through the real stacked model, D's output on G(z) follows the chosen mode."""
    spec = get_model("DCGAN")
    e = build_engine(spec, spec.hyperparams(frozen_bn=mode), MNIST)
    for layer in e.discriminator.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0  # remove Dropout's noise so outputs can be compared exactly
    # Moving statistics far from any batch's, so the two modes differ clearly.
    for layer in e.discriminator.layers:
        if isinstance(layer, GANBatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, 0.5, np.float32))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 3.0, np.float32))
    z = np.random.default_rng(0).standard_normal((6, 100)).astype(np.float32)
    images = e.generator(z, training=True)
    inference = np.asarray(e.discriminator(images, training=False))
    e.discriminator.trainable = False
    stacked = np.asarray(e.stacked(z, training=True))
    e.discriminator.trainable = True
    with_batch_stats = np.asarray(e.discriminator(images, training=True))
    expected = with_batch_stats if mode == "batch" else inference
    other = inference if mode == "batch" else with_batch_stats
    np.testing.assert_allclose(stacked, expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(stacked, other, rtol=1e-3, atol=1e-4)


def test_wgan_clips_every_critic_weight_after_each_update():
    spec = get_model("WGAN")
    hp = spec.hyperparams(d_lr=0.05)  # big steps, so unclipped weights would leave the box
    e = build_engine(spec, hp, (64, 64, 3))
    rng = np.random.default_rng(0)
    e.train_iteration(fake_data(rng, 2, (64, 64, 3)), rng)
    for w in e.discriminator.trainable_weights:
        assert np.abs(w.numpy()).max() <= 0.01 + 1e-7, w.path
    moving_var = [w for w in e.discriminator.non_trainable_weights if "moving_variance" in w.path]
    assert moving_var and max(np.abs(w.numpy()).max() for w in moving_var) > 0.01  # not clipped by default


def test_wgan_clip_all_weights_also_clips_batchnorm_statistics():
    spec = get_model("WGAN")
    e = build_engine(spec, spec.hyperparams(clip_all_weights=True), (64, 64, 3))
    rng = np.random.default_rng(0)
    e.train_iteration(fake_data(rng, 2, (64, 64, 3)), rng)
    for w in e.discriminator.weights:
        assert np.abs(w.numpy()).max() <= 0.01 + 1e-7, w.path


def test_wasserstein_loss_and_estimate():
    y_true = np.array([[-1.0], [-1.0], [1.0], [1.0]], np.float32)
    y_pred = np.array([[2.0], [4.0], [1.0], [-3.0]], np.float32)
    assert float(wasserstein_loss(y_true, y_pred)) == pytest.approx((-2 - 4 + 1 - 3) / 4)
    assert js_divergence_estimate(math.log(2)) == pytest.approx(0.0)


def test_gradient_penalty_of_a_linear_critic_is_known_analytically():
    """f(x) = sum(w * x) has input gradient w everywhere, so GP = (||w|| - 1)^2 for any images."""
    shape = (4, 4, 1)
    w = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    critic.layers[-1].kernel.assign(w.reshape(-1, 1))
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(8, *shape)).astype(np.float32), rng.normal(size=(8, *shape)).astype(np.float32)
    eps = rng.uniform(size=(8, 1, 1, 1)).astype(np.float32)
    expected = (np.linalg.norm(w) - 1.0) ** 2
    assert float(gradient_penalty(critic, real, fake, eps)) == pytest.approx(expected, rel=1e-5)
    critic.layers[-1].kernel.assign(w.reshape(-1, 1) / np.linalg.norm(w))  # a 1-Lipschitz critic: GP 0
    assert float(gradient_penalty(critic, real, fake, eps)) == pytest.approx(0.0, abs=1e-6)


def test_wgangp_iteration_trains_both_and_logs_the_penalty():
    spec = get_model("WGANGP")
    e = build_engine(spec, spec.hyperparams(critic_steps=2), MNIST)
    rng = np.random.default_rng(0)
    d_before, g_before = snapshot(e.discriminator.trainable_weights), snapshot(e.generator.trainable_weights)
    logs = e.train_iteration(fake_data(rng, 4), rng)
    moved = dict(zip((w.path for w in e.discriminator.trainable_weights), changed(d_before, e.discriminator.trainable_weights)))
    # The output bias cancels in E[f(fake)] - E[f(real)] and the penalty ignores it: it cannot move.
    output_bias = e.discriminator.layers[-1].bias.path
    assert not moved.pop(output_bias) and all(moved.values())
    assert all(changed(g_before, e.generator.trainable_weights))
    assert set(logs) == {"d_loss", "g_loss", "divergence", "gp"} and logs["gp"] >= 0
    assert e.d_optimizer.iterations.numpy() == 2 and e.g_optimizer.iterations.numpy() == 1
