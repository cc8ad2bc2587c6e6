"""The report of ``seed001.py``: benchmarks/results/seed001/README.md, each run's ``<name>_summary.json``,
``resume_check.json`` and copies of the runs' PNGs (k_t and M_global plots, final sample and reconstruction
grids).

Everything here reads what the runs left in ``--runs-dir`` (config.json, log.csv, checkpoints, samples,
plots, evaluation/fid.json, the real-vs-real floors) plus the wall times; nothing trains or evaluates.
Three files, each one thing: ``seed001.py`` runs the experiment, ``seed001_collect.py`` reads the runs
(and holds the settings the runner shares), this module writes the report; the report covers the
datasets of ``--datasets`` (``_datasets``).
"""
from __future__ import annotations

import json
import os

from runs_common import ROOT, copy_png, fmt, machine_line, read_log, show
from seed001_collect import DATASETS, compare_resume, eval_args, log_summary, read_fid, read_log_raw, sizes


def _datasets(a):
    """The datasets of this run of the benchmark (``--datasets``), in DATASETS' order."""
    return tuple(ds for ds in DATASETS if ds in a.datasets)


# the values compared / summarised (log.csv columns of the BEGAN family; BEGANCS adds constraint,
# BEGANV3 adds constraint, kl_real, kl_fake)
TREND_KEYS = ("loss_real", "loss_fake", "k_t", "m_global")


# ---------------------------------------------------------------------------- the report


def write_report(a, runs, resumes, timings, machine_info, floors, results_dir):
    data = {}
    for name, (ds, model, args) in runs.items():
        run_dir = os.path.join(a.runs_dir, name)
        with open(os.path.join(run_dir, "config.json")) as f:
            cfg = json.load(f)
        n = int(cfg["epochs"])
        header, _ = read_log_raw(os.path.join(run_dir, "log.csv"))
        summ = log_summary(read_log(os.path.join(run_dir, "log.csv")), header)
        ckpts = sorted(int(d[5:]) for d in os.listdir(os.path.join(run_dir, "checkpoints")) if d.startswith("iter_"))
        samples = sorted(int(f[5:12]) for f in os.listdir(os.path.join(run_dir, "samples")) if f.startswith("iter_"))
        recon_dir = os.path.join(run_dir, "samples", "reconstructions")
        recons = sorted(int(f[5:12]) for f in os.listdir(recon_dir) if f.startswith("iter_")) \
            if os.path.isdir(recon_dir) else []
        files = []
        for src, dst in (("plots/k_t.png", "k_t.png"), ("plots/m_global.png", "m_global.png"),
                         (f"samples/iter_{n:07d}.png", f"samples_iter_{n}.png"),
                         (f"samples/reconstructions/iter_{n:07d}.png", f"reconstructions_iter_{n}.png")):
            got = copy_png(os.path.join(run_dir, src), os.path.join(results_dir, f"{name}_{dst}"))
            if got:
                files.append(got)
        data[name] = {"ds": ds, "model": model, "cfg": cfg, "iterations": n, "log": summ, "checkpoints": ckpts,
                      "samples": samples, "reconstructions": recons, "files": files,
                      "diverged": os.path.exists(os.path.join(run_dir, "divergence.json")),
                      "fid": read_fid(run_dir, n)}
        with open(os.path.join(results_dir, f"{name}_summary.json"), "w") as f:
            json.dump({"command": cfg["command"], "hyperparams": cfg.get("hyperparams"), "log_summary": summ,
                       "checkpoints": ckpts, "sample_grids": samples, "reconstruction_grids": recons,
                       "fid": None if data[name]["fid"] is None else {
                           "fid_sample_number": data[name]["fid"]["fid_n"],
                           **{k: data[name]["fid"]["row"].get(k) for k in ("iteration", "fid", "kid", "precision",
                                                                             "recall", "status")}}},
                      f, indent=1)
    real_files = {}
    for ds in _datasets(a):
        first = next(nm for nm, v in runs.items() if v[0] == ds)
        got = copy_png(os.path.join(a.runs_dir, first, "samples", "reconstructions", "real.png"),
                       os.path.join(results_dir, f"{ds}_reconstructions_real.png"))
        if got:
            real_files[ds] = got
    checks = {name: compare_resume(a, name, main, h, t) for name, (ds, main, _, _, h, t) in resumes.items()
              if os.path.exists(os.path.join(a.runs_dir, name, "checkpoints", f"iter_{t:07d}"))}
    with open(os.path.join(results_dir, "resume_check.json"), "w") as f:
        json.dump(checks, f, indent=1)

    any_cfg = next(iter(data.values()))["cfg"]
    versions = any_cfg["versions"]
    L = []
    w = L.append
    w("# Seed 001 at CPU scale: BEGAN, BEGAN-CS and BEGAN v3 on MNIST and CelebA\n")
    w("Park, Huh and Kim 2020 (*BEGAN v3: Avoiding Mode Collapse in GANs Using Variational Inference*) trained")
    w("BEGAN-CS and their BEGAN v3 (a VAE discriminator) on CelebA 64x64 for 300 epochs at batch 128, and read")
    w("mode collapse from a sudden fall of k_t and convergence from M_global (their Figures 16-18). This folder")
    w("checks that the three models as this project builds them train from `GAN_main.py` on real data without")
    w("NaNs, write every artefact (samples, D's reconstructions, the k_t and M_global curves, checkpoints), resume")
    w("exactly, and get an FID from `GAN_evaluation.py`, at a scale that 2 CPU cores manage in about half an hour. "
      + NOTES["summary"] + " "
      f"`{a.command}` ran the commands below and wrote this folder; "
      "`--skip-train --skip-resume --skip-eval` rewrites it from the existing runs. The run directories stay "
      f"outside the repository (`--runs-dir`, here {a.runs_dir}).\n")
    if a.quick:
        w("**This is a `--quick` smoke test of the pipeline, not a result.**\n")
    w(f"Machine: {machine_line(machine_info)}; keras {versions['keras']}, tensorflow {versions['tensorflow']}, "
      f"numpy {versions['numpy']}, python {versions['python']}. No GPU. {NOTES['machine']}\n")
    mn, cb = sizes(a, "mnist"), sizes(a, "celeba")
    w("Data: MNIST's 60,000 training digits (28x28x1) and the 5,000-image CelebA copy in the data folder (the "
      "paper used all 202,599), centre-cropped and resized to 64x64x3; all images in [-1, 1]. Sizes: "
      f"MNIST {mn[0]} iterations at batch {mn[1]}, CelebA {cb[0]} iterations at batch {cb[1]} (the paper's "
      f"batch is 128: shrunk {128 // cb[1]}x for CelebA and {128 // mn[1]}x for MNIST, to fit the CPU time). "
      "Everything else is the published setting as each model's spec declares it (config.json `hyperparams`): "
      "z ~ U[-1, 1]^64, Adam(1e-4, 0.9, 0.999) for G and D, gamma 0.5, lambda_k 0.001, k_0 0, alpha 0.1 "
      "(BEGAN-CS, v3), " + (
          "the BEGAN-CS code's L2 (||v - D(v)||_2 of the batch over B) for BEGAN-CS and BEGAN v3 and its "
          "constraint (mean |z_D - Enc(G(z_D))|), L1 for BEGAN, "
          if a.published_forms else
          "L1 reconstruction for BEGAN and BEGAN-CS and L2 for BEGAN v3 (the paper's Figure 17 run; the L2 as a "
          "per-pixel mean, `--l2-form pixel_mean`) and the constraint as a per-sample Euclidean norm "
          "(`--constraint-form l2_norm`): the forms from before BEGAN-CS and BEGAN v3 published the BEGAN-CS "
          "code's, pinned by flags in the commands below, ") +
      "and the collapse flag's defaults (k_t below 0.5 x its maximum over the last 2,000 iterations, "
      "that maximum at least 0.01). Seed 0 everywhere.\n")
    w("**BEGAN v3's networks are a reconstruction.** The paper gives no layer table, only its text (VAE "
      "discriminator, LeakyReLU 0.2, N_h 128, N_z 64, encoder ending at 8x8) and the total 10,331,144; "
      "`gan_keras/models/began_networks.py` builds one network consistent with that text and total "
      "(10,331,142 = the paper's count less the two learning-rate scalars of the TensorFlow code). BEGAN-CS's "
      "networks follow the authors' code exactly (20,629,318), plain BEGAN the common BEGAN code (15,121,990). "
      "The 28x28x1 variants of all three (one fewer down/up-sampling stage) are derived, not published.\n")

    w("## Commands (from the repository root, in this order)\n")
    for name, (ds, model, args) in runs.items():
        w(f"    {show('GAN_main.py', args)}")
    for name, (ds, main, args1, args2, h, t) in resumes.items():
        w(f"    {show('GAN_main.py', args1)}    # resume check, first call: stops at {h}")
        w(f"    {show('GAN_main.py', args2)}    # the same --out: continues from {h} to {t}")
    for name, d in data.items():
        w(f"    {show('GAN_evaluation.py', eval_args(a, os.path.join(a.runs_dir, name), d['ds'], d['iterations']))}")
    for ds, fl in floors.items():
        if fl:
            w(f"    {fl['command'].replace(ROOT + '/', '')}    # real vs real, {fl['sample']}")
    w("")
    if timings:
        w("| step | wall time |")
        w("| --- | ---: |")
        for step, sec in timings.items():
            w(f"| {step} | {sec:.0f} s |")
        w(f"| total | {sum(timings.values()):.0f} s |\n")
        w("Wall times include each process's start (TensorFlow import, data load from the cache, graph "
          "tracing: 10-30 s).\n")

    # ---- training
    w("## Training: every logged value finite, every artefact written\n")
    w("| run | iterations x batch | log rows (1..N) | non-finite values | s / iteration (median step) | "
      "checkpoints | sample grids | reconstruction grids | collapse flags (iterations) |")
    w("| --- | --- | --- | ---: | ---: | --- | --- | --- | --- |")
    for name, d in data.items():
        s = d["log"]
        w(f"| {name} | {d['iterations']} x {d['cfg']['batch_size']} | {s['rows']} ({'yes' if s['contiguous'] else 'NO'}) "
          f"| {len(s['nonfinite'])}{' DIVERGED' if d['diverged'] else ''} | {fmt(s['median_step_seconds'], 2)} "
          f"| {', '.join(map(str, d['checkpoints']))} | {', '.join(map(str, d['samples']))} "
          f"| {', '.join(map(str, d['reconstructions']))} "
          f"| {', '.join(map(str, s['collapse_iterations'])) or 'none'} |")
    w("")
    w("Final values (the last iteration's log row; L(x) = loss_real, L(G(z_G)) = loss_fake, the generator's "
      "loss; M_global = L(x) + |gamma L(x) - L(G(z_G))|):\n")
    w("| run | L(x) | L(G(z_G)) | k_t | M_global | d_loss | constraint L_c | KL(x) / KL(G) | k_t max (at) | M_global min (at) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, d in data.items():
        f_ = d["log"]["final"]
        s = d["log"]
        kl = f"{fmt(f_.get('kl_real'), 1)} / {fmt(f_.get('kl_fake'), 1)}" if "kl_real" in f_ else "-"
        w(f"| {name} | {fmt(f_.get('loss_real'), 4)} | {fmt(f_.get('loss_fake'), 4)} | {fmt(f_.get('k_t'), 5)} "
          f"| {fmt(f_.get('m_global'), 4)} | {fmt(f_.get('d_loss'), 4)} "
          f"| {fmt(f_.get('constraint'), 3) if 'constraint' in f_ else '-'} | {kl} "
          f"| {fmt(s['k_t_max'], 5)} ({s['k_t_max_iteration']}) | {fmt(s['m_global_min'], 4)} ({s['m_global_min_iteration']}) |")
    w("")
    w("Trend: mean over the first 10 % of iterations -> mean over the last 10 %:\n")
    w("| run | L(x) | L(G(z_G)) | k_t | M_global |")
    w("| --- | --- | --- | --- | --- |")
    for name, d in data.items():
        s = d["log"]
        cells = [f"{fmt(s['first10'][k], 4 if k != 'k_t' else 5)} -> {fmt(s['last10'][k], 4 if k != 'k_t' else 5)}"
                 for k in TREND_KEYS]
        w(f"| {name} (first/last {s['tenth']}) | " + " | ".join(cells) + " |")
    w("")

    # ---- resume
    w("## Resume check\n")
    if not checks:
        w("Not run.\n")
    for name, c in checks.items():
        main = resumes[name][1]
        sc = c.get("second_call", {})
        w(f"**{name}** vs the straight run **{main}**: the first call trained iterations 1-{c['h']} and wrote "
          f"checkpoint {c['h']}; the second call, the same command with {c['t']} iterations, "
          f"{'printed `' + sc['resumed_line'] + '`' if sc.get('resumed_line') else 'continued it'} and trained "
          f"{c['h'] + 1}-{c['t']}. Compared at iteration {c['t']}:\n")
        w(f"- log.csv, every column but `seconds` ({', '.join(c['columns_compared'])}), rows 1-{c['t']}: "
          f"{c['rows_equal']} of {c['t']} rows identical as text{'' if c['log_equal'] else ' (first difference at ' + str(c['first_mismatch']) + ')'} "
          f"-> **{'equal' if c['log_equal'] else 'UNEQUAL'}**;")
        w(f"- checkpoint {c['t']}'s trainer_state.npz, {c['state_arrays']} arrays (both networks, both optimizers' "
          f"slots and iteration counters, the step's state: k_t, the collapse rule's window, seed generators; the "
          f"fixed sample noise): **{'all bit-identical' if c['state_equal'] else 'UNEQUAL: ' + str(len(c['state_arrays_different'])) + ' of them differ'}**;")
        w(f"- generator.keras weights ({c['generator_weights']} arrays): **{'bit-identical' if c['generator_weights_equal'] else 'UNEQUAL'}**; "
          f"discriminator.keras ({c['discriminator_weights']} arrays): **{'bit-identical' if c['discriminator_weights_equal'] else 'UNEQUAL'}**;")
        w(f"- the batch/noise generator's state (state.json `rng_state`): **{'equal' if c['rng_state_equal'] else 'UNEQUAL'}**.")
        if c.get("checkpoint_h_equal") is not None:
            w(f"- checkpoint {c['h']} of the first call (before any resume) against the straight run's checkpoint "
              f"{c['h']}: **{'bit-identical' if c['checkpoint_h_equal'] else 'UNEQUAL'}**.")
        if not c["log_equal"] and c.get("first_mismatch_values"):
            w(f"- the first differing row, {c['first_mismatch']}, differs only in "
              + ", ".join(f"{k} ({v[0]} here, {v[1]} straight)" for k, v in c["first_mismatch_values"].items())
              + f"; the largest relative difference of any logged value over rows 1-{c['t']} is "
              f"{c['max_relative_log_difference']:.2g}, of any state array {c['state_max_abs_difference']:.2g} "
              "(absolute).")
        w("")
    if checks:
        w("Verdict: " + "; ".join(f"{nm}: {'exact' if c['equal'] else 'MISMATCH'}" for nm, c in checks.items())
          + ("." if all(c["equal"] for c in checks.values()) else
             " (why BEGAN v3's runs differ: see 'What this shows' below).") + "\n")

    # ---- FID
    w("## FID (reference 2015-12-05 Inception, final checkpoint, as many generated as real training images)\n")
    w("| run | checkpoint | FID sample (gen = real) | FID | KID x10^3 | precision / recall | real vs real floor |")
    w("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for name, d in data.items():
        fr = d["fid"]
        fl = floors.get(d["ds"])
        if fr is None:
            w(f"| {name} | {d['iterations']} | - | not evaluated | | | |")
            continue
        r = fr["row"]
        w(f"| {name} | {d['iterations']} | {fr['fid_n']} | {fmt(r.get('fid'), 1)} | "
          f"{fmt(r['kid'] * 1000 if r.get('kid') is not None else None, 1)} | {fmt(r.get('precision'), 2)} / "
          f"{fmt(r.get('recall'), 2)} | {fmt(fl['fid'], 1) if fl else 'n/a'} |")
    w("")
    w("KID: the unbiased MMD^2 of the Inception features. Precision / recall: improved P/R (k = 3) of the "
      "generated against the real features. The floor: two disjoint random samples of real training images of "
      "the same size scored against each other, what a perfect generator would read at this sample size. "
      "The paper itself reports no FID (it argues against IS and FID and uses M_global and k_t); the FID here "
      "shows that the evaluation tool runs on these models and orders them at this early stage.\n")

    w("## What this shows, and what it does not\n")
    for para in interpretation(a, data, checks, floors):
        w(para + "\n")

    w("## Files\n")
    w("For each run `<name>`: `<name>_k_t.png` and `<name>_m_global.png` (the run's plots/k_t.png and "
      "plots/m_global.png: k_t and M_global against iterations, detected collapses marked), "
      "`<name>_samples_iter_<N>.png` (the final 8x8 grid from the run's fixed noise), "
      "`<name>_reconstructions_iter_<N>.png` (D's reconstructions of the fixed real batch at the end, "
      "inference mode) and `<name>_summary.json` (the command, hyperparameters, the numbers of the tables). "
      "`<dataset>_reconstructions_real.png`: the fixed real batch that the reconstructions reproduce (the same "
      "for the three models of a dataset). `resume_check.json`: the resume comparison. `timings.json`: the wall times. `run_output.txt`: "
      "everything the tools printed. PNGs over 300 KB are re-saved with 256 colours.\n")
    for name, d in data.items():
        w(f"- {name}: " + ", ".join(f"`{f}`" for f in d["files"]))
    for ds, f in real_files.items():
        w(f"- {ds}: `{f}`")
    w("")
    with open(os.path.join(results_dir, "README.md"), "w") as f:
        f.write("\n".join(L))
    return data


def interpretation(a, data, checks, floors):
    """The conclusions: numbers from the tables, plus hand-written readings (NOTES) of the PNGs of
    the run with the default settings (to be re-read after a run with other settings)."""
    paras = []
    bad = {nm: d["log"]["nonfinite"] for nm, d in data.items() if d["log"]["nonfinite"] or d["diverged"]}
    total_values = sum(d["log"]["rows"] * len(d["log"]["columns"]) for d in data.values())
    paras.append(
        f"- **No NaN, no crash.** All {len(data)} runs finished; "
        + (f"{total_values:,} logged values, every one finite, no divergence.json." if not bad
           else f"NON-FINITE VALUES in {', '.join(bad)}.")
        + " Each run wrote its sample grids, D's reconstruction grids, plots/k_t.png and plots/m_global.png, and "
        "its checkpoints at the iterations listed.")
    if checks:
        paras.append("- **Resume.** " + "; ".join(
            f"{nm} (stopped at {c['h']}, continued to {c['t']}): "
            + ("log, weights, optimizer state and RNG state bit-identical to the straight run" if c["equal"]
               else f"differs from the straight run from row {c['first_mismatch']}")
            for nm, c in checks.items()) + ". " + NOTES.get("resume", ""))
    for ds in _datasets(a):
        runs = {nm: d for nm, d in data.items() if d["ds"] == ds and d["fid"]}
        if runs:
            fl = floors.get(ds)
            order = sorted(runs, key=lambda nm: runs[nm]["fid"]["row"]["fid"])
            paras.append(
                f"- **FID, {ds}.** " + ", ".join(f"{nm} {fmt(runs[nm]['fid']['row']['fid'], 1)}" for nm in order)
                + f" ({next(iter(runs.values()))['fid']['fid_n']} vs as many real images"
                + (f"; real vs real {fmt(fl['fid'], 1)}" if fl else "") + "). " + NOTES.get(f"fid_{ds}", ""))
    for key in ("k_t", "m_global", "samples", "noise", "limits"):
        if NOTES.get(key):
            paras.append(f"- **{TITLES[key]}.** " + NOTES[key])
    return paras


TITLES = {"k_t": "k_t and collapse flags", "m_global": "M_global", "samples": "Samples and reconstructions",
          "noise": "Noise", "limits": "Not shown at this scale"}

# Hand-written readings of the default run's numbers and PNGs (see the tables above).
NOTES = {
    "summary": ("Result: all of that holds except exact resume for BEGAN v3 (resume was checked for BEGAN and BEGAN v3), whose seeded CPU runs turned out not "
                "to be reproducible bit for bit (plain BEGAN's resume is exact); see Resume check."),
    "machine": ("The sizes were chosen from measured speeds (3-6 timing iterations before the runs): one "
                "BEGAN-CS iteration takes about 4 s on MNIST at batch 32 and about 5.8 s on CelebA at batch 8 "
                "on these 2 cores, so the brief's first guess (MNIST 300-500 iterations at batch 32-64, CelebA "
                "200-300 at batch 16) would have taken several hours for the six runs. The auto-encoder "
                "discriminators are the cost: every iteration runs D three times (L(x), L(G(z_D)), L(G(z_G))) and "
                "back-propagates through it, and BEGAN-CS's D has 18.4M parameters with 128-512 channels at "
                "64x64-8x8. Writing each sample interval also costs one D pass over the 64-image real batch "
                "(the reconstruction grid): about 6-9 s per grid for BEGAN and BEGAN-CS on CelebA, part of the "
                "train wall times below."),
    "resume": ("Plain BEGAN's resume is exact (bit-identical log, trainer_state.npz, .keras weights and RNG "
               "state at iteration 40), so the checkpoint/resume machinery, k_t and the collapse rule's "
               "state included, works for the BEGAN family's step. BEGAN v3's two checks fail, but the "
               "evidence points at run-to-run nondeterminism of BEGAN v3 training on this CPU, not at resume: "
               "(1) on CelebA the resume run's *first* call, iterations 1-16 from scratch, already differs from "
               "the straight run at iteration 3, before anything was resumed (the two commands differ only in "
               "the number of iterations, 16 vs 48), and its checkpoint 16 differs from the straight run's; an "
               "earlier 3-iteration timing run of the same model and seed (`GAN_main.py BEGANV3 celeba 3 8 3 3 "
               "--seed 0 ...`) agrees with the resume run's rows 1-3 and not with the straight run's; (2) on "
               "MNIST both processes produced a bit-identical checkpoint 40, the resumed process then matched "
               "the straight run's log (6 significant digits) for 30 more iterations and differs from "
               "iteration 71. In both cases the first values to differ are kl_real and kl_fake, in their 4th-6th "
               "significant digit (KL is about 1e-4 here, a nearly cancelling sum of exp(log_var) - 1 - "
               "log_var + mean^2, so it shows the smallest differences of the encoder's outputs first); the "
               "differences then grow chaotically (state arrays up to 3e-5 apart at MNIST iteration 80, 1e-3 at "
               "CelebA iteration 32). The README's claim that a seeded CPU run is deterministic therefore does "
               "not hold for BEGANV3 here; which op is nondeterministic (the VAE's Reparameterize noise, the "
               "4x4 convolutions or a large-K Dense that BEGAN v3 alone has) was not investigated, and an "
               "ulp-level resume inexactness of BEGAN v3 cannot be excluded or confirmed while its straight "
               "runs are not reproducible. BEGAN's and BEGAN-CS's CelebA runs matched their own 3- and "
               "4-iteration timing runs; that is weak evidence (few iterations) that they are deterministic."),
    "fid_mnist": ("All three are more than 12 times the real-vs-real floor and have improved precision and recall "
                  "0: no generated image is near the real digits in Inception space. The order is consistent with how far "
                  "the samples are from flat grey (see Samples): BEGAN's are uniform mid-grey squares, "
                  "BEGAN-CS's grey squares with dark blotches, BEGAN v3's black squares with a faint grey central "
                  "blob, the closest of the three to MNIST's white-on-black layout. At FIDs of 340-410 "
                  "differences of tens of points say nothing about which model will learn digits."),
    "fid_celeba": ("Again 7-8 times the floor and precision/recall 0. BEGAN-CS (pink-mauve mottled squares) and "
                   "BEGAN v3 (near-flat brown squares) are 2 points apart, which is noise at this level; BEGAN's "
                   "flat grey-brown squares score worst. FID here only confirms that GAN_evaluation.py runs on these "
                   "generators (64-d uniform z read from config.json, one checkpoint, the reference network)."),
    "k_t": ("k_t starts at 0 (k_0) and rises steadily in five runs, to 0.004-0.018 at the end: L(G(z_G)) "
            "stays below gamma L(x), so the controller keeps asking D to weigh the fakes more, at the published "
            "lambda_k 0.001, whose steps are at most 0.001 x |gamma L(x) - L(G(z_G))| per iteration. BEGAN-CS on "
            "MNIST is the exception: k_t peaks at 0.0038 (iteration 21), falls to 0 by iteration 46 and stays "
            "clipped at 0, because its generator's images became harder to reconstruct (L(G(z_G)) up to 0.38 at "
            "iteration 42, above gamma L(x)); it is the equilibrium controller at work while G's images are "
            "still noise, not the paper's mode collapse, and the collapse flag correctly stays silent: k_t's "
            "maximum is below the rule's 0.01 floor. No run raised a collapse flag. The paper's collapse (a "
            "sudden fall of k_t after 199 epochs) is far beyond these runs."),
    "m_global": ("M_global falls clearly in every run but BEGAN v3 on CelebA (first vs last 10 %: MNIST 0.87-0.92 -> "
                 "0.29-0.37, CelebA BEGAN and BEGAN-CS 0.71-0.72 -> 0.32-0.34, BEGAN v3 0.53 -> 0.50, noisy "
                 "between 0.38 and 0.66). Almost all of the fall is L(x): D learning to auto-encode real images. "
                 "It is not evidence that the generators converge, as their samples show, and it is not on the "
                 "paper's scale (its optimal values 1.50, 1.12 and 0.08 after 300 epochs; L here is a per-pixel "
                 "mean of |v - D(v)|^eta, and the L2 loss of BEGAN v3 is not comparable with the L1 of the other "
                 "two)."),
    "samples": ("Looked at, final grids: no generator draws digits or faces yet. MNIST: BEGAN's 64 samples are "
                "uniform mid-grey squares with faint texture; BEGAN-CS's are grey with dark, varied blotches and a "
                "lighter border; BEGAN v3's are black squares with a faint grey oval in the centre, all alike. "
                "CelebA: BEGAN's are flat grey-brown squares; BEGAN-CS's pink-mauve squares with varied mottling; "
                "BEGAN v3's near-uniform brown squares. The discriminators have learned more than the "
                "generators: BEGAN's and BEGAN-CS's reconstructions of the fixed real batch are blurry but "
                "mostly recognisable versions of their inputs (MNIST: most digits readable and matching the real "
                "grid; CelebA: blurry sepia faces that follow each photo's layout, light or dark hair and "
                "background, without its colours or identity). BEGAN v3's D reconstructs every input as the "
                "same image (MNIST: one grey blob, CelebA: uniform grey): in inference it decodes the encoder's "
                "mean, and its KL(x) of 2e-5 to 8e-5 nats at the end (at most 0.007) says that the posterior "
                "has collapsed onto the prior, the mean carrying no information about the image. The BEGAN-CS "
                "and v3 constraint ||z_D - Enc(G(z_D))|| stays at 4.4-4.8 throughout (mean 4.57-4.62), which is "
                "E||z|| for z ~ U[-1, 1]^64 (about sqrt(64/3) = 4.62): the encoder's code of a fake does not "
                "depend on its z yet, so the constraint has not begun to act."),
    "noise": ("One seed per configuration (and BEGAN v3's runs are not even reproducible bit for bit, see "
              "Resume). FID at 300 vs 300 images has a floor of 27 (MNIST) and 52 (CelebA) and at these levels "
              "measures distance from noise. The trend table's 10 % windows are 12 (MNIST) and 4 (CelebA) "
              "iterations: the M_global and loss levels jump by 0.05-0.2 between single iterations, so the "
              "trends are clear only where the change is large (L(x) and M_global on MNIST and for BEGAN and "
              "BEGAN-CS on CelebA)."),
    "limits": ("The paper's claims (BEGAN-CS collapses at 199 epochs, BEGAN v3 does not in 300; v3 reaches a lower "
               "M_global; v3's images are varied and sharp) are about 300 epochs of 202,599 CelebA images at batch "
               "128: about 475,000 iterations and 61 million images. Here 48 iterations at batch 8 are 384 images "
               "(under 0.1 of one pass over the 5,000-image copy, 0.2 % of one epoch of full CelebA, about "
               "1/160,000 of the paper's training), and 120 iterations at batch 16 are 1,920 MNIST digits (3 % of "
               "one epoch). The batch is 8-16 instead of 128. None of the paper's results is tested here, only that the "
               "implementation runs end to end on real data without numerical trouble, writes every artefact, "
               "and (for BEGAN) resumes exactly. BEGAN v3's networks are this project's reconstruction, and "
               "its L2/L1 variants' differences (Figures 17-18) are not compared (only the L2 default ran)."),
}
