"""--mixed-precision bf16|fp16 (training/precision.py), checked functionally on the CPU."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine
from gan_keras.training.precision import float32_outputs

MNIST = (28, 28, 1)


def _engine(model, mode, **overrides):
    spec = get_model(model)
    keras.utils.set_random_seed(3)
    return build_engine(spec, spec.hyperparams(mixed_precision=mode, **overrides), MNIST)


def _train(engine, iterations=2, batch=4):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, *MNIST), dtype=np.uint8)
    if hasattr(engine, "attach_data"):
        engine.attach_data(images, batch)
    draw = lambda: images[rng.integers(0, 32, batch)].astype(np.float32) / 127.5 - 1.0  # noqa: E731
    return [engine.train_iteration(draw, rng) for _ in range(iterations)]


def _dtypes(model):
    return [(layer.name, layer.compute_dtype) for layer in model.layers]


@pytest.mark.parametrize("mode,compute", [("bf16", "bfloat16"), ("fp16", "float16")])
def test_networks_compute_in_16_bits_with_float32_weights_and_outputs(mode, compute):
    engine = _engine("DCGAN", mode, engine="compiled")
    for net in (engine.generator, engine.discriminator):
        dtypes = _dtypes(net)
        assert all(v.dtype == "float32" for v in net.weights)
        assert dtypes[0][1] == compute                       # the body computes in 16 bits
        last = max(i for i, l in enumerate(net.layers)
                   if l.weights and not isinstance(l, keras.layers.BatchNormalization))
        assert {d for _, d in dtypes[last:]} == {"float32"}  # the last weighted layer and after
        assert {d for _, d in dtypes[:last]} == {compute}
    assert engine.generator(np.zeros((2, 100), np.float32)).dtype == "float32"
    wrapped = isinstance(engine.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert wrapped == (mode == "fp16")                       # loss scaling only for float16
    assert keras.mixed_precision.dtype_policy().name == "float32"  # the global policy is restored


@pytest.mark.parametrize("model,mode,engine", [("DCGAN", "bf16", "stacked"), ("DCGAN", "fp16", "compiled"),
                                               ("WGANGP", "fp16", "stacked")])
def test_mixed_precision_trains_with_finite_losses_and_moves_the_weights(model, mode, engine):
    overrides = {"critic_steps": 1} if model == "WGANGP" else {}
    e = _engine(model, mode, engine=engine, **overrides)
    before = [np.array(v.numpy()) for v in e.generator.trainable_weights]
    logs = _train(e)
    assert all(np.isfinite(v) for row in logs for v in row.values()), logs
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, e.generator.trainable_weights))


def test_bf16_networks_compute_what_float32_ones_do():
    """Same seed, same weights: G's images and D's scores (inference, so no Dropout draws) agree to
    bfloat16's precision (8 bits of mantissa: about 0.4 % per operation)."""
    reference, mixed = _engine("DCGAN", "off"), _engine("DCGAN", "bf16")
    z = np.random.default_rng(1).standard_normal((8, 100)).astype(np.float32)
    a, b = reference.generator(z).numpy(), mixed.generator(z).numpy()
    assert 0 < np.max(np.abs(a - b)) < 0.05  # images in [-1, 1]
    sa, sb = reference.discriminator(a).numpy(), mixed.discriminator(a).numpy()
    np.testing.assert_allclose(sb, sa, atol=0.02)


def test_train_step_gradients_are_scaled_for_the_loss_scale_optimizer():
    """autodiff.scaled_gradients (every custom step's gradients on TensorFlow): a LossScaleOptimizer
    gets scale x the gradient (its apply unscales)."""
    from gan_keras.training.autodiff import scaled_gradients

    v = tf.Variable([1.0, 2.0])
    plain = keras.optimizers.SGD(0.1)
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=256.0)
    for optimizer, factor in ((plain, 1.0), (scaled, 256.0)):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(v * v)
        grads = scaled_gradients(tape, loss, [v], optimizer)
        np.testing.assert_allclose(grads[0].numpy(), factor * np.array([2.0, 4.0]))


def test_float32_outputs_reads_the_layers_not_the_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, dtype="mixed_bfloat16"),
                              keras.layers.BatchNormalization(dtype="mixed_bfloat16"),
                              keras.layers.Dense(1, dtype="mixed_bfloat16"),
                              keras.layers.Activation("sigmoid", dtype="mixed_bfloat16")])
    changed = float32_outputs(model)
    assert changed == [model.layers[2].name, model.layers[3].name]
    assert [l.compute_dtype for l in model.layers] == ["bfloat16", "bfloat16", "float32", "float32"]
