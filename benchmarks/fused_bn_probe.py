"""A probe, not a feature: how much faster a fused BatchNormalization would make the compiled engine.

    python benchmarks/fused_bn_probe.py            # DCGAN-28, batch 128: base and fused, 3 alternating rounds

Each measurement is a child process (``--child MODEL SIZE BATCH base|fusedbn``) that builds the
compiled engine with op determinism on and Grappler off, runs 2 warm-up iterations and prints the
median of 8 timed ones. "fusedbn" replaces GANBatchNormalization's training-mode call by
TensorFlow's FusedBatchNormV3 (the moving variance corrected from its unbiased to Keras' biased
batch variance); "base" is the library as it is. Run it on an otherwise idle machine.
"""
import os
import subprocess
import sys
import time

if len(sys.argv) > 1 and sys.argv[1] == "--child":
    import numpy as np
    import keras
    import tensorflow as tf

    from gan_keras.backend import enable_determinism
    from gan_keras.registry import get_model
    from gan_keras.training.engine import build_engine

    model, size, batch, variant = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    keras.utils.set_random_seed(0)
    enable_determinism()
    if "fusedbn" in variant:
        from gan_keras.models import blocks
        orig = blocks.GANBatchNormalization.call
        def call(self, inputs, training=None, mask=None):
            if not training or mask is not None:
                return orig(self, inputs, training=training, mask=mask)
            x = tf.cast(inputs, tf.float32)
            shape = tf.shape(x)
            x4 = x if x.shape.rank == 4 else tf.reshape(x, [-1, 1, 1, x.shape[-1]])
            y, mean, var = tf.compat.v1.nn.fused_batch_norm(x4, self.gamma, self.beta, epsilon=self.epsilon, is_training=True)
            n = tf.cast(tf.reduce_prod(tf.shape(x4)[:-1]), tf.float32)
            if self.trainable:
                var_b = var * (n - 1.0) / n
                self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
                self.moving_variance.assign(self.moving_variance * self.momentum + var_b * (1.0 - self.momentum))
            return tf.reshape(y, shape) if x.shape.rank != 4 else y
        blocks.GANBatchNormalization.call = call
    shape = (size, size, 1 if size == 28 else 3)
    spec = get_model(model)
    e = build_engine(spec, spec.hyperparams(engine="compiled"), shape)
    e.attach_data(np.random.default_rng(0).integers(0, 256, (1000, *shape), dtype=np.uint8), batch)
    e.train_iteration(None, None); e.train_iteration(None, None)
    ts = []
    for _ in range(8):
        t = time.perf_counter(); e.train_iteration(None, None); ts.append(time.perf_counter() - t)
    print(variant, "median", float(np.median(ts)), "min", min(ts), flush=True)
else:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for round_ in range(3):
        for variant in ("base", "fusedbn"):
            out = subprocess.run([sys.executable, __file__, "--child", "DCGAN", "28", "128", variant],
                                 capture_output=True, text=True, env={**os.environ, "PYTHONPATH": root})
            line = next((ln for ln in out.stdout.splitlines() if "median" in ln), out.stderr[-500:])
            print(f"round {round_ + 1}: {line}", flush=True)
