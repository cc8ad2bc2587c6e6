"""Both engines, a few hundred iterations on real MNIST from the same start and the same draws.

Issue 15 asks for a benchmark beside the equivalence test (tests/test_compiled_engine.py, 2
iterations): how far apart are ``--engine stacked`` and ``--engine compiled`` after hundreds of
iterations? Each model's two engines are built from one seed (identical weights, optimizer states
and random-layer states) and fed the same real batches and noise, in the stacked engine's order,
as a deterministic run trains (op determinism on, Grappler off). Every ``--every`` iterations the
largest absolute difference over all state variables (weights, optimizer slots, BatchNorm
statistics) and the largest difference of the logged losses are recorded.

  python benchmarks/engine_diff.py --data-dir ../shared/data --models GAN DCGAN LSGAN WGAN WGANGP \
      --iterations 300 --batch 16

Writes ``--out`` (Markdown), the same name with ``.json`` and ``.png`` (difference against
iteration), after each model, so an interrupted run keeps what it measured.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from runs_common import command_line, machine, machine_line  # noqa: E402

SEED = 7


def state_difference(reference, compiled) -> float:
    """Largest |a - b| over the reference engine's state variables (the compiled one adds its draw seed)."""
    import numpy as np

    a = reference.state_variables()
    b = compiled.state_variables()[:len(a)]
    return max(float(np.max(np.abs(np.asarray(x.numpy(), np.float64) - np.asarray(y.numpy(), np.float64)),
                            initial=0.0)) for x, y in zip(a, b))


def diff_model(model, images, a) -> dict:
    import keras
    import numpy as np

    from gan_keras.registry import get_model
    from gan_keras.training.engine import build_engine

    spec = get_model(model)
    engines = []
    for engine in ("stacked", "compiled"):
        keras.utils.set_random_seed(SEED)
        engines.append(build_engine(spec, spec.hyperparams(engine=engine), images.shape[1:]))
    reference, compiled = engines

    def drawer():
        rng = np.random.default_rng(1)
        return lambda: images[rng.integers(0, len(images), a.batch)].astype(np.float32) / 127.5 - 1.0

    draw_a, draw_b = drawer(), drawer()
    noise_a, noise_b = np.random.default_rng(2), np.random.default_rng(2)
    points, worst_log = [], 0.0
    t = time.perf_counter()
    for iteration in range(1, a.iterations + 1):
        ref = reference.train_iteration(draw_a, noise_a)
        got = compiled.run_iteration_with(compiled.host_draws(draw_b, noise_b))
        worst_log = max([worst_log] + [abs(ref[k] - got[k]) for k in ref])
        if iteration % a.every == 0 or iteration == a.iterations:
            points.append({"iteration": iteration, "state": state_difference(reference, compiled),
                           "log": worst_log, "d_loss": ref.get("d_loss"), "g_loss": ref.get("g_loss")})
            print(f"{model} {iteration}: state {points[-1]['state']:.3g}, logs {worst_log:.3g}", flush=True)
    return {"model": model, "points": points, "seconds": time.perf_counter() - t}


def write(a, info, results, stem):
    lines = ["# Stacked and compiled engines, the same draws, hundreds of iterations on MNIST", "",
             f"- command: `{info['command']}`", f"- date: {info['date']}",
             f"- machine: {machine_line(info['machine'])}", f"- versions: {info['versions']}",
             f"- batch {a.batch}, {a.iterations} iterations, both engines built from seed {SEED} and given the same "
             "real batches and noise; op determinism on and Grappler off (as a deterministic run trains); "
             "largest |stacked - compiled| over every weight, optimizer slot and BatchNorm statistic, and over "
             "the logged values so far.", "",
             "| model | " + " | ".join(f"state @ {p['iteration']}" for p in results[0]["points"])
             + " | logs, worst | seconds (both engines) |",
             "| --- " * (len(results[0]["points"]) + 3) + "|"]
    for r in results:
        lines.append(f"| {r['model']} | " + " | ".join(f"{p['state']:.3g}" for p in r["points"])
                     + f" | {r['points'][-1]['log']:.3g} | {r['seconds']:.0f} |")
    lines += ["", "0 means bit-identical. Where the state is identical the logged values can still differ in their "
              "last float32 bits: the engines reduce them to log values differently (e.g. D's loss, the mean "
              "of its real and fake losses, in Python floats or in float32).", ""]
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines))
    with open(stem + ".json", "w") as f:
        json.dump({"info": info, "args": vars(a), "results": results}, f, indent=1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results:
        xs = [p["iteration"] for p in r["points"]]
        ax.plot(xs, [max(p["state"], 1e-12) for p in r["points"]], marker="o", label=r["model"])
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("largest |stacked - compiled| (state)")
    ax.set_title(f"stacked vs compiled, same draws, MNIST, batch {a.batch}\n(plotted at 1e-12 = bit-identical)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(stem + ".png", dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="where mnist/ is (default: the usual data dirs)")
    p.add_argument("--models", nargs="+", default=["GAN", "DCGAN", "LSGAN", "WGAN", "WGANGP"])
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--out", default=os.path.join(HERE, "results", "engine_diff", "engine_diff.md"))
    a = p.parse_args(argv)
    import keras
    import tensorflow as tf

    from gan_keras.backend import enable_determinism
    from gan_keras.data import load_dataset

    enable_determinism()
    images = load_dataset("mnist", data_dir=a.data_dir, allow_download=False).images
    info = {"command": command_line(argv, __file__),
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
            "versions": f"keras {keras.__version__}, tensorflow {tf.__version__}"}
    stem = os.path.splitext(a.out)[0]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    results = []
    for model in a.models:
        results.append(diff_model(model, images, a))
        write(a, info, results, stem)
    print(f"written to {a.out} (+ .json, .png)")


if __name__ == "__main__":
    main()
