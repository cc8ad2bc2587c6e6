"""The report of ``seed002.py``: benchmarks/results/seed002/README.md, each run's ``<name>_summary.json``
and copies of the runs' PNGs (F1, losses, divergence, FID plots, final sample grid).

Everything here reads what the runs left in ``--runs-dir`` (config.json, log.csv, plots, samples,
evaluation/fid.json, the real-vs-real floor in ``a.floor``) plus the wall times; nothing trains or
evaluates. Split from ``seed002.py`` (which runs the experiment) so each file is one thing.
``eval_args`` is shared with the runner, which imports it from here (this module cannot import the
runner: it runs as ``__main__``).
"""
from __future__ import annotations

import json
import math
import os

from runs_common import ROOT, copy_png, fmt, machine_line, mean, read_fids, read_log, show


# ---------------------------------------------------------------------------- shared with the runner

def eval_args(a, run_dir):
    return [run_dir, str(a.fid_n), str(a.gen_n), "--inception", "fid", "--inception-weights", a.weights,
            "--no-similarity"]


# ---------------------------------------------------------------------------- collecting


def sd(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if len(xs) < 2:
        return float("nan")
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def f1_summary(rows, windows):
    """F1/P/R (and losses) averaged over consecutive iteration windows [lo, hi]."""
    f1_rows = [r for r in rows if r.get("d_f1") is not None]
    out = {"measurements": len(f1_rows), "windows": []}
    if f1_rows:
        out["first"] = {k: f1_rows[0][k] for k in ("iteration", "d_f1", "d_precision", "d_recall")}
        out["last"] = {k: f1_rows[-1][k] for k in ("iteration", "d_f1", "d_precision", "d_recall")}
        out["recall_gt_precision"] = sum(r["d_recall"] > r["d_precision"] for r in f1_rows)
        out["recall_lt_precision"] = sum(r["d_recall"] < r["d_precision"] for r in f1_rows)
        out["f1_min"] = min(r["d_f1"] for r in f1_rows)
        out["f1_max"] = max(r["d_f1"] for r in f1_rows)
        out["all_real"] = sum(r["d_recall"] == 1.0 and r["d_precision"] <= 0.5 + 1e-9 for r in f1_rows)
        out["f1_zero"] = sum(r["d_f1"] == 0.0 for r in f1_rows)
        jumps = sorted(abs(x["d_f1"] - y["d_f1"]) for x, y in zip(f1_rows, f1_rows[1:]))
        out["median_jump"] = jumps[len(jumps) // 2] if jumps else float("nan")
        out["max_jump"] = jumps[-1] if jumps else float("nan")
    for lo, hi in windows:
        w = [r for r in rows if lo <= r["iteration"] <= hi]
        wf = [r for r in w if r.get("d_f1") is not None]
        out["windows"].append({
            "from": lo, "to": hi, "n_f1": len(wf),
            "d_f1": mean(r["d_f1"] for r in wf), "d_f1_sd": sd([r["d_f1"] for r in wf]), "d_precision": mean(r["d_precision"] for r in wf),
            "d_recall": mean(r["d_recall"] for r in wf),
            "d_loss": mean(r.get("d_loss") for r in w), "g_loss": mean(r.get("g_loss") for r in w),
            "divergence": mean(r.get("divergence") for r in w),
        })
    return out





# ---------------------------------------------------------------------------- the report


def write_report(a, runs, timings, machine_info, results_dir):
    cfg = {}
    data = {}
    for name, (args, evaluate) in runs.items():
        run_dir = os.path.join(a.runs_dir, name)
        with open(os.path.join(run_dir, "config.json")) as f:
            cfg[name] = json.load(f)
        n = int(cfg[name]["epochs"])
        every = int(cfg[name]["save_model_interval"])
        windows = [(lo + 1, min(lo + every, n)) for lo in range(0, n, every)]
        data[name] = {"log": f1_summary(read_log(os.path.join(run_dir, "log.csv")), windows),
                      "fids": read_fids(run_dir) if evaluate else None, "iterations": n}

        files = []
        for src, dst in (("plots/d_f1.png", "d_f1.png"), ("plots/losses.png", "losses.png"),
                         ("plots/divergence.png", "divergence.png"),
                         (f"samples/iter_{n:07d}.png", f"samples_iter_{n}.png"),
                         ("evaluation/fid.png", "fid.png")):
            got = copy_png(os.path.join(run_dir, src), os.path.join(results_dir, f"{name}_{dst}"))
            if got:
                files.append(got)
        data[name]["files"] = files
        with open(os.path.join(results_dir, f"{name}_summary.json"), "w") as f:
            json.dump({"command": cfg[name]["command"], "log_summary": data[name]["log"],
                       "fid": None if data[name]["fids"] is None else {
                           "fid_sample_number": data[name]["fids"]["fid_n"],
                           "checkpoints": {str(k): {kk: v.get(kk) for kk in ("fid", "kid", "precision", "recall", "status")}
                                           for k, v in data[name]["fids"]["rows"].items()}}},
                      f, indent=1)

    if "lsgan_celeba32_scratch" in data and "lsgan_celeba32" in data:
        keys = ("d_loss", "g_loss", "divergence")
        main_rows = {r["iteration"]: r for r in read_log(os.path.join(a.runs_dir, "lsgan_celeba32", "log.csv"))}
        scratch = read_log(os.path.join(a.runs_dir, "lsgan_celeba32_scratch", "log.csv"))
        same = sum(r["iteration"] in main_rows and all(main_rows[r["iteration"]][k] == r[k] for k in keys)
                   for r in scratch)
        data["lsgan_celeba32_scratch"]["same_as_main"] = (same, len(scratch))

    versions = cfg["lsgan_celeba32"]["versions"]
    L = []
    w = L.append
    w("# Seed 002 at CPU scale: DCGAN vs LSGAN on CelebA 32x32, discriminator F1, fine-tuning\n")
    w("Beranek et al. 2023 (*In-depth analysis of measuring DCGAN and LSGAN*) trained DCGAN and LSGAN with")
    w("the DCGAN paper's networks on CelebA for tens of epochs, plotted the discriminator's F1, precision and")
    w("recall (their Figures 4, 5, 12) and fine-tuned a CelebA model on another dataset (Appendix A).")
    w("This is the same experiment shrunk to what 2 CPU cores do in about half an hour. "
      f"`{a.command}` ran the commands below and wrote this folder; "
      "`--skip-train --skip-eval` rewrites it from the existing runs, `--quick` is a 2-minute smoke test. "
      f"The run directories stay outside the repository (`--runs-dir`, here {a.runs_dir}).\n")
    w(f"Machine: {machine_line(machine_info)}; keras {versions['keras']}, tensorflow {versions['tensorflow']}, numpy {versions['numpy']}, "
      f"python {versions['python']}. " + NOTES["machine"] + " CelebA here is the 5,000-image")
    w("copy in the data folder (the paper used the full 200k), resized to 32x32; 102flowers has 8,189 images.\n")

    w("## Commands (from the repository root, in this order)\n")
    for name, (args, evaluate) in runs.items():
        w(f"    {show('GAN_main.py', args)}")
    for name, (args, evaluate) in runs.items():
        if evaluate:
            w(f"    {show('GAN_evaluation.py', eval_args(a, os.path.join(a.runs_dir, name)))}")
    if getattr(a, "floor", None):
        w(f"    {a.floor['command'].replace(ROOT + '/', '')}    # real vs real, {a.floor['sample']}")
    w("")
    w("| step | wall time |")
    w("| --- | ---: |")
    for step, sec in timings.items():
        w(f"| {step} | {sec:.0f} s |")
    w(f"| total | {sum(timings.values()):.0f} s |\n" if timings else "")

    # ---- FID
    n_fid = {d["fids"]["fid_n"] for d in data.values() if d["fids"]}
    w("## FID (reference 2015-12-05 Inception, " + ", ".join(f"{n:,}" for n in sorted(n_fid))
      + " generated vs as many real CelebA training images, same noise for every checkpoint)\n")
    for group, names in (("DCGAN vs LSGAN", ["dcgan_celeba32", "lsgan_celeba32"]),
                         ("fine-tuned from 102flowers vs from scratch (LSGAN)",
                          ["lsgan_celeba32_finetuned", "lsgan_celeba32_scratch"])):
        iters = sorted({it for nm in names if data[nm]["fids"] for it in data[nm]["fids"]["rows"]})
        w(f"{group}:\n")
        w("| iteration | " + " | ".join(f"{nm} FID" for nm in names) + " | "
          + " | ".join(f"{nm} KID x10^3" for nm in names) + " | "
          + " | ".join(f"{nm} P / R" for nm in names) + " |")
        w("| ---: | " + " | ".join("---:" for _ in names * 3) + " |")
        for it in iters:
            cells = []
            for key, scale in (("fid", 1), ("kid", 1000)):
                for nm in names:
                    r = (data[nm]["fids"] or {"rows": {}})["rows"].get(it)
                    cells.append(fmt(r[key] * scale, 1) if r and r.get(key) is not None else "")
            for nm in names:
                r = (data[nm]["fids"] or {"rows": {}})["rows"].get(it)
                cells.append(f"{fmt(r['precision'], 2)} / {fmt(r['recall'], 2)}" if r else "")
            w(f"| {it} | " + " | ".join(cells) + " |")
        w("")
    w("KID is the unbiased MMD^2 (its \"std\" is 0 here: with 500 images every KID subset is the whole sample). "
      "P / R: improved precision and recall (Kynkaanniemi et al. 2019, k = 3) of the generated against the real "
      "Inception features, not the discriminator's.\n")

    if getattr(a, "floor", None):
        w(f"Floor: two disjoint random samples of {a.floor['n']:,} real CelebA 32x32 training images score FID "
          f"{a.floor['fid']:.1f} against each other (`{a.floor['command'].replace(ROOT + '/', '')}`). That is "
          "what a perfect generator would read at this sample size.\n")

    # ---- F1
    w("## Discriminator F1 / precision / recall (log.csv columns d_f1, d_precision, d_recall)\n")
    f1_images = cfg["lsgan_celeba32"]["f1"]["images"]
    w(f"Each measurement scores {f1_images} held-out real CelebA images (never drawn for training) and {f1_images} fresh")
    w("fakes with D in inference mode; real is the positive class, threshold 0.5 (sigmoid D and LSGAN's linear D).")
    w("So precision and recall move in steps of about 1/64, and one measurement is noisy. Two reference points:")
    w("F1 = 1 means D separates the two batches perfectly; precision 0.5 with recall 1 (F1 0.667) means D calls")
    w("everything real. Means per window of iterations (the window ends at a checkpoint):\n")
    for name in runs:
        s = data[name]["log"]
        if not s["measurements"]:
            continue
        w(f"**{name}** ({s['measurements']} measurements; first at {int(s['first']['iteration'])}: F1 "
          f"{fmt(s['first']['d_f1'])}, last at {int(s['last']['iteration'])}: F1 {fmt(s['last']['d_f1'])} "
          f"(P {fmt(s['last']['d_precision'])}, R {fmt(s['last']['d_recall'])}); F1 range {fmt(s['f1_min'])}-{fmt(s['f1_max'])}; "
          f"recall > precision in {s['recall_gt_precision']}, < in {s['recall_lt_precision']}; "
          f"'all real' (R 1, P <= 0.5) in {s['all_real']}; F1 0 in {s['f1_zero']}; change between consecutive "
          f"measurements: median {fmt(s['median_jump'], 2)}, max {fmt(s['max_jump'], 2)})\n")
        w("| iterations | measurements | F1 (sd) | precision | recall | d_loss | g_loss | divergence |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for win in s["windows"]:
            w(f"| {win['from']}-{win['to']} | {win['n_f1']} | {fmt(win['d_f1'])} ({fmt(win['d_f1_sd'], 2)}) | {fmt(win['d_precision'])} | {fmt(win['d_recall'])} | "
              f"{fmt(win['d_loss'])} | {fmt(win['g_loss'])} | {fmt(win['divergence'])} |")
        w("")
    w("The divergence column is the model's own estimate (DCGAN: JSD = log 2 - d_loss; LSGAN: triangular")
    w("discrimination = 2 - 8 d_loss); both are only meaningful near an optimal D, and LSGAN's goes negative")
    w("whenever d_loss > 0.25, as it does early on.\n")

    w("## What this shows, and what it does not\n")
    for para in interpretation(data, getattr(a, "floor", None)):
        w(para + "\n")

    w("## Files\n")
    w("For each run `<name>`: `<name>_d_f1.png` (F1/precision/recall against iterations), `<name>_losses.png`,")
    w("`<name>_divergence.png`, `<name>_samples_iter_<N>.png` (the final 8x8 grid from fixed noise),")
    w("`<name>_fid.png` (FID and KID against iterations, evaluated runs only) and `<name>_summary.json`")
    w("(the command, the numbers of the tables above). `run_output.txt`: everything the tools printed.")
    w("PNGs over 300 KB are re-saved with 256 colours.\n")
    for name in runs:
        w(f"- {name}: " + ", ".join(f"`{f}`" for f in data[name]["files"]))
    w("")
    with open(os.path.join(results_dir, "README.md"), "w") as f:
        f.write("\n".join(L))
    return data


def interpretation(data, floor):
    """The conclusions. Numbers come from the tables; the qualitative sentences (NOTES) were written
    after looking at the PNGs of the run with the default settings and must be re-read after a
    run with other settings."""
    paras = []
    fd = lambda nm: data[nm]["fids"]["rows"] if data.get(nm, {}).get("fids") else {}  # noqa: E731
    d, l = fd("dcgan_celeba32"), fd("lsgan_celeba32")
    common = sorted(set(d) & set(l))
    if common:
        last = common[-1]
        better = sum(l[i]["fid"] < d[i]["fid"] for i in common)
        paras.append(
            f"- **DCGAN vs LSGAN, FID.** At iteration {last} DCGAN scores {fmt(d[last]['fid'], 1)} and LSGAN "
            f"{fmt(l[last]['fid'], 1)}"
            + (f" (real vs real at this sample size: {floor['fid']:.1f})" if floor else "")
            + f"; LSGAN is lower at {better} of {len(common)} checkpoints. DCGAN goes "
            + " -> ".join(fmt(d[i]["fid"], 0) for i in common) + ", LSGAN "
            + " -> ".join(fmt(l[i]["fid"], 0) for i in common) + ". " + NOTES["fid"])
    ft, sc = fd("lsgan_celeba32_finetuned"), fd("lsgan_celeba32_scratch")
    common = sorted(set(ft) & set(sc))
    if common:
        wins = sum(ft[i]["fid"] < sc[i]["fid"] for i in common)
        para = ("- **Fine-tuning (Appendix A).** FID of the CelebA run started from the 102flowers LSGAN vs the "
                "same run from scratch: " + "; ".join(f"{i}: {fmt(ft[i]['fid'], 1)} vs {fmt(sc[i]['fid'], 1)}"
                                                        for i in common)
                + f" (fine-tuned lower at {wins} of {len(common)}). " + NOTES["finetune"])
        src = data.get("lsgan_flowers32", {}).get("iterations")
        if src and l:
            total = src + common[-1]
            near = min(l, key=lambda i: abs(i - total))
            para += (f" At equal numbers of updates the picture changes: the fine-tuned generator has had {src} "
                     f"+ {common[-1]} = {total}, and LSGAN from scratch on CelebA reads {fmt(l[near]['fid'], 1)} at "
                     f"{near} against the fine-tuned {fmt(ft[common[-1]]['fid'], 1)}, so this run shows a head start, "
                     "not a saving of compute.")
        paras.append(para)
    if "same_as_main" in data.get("lsgan_celeba32_scratch", {}):
        same, total = data["lsgan_celeba32_scratch"]["same_as_main"]
        paras.append(f"- **Determinism check.** The from-scratch run is the first {total} iterations of lsgan_celeba32 "
                     f"(same seed and command, other intervals): {same} of its {total} log rows have the same d_loss, "
                     "g_loss and divergence as that run's, so measuring F1 at other iterations and checkpointing at "
                     "others did not change training.")
    paras.append("- **Discriminator F1.** " + NOTES["f1"])
    paras.append("- **Losses.** " + NOTES["losses"])
    paras.append("- **Noise.** " + NOTES["noise"])
    paras.append("- **Not shown at this scale.** " + NOTES["limits"])
    return paras


# Hand-written readings of the default run's numbers and PNGs (see the tables above).
NOTES = {
    "machine": ("Other processes took up to one core during part of the training: an unidentified python "
                "process in lsgan_celeba32's first minute, and another engineer's pytest runs during "
                "dcgan_celeba32 and lsgan_flowers32, so their wall times are "
                "inflated; on an idle machine both CelebA models ran at about 5 iterations/s (0.2 s per "
                "iteration). The results do not depend on this: the runs are deterministic."),
    "fid": ("The LSGAN curve lags DCGAN's by roughly 500-1,000 iterations (LSGAN at 2,000 is about where DCGAN "
            "was at 1,000), and the sample grids agree: DCGAN draws blurry but varied faces from about 1,000 "
            "iterations, LSGAN at 500 still draws faint grey blobs and at 1,000 blurry low-contrast faces. This "
            "matches the paper's 'LSGAN took longer to generate images that resembled the original data set'. "
            "Neither final grid shows mode collapse (64 visibly different faces each)."),
    "finetune": ("The grids say the same more plainly: after 400 CelebA iterations the fine-tuned LSGAN draws "
                 "colourful, blotchy faces, the one from scratch still draws uniform grey noise (LSGAN from scratch "
                 "needs about 300 iterations before its D loss falls below 0.25). That is Appendix A's observation "
                 "(the transferred model is ahead in its first epoch), here from flowers to faces instead of "
                 "faces to animated faces."),
    "f1": ("The paper reads a falling F1 as a generator that deceives its discriminator. Here F1 does not track "
           "image quality: LSGAN's window means rise (0.38 -> 0.56 -> 0.58 -> 0.61) while its FID falls from 383 "
           "to 204, because D improves along with G; and DCGAN's D has the higher F1 (0.72-0.86) although DCGAN's "
           "generator is the better one by FID. F1 is a property of the (G, D) pair at one moment, and a sigmoid D "
           "and LSGAN's linear D at threshold 0.5 are not on one scale, so F1 is not comparable across the two "
           "models. DCGAN's F1 rises then falls (0.76 -> 0.86 -> 0.76 -> 0.72); the paper's Figure 4 shows the "
           "opposite order, but over 30 epochs of 200k images, not 2,000 iterations. The paper's 'recall "
           "consistently higher than precision' (Figure 5, DCGAN) holds only in the first 500 iterations here "
           "(window means 0.86 vs 0.73); in 501-1,000 the two are level (0.87 vs 0.85), from 1,000 on precision is "
           "the higher (0.83-0.86 vs 0.65-0.70), and over the whole run recall is higher in 14 of 40 measurements. Early LSGAN measurements include F1 0 (at iteration 150 D "
           "calls nothing real: its linear output is below 0.5 for every image while its loss is still large)."),
    "losses": ("LSGAN's losses fall fast to a stable level (D 0.70 in the first 500 iterations, then 0.15-0.18; "
               "G 1.41, then 0.9-1.2), as the paper's Figure 12 describes. DCGAN's D loss creeps up "
               "(0.16 -> 0.24 -> 0.29 -> 0.28) while its G loss falls (4.9 -> 2.3): the generator is catching up, "
               "and the paper's later rise of the combined loss (after several epochs) is beyond this run. The "
               "LSGAN divergence plot is dominated by early spikes down to about -85 (2 - 8 d_loss is only an "
               "estimate near an optimal D); after iteration 400 its smoothed curve stays between 0 and 2 "
               "(single iterations still dip to about -5)."),
    "noise": ("One seed per configuration, so nothing here separates a model from its seed's luck. FID: 500 vs "
              "500 images have a floor near 40, and at FIDs above 300 the numbers mostly measure how far from "
              "noise a generator is: the from-scratch LSGAN's FID goes 423 -> 435 -> 383 -> 408 while its sample "
              "grids at 100, 200, 300 and 400 are all grey noise, so differences of a few tens at that level mean nothing. The "
              "DCGAN-LSGAN gaps at 1,000-2,000 iterations (166, 141, 75 FID) and the fine-tuned-vs-scratch gaps "
              "(46-108) are larger than that, and the grids agree with their direction. F1: each measurement is "
              "64 real and 64 fake images; consecutive measurements differ by 0.08 (DCGAN) to 0.12 (LSGAN) "
              "in the median and by up to 0.3-0.6, and the per-window sd is about 0.1, so a window mean is "
              "uncertain by about 0.03 and window differences under 0.05-0.1 are noise."),
    "limits": ("The paper's central claims are about long training: DCGAN's mode collapse after 50-70 epochs, "
               "its rising loss, LSGAN's greater stability and its eventual better resolution. 2,000 iterations "
               "at batch 64 are 128k images, about 0.6 of one epoch of full CelebA (25.6 passes over the 5,000 "
               "images here), at 32x32 only, so none of that is tested. Nor is the Inception Score (the FID "
               "Inception has no classifier; the paper's IS figures are not reproduced), the paper's batch size "
               "128 (64 here, the tools' usual setting), or its rolling-window smoothing of F1 (raw measurements "
               "here)."),
}
