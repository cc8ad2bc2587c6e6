"""Seed 002 (Beranek et al. 2023) at CPU scale: DCGAN vs LSGAN on CelebA, discriminator F1, fine-tuning.

    python benchmarks/seed002.py [--data-dir /work/shared/data] [--runs-dir /tmp/seed002_runs]
        [--iterations 2000] [--fid-n 500] [--skip-train] [--skip-eval] [--quick]

Runs, as subprocesses of the two command-line tools, from the repository root:
1. LSGAN and DCGAN with the DCGAN paper's networks (``--arch radford``) on CelebA at 32x32,
   logging the discriminator's F1/precision/recall every ``--f1-every`` iterations (the paper's
   Figures 4, 5 and 12);
2. fine-tuning (the paper's Appendix A): LSGAN on 102flowers, then a short CelebA run started
   from it (``--init-from``), and the same short CelebA run from scratch with the same seed;
3. ``GAN_evaluation.py`` with the reference FID Inception on every checkpoint of the CelebA runs,
   the same sample size for all of them.

Then it collects the FIDs and a summary of each log.csv (F1, precision, recall, losses per window)
and writes benchmarks/results/seed002/README.md with the machine, the versions, the exact
commands, the tables and copies of the plots. A run directory that already holds a finished run
is continued (that is, left as it is) by GAN_main.py, so re-running this script only redoes
what is missing; ``--skip-train --skip-eval`` only rewrites the results from existing runs.
``--quick`` shrinks everything (a smoke test of the pipeline, minutes instead of half an hour).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs_common import (ROOT, add_common_arguments, call, command_line, evaluated, finished,  # noqa: E402
                         machine, prepare_dirs, real_floor)

# The report (F1 summaries, FID tables, Markdown, PNG copies): benchmarks/seed002_report.py
from seed002_report import eval_args, write_report  # noqa: E402

sys.path.insert(0, ROOT)  # gan_keras, for the real-vs-real floor


# ---------------------------------------------------------------------------- the experiment

def plan(a):
    """The runs: name -> (GAN_main.py arguments, evaluate?)."""
    common = ["--arch", "radford", "--image-size", "32", "--seed", str(a.seed), "--data-dir", a.data_dir]
    main = lambda model: [model, "celeba", a.iterations, a.batch, a.sample_every, a.save_every,  # noqa: E731
                          *common[:4], "--f1-every", a.f1_every, *common[4:]]
    short = [a.finetune_iterations, a.batch, a.finetune_save_every, a.finetune_save_every]
    runs = {
        "lsgan_celeba32": (main("LSGAN"), True),
        "dcgan_celeba32": (main("DCGAN"), True),
        "lsgan_flowers32": (["LSGAN", "102flowers", a.source_iterations, a.batch, a.source_iterations // 4,
                             a.source_iterations, *common[:4], "--f1-every", a.f1_every, *common[4:]], False),
        "lsgan_celeba32_finetuned": (["LSGAN", "celeba", *short, *common[:4], "--f1-every", a.finetune_f1_every,
                                      *common[4:], "--init-from", os.path.join(a.runs_dir, "lsgan_flowers32")], True),
        "lsgan_celeba32_scratch": (["LSGAN", "celeba", *short, *common[:4], "--f1-every", a.finetune_f1_every,
                                    *common[4:]], True),
    }
    out = {}
    for name, (args, evaluate) in runs.items():
        out[name] = ([str(x) for x in args] + ["--out", os.path.join(a.runs_dir, name)], evaluate)
    return out


# ---------------------------------------------------------------------------- main




def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(p, "seed002")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iterations", type=int, default=2000, help="DCGAN and LSGAN on CelebA")
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--sample-every", type=int, default=250)
    p.add_argument("--f1-every", type=int, default=50)
    p.add_argument("--source-iterations", type=int, default=1000, help="LSGAN on 102flowers (fine-tuning source)")
    p.add_argument("--finetune-iterations", type=int, default=400)
    p.add_argument("--finetune-save-every", type=int, default=100)
    p.add_argument("--finetune-f1-every", type=int, default=25)
    p.add_argument("--fid-n", type=int, default=500, help="FID_sample_number, the same for every run")
    p.add_argument("--gen-n", type=int, default=64, help="Generate_sample_number")
    p.add_argument("--quick", action="store_true", help="smoke test: 40/20/20 iterations, FID on 50 images")
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--skip-eval", action="store_true")
    a = p.parse_args()
    a.command = command_line(script=__file__)
    if a.quick:
        a.iterations, a.save_every, a.sample_every, a.f1_every = 40, 20, 20, 10
        a.source_iterations, a.finetune_iterations, a.finetune_save_every, a.finetune_f1_every = 20, 20, 10, 10
        a.fid_n, a.gen_n = 50, 16
    out_log, timings_path, timings = prepare_dirs(a)
    runs = plan(a)
    if not a.skip_train:
        for name, (args, _) in runs.items():
            if finished(os.path.join(a.runs_dir, name), int(args[2])):
                print(f"{name}: already trained for {args[2]} iterations, kept")
                continue
            timings[f"train {name}"] = call("GAN_main.py", args, out_log)[0]
            json.dump(timings, open(timings_path, "w"), indent=1)
    if not a.skip_eval:
        for name, (args, evaluate) in runs.items():
            if evaluate and evaluated(os.path.join(a.runs_dir, name), a.fid_n):
                print(f"{name}: already evaluated with {a.fid_n} images, kept")
            elif evaluate:
                timings[f"FID {name}"] = call("GAN_evaluation.py", eval_args(a, os.path.join(a.runs_dir, name)), out_log)[0]
                json.dump(timings, open(timings_path, "w"), indent=1)
    floor = None
    if not a.skip_eval:
        floor, seconds = real_floor("celeba", a.fid_n, a.seed, a.data_dir, a.weights, a.runs_dir, out_log,
                                    image_size=32, tag="celeba32")
        if seconds is not None:
            timings["FID real vs real"] = seconds
            json.dump(timings, open(timings_path, "w"), indent=1)
    else:
        path = os.path.join(a.runs_dir, f"real_floor_celeba32_n{a.fid_n}", "fid.json")
        floor = json.load(open(path)) if os.path.exists(path) else None
    a.floor = floor
    write_report(a, runs, timings, machine(), a.results)
    print(f"\nwrote {os.path.join(a.results, 'README.md')}")


if __name__ == "__main__":
    main()
