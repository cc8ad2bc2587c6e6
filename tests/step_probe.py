"""Runs a few iterations of custom train steps on this process's Keras backend, from given weights and
with every random draw replaced by a fixed one, and saves the weights and logs after them.

Used by tests/test_train_steps_on_jax.py, once with KERAS_BACKEND=tensorflow (which also writes the
starting weights) and once with KERAS_BACKEND=jax (which reads them), to show that one step code
computes the same training on both backends.

    python tests/step_probe.py OUT_DIR MODEL [MODEL ...]
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ITERATIONS, BATCH, SHAPE, LEARNING_RATE = 1, 4, (28, 28, 1), 0.01


def fixed_draws():
    """keras.random.normal/uniform and Dropout's masks replaced by draws from one NumPy stream. A step is traced once
    on either backend, so each draw becomes a constant of the compiled step, made in the order the
    step's code makes its draws: the same numbers on both backends."""
    import keras

    rng = np.random.default_rng(0)

    def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return keras.ops.convert_to_tensor(rng.normal(mean, stddev, tuple(shape)).astype(np.float32))

    def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        return keras.ops.convert_to_tensor(rng.uniform(minval, maxval, tuple(shape)).astype(np.float32))

    def dropout(inputs, rate, noise_shape=None, seed=None):
        keep = rng.uniform(0.0, 1.0, tuple(inputs.shape)) >= rate
        return inputs * keras.ops.convert_to_tensor(keep.astype(np.float32) / (1.0 - rate))

    keras.random.normal, keras.random.uniform = normal, uniform
    keras.src.backend.random.dropout = dropout  # keras.layers.Dropout's draw


def main(out, models):
    import keras

    from gan_keras.registry import get_model
    from gan_keras.training import train_step
    from gan_keras.training.engine import build_engine

    fixed_draws()
    # Plain SGD: each update is the learning rate times the gradient, so the weights compare the
    # gradients themselves. (Adam's first steps are lr * sign(g) wherever |g| is far above its
    # epsilon, so a gradient that is zero up to rounding, e.g. a bias before BatchNorm, moves by
    # +-lr on either backend at random.)
    train_step.make_optimizer = lambda hp, which: keras.optimizers.SGD(LEARNING_RATE)
    backend = keras.backend.backend()
    for name in models:
        spec = get_model(name)
        keras.utils.set_random_seed(0)
        engine = build_engine(spec, spec.hyperparams(), SHAPE)
        # every float variable a checkpoint saves: weights, BatchNorm statistics, k_t, ...
        weights = [v for v in engine.state_variables() if "float" in str(v.dtype)]
        start = os.path.join(out, f"{name}_start.npz")
        if backend == "tensorflow":
            np.savez(start, *[keras.ops.convert_to_numpy(v) for v in weights])
        else:
            saved = np.load(start)
            assert len(saved.files) == len(weights), (name, len(saved.files), len(weights))
            for i, v in enumerate(weights):
                v.assign(saved[f"arr_{i}"])
        reals = np.random.default_rng(1)
        draw_real = lambda: reals.uniform(-1, 1, (BATCH,) + SHAPE).astype(np.float32)  # noqa: E731
        logs = [engine.train_iteration(draw_real, None) for _ in range(ITERATIONS)]
        np.savez(os.path.join(out, f"{name}_{backend}.npz"), *[keras.ops.convert_to_numpy(v) for v in weights],
                 logs=np.array([[log[k] for k in sorted(log)] for log in logs]),
                 names=np.array([v.path for v in weights]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
