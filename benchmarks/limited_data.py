"""Seed 000's comparison on small datasets at CPU scale: DCGAN, EDGEGAN and its ablations, DeLiGAN, DiffAugment.

    python benchmarks/limited_data.py [--data-dir /work/shared/data] [--runs-dir /tmp/limited_data_runs]
        [--iterations 2000] [--seeds S ...] [--fid-n 800] [--only emoji|flowers1000] [--skip-train]
        [--skip-eval] [--quick]

Song & Kim (2023) compare DCGAN, DeLiGAN and their proposed GAN (CFT + Mean Rescaling + edge loss)
on 804 emoji and 1,000 CIFAR-10 images and report -62.90 % FID against DCGAN on emoji. This script
trains, with the same networks (the DCGAN paper's at 32x32, ``--arch radford``), the same batch
(32, the paper's), the same iteration budget and the same seeds (two on emoji, one on flowers):

* on the 845-image emoji set (``emoji``): DCGAN; EDGEGAN with all three techniques and each
  technique alone, and with none (the DCGAN baseline trained by EDGEGAN's own step); DeLiGAN;
  DCGAN + DiffAugment (color, translation, cutout);
* on a 1,000-image Oxford-102 subset (``102flowers --limit 1000``; CIFAR-10 has no copy on these
  machines): DCGAN, EDGEGAN, DeLiGAN, DCGAN + DiffAugment.

Then ``GAN_evaluation.py`` scores every run's last checkpoint with the 2015 FID Inception network:
FID and KID on ``--fid-n`` generated images against as many real training images, the same
numbers for every run. The results (FID, KID, change against DCGAN, time, sample grids, the exact
commands, the machine) go to benchmarks/results/limited_data/. Finished runs and evaluations are
kept, so re-running only does what is missing; ``--skip-train --skip-eval`` only rewrites the report.
``--quick`` is a smoke test of the pipeline (a few minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs_common import (add_common_arguments, call, command_line, copy_png, evaluated, finished, fmt, machine_line,  # noqa: E402
                         mean, prepare_dirs, read_fids, read_log, show)

ALL_OFF = ["--cft", "off", "--mean-rescaling", "off", "--edge-loss", "off"]
VARIANTS = {  # name -> (model, flags, what it is)
    "dcgan": ("DCGAN", [], "DCGAN (stacked train_on_batch, the dissertation's training)"),
    "edgegan_none": ("EDGEGAN", ALL_OFF, "EDGEGAN's step with CFT, MR and edge loss off (DCGAN by the same step)"),
    "edgegan_cft": ("EDGEGAN", ["--mean-rescaling", "off", "--edge-loss", "off"], "+ CFT only"),
    "edgegan_mr": ("EDGEGAN", ["--cft", "off", "--edge-loss", "off"], "+ Mean Rescaling only"),
    "edgegan_edge": ("EDGEGAN", ["--cft", "off", "--mean-rescaling", "off"], "+ edge loss only"),
    "edgegan": ("EDGEGAN", [], "EDGEGAN: CFT + MR + edge loss (the proposed GAN)"),
    "deligan": ("DELIGAN", [], "DeLiGAN (learned mixture-of-Gaussians latent)"),
    "dcgan_diffaugment": ("DCGAN", ["--diffaugment", "color,translation,cutout"], "DCGAN + DiffAugment"),
}
DATASETS = {  # name -> (dataset arguments, variants, seeds)
    "emoji": (["emoji"], list(VARIANTS), (0, 1)),
    "flowers1000": (["102flowers", "--limit", "1000"], ["dcgan", "edgegan", "deligan", "dcgan_diffaugment"], (0,)),
}


def seeds_of(a, ds):
    return a.seeds or DATASETS[ds][2]


def plan(a):
    """name -> (dataset, variant, seed, GAN_main.py arguments)."""
    runs = {}
    for ds, (data, variants, _) in DATASETS.items():
        for variant in variants:
            model, flags, _ = VARIANTS[variant]
            for seed in seeds_of(a, ds):
                name = f"{ds}_{variant}_s{seed}"
                args = [model, data[0], a.iterations, a.batch, a.iterations // 4, a.iterations, *data[1:],
                        "--arch", "radford", "--image-size", "32", "--seed", seed, "--data-dir", a.data_dir,
                        "--no-tensorboard", *flags, "--out", os.path.join(a.runs_dir, name)]
                runs[name] = (ds, variant, seed, [str(x) for x in args])
    return runs


def eval_args(a, run_dir):
    return [run_dir, str(a.fid_n), str(a.gen_n), "--inception", "fid", "--inception-weights", a.weights,
            "--no-similarity", "--checkpoint", str(a.iterations)]


# ---------------------------------------------------------------------------- the report

def collect(a, runs, timings):
    rows = {}
    for name, (ds, variant, seed, args) in runs.items():
        run_dir = os.path.join(a.runs_dir, name)
        if not os.path.exists(os.path.join(run_dir, "config.json")):
            continue
        fids = read_fids(run_dir)
        row = (fids or {}).get("rows", {}).get(a.iterations, {})
        log = read_log(os.path.join(run_dir, "log.csv"))
        tail = log[-max(1, len(log) // 10):]                                   # the last 10 % of iterations
        rows[name] = {"dataset": ds, "variant": variant, "seed": seed, "command": show("GAN_main.py", args),
                      "fid": row.get("fid"), "kid": row.get("kid"), "kid_std": row.get("kid_std"),
                      "train_seconds": timings.get(f"train {name}"),
                      "d_loss_last10pct": mean(r.get("d_loss") for r in tail),
                      "g_loss_last10pct": mean(r.get("g_loss") for r in tail),
                      "edge_last10pct": mean(r.get("edge") for r in tail) if "edge" in log[0] else None}
    return rows


def write_report(a, runs, rows, results):
    for name, (ds, variant, seed, args) in runs.items():
        run_dir = os.path.join(a.runs_dir, name)
        if name in rows:
            rows[name]["files"] = [f for f in (
                copy_png(os.path.join(run_dir, f"samples/iter_{a.iterations:07d}.png"),
                         os.path.join(results, f"{name}_samples.png")),
                copy_png(os.path.join(run_dir, "plots/losses.png"), os.path.join(results, f"{name}_losses.png")))
                if f]
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump({"settings": {k: v for k, v in vars(a).items() if k not in ("command",)}, "runs": rows}, f, indent=1)

    any_cfg = next((os.path.join(a.runs_dir, n, "config.json") for n in rows), None)
    versions = json.load(open(any_cfg))["versions"] if any_cfg else {}
    L = ["# Limited data: DCGAN, EDGEGAN (seed 000) and its ablations, DeLiGAN, DiffAugment", "",
         f"Produced by `{a.command}`.", "",
         f"- Machine: {machine_line()}.",
         f"- Versions: {', '.join(f'{k} {v}' for k, v in versions.items())}.",
         f"- Every run: {a.iterations} iterations, batch {a.batch}, the DCGAN paper's networks at 32x32 "
         f"(`--arch radford --image-size 32`), Adam(2e-4, 0.5); seeds: "
         + "; ".join(f"{ds} {', '.join(map(str, seeds_of(a, ds)))}" for ds in DATASETS) + ".",
         f"- FID and KID: `GAN_evaluation.py` on the last checkpoint, the 2015 FID Inception network, "
         f"{a.fid_n} generated images against {a.fid_n} real training images (the same for every run; "
         "KID x 1000 below).", ""]
    for ds, (data, variants, _) in DATASETS.items():
        base = mean(rows[n]["fid"] for n in rows if rows[n]["dataset"] == ds and rows[n]["variant"] == "dcgan")
        L += [f"## {ds} (`{' '.join(data)}`)", ""]
        if len(seeds_of(a, ds)) > 1:
            L += ["Mean over the seeds (change against DCGAN's mean):", "",
                  "| run | seeds | FID mean | change vs DCGAN | FIDs | KID x 1000 mean |", "|---|---|---|---|---|---|"]
            for variant in variants:
                got = [rows[n] for n in rows if rows[n]["dataset"] == ds and rows[n]["variant"] == variant
                       and rows[n]["fid"] is not None]
                fid = mean(r["fid"] for r in got)
                kid = mean(1000 * r["kid"] for r in got if r["kid"] is not None)
                change = f"{100 * (fid - base) / base:+.1f} %" if got and base == base else "n/a"
                L.append(f"| {VARIANTS[variant][2]} | {len(got)} | {fmt(fid, 1)} | {change} | "
                         f"{', '.join(fmt(r['fid'], 1) for r in got)} | {fmt(kid, 2)} |")
            L += ["", "Each run:", ""]
        L += [
              "| run | FID | change vs DCGAN | KID x 1000 | D loss | G loss | edge term | train s |",
              "|---|---|---|---|---|---|---|---|"]
        for variant in variants:
            for seed in seeds_of(a, ds):
                name = f"{ds}_{variant}_s{seed}"
                r = rows.get(name)
                if r is None:
                    L.append(f"| {VARIANTS[variant][2]} (seed {seed}) | not run |  |  |  |  |  |  |")
                    continue
                change = (f"{100 * (r['fid'] - base) / base:+.1f} %" if r["fid"] is not None and base == base
                          else "n/a")
                kid = None if r["kid"] is None else 1000 * r["kid"]
                # one KID subset when fid_n <= the subset size: its "std" is then float noise, not shown
                kid_sd = None if not r["kid_std"] or r["kid_std"] < 1e-9 else 1000 * r["kid_std"]
                L.append(f"| {VARIANTS[variant][2]} (seed {seed}) | {fmt(r['fid'], 1)} | {change} | "
                         f"{fmt(kid, 2)}{'' if kid_sd is None else ' ± ' + fmt(kid_sd, 2)} | {fmt(r['d_loss_last10pct'])} | "
                         f"{fmt(r['g_loss_last10pct'])} | {fmt(r['edge_last10pct'], 1)} | {fmt(r['train_seconds'], 0)} |")
        L.append("")
    L += ["D loss, G loss and the edge term are means over the last 10 % of iterations (log.csv); the edge "
          "term is logged by every EDGEGAN run, also when it is not in the loss.", "",
          "## Samples (last checkpoint)", ""]
    for name, r in rows.items():
        for f in r.get("files", []):
            if f.endswith("_samples.png"):
                L.append(f"- {name}: ![{name}]({f})")
    L += ["", "## Commands", "", "```"] + [rows[n]["command"] for n in rows] + [
        *(show("GAN_evaluation.py", eval_args(a, os.path.join(a.runs_dir, n))) for n in rows), "```", ""]
    with open(os.path.join(results, "README.md"), "w") as f:
        f.write("\n".join(L))
    print(f"wrote {os.path.join(results, 'README.md')}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(p, "limited_data")
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--batch", type=int, default=32, help="seed 000's batch size")
    p.add_argument("--seeds", type=int, nargs="+", help="seeds of every dataset (default: emoji 0 1, flowers 0)")
    p.add_argument("--fid-n", type=int, default=800, help="FID_sample_number (the emoji set has 845 images)")
    p.add_argument("--gen-n", type=int, default=64, help="Generate_sample_number")
    p.add_argument("--only", nargs="+", help="run only these datasets (emoji, flowers1000)")
    p.add_argument("--quick", action="store_true", help="smoke test: 20 iterations, FID on 50 images")
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--skip-eval", action="store_true")
    a = p.parse_args()
    a.command = command_line(script=__file__)
    if a.quick:
        a.iterations, a.fid_n, a.gen_n = 20, 50, 16
    out_log, timings_path, timings = prepare_dirs(a)
    runs = {n: r for n, r in plan(a).items() if not a.only or r[0] in a.only}
    for name, (_, _, _, args) in runs.items():
        run_dir = os.path.join(a.runs_dir, name)
        if not a.skip_train:
            if finished(run_dir, a.iterations):
                print(f"{name}: already trained for {a.iterations} iterations, kept")
            else:
                timings[f"train {name}"] = call("GAN_main.py", args, out_log)[0]
        if not a.skip_eval and os.path.isdir(run_dir):
            if evaluated(run_dir, a.fid_n):
                print(f"{name}: already evaluated with {a.fid_n} images, kept")
            else:
                timings[f"FID {name}"] = call("GAN_evaluation.py", eval_args(a, run_dir), out_log)[0]
        with open(timings_path, "w") as f:
            json.dump(timings, f, indent=1)
    write_report(a, runs, collect(a, runs, timings), a.results)


if __name__ == "__main__":
    main()
