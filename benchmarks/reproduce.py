"""Chapter 4 of the dissertation from our own runs: its twelve experiments, trained and evaluated
with its settings, and compared with its Tables 4-1 ... 4-6.

    python benchmarks/reproduce.py [--only mnist | DCGAN | DCGAN:mnist ...] [--seeds 0 1 2]
        [--scale F] [--until ITER] [--data-dir DIR] [--runs-dir DIR] [--inception fid|keras]
        [--inception-weights PATH] [--skip-train] [--skip-eval] [--dry-run]

Each experiment is ``python GAN_main.py MODEL DATASET ITERATIONS BATCH 1000 10000 --seed S`` with
the dissertation's batch sizes and iteration counts (3.3: mnist batch 128, 30,000 iterations;
nlvr batch 64, 30,000, on its 9,306 crops (``--limit 3102``); 102flowers batch 64, 40,000; a
checkpoint every 10,000), then
``python GAN_evaluation.py RUN 5000 64`` on every checkpoint (5,000 generated images against as many
real training images, 3.5.2). Then ``python GAN_compare.py`` puts every run beside the
dissertation's values: ``benchmarks/results/reproduction.md`` and its figures in
``benchmarks/results/reproduction/``, with the exact commands, the machine, the versions and the wall
times.

Choices, each also in the report:

* FID uses the 2015 FID Inception network by default (``--inception fid``), the network of the
  published FID literature. The dissertation used Keras' ImageNet InceptionV3 (``--inception keras``),
  whose weights cannot be downloaded on machines without internet; its values are shown beside
  ours, but a different network gives a different scale.
* ``--scale F`` multiplies the iterations, the checkpoint and sample intervals and the FID sample
  size by F (at least 1 iteration, 100 FID images), so ``--scale 0.0001`` exercises the whole
  pipeline, every model on every dataset, in minutes. Scaled runs go to their own run and result
  folders and never mix with full-scale ones.
* ``--until ITER`` stops every experiment at that iteration (e.g. 10,000: the first checkpoint);
  the same command without it later continues the runs to their full length.
* Resumable: a finished run or evaluation is kept; an interrupted run continues from its last
  checkpoint or resume point (``--autosave``); an interrupted evaluation is redone. Re-running the
  same command therefore does only what is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # gan_keras
from runs_common import ROOT, call, command_line, evaluated, finished, machine_line, read_log, show  # noqa: E402

# The dissertation's experiments (3.3, Tables 4-1 ... 4-6): dataset -> (batch size, iterations).
DATASETS = {"mnist": (128, 30_000), "nlvr": (64, 30_000), "102flowers": (64, 40_000)}
# The dissertation's training sets where a copy holds more: NLVR's 9,306 crops (3.2.2) are the
# first 3,102 files' 3 boxes each (all of ../shared/data's folders 0-9 give 27,594).
LIMITS = {"nlvr": 3102}
MODELS = ("GAN", "DCGAN", "WGAN", "WGANGP")
CHECKPOINT_EVERY = 10_000
SAMPLE_EVERY = 1_000   # Figure 3-11's command line (3.3.1-3.3.3 say 200: only the number of grids differs)
FID_IMAGES = 5_000
PNG_IMAGES = 64


def scaled(value: int, scale: float, floor: int = 1) -> int:
    return max(floor, int(round(value * scale)))


def experiments(only):
    """[(model, dataset)] in the dissertation's order, filtered by --only (a model, a dataset, or MODEL:DATASET)."""
    chosen = []
    for dataset in DATASETS:
        for model in MODELS:
            if not only or any(w in (model, dataset, f"{model}:{dataset}") for w in only):
                chosen.append((model, dataset))
    unknown = [w for w in only or () if not any(w in (m, d, f"{m}:{d}") for m in MODELS for d in DATASETS)]
    if unknown:
        raise SystemExit(f"--only: unknown experiment(s) {', '.join(unknown)}; use a model ({', '.join(MODELS)}), "
                         f"a dataset ({', '.join(DATASETS)}) or MODEL:DATASET")
    return chosen


def suffix(scale: float) -> str:
    return "" if scale == 1 else "_scale" + f"{scale:g}".replace(".", "p")


def plan(a):
    """name -> dict(model, dataset, seed, iterations, train args, eval args) for every run asked for."""
    runs = {}
    for model, dataset in experiments(a.only):
        batch, iterations = DATASETS[dataset]
        target = scaled(iterations, a.scale)
        if a.until:
            target = min(target, a.until)
        every = scaled(CHECKPOINT_EVERY, a.scale)
        for seed in a.seeds:
            name = f"{model}_{dataset}_s{seed}"
            run_dir = os.path.join(a.runs_dir, name)
            train = [model, dataset, str(target), str(batch), str(scaled(SAMPLE_EVERY, a.scale)), str(every),
                     "--seed", str(seed), "--data-dir", a.data_dir, "--out", run_dir]
            if dataset in LIMITS:
                train += ["--limit", str(LIMITS[dataset])]
            evaluate = [run_dir, str(a.fid_n), str(min(PNG_IMAGES, a.fid_n)), "--inception", a.inception]
            if a.inception_weights:
                evaluate += ["--inception-weights", a.inception_weights]
            runs[name] = {"model": model, "dataset": dataset, "seed": seed, "iterations": target,
                          "full_iterations": scaled(iterations, a.scale), "run_dir": run_dir,
                          "train": train, "evaluate": evaluate}
    return runs


def training_seconds(run_dir):
    """The run's training time from its own log (``seconds`` of the last row), or None."""
    rows = read_log(os.path.join(run_dir, "log.csv")) if os.path.exists(os.path.join(run_dir, "log.csv")) else []
    return rows[-1].get("seconds") if rows else None


def found_runs(a):
    """Every experiment run in the runs folder (any seed, any length), in the dissertation's order:
    the report covers them all, whatever --only this call was given."""
    names = os.listdir(a.runs_dir) if os.path.isdir(a.runs_dir) else []
    found = []
    for model, dataset in experiments(None):
        pattern = re.compile(rf"^{model}_{dataset}_s(\d+)$")
        for name in sorted((n for n in names if pattern.match(n)), key=lambda n: int(pattern.match(n).group(1))):
            run_dir = os.path.join(a.runs_dir, name)
            if os.path.isfile(os.path.join(run_dir, "config.json")):
                found.append((name, dataset, run_dir))
    return found


def write_report(a, timings):
    """reproduction.md: the settings, machine and commands, then the comparison of every run found."""
    from gan_keras.compare import compare_runs
    from gan_keras.rundir import read_config
    from gan_keras.training.config import versions

    present = found_runs(a)
    if not present:
        print("no run to report yet")
        return None
    figures = os.path.splitext(a.report)[0]
    result = compare_runs([r for _, _, r in present], figures, allow_mixed=a.allow_mixed,
                          title="The dissertation's Chapter 4 from our runs")
    body = result.markdown_at(os.path.dirname(a.report))
    lines = [
        "# Reproducing Chapter 4 of the dissertation", "",
        f"Written by `{a.command}` on {time.strftime('%Y-%m-%d')}.", "",
        f"- machine: {machine_line()} (a run's own revision: its config.json's code_revision, where recorded)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items() if k != "platform"),
        f"- scale {a.scale:g}: FID on {a.fid_n} generated images per checkpoint against as many real training "
        f"images; feature network `{a.inception}`"
        + (" (the 2015 FID Inception of TTUR/pytorch-fid, the published literature's network. The dissertation "
           "used Keras' ImageNet InceptionV3, whose weights cannot be downloaded on these machines: its values "
           "are shown beside ours, but a different network gives a different scale)" if a.inception == "fid" else ""),
        "", "## Runs", "",
        "| run | iterations | of | training (s) | evaluation (s) | training command |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, dataset, run_dir in present:
        rows = read_log(os.path.join(run_dir, "log.csv")) if os.path.exists(os.path.join(run_dir, "log.csv")) else []
        done = int(rows[-1]["iteration"]) if rows else 0
        command = read_config(run_dir).get("command", "").replace(ROOT + os.sep, "")
        t, e = training_seconds(run_dir), timings.get(f"evaluate {name}")
        lines.append(f"| {name} | {done:,} | {scaled(DATASETS[dataset][1], a.scale):,} | "
                     f"{'' if t is None else f'{t:,.0f}'} | {'' if e is None else f'{e:,.0f}'} | `{command}` |")
    lines += ["", "Each run is evaluated by `python GAN_evaluation.py RUN_DIR "
              f"{a.fid_n} {min(PNG_IMAGES, a.fid_n)} --inception {a.inception}"
              + (f" --inception-weights {a.inception_weights}" if a.inception_weights else "")
              + "`. Training time: the run's own clock "
              "(log.csv's `seconds`, summed over every session that trained it; a run may have been resumed). "
              "Evaluation time: the last `GAN_evaluation.py` call (`timings.json` beside the figures).", "", body]
    with open(a.report, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {a.report} and {figures}/")
    return a.report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", metavar="X", help="experiments: a model, a dataset or MODEL:DATASET")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--scale", type=float, default=1.0, help="shrink iterations, intervals and FID images by F")
    p.add_argument("--until", type=int, metavar="ITER", help="train every experiment only up to this iteration")
    p.add_argument("--data-dir", default=os.environ.get("GAN_KERAS_DATA_DIR", os.path.join(ROOT, "..", "shared", "data")))
    p.add_argument("--runs-dir", help="run directories (default gan_models/reproduce[_scaleF])")
    p.add_argument("--report", help="Markdown report (default benchmarks/results/reproduction[_scaleF].md; "
                   "its figures go to the folder of the same name)")
    p.add_argument("--inception", choices=("fid", "keras"), default="fid")
    p.add_argument("--inception-weights", metavar="PATH")
    p.add_argument("--allow-mixed", action="store_true", help="compare runs evaluated differently")
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--skip-eval", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="print the commands only")
    a = p.parse_args(argv)
    if not 0 < a.scale <= 1:
        p.error("--scale must be in (0, 1]")
    a.command = command_line(argv, __file__)
    a.data_dir = os.path.abspath(a.data_dir)
    a.runs_dir = os.path.abspath(a.runs_dir or os.path.join(ROOT, "gan_models", "reproduce" + suffix(a.scale)))
    a.report = os.path.abspath(a.report or os.path.join(ROOT, "benchmarks", "results",
                                                        "reproduction" + suffix(a.scale) + ".md"))
    a.fid_n = scaled(FID_IMAGES, a.scale, floor=100)
    runs = plan(a)
    if a.dry_run:
        for r in runs.values():
            print(show("GAN_main.py", r["train"]))
            print(show("GAN_evaluation.py", r["evaluate"]))
        return 0
    figures = os.path.splitext(a.report)[0]
    os.makedirs(figures, exist_ok=True)
    os.makedirs(a.runs_dir, exist_ok=True)
    out_log = os.path.join(a.runs_dir, "output.txt")
    timings_path = os.path.join(figures, "timings.json")
    timings = {}
    if os.path.exists(timings_path):
        with open(timings_path) as f:
            timings = json.load(f)
    for name, r in runs.items():
        if not a.skip_train:
            if finished(r["run_dir"], r["iterations"]):
                print(f"{name}: already trained for {r['iterations']} iterations, kept")
            else:
                call("GAN_main.py", r["train"], out_log)
        if not a.skip_eval and finished(r["run_dir"], r["iterations"]):
            if evaluated(r["run_dir"], a.fid_n):
                print(f"{name}: every checkpoint already evaluated with {a.fid_n} images, kept")
            else:
                timings[f"evaluate {name}"] = call("GAN_evaluation.py", r["evaluate"], out_log)[0]
        with open(timings_path, "w") as f:
            json.dump(timings, f, indent=1)
    write_report(a, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
