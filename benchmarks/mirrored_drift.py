"""How far N logical CPU devices (``--strategy mirrored``) drift from one device, per model.

    python benchmarks/mirrored_drift.py [--models GAN DCGAN WGANGP] [--iterations 3] [--devices 2]
        [--out benchmarks/results/mirrored_drift.md]

For each model, two child processes build the compiled engine from seed 5 on the same random
MNIST-shaped data (batch 8) and train ``--iterations`` iterations: one on one device, one on
``--devices`` logical CPU devices (``GAN_KERAS_LOGICAL_CPUS``). It prints the largest absolute
difference of the networks' variables (weights and BatchNorm statistics) and of the optimizers'
slots, and the largest spread between the replicas' copies of a variable (0: they stay in step).
Custom-step models are refused under ``mirrored`` (``GANTrainStep.REPLICABLE``); ``--force`` lets
them run, to measure them. Writes ``--out`` (Markdown: the command, the machine, the code
revision, the date and one row per model) after each model.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from runs_common import command_line, machine_line  # noqa: E402

CHILD = r"""
import json, os, sys
import numpy as np
from gan_keras.training.distribute import make_strategy, scope
strategy = make_strategy("mirrored") if int(os.environ["GAN_KERAS_LOGICAL_CPUS"]) > 1 else None
import keras
from gan_keras.backend import enable_determinism
from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine
model, out, iterations, force = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
keras.utils.set_random_seed(5)
enable_determinism()
spec = get_model(model)
if force and spec.train_step is not None:
    spec.train_step.REPLICABLE = True
overrides = {"critic_steps": 2} if model.startswith("WGAN") else {}
with scope(strategy):
    e = build_engine(spec, spec.hyperparams(engine="compiled", **overrides), (28, 28, 1))
e.attach_data(np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), dtype=np.uint8), 8)
for _ in range(iterations):
    e.train_iteration(None, None)
variables = e.state_variables()
spread = 0.0
if strategy is not None:
    for v in variables:
        copies = [np.asarray(x, np.float64) for x in strategy.experimental_local_results(v)]
        spread = max([spread] + [float(np.max(np.abs(copies[0] - c), initial=0.0)) for c in copies[1:]])
np.savez(out, *[np.asarray(v.numpy()) for v in variables])
print("RESULT", json.dumps({"networks": len(e.generator.weights) + len(e.discriminator.weights), "spread": spread}))
"""


def child(script, model, devices, iterations, force, out):
    env = {**os.environ, "GAN_KERAS_LOGICAL_CPUS": str(devices), "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, script, model, out, str(iterations), "1" if force else "0"],
                          capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"{model} on {devices} device(s) failed:\n{proc.stderr[-2000:]}")
    return json.loads(next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))[7:])


def write_report(a, rows, out):
    lines = ["# How far N logical CPU devices (--strategy mirrored) drift from one device", "",
             f"- command: `{command_line(script=__file__)}`",
             f"- machine: {machine_line()}",
             f"- compiled engine, seed 5, op determinism on, random MNIST-shaped data at batch 8, {a.iterations} "
             f"iteration(s) on 1 device and on {a.devices} logical CPU devices (GAN_KERAS_LOGICAL_CPUS); WGAN and "
             "WGAN-GP with 2 critic steps" + ("; --force: custom-step models run under mirrored" if a.force else ""),
             "- largest |one device - N devices| over the networks' variables (weights, BatchNorm statistics) and "
             "over the optimizers' slots; replica spread: the largest difference between the replicas' copies of "
             "a variable (0: they stay in step)", "",
             "| model | networks | optimizer slots | replica spread | seconds (both runs) |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['model']} | {r['networks']:.2e} | {r['slots']:.2e} | {r['spread']:.1e} | {r['seconds']:.0f} |"
              for r in rows]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["GAN", "DCGAN", "WGANGP"])
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--devices", type=int, default=2)
    p.add_argument("--force", action="store_true", help="also run custom-step models under mirrored")
    p.add_argument("--out", default=os.path.join(HERE, "results", "mirrored_drift.md"))
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "child.py")
        with open(script, "w") as f:
            f.write(CHILD)
        for model in a.models:
            t = time.perf_counter()
            one = os.path.join(tmp, "one.npz")
            many = os.path.join(tmp, "many.npz")
            info = child(script, model, 1, a.iterations, a.force, one)
            spread = child(script, model, a.devices, a.iterations, a.force, many)["spread"]
            with np.load(one) as x, np.load(many) as y:
                keys = sorted(x.files, key=lambda k: int(k.split("_")[1]))
                diffs = [float(np.max(np.abs(x[k].astype(np.float64) - y[k].astype(np.float64)), initial=0.0))
                         for k in keys]
            n = info["networks"]
            rows.append({"model": model, "networks": max(diffs[:n]), "slots": max(diffs[n:], default=0.0),
                         "spread": spread, "seconds": time.perf_counter() - t})
            print(f"{model}: {a.iterations} iterations, 1 vs {a.devices} devices: "
                  f"networks {rows[-1]['networks']:.2e}, "
                  f"optimizer slots {rows[-1]['slots']:.2e}, replica spread {spread:.1e}", flush=True)
            write_report(a, rows, a.out)
    print(f"written to {a.out}")


if __name__ == "__main__":
    main()
