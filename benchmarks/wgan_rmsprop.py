"""WGAN with the dissertation's RMSprop (Keras 2.2's update) against Keras 3's RMSprop, same seed.

    python benchmarks/wgan_rmsprop.py [--iterations 400] [--batch 32] [--every 200] [--fid-n 1000]
        [--data-dir DIR] [--weights PATH] [--runs-dir DIR] [--results DIR]
    python benchmarks/wgan_rmsprop.py --steps     # only the step sizes (a minute): steps.md

Keras 3's ``RMSprop`` divides by sqrt(v + eps), Keras 2.2's (and PyTorch's) by sqrt(v) + eps
(``gan_keras/training/optimizers.py``). With the WGAN critic's clipped weights the gradients are far
below sqrt(1e-7), so the two differ by orders of magnitude. This trains the dissertation's WGAN on
MNIST twice from one seed, with the compiled engine (the same iteration as the stacked one), once
as ``GAN_main.py`` does and once with ``optimizers.RMSprop`` replaced by ``keras.optimizers.RMSprop``
(in the child process only), evaluates every checkpoint's FID with the 2015 FID network, and
writes a table, the loss curves and the last sample grids to ``--results``.

``--steps`` measures instead how far one iteration moves the published WGAN networks' weights
(28x28x1 and 64x64x3, batch 16, random images in [-1, 1], after 1 and after 10 iterations from the
same seed): mean |change| / lr over G's and over the critic's trainable weights, for both forms.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from runs_common import (ROOT, add_common_arguments, call, command_line, copy_png, fmt, machine, machine_line,  # noqa: E402
                         read_fids, read_log)

FORMS = {"keras2": "Keras 2.2 / PyTorch: lr g / (sqrt(v) + eps) (gan_keras's rmsprop)",
         "keras3": "Keras 3: lr g / sqrt(v + eps) (keras.optimizers.RMSprop)"}
# The child for "keras3": GAN_main.py's own main, with the optimizer swapped before anything is built.
SWAP = ("import sys, keras, gan_keras.training.optimizers as o; o.RMSprop = keras.optimizers.RMSprop; "
        "from gan_keras.cli.train import main; sys.exit(main(sys.argv[1:]))")


def train(a, form, run_dir, log_path):
    args = ["WGAN", "mnist", str(a.iterations), str(a.batch), str(a.every), str(a.every), "--engine", "compiled",
            "--fetch-every", "10", "--seed", str(a.seed), "--data-dir", a.data_dir, "--no-tensorboard",
            "--out", run_dir]
    if form == "keras2":
        return call("GAN_main.py", args, log_path)[0], "python GAN_main.py " + " ".join(args)
    t = time.perf_counter()
    with open(log_path, "a") as log:
        proc = subprocess.run([sys.executable, "-c", SWAP, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode:
        raise SystemExit(f"the keras3 run failed ({proc.returncode}); see {log_path}")
    return time.perf_counter() - t, f"python -c '{SWAP}' " + " ".join(args)


def step_sizes(warmups=(1, 10), batch=16):
    """{(shape, warmup): {form: (G's, the critic's mean |change| / lr in the next iteration)}}."""
    import keras
    import numpy as np

    import gan_keras.training.optimizers as optimizers
    from gan_keras.registry import get_model
    from gan_keras.training.engine import build_engine

    ours, out = optimizers.RMSprop, {}
    for shape in ((28, 28, 1), (64, 64, 3)):
        for warmup in warmups:
            for form, cls in (("keras2", ours), ("keras3", keras.optimizers.RMSprop)):
                optimizers.RMSprop = cls
                try:
                    keras.utils.set_random_seed(0)
                    spec = get_model("WGAN")
                    engine = build_engine(spec, spec.hyperparams(), shape)
                finally:
                    optimizers.RMSprop = ours
                rng = np.random.default_rng(0)
                images = rng.uniform(-1, 1, (64, *shape)).astype(np.float32)
                draw = lambda: images[rng.integers(0, 64, batch)]  # noqa: E731
                for _ in range(warmup):
                    engine.train_iteration(draw, rng)
                nets = (engine.generator, engine.discriminator)
                before = [[w.numpy().copy() for w in n.trainable_weights] for n in nets]
                engine.train_iteration(draw, rng)
                out.setdefault((shape, warmup), {})[form] = tuple(
                    float(np.concatenate([np.abs(w.numpy() - b).ravel() for w, b in zip(n.trainable_weights, bs)]).mean())
                    / 5e-5 for n, bs in zip(nets, before))
    return out


def write_steps(a, steps, argv=None):
    lines = ["# How far one WGAN iteration moves the weights: Keras 2.2's RMSprop against Keras 3's", "",
             f"Command: `{command_line(argv, __file__)}`  ", f"Machine: {machine_line()}", "",
             "Mean |change| / lr over the trainable weights in one iteration (5 critic updates with clipping, "
             "1 generator update), batch 16, from the same seed, after N iterations.", "",
             "| network | after | G: Keras 2.2 | G: Keras 3 | G: ratio | critic: Keras 2.2 | critic: Keras 3 | critic: ratio |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (shape, warmup), r in steps.items():
        (g2, d2), (g3, d3) = r["keras2"], r["keras3"]
        lines.append(f"| WGAN-{shape[0]} | {warmup} | {g2:.4g} | {g3:.4g} | {g2 / g3:.0f}x | {d2:.4g} | {d3:.4g} | "
                     f"{d2 / d3:.1f}x |")
    with open(os.path.join(a.results, "steps.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iterations", type=int, default=400)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--every", type=int, default=200, help="checkpoint (and FID) interval")
    p.add_argument("--fid-n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", action="store_true", help="only measure the step sizes (steps.md)")
    add_common_arguments(p, "wgan_rmsprop")
    a = p.parse_args(argv)
    os.makedirs(a.results, exist_ok=True)
    if a.steps:
        sys.path.insert(0, ROOT)
        return write_steps(a, step_sizes(), argv)
    os.makedirs(a.runs_dir, exist_ok=True)
    log_path = os.path.join(a.results, "output.log")
    open(log_path, "w").close()
    results = {}
    for form in FORMS:
        run_dir = os.path.join(a.runs_dir, form)
        seconds, command = train(a, form, run_dir, log_path)
        call("GAN_evaluation.py", [run_dir, str(a.fid_n), "16", "--inception", "fid", "--inception-weights",
                                   a.weights, "--data-dir", a.data_dir, "--quiet"], log_path)
        fids = {it: row.get("fid") for it, row in read_fids(run_dir)["rows"].items()}
        rows = read_log(os.path.join(run_dir, "log.csv"))
        last = rows[-50:]
        results[form] = {
            "command": command, "train_seconds": seconds, "fid": fids,
            "mean_abs_w_last_50": sum(abs(r["divergence"]) for r in last) / len(last),
            "max_abs_w": max(abs(r["divergence"]) for r in rows),
            "grid": copy_png(os.path.join(run_dir, "samples", f"iter_{a.iterations:07d}.png"),
                             os.path.join(a.results, f"{form}_iter_{a.iterations:07d}.png")),
            "losses": copy_png(os.path.join(run_dir, "plots", "divergence.png"),
                               os.path.join(a.results, f"{form}_divergence.png")),
        }
    write_report(a, results, argv)


def write_report(a, results, argv):
    its = sorted({it for r in results.values() for it in r["fid"]})
    lines = [f"# WGAN on MNIST: the dissertation's RMSprop against Keras 3's ({a.iterations} iterations, "
             f"batch {a.batch}, seed {a.seed})", "",
             f"Command: `{command_line(argv, __file__)}`  ",
             f"Machine: {machine_line()}", "",
             f"FID: 2015 FID Inception network, {a.fid_n} generated vs {a.fid_n} real MNIST training images.", "",
             "| RMSprop | " + " | ".join(f"FID at {it:,}" for it in its) + " | mean abs W estimate, last 50 iterations "
             "| largest abs W estimate | training s |",
             "| --- |" + " --- |" * (len(its) + 3)]
    for form, r in results.items():
        lines.append(f"| {FORMS[form]} | " + " | ".join(fmt(r["fid"].get(it), 2) for it in its)
                     + f" | {fmt(r['mean_abs_w_last_50'], 4)} | {fmt(r['max_abs_w'], 4)} | {r['train_seconds']:.0f} |")
    lines += ["", "Last sample grids: " + ", ".join(f"`{r['grid']}`" for r in results.values() if r["grid"]),
              "Wasserstein estimate curves: " + ", ".join(f"`{r['losses']}`" for r in results.values() if r["losses"]),
              "", "Commands:", ""] + [f"- {form}: `{r['command']}`" for form, r in results.items()]
    with open(os.path.join(a.results, "wgan_rmsprop.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(a.results, "wgan_rmsprop.json"), "w") as f:
        json.dump({"args": vars(a), "machine": machine(), "results": results}, f, indent=1, default=str)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
