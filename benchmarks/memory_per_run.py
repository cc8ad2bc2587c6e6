"""A process's memory over several training runs in it (a notebook trying settings, the test suite).

    python benchmarks/memory_per_run.py [--runs 5] [--models WGANGP DCGAN] [--data-dir ../shared/data]

For each model, two fresh processes each train ``--runs`` tiny runs in a row through ``main`` (2
iterations, batch 8, 200 MNIST images, a checkpoint at the end) and record their resident memory
(VmRSS, after ``gc.collect()``) after each run: once as the library does it, once with
``backend.traced_gradients_released`` made a no-op, which is how every run behaved before it
existed (TensorFlow's gradient table kept each run's traced step and so its weights; see its
docstring). Writes benchmarks/results/memory_per_run.md.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))

from runs_common import ROOT, command_line, machine_line  # noqa: E402

OUT = os.path.join(ROOT, "benchmarks", "results", "memory_per_run.md")


def resident_mb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))


def child(model: str, release: bool, runs: int, data_dir: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from gan_keras import backend
    from gan_keras.cli.train import main

    if not release:
        backend.traced_gradients_released = contextlib.nullcontext
    sizes = []
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(sys.stderr):
        for i in range(runs):
            code = main([model, "mnist", "2", "8", "2", "2", "--limit", "200", "--no-tensorboard", "--seed", "1",
                         "--data-dir", data_dir, "--out", os.path.join(scratch, str(i))])
            if code != 0:
                raise SystemExit(f"{model} run {i} exited with {code}")
            gc.collect()
            sizes.append(resident_mb())
    print("RESULT " + json.dumps(sizes))


def measure(model: str, release: bool, runs: int, data_dir: str) -> list[int]:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", model, str(int(release)),
                           "--runs", str(runs), "--data-dir", data_dir], cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{model}: the child failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--models", nargs="+", default=["WGANGP", "DCGAN"])
    p.add_argument("--data-dir", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--child", nargs=2, metavar=("MODEL", "RELEASE"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return child(a.child[0], a.child[1] == "1", a.runs, os.path.abspath(a.data_dir))
    rows = []
    for model in a.models:
        for release in (True, False):
            sizes = measure(model, release, a.runs, os.path.abspath(a.data_dir))
            growth = (sizes[-1] - sizes[0]) / max(1, len(sizes) - 1)
            label = "released (the library)" if release else "kept (before)"
            rows.append(f"| {model} | {label} | {' -> '.join(map(str, sizes))} | {growth:+.0f} |")
            print(rows[-1], flush=True)
    command = command_line(script=__file__)
    with open(OUT, "w") as f:
        f.write("# Memory of one process over several training runs\n\n"
                f"`{command}` (each run: `MODEL mnist 2 8 2 2 --limit 200 --seed 1`, through `main`).\n"
                f"Machine: {machine_line()}.\n\n"
                "| model | the run's traced gradients | VmRSS after each run (MB) | MB per run |\n"
                "|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(f"written: {OUT}")


if __name__ == "__main__":
    main()
