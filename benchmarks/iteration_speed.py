"""Seconds per training iteration of every model at the dissertation's batch sizes.

    python benchmarks/iteration_speed.py [--iterations 3] [--models GAN,DCGAN,WGAN,WGANGP] [--shapes 28,64]
        [--upsampled-conv grouped|literal]

Also measures, in the same process, what generating the fake batch costs with
``generator.predict`` (Keras-GAN's way, a data adapter per call) versus ``predict_on_batch``
(what the stacked engine uses), as a fraction of a DCGAN-28 iteration. Prints a table and
writes it, with the machine, the code revision and the command, to
benchmarks/results/iteration_speed.md. Random batches stand in for data, so only the arithmetic is
timed. ``--upsampled-conv literal`` builds the generators' UpSampling2D -> Conv2D pairs as Keras
computes them (the only form before the grouped one became the default: the committed table's).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))

from gan_keras.cli.common import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_keras.registry import get_model  # noqa: E402
from gan_keras.training.engine import build_engine  # noqa: E402
from runs_common import command_line, machine_line  # noqa: E402

SETTINGS = {28: ((28, 28, 1), 128), 64: ((64, 64, 3), 64)}  # mnist batch 128; nlvr/flowers batch 64


def time_iterations(engine, shape, batch_size, n):
    rng = np.random.default_rng(0)
    draw = lambda: rng.uniform(-1, 1, (batch_size, *shape)).astype(np.float32)  # noqa: E731
    engine.train_iteration(draw, rng)  # trace
    engine.train_iteration(draw, rng)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        engine.train_iteration(draw, rng)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def time_calls(fn, n):
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--models", default="GAN,DCGAN,WGAN,WGANGP")
    p.add_argument("--shapes", default="28,64")
    p.add_argument("--upsampled-conv", choices=["grouped", "literal"], default="grouped",
                   help="how the generators compute a convolution after UpSampling2D (GAN_main.py's flag)")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "iteration_speed.md"))
    args = p.parse_args()
    tf.config.experimental.enable_op_determinism()  # as GAN_main.py runs by default

    rows = []
    for size in map(int, args.shapes.split(",")):
        shape, batch = SETTINGS[size]
        for name in args.models.split(","):
            spec = get_model(name)
            hp = spec.hyperparams(upsampled_conv=args.upsampled_conv)
            engine = build_engine(spec, hp, shape)
            sec = time_iterations(engine, shape, batch, args.iterations)
            rows.append((name, "x".join(map(str, shape)), batch, hp.critic_steps, sec))
            print(f"{name:7s} {rows[-1][1]:8s} batch {batch:3d}: {sec:7.3f} s/iteration", flush=True)
            keras.backend.clear_session(free_memory=True)

    spec = get_model("DCGAN")
    engine = build_engine(spec, spec.hyperparams(upsampled_conv=args.upsampled_conv), (28, 28, 1))
    it = time_iterations(engine, (28, 28, 1), 128, args.iterations)
    z = np.random.default_rng(0).standard_normal((128, 100)).astype(np.float32)
    t_predict = time_calls(lambda: engine.generator.predict(z, verbose=0), 5)
    t_pob = time_calls(lambda: engine.generator.predict_on_batch(z), 5)
    gen = (f"DCGAN-28 batch 128: iteration {it:.3f} s; generator.predict {t_predict:.3f} s "
           f"({100 * t_predict / it:.0f} % of an iteration); predict_on_batch {t_pob:.3f} s "
           f"({100 * t_pob / it:.0f} %); predict / predict_on_batch = {t_predict / t_pob:.2f}")
    print(gen)

    lines = [
        "# Seconds per training iteration", "",
        f"- command: `{command_line(script=__file__)}`",
        f"- machine: {machine_line()}",
        f"- keras {keras.__version__}, tensorflow {tf.__version__}, op determinism on, "
        f"--upsampled-conv {args.upsampled_conv}; median of "
        f"{args.iterations} iterations after 2 warm-up iterations; random data", "",
        "| model | image shape | batch | critic steps | s / iteration | iterations / s |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {m} | {s} | {b} | {c} | {t:.3f} | {1 / t:.2f} |" for m, s, b, c, t in rows],
        "", "Generating the fake batch (same process):", "", f"- {gen}", "",
    ]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
