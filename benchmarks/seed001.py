"""Seed 001 (Park, Huh, Kim 2020, BEGAN v3) at CPU scale: BEGAN, BEGAN-CS and BEGAN v3 on MNIST and CelebA.

    python benchmarks/seed001.py [--data-dir /work/shared/data] [--runs-dir /tmp/seed001_runs]
        [--mnist-iterations N] [--celeba-iterations N] [--fid-n-mnist N] [--fid-n-celeba N]
        [--skip-train] [--skip-resume] [--skip-eval] [--no-floor] [--quick] [--published-forms]

Runs, as subprocesses of the two command-line tools, from the repository root:
1. the three models of seed 001 (BEGAN, BEGANCS, BEGANV3) with their published settings on real
   MNIST (28x28x1) and on the 5,000-image CelebA copy (64x64x3), seed 0, a few hundred (MNIST) or a
   few dozen (CelebA) iterations at a small batch: what 2 CPU cores do in about 25 minutes. The
   loss forms are those the committed results had (``OLD_FORMS``, as flags in the commands):
   BEGAN-CS and BEGAN v3 have published the BEGAN-CS code's since; ``--published-forms`` uses those;
2. resume checks (``--resume-checks``; by default BEGANV3 on each dataset, the model with the most
   state: k_t, the collapse rule's window and the VAE's noise generator, and BEGAN on MNIST): the
   model trained in two calls of the same command, the first stopping at H, the second (more
   iterations, the same ``--out``) continuing it up to the main run's next checkpoint T; its
   log.csv (all columns but the wall-clock ``seconds``), every array of checkpoint T's
   ``trainer_state.npz`` (both networks, both optimizers, k_t, the collapse window, seed
   generators, the fixed noise), both ``.keras`` files' weights and the batch generator's state
   are compared with the straight main run's at T (and checkpoint H with the main run's, where it
   has one);
3. ``GAN_evaluation.py`` with the reference FID Inception on the final checkpoint of every main
   run, the same FID sample size for the runs of one dataset; and, unless ``--no-floor``, the FID
   of two disjoint real samples of that size (what a perfect generator would read).

Then it checks that every logged value is finite, summarises each log.csv and writes
benchmarks/results/seed001/README.md (machine, versions, exact commands, tables) with copies of
each run's plots/k_t.png, plots/m_global.png, final sample grid and final reconstruction grid.
A run directory that already holds the finished run is left as it is, so re-running this script
only redoes what is missing; ``--skip-train --skip-resume --skip-eval`` only rewrites the results.
``--quick`` shrinks everything to a smoke test of the pipeline, in /tmp (its report is not a result;
it was not run for the committed results).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs_common import ROOT, call, command_line, finished, machine, prepare_dirs, real_floor  # noqa: E402

# Reading the runs (and the shared settings): benchmarks/seed001_collect.py; the report (Markdown, PNG
# copies): benchmarks/seed001_report.py
from seed001_collect import DATASETS, eval_args, fid_n, read_fid, sizes  # noqa: E402
from seed001_report import write_report  # noqa: E402

sys.path.insert(0, ROOT)  # gan_keras, for the real-vs-real floor
MODELS = ("BEGAN", "BEGANCS", "BEGANV3")
# The committed results (benchmarks/results/seed001*) were trained before BEGAN-CS and BEGAN v3 took the
# BEGAN-CS authors' loss forms as their published defaults (--eta 2 --l2-form batch_norm --constraint-form
# mean_abs). These flags give the forms those runs had, so the commands reproduce the committed figures;
# --published-forms leaves them out (today's defaults: a different experiment). BEGAN did not change.
OLD_FORMS = {"BEGAN": [], "BEGANCS": ["--eta", "1", "--l2-form", "pixel_mean", "--constraint-form", "l2_norm"],
             "BEGANV3": ["--l2-form", "pixel_mean", "--constraint-form", "l2_norm"]}


# ---------------------------------------------------------------------------- the experiment

def train_args(a, model, ds, iterations, out):
    n, batch, sample_every, save_every = sizes(a, ds)
    return [model, ds, str(iterations), str(batch), str(sample_every), str(save_every), "--seed", str(a.seed),
            "--data-dir", a.data_dir, "--no-tensorboard", "--out", out,
            *([] if a.published_forms else OLD_FORMS[model])]


def plan(a):
    """The main runs: name -> (dataset, model, GAN_main.py arguments)."""
    runs = {}
    for ds in DATASETS:
        for model in MODELS:
            name = f"{model.lower()}_{ds}"
            runs[name] = (ds, model, train_args(a, model, ds, sizes(a, ds)[0], os.path.join(a.runs_dir, name)))
    return runs


def resume_plan(a):
    """The resume checks: name -> (dataset, main run name, first call's args, second call's args, H, T).
    ``--resume-checks MODEL:DATASET[:H]``: the first call stops at H (default save_model_interval; a
    final iteration is always checkpointed), the second continues the same --out to T, the main
    run's first checkpoint after H (its save_model_interval grid), where the straight run can be
    compared with it."""
    out = {}
    for spec in a.resume_checks.split(","):
        parts = spec.split(":")
        model, ds = parts[0].upper(), parts[1]
        n, batch, sample_every, save_every = sizes(a, ds)
        h = int(parts[2]) if len(parts) > 2 else save_every
        t = (h // save_every + 1) * save_every
        if t > n:
            raise SystemExit(f"{spec}: the resume check needs a checkpoint of the main run after {h} (<= {n})")
        name = f"{model.lower()}_{ds}_resume" + (f"{h}" if len(parts) > 2 else "")
        run_dir = os.path.join(a.runs_dir, name)
        out[name] = (ds, f"{model.lower()}_{ds}", train_args(a, model, ds, h, run_dir),
                     train_args(a, model, ds, t, run_dir), h, t)
    return out


# ---------------------------------------------------------------------------- main


def evaluated(run_dir, n, iteration):
    got = read_fid(run_dir, iteration)
    return bool(got and got["fid_n"] == n and got["row"].get("status") == "ok")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default="/work/shared/data")
    p.add_argument("--weights", default="/work/shared/weights/fid-inception-2015-12-05.pt")
    p.add_argument("--runs-dir", default=None,
                   help="run directories (keep them out of the repository); default /tmp/seed001_runs "
                        "(/tmp/seed001_quick_runs with --quick)")
    p.add_argument("--results", default=None,
                   help="default benchmarks/results/seed001 (/tmp/seed001_quick_results with --quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mnist-iterations", type=int, default=120)
    p.add_argument("--mnist-batch", type=int, default=16)
    p.add_argument("--mnist-sample-every", type=int, default=20)
    p.add_argument("--mnist-save-every", type=int, default=40)
    p.add_argument("--celeba-iterations", type=int, default=48)
    p.add_argument("--celeba-batch", type=int, default=8)
    p.add_argument("--celeba-sample-every", type=int, default=8)
    p.add_argument("--celeba-save-every", type=int, default=16)
    p.add_argument("--resume-checks", default="BEGANV3:mnist,BEGANV3:celeba,BEGAN:mnist:20",
                   help="MODEL:DATASET[:H],...: resume checks (first call stops at H, default save_every)")
    p.add_argument("--fid-n-mnist", type=int, default=300, help="FID_sample_number for the MNIST runs")
    p.add_argument("--fid-n-celeba", type=int, default=300, help="FID_sample_number for the CelebA runs")
    p.add_argument("--gen-n", type=int, default=64, help="Generate_sample_number")
    p.add_argument("--quick", action="store_true", help="smoke test: a few iterations, FID on 50 images")
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--skip-resume", action="store_true")
    p.add_argument("--skip-eval", action="store_true")
    p.add_argument("--no-floor", action="store_true", help="skip the real-vs-real FID floor")
    p.add_argument("--published-forms", action="store_true",
                   help="train BEGAN-CS and BEGAN v3 with today's published loss forms instead of the ones the "
                        "committed results had (OLD_FORMS)")
    p.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS),
                   help="the datasets to train, evaluate and report (default both)")
    a = p.parse_args()
    # what every step loops over, the report's write_report and interpretation too
    globals()["DATASETS"] = tuple(ds for ds in DATASETS if ds in a.datasets)  # what every step loops over
    a.command = command_line(script=__file__)
    if a.quick:
        a.mnist_iterations, a.mnist_batch, a.mnist_sample_every, a.mnist_save_every = 6, 8, 3, 2
        a.celeba_iterations, a.celeba_batch, a.celeba_sample_every, a.celeba_save_every = 4, 2, 2, 2
        a.fid_n_mnist = a.fid_n_celeba = 50
        a.gen_n = 16
        a.resume_checks = "BEGANV3:mnist,BEGANV3:celeba,BEGAN:mnist:1"
    a.runs_dir = a.runs_dir or ("/tmp/seed001_quick_runs" if a.quick else "/tmp/seed001_runs")
    a.results = a.results or ("/tmp/seed001_quick_results" if a.quick else
                              os.path.join(ROOT, "benchmarks", "results", "seed001"))
    out_log, timings_path, timings = prepare_dirs(a)
    runs, resumes = plan(a), resume_plan(a)

    def timed(step, script, args):
        seconds, output = call(script, args, out_log)
        timings[step] = seconds
        with open(timings_path, "w") as f:
            json.dump(timings, f, indent=1)
        return output

    if not a.skip_train:
        for name, (ds, model, args) in runs.items():
            if finished(os.path.join(a.runs_dir, name), int(args[2])):
                print(f"{name}: already trained for {args[2]} iterations, kept")
                continue
            timed(f"train {name}", "GAN_main.py", args)
    if not a.skip_resume:
        for name, (ds, main_name, args1, args2, h, t) in resumes.items():
            run_dir = os.path.join(a.runs_dir, name)
            if finished(run_dir, t):
                print(f"{name}: resume check already done, kept")
                continue
            if not finished(run_dir, h):
                timed(f"resume check {name}: 1-{h}", "GAN_main.py", args1)
            output = timed(f"resume check {name}: {h + 1}-{t}", "GAN_main.py", args2)
            line = next((ln.strip() for ln in output.splitlines() if ln.startswith("resuming ")), None)
            with open(os.path.join(run_dir, "resume_output.json"), "w") as f:
                json.dump({"resumed_line": line}, f, indent=1)
            if line is None:
                print(f"warning: the second call of {name} did not print 'resuming ...'")
    floors = {}
    for ds in DATASETS:
        if not a.skip_eval:
            for name, (rds, model, args) in runs.items():
                if rds != ds:
                    continue
                run_dir, n = os.path.join(a.runs_dir, name), int(args[2])
                if evaluated(run_dir, fid_n(a, ds), n):
                    print(f"{name}: already evaluated with {fid_n(a, ds)} images, kept")
                    continue
                timed(f"FID {name}", "GAN_evaluation.py", eval_args(a, run_dir, ds, n))
        if not a.no_floor:
            path = os.path.join(a.runs_dir, f"real_floor_{ds}_n{fid_n(a, ds)}", "fid.json")
            if a.skip_eval:
                floors[ds] = json.load(open(path)) if os.path.exists(path) else None
            else:
                floors[ds], seconds = real_floor(ds, fid_n(a, ds), a.seed, a.data_dir, a.weights, a.runs_dir,
                                                 out_log, label=ds)
                if seconds is not None:
                    timings[f"FID real vs real {ds}"] = seconds
                    with open(timings_path, "w") as f:
                        json.dump(timings, f, indent=1)
    write_report(a, runs, resumes, timings, machine(), floors, a.results)
    print(f"\nwrote {os.path.join(a.results, 'README.md')}")


if __name__ == "__main__":
    main()
