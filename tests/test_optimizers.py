"""WGAN's RMSprop is Keras 2.2's update (epsilon outside the square root), not Keras 3's."""
import keras
import numpy as np
import pytest

import gan_keras.training.optimizers as optimizers
from gan_keras.hparams import make_optimizer
from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine


def keras22_rmsprop(w, gradients, lr, rho=0.9, epsilon=1e-7):
    """Keras 2.2.4's RMSprop.get_updates, in float64: a = rho a + (1 - rho) g^2; w -= lr g / (sqrt(a) + eps)."""
    w, a = np.array(w, np.float64), np.zeros_like(w, np.float64)
    for g in gradients:
        a = rho * a + (1 - rho) * g ** 2
        w = w - lr * g / (np.sqrt(a) + epsilon)
    return w


def applied(optimizer, w, gradients):
    variable = keras.Variable(np.array(w, np.float32))
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(np.float32(g)), variable)])
    return keras.ops.convert_to_numpy(variable)


# Gradients from a clipped critic's size (1e-6) to ordinary ones (1e-1), changing sign and size.
W0 = np.array([0.01, -0.005, 0.3, 0.0, 0.002], np.float32)
GRADIENTS = [np.array([1e-6, -3e-6, 0.1, 2e-4, -5e-5]) * s for s in (1.0, -2.0, 0.5, 3.0)]


def test_rmsprop_is_the_keras_2_2_update_over_several_steps():
    ours = applied(optimizers.RMSprop(5e-5), W0, GRADIENTS)
    np.testing.assert_allclose(ours, keras22_rmsprop(W0, GRADIENTS, 5e-5), rtol=1e-6, atol=1e-9)
    # Keras 3's own RMSprop (epsilon inside the root) is the smaller step this replaces: for the
    # 1e-6 gradient after 4 steps it moved the weight well under a tenth as far.
    keras3 = applied(keras.optimizers.RMSprop(5e-5), W0, GRADIENTS)
    assert abs(keras3[0] - W0[0]) < 0.1 * abs(ours[0] - W0[0])
    np.testing.assert_allclose(keras3[2], ours[2], rtol=1e-4)   # large gradients: the same step


def test_rmsprop_is_what_rmsprop_means_and_survives_serialization():
    hp = get_model("WGAN").hyperparams()
    optimizer = make_optimizer(hp, "d")
    assert type(optimizer) is optimizers.RMSprop and float(optimizer.learning_rate) == pytest.approx(5e-5)
    again = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(again) is optimizers.RMSprop
    assert (again.rho, again.epsilon) == (0.9, 1e-7) and float(again.learning_rate) == pytest.approx(5e-5)
    with pytest.raises(ValueError, match="no momentum"):
        optimizers.RMSprop(5e-5, momentum=0.9)


def test_rmsprop_uses_the_rho_and_epsilon_it_is_given_and_refuses_other_forms():
    """A run's hyperparameters set rho and epsilon (seed 001's BEGAN family uses 1e-8), so both
    must reach the update; momentum and centered RMSprop would be computed the Keras 3 way, so
    they are refused rather than quietly given another update. Their off values (what a saved
    optimizer's config holds) are accepted."""
    optimizer = optimizers.RMSprop(5e-5, rho=0.5, epsilon=1e-3)
    assert (optimizer.rho, optimizer.epsilon) == (0.5, 1e-3)
    np.testing.assert_allclose(applied(optimizer, W0, GRADIENTS),
                               keras22_rmsprop(W0, GRADIENTS, 5e-5, rho=0.5, epsilon=1e-3), rtol=1e-6, atol=1e-9)
    for refused in ({"centered": True}, {"momentum": 0.9}):
        with pytest.raises(ValueError, match="the plain Keras 2.2 form: no momentum, not centered"):
            optimizers.RMSprop(5e-5, **refused)
    plain = optimizers.RMSprop(5e-5, momentum=0.0, centered=False)
    np.testing.assert_allclose(applied(plain, W0, GRADIENTS), keras22_rmsprop(W0, GRADIENTS, 5e-5),
                               rtol=1e-6, atol=1e-9)


def _generator_step(monkeypatch, rmsprop_class, shape=(28, 28, 1), batch=8):
    """Mean |change| / lr of the published WGAN generator's weights in its second iteration."""
    monkeypatch.setattr(optimizers, "RMSprop", rmsprop_class)
    keras.utils.set_random_seed(0)
    spec = get_model("WGAN")
    engine = build_engine(spec, spec.hyperparams(), shape)
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, *shape)).astype(np.float32)
    draw = lambda: images[rng.integers(0, len(images), batch)]  # noqa: E731
    engine.train_iteration(draw, rng)   # the first critic updates clip the initial weights
    before = [w.numpy().copy() for w in engine.generator.trainable_weights]
    engine.train_iteration(draw, rng)
    changes = [np.abs(w.numpy() - b).ravel() for w, b in zip(engine.generator.trainable_weights, before)]
    return float(np.concatenate(changes).mean()) / 5e-5


def test_the_published_wgan_generator_takes_rmsprop_sized_steps(monkeypatch):
    """Behind a clipped critic G's gradients are ~1e-6: Keras 2.2's RMSprop still steps about lr per
    weight, Keras 3's about 1/200 of that (benchmarks/results/wgan_rmsprop/steps.md, batch 16: 1.89 and
    0.009 after one iteration)."""
    ours = _generator_step(monkeypatch, optimizers.RMSprop)
    keras3 = _generator_step(monkeypatch, keras.optimizers.RMSprop)
    assert 0.5 < ours < 5, ours
    assert ours > 50 * keras3, (ours, keras3)


@pytest.mark.parametrize("model,epsilon", [("DCGAN", 1e-7), ("WGAN", 1e-7), ("BEGAN", 1e-8), ("BEGANV3", 1e-8)])
def test_the_optimizers_epsilon_is_the_published_one(model, epsilon):
    """Keras 2.2's (and Keras 3's) 1e-7 for the dissertation's models; seed 001's 1e-8 for the BEGAN family."""
    for which in ("d", "g"):
        assert make_optimizer(get_model(model).hyperparams(), which).epsilon == epsilon
