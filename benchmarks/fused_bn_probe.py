"""A probe, not a feature: how much faster a fused BatchNormalization would make the compiled engine.

    python benchmarks/fused_bn_probe.py [--rounds 3] [--out benchmarks/results/fused_bn_probe.md]

DCGAN-28, batch 128, "base" and "fusedbn" alternating for ``--rounds`` rounds (about 1.5 minutes
on the project's 2-core CPU with the default 3). Each measurement is a child process (``--child MODEL
SIZE BATCH base|fusedbn``) that builds the compiled engine with op determinism on and Grappler
off, runs 2 warm-up iterations and prints the median of 8 timed ones. "fusedbn" replaces
GANBatchNormalization's training-mode call by TensorFlow's FusedBatchNormV3 (the moving variance
corrected from its unbiased to Keras' biased batch variance); "base" is the library as it is. Run
it on an otherwise idle machine. Writes ``--out`` (Markdown: the command, the machine, the code
revision, the date, every round and the medians).
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

MODEL, SIZE, BATCH = "DCGAN", 28, 128
VARIANTS = ("base", "fusedbn")


def child(model, size, batch, variant):
    """One measurement (in its own process): the median and min of 8 timed iterations."""
    import numpy as np
    import keras
    import tensorflow as tf

    from gan_keras.backend import enable_determinism
    from gan_keras.registry import get_model
    from gan_keras.training.engine import build_engine

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
            y, mean, var = tf.compat.v1.nn.fused_batch_norm(x4, self.gamma, self.beta, epsilon=self.epsilon,
                                                            is_training=True)
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
    e.train_iteration(None, None)
    e.train_iteration(None, None)
    ts = []
    for _ in range(8):
        t = time.perf_counter()
        e.train_iteration(None, None)
        ts.append(time.perf_counter() - t)
    print(variant, "median", float(np.median(ts)), "min", min(ts), flush=True)


def write_report(a, rounds, seconds):
    """The results file: command, machine (with the code revision and the date), rounds, medians."""
    import statistics

    sys.path.insert(0, HERE)
    from runs_common import command_line, machine_line

    medians = {v: [r[v] for r in rounds if r.get(v) is not None] for v in VARIANTS}
    lines = ["# Fused BatchNormalization probe (compiled engine, DCGAN-28, batch 128)", "",
             f"- command: `{command_line(script=__file__)}`",
             f"- machine: {machine_line()}",
             f"- load average (1 min) after: {os.getloadavg()[0]:.2f}; {seconds:.0f} s in all",
             "- each measurement its own process: op determinism on, Grappler off, 2 warm-up iterations, "
             "median of 8 timed ones; base = the library, fusedbn = FusedBatchNormV3 in training mode", "",
             "| round | base s/it | fusedbn s/it |", "| --- | --- | --- |"]
    for i, r in enumerate(rounds, 1):
        lines.append(f"| {i} | " + " | ".join(f"{r[v]:.4f}" if r.get(v) is not None else "failed"
                                             for v in VARIANTS) + " |")
    if all(medians.values()):
        base, fused = statistics.median(medians["base"]), statistics.median(medians["fusedbn"])
        lines += ["", f"Median over rounds: base {base:.4f} s, fusedbn {fused:.4f} s: fusedbn is "
                  f"{base / fused:.3f}x as fast."]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"written to {a.out}")


def main():
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of base and fusedbn (default 3)")
    p.add_argument("--out", default=os.path.join(HERE, "results", "fused_bn_probe.md"))
    a = p.parse_args()
    t0 = time.perf_counter()
    rounds = []
    for round_ in range(a.rounds):
        rounds.append({})
        for variant in VARIANTS:
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", MODEL, str(SIZE), str(BATCH),
                                  variant], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
            line = next((ln for ln in out.stdout.splitlines() if "median" in ln), None)
            print(f"round {round_ + 1}: {line or out.stderr[-500:]}", flush=True)
            rounds[-1][variant] = float(line.split()[2]) if line else None
    write_report(a, rounds, time.perf_counter() - t0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        main()
