"""The report of ``train_speed.py``: medians, speed-up tables, targets, the chart, the Markdown.

Everything here reads the children's JSON results; nothing times anything. Split from
``train_speed.py`` (which runs the children) so each file is one thing.
"""
from __future__ import annotations

import math
import os
import statistics

SETTINGS = {28: ((28, 28, 1), 128), 64: ((64, 64, 3), 64)}   # mnist batch 128; nlvr / 102flowers batch 64
TARGETS = {("DCGAN", 64): 0.85, ("WGANGP", 64): 0.85, ("DCGAN", 28): 0.80}   # of the conv peak, compiled engine
QUICK_BATCH = 4


def config_key(cfg) -> str:
    precision = cfg.get("precision", "off")
    return (f"{cfg['model']}-{cfg['size']} {cfg['engine']} det={'on' if cfg['determinism'] else 'off'} "
            f"xla={'on' if cfg['jit'] else 'off'}" + (f" mp={precision}" if precision != "off" else "")
            + (f" devices={cfg['devices']}" if cfg.get("devices", 1) > 1 else "")
            + (f" conv={cfg['upsampled_conv']}" if cfg.get("upsampled_conv", "grouped") != "grouped" else "")
            + hparam_suffix(cfg))


def hparam_suffix(cfg_or_row) -> str:
    """" critic_call=joint ...": the hyperparameters set by --hparams, as keys and labels name them."""
    return "".join(f" {name}={value}" for name, value in cfg_or_row.get("hparams", {}).items())


def model_label(cfg) -> str:
    """The model's name with the hyperparameters set by --hparams ("WGANGP critic_call=joint"): each
    setting is its own row, so the comparisons below pair a setting with itself."""
    return cfg["model"] + hparam_suffix(cfg)


def _median_range(xs):
    return (statistics.median(xs), min(xs), max(xs)) if xs else (None, None, None)


def summarise_peak(peaks: list[dict]) -> dict:
    out = {}
    for name in ("conv_forward", "conv_input_grad", "conv_filter_grad", "matmul"):
        times = [t for p in peaks if "peak" in p for t in p["peak"][name]["times"]]
        if not times:
            continue
        flops = next(p["peak"][name]["flops"] for p in peaks if "peak" in p)
        med, lo, hi = _median_range(times)
        out[name] = {"seconds": med, "min_s": lo, "max_s": hi, "gflop": flops / 1e9, "gflops": flops / med / 1e9,
                     "gflops_best": flops / lo / 1e9, "calls": len(times)}
    return out


def summarise(cfg: dict, results: list[dict], conv_peak: float | None) -> dict:
    row = {k: cfg[k] for k in ("model", "size", "engine", "determinism", "jit", "batch")}
    row["model"], row["model_name"], row["hparams"] = model_label(cfg), cfg["model"], dict(cfg.get("hparams", {}))
    row["precision"] = cfg.get("precision", "off")
    row["devices"] = cfg.get("devices", 1)
    row["upsampled_conv"] = cfg.get("upsampled_conv", "grouped")
    row["key"] = config_key(cfg)
    ok = [r for r in results if "times" in r]
    row["errors"] = sorted({r["error"] for r in results if "error" in r})
    unavailable = [r["unavailable"] for r in results if "unavailable" in r]
    if unavailable:
        row["unavailable"] = unavailable[0]
    if not ok:
        return row
    times = [t for r in ok for t in r["times"]]
    med, lo, hi = _median_range(times)
    flops = ok[0]["flops"]["total"]
    row.update({
        "seconds": med, "min_s": lo, "max_s": hi, "timed_iterations": len(times), "rounds": len(ok),
        "it_per_s": 1.0 / med, "real_batches": ok[0]["real_batches"], "critic_steps": ok[0]["critic_steps"],
        "images_per_s": cfg["batch"] * ok[0]["real_batches"] / med,
        "gflop": flops / 1e9, "gflops": flops / med / 1e9,
        "pct_conv_peak": (100.0 * flops / med / 1e9 / conv_peak) if conv_peak else None,
        "gflop_executed": ok[0]["flops"]["executed"] / 1e9,
        "pct_conv_peak_executed": (100.0 * ok[0]["flops"]["executed"] / med / 1e9 / conv_peak) if conv_peak else None,
        "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "gpu_peak_mib": max((r["gpu_peak_mib"] for r in ok if "gpu_peak_mib" in r), default=None),
        "first_warmup_s": statistics.median(r["warmup_times"][0] for r in ok if r["warmup_times"])
        if any(r["warmup_times"] for r in ok) else None,
        "build_s": statistics.median(r["build_s"] for r in ok),
        "finite": all(r["finite"] for r in ok),
        "flops_detail": ok[0]["flops"],
    })
    return row


def _f(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def _sec(x):
    """Seconds with 3 significant digits: 8.94, 0.599, 0.0256 (GPU iterations), 0.000887 (a GPU convolution)."""
    return f"{x:.3g}" if x < 1 else f"{x:.3f}"


def _table(title: str, header: list, rows: list) -> list[str]:
    """A Markdown section: a title, a table, a blank line."""
    return [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def _on(flag):
    return "on" if flag else "off"


def speedups(rows: list[dict]) -> list[dict]:
    """compiled / stacked per model, size and determinism, from the same run."""
    by = {(r["model"], r["size"], r["engine"], r["determinism"], r["jit"], r["precision"]): r
          for r in rows if "seconds" in r and r["devices"] == 1}
    out = []
    for (model, size, engine, det, jit, precision), r in by.items():
        if engine != "stacked":
            continue
        entry = {"model": model, "size": size, "determinism": det, "precision": precision, "stacked_s": r["seconds"]}
        for j in (False, True):
            c = by.get((model, size, "compiled", det, j, precision))
            entry[f"compiled{'_xla' if j else ''}_s"] = c["seconds"] if c else None
            entry[f"speedup{'_xla' if j else ''}"] = r["seconds"] / c["seconds"] if c else None
        out.append(entry)
    return out


def _grouped(rows: list[dict]) -> list[dict]:
    """The rows with the default --upsampled-conv grouped (the other comparisons are among these)."""
    return [r for r in rows if r.get("upsampled_conv", "grouped") == "grouped"]


def conv_form_speedups(rows: list[dict]) -> list[dict]:
    """literal seconds / grouped seconds of the same configuration (models/upsampled_conv.py)."""
    key = ("model", "size", "engine", "determinism", "jit", "precision", "devices")
    grouped = {tuple(r[k] for k in key): r for r in _grouped(rows) if "seconds" in r}
    out = []
    for r in rows:
        g = grouped.get(tuple(r[k] for k in key))
        if "seconds" in r and r["upsampled_conv"] == "literal" and g:
            out.append({k: r[k] for k in key} | {"literal_s": r["seconds"], "grouped_s": g["seconds"],
                                                 "speedup": r["seconds"] / g["seconds"]})
    return out


def precision_speedups(rows: list[dict]) -> list[dict]:
    """float32 seconds / mixed-precision seconds of the same model, size, engine and switches."""
    base = {(r["model"], r["size"], r["engine"], r["determinism"], r["jit"], r["devices"]): r
            for r in rows if "seconds" in r and r["precision"] == "off"}
    out = []
    for r in rows:
        f32 = base.get((r["model"], r["size"], r["engine"], r["determinism"], r["jit"], r["devices"]))
        if "seconds" in r and r["precision"] != "off" and f32:
            out.append({k: r[k] for k in ("model", "size", "engine", "determinism", "jit", "precision")}
                       | {"float32_s": f32["seconds"], "mixed_s": r["seconds"], "speedup": f32["seconds"] / r["seconds"]})
    return out


def inception_key(cfg) -> str:
    return f"xla={'on' if cfg['jit'] else 'off'} precision={cfg['precision']}"


def inception_rows(inception: dict) -> list[list]:
    rows = []
    for key, results in inception.items():
        speeds = [r["images_per_s"] for r in results if "images_per_s" in r]
        why = next((r.get("unavailable") or r.get("error") for r in results if "images_per_s" not in r), "")
        rows.append([key, f"{statistics.median(speeds):.1f}" if speeds else "n/a", len(speeds), why or ""])
    return rows


def device_scaling(rows: list[dict]) -> list[dict]:
    """N devices against one: speed-up = t(1) / t(N), scaling efficiency = speed-up / N."""
    key = ("model", "size", "engine", "determinism", "jit", "precision")
    one = {tuple(r[k] for k in key): r for r in rows if "seconds" in r and r["devices"] == 1}
    out = []
    for r in rows:
        base = one.get(tuple(r[k] for k in key))
        if "seconds" in r and r["devices"] > 1 and base:
            speedup = base["seconds"] / r["seconds"]
            out.append({k: r[k] for k in key} | {"devices": r["devices"], "one_s": base["seconds"],
                                                 "n_s": r["seconds"], "speedup": speedup,
                                                 "efficiency": speedup / r["devices"]})
    return out


def target_status(rows: list[dict]) -> list[dict]:
    out = []
    for (model, size), goal in TARGETS.items():
        for r in rows:
            if (r.get("model_name", r["model"]) == model and r["size"] == size and r["engine"] == "compiled"
                    and "seconds" in r and r["precision"] == "off" and r["devices"] == 1):
                pct = r.get("pct_conv_peak")
                out.append({"model": r["model"], "size": size, "determinism": r["determinism"], "jit": r["jit"],
                            "target_pct": 100 * goal, "pct": pct, "pct_executed": r.get("pct_conv_peak_executed"),
                            "met": None if pct is None else pct >= 100 * goal})
    return out


def write_chart(rows: list[dict], path: str) -> str | None:
    rows = [r for r in rows if r.get("pct_conv_peak") is not None]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.get('model_name', r['model'])}-{r['size']} {r['engine']}{' XLA' if r['jit'] else ''} "
              f"det {_on(r['determinism'])}"
              + (f" {r['precision']}" if r["precision"] != "off" else "")
              + (f" x{r['devices']} devices" if r["devices"] > 1 else "")
              + (" literal conv" if r.get("upsampled_conv") == "literal" else "")
              + hparam_suffix(r)
              for r in rows]
    colours = {("stacked", False): "#999999", ("compiled", False): "#1f77b4", ("compiled", True): "#ff7f0e"}
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.5))
    y = range(len(rows))
    ax.barh(list(y), [r["pct_conv_peak"] for r in rows],
            color=[colours.get((r["engine"], r["jit"]), "#2ca02c") for r in rows])
    for (model, size), goal in TARGETS.items():
        idx = [i for i, r in enumerate(rows) if r.get("model_name", r["model"]) == model and r["size"] == size]
        if idx:
            ax.vlines(100 * goal, min(idx) - 0.4, max(idx) + 0.4, colors="red", linestyles="dashed")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colours[("stacked", False)], label="stacked"),
                       Patch(color=colours[("compiled", False)], label="compiled"),
                       Patch(color=colours[("compiled", True)], label="compiled + XLA")], fontsize=7, loc="lower right")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("% of the 5x5 convolution's forward GFLOP/s (same run); red: the target")
    ax.set_title("Training throughput against the convolution peak")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return os.path.basename(path)


def _switch_table(title: str, entries: list[dict], before: tuple[str, str], after: tuple[str, str]) -> list[str]:
    """One switch's two settings per configuration: (label, key) of each one's seconds, and the speed-up."""
    return _table(title, ["model", "size", "engine", "determinism", "XLA", "mixed precision", f"{before[0]} s/it",
                          f"{after[0]} s/it", "speed-up"],
                  [[e["model"], e["size"], e["engine"], _on(e["determinism"]), _on(e["jit"]), e["precision"],
                    f"{e[before[1]]:.4f}", f"{e[after[1]]:.4f}", f"{e['speedup']:.2f}"] for e in entries])


def write_report(a, info: dict, rows: list[dict], peak: dict, path: str) -> None:
    m, env = info["machine"], info.get("environment", {})
    conv = peak.get("conv_forward", {}).get("gflops")
    lines = ["# Training speed against the convolution peak" + (" (QUICK smoke run: not a measurement)" if a.quick else ""),
             "",
             f"- command: `{info['command']}`",
             f"- date: {info['date']}; wall time {info['wall_s'] / 60:.1f} min; "
             f"code revision {m.get('revision', 'not recorded')}",
             *([f"- **{info['interrupted']}**"] if info.get("interrupted") else []),
             f"- machine: {m['model']}, {m['cpus']} CPUs ({env.get('threads', {}).get('cpu_affinity', '?')} usable), "
             f"AVX2 {'yes' if m['avx2'] else 'no'}, AVX-512 {', '.join(m['avx512']) or 'no'}; {m['platform']}",
             f"- Keras backend: {env.get('backend', 'tensorflow')}; devices: {', '.join(env.get('devices') or []) or '?'}",
             f"- load average (1 min) before / after: {info['load_before']:.2f} / {info['load_after']:.2f}",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items()),
             "- threads (as the children saw them; 0 = TensorFlow's default, all usable cores): "
             + ", ".join(f"{k} {v}" for k, v in env.get("threads", {}).items()),
             f"- each configuration in its own process: {a.warmup} warm-up iteration(s) (the first traces/compiles), "
             f"then {a.iterations} timed one by one; {a.repeats} round(s), round-robin (odd rounds reversed); "
             "median over all timed iterations (min-max); random uint8 data",
             "- images/s = real images consumed per second = batch x real batches per iteration (critic steps) x it/s",
             "- GFLOP/iter counted from the Conv/Dense layers (2 x MACs; backward = 2 x forward, no input gradient "
             "for a network's first layer when its input needs none, a frozen D's backward = its input gradients, "
             "WGAN-GP's penalty = D forward + 2 full D backwards; BatchNorm, activations, optimizers not counted): "
             "see `iteration_flops` in benchmarks/train_speed.py",
             "", "## The peak (same run)", "",
             "| operation | shape | GFLOP per call | s per call (median, min-max) | GFLOP/s (median) | GFLOP/s (best) |",
             "| --- | --- | --- | --- | --- | --- |"]
    c = info["peak_shape"]["conv"]
    conv_shape = f"{c['batch']}x{c['side']}x{c['side']}x{c['cin']} -> {c['cout']}, {c['kernel']}x{c['kernel']} same"
    for name, what in (("conv_forward", "Conv2D forward"), ("conv_input_grad", "Conv2D input gradient"),
                       ("conv_filter_grad", "Conv2D filter gradient"), ("matmul", "matmul")):
        p = peak.get(name)
        if p:
            shape = conv_shape if name != "matmul" else "x".join([str(info["peak_shape"]["matmul"])] * 3)
            lines.append(f"| {what} | {shape} | {p['gflop']:.1f} | {_sec(p['seconds'])} ({_sec(p['min_s'])}-{_sec(p['max_s'])}) "
                         f"| {p['gflops']:.1f} | {p['gflops_best']:.1f} |")
    if info.get("peak_errors"):
        lines += ["", "Peak errors: " + "; ".join(info["peak_errors"])]
    lines += ["", f"The percentages below are of the Conv2D forward median, {_f(conv, 1)} GFLOP/s.", ""]
    for size in a.sizes:
        shape, batch = SETTINGS[size]
        sub = [r for r in rows if r["size"] == size]
        if not sub:
            continue
        lines += [f"## {'x'.join(map(str, shape))}, batch {QUICK_BATCH if a.quick else batch}", "",
                  "| model | engine | determinism | XLA | mixed precision | devices | upsampled conv "
                  "| s / iteration (median, min-max) | it/s | images/s | GFLOP / iter | GFLOP/s | % of conv peak "
                  "| executed GFLOP / iter | executed % of conv peak | peak RSS MiB | first iteration s |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in sub:
            head = (f"| {r['model']} | {r['engine']} | {_on(r['determinism'])} | {_on(r['jit'])} | {r['precision']} "
                    f"| {r['devices']} | {r['upsampled_conv']} |")
            if "seconds" not in r:
                why = r.get("unavailable") or "; ".join(r["errors"]) or "no result"
                lines.append(f"{head} {'not available' if 'unavailable' in r else 'FAILED'}: {why} | | | | | | | | | |")
                continue
            gpu = f" (GPU {r['gpu_peak_mib']:.0f})" if r.get("gpu_peak_mib") is not None else ""
            note = "" if r["finite"] else " (non-finite loss)"
            if r["errors"]:
                note += f" ({len(r['errors'])} failed round(s): {'; '.join(r['errors'])})"
            lines.append(f"{head} {_sec(r['seconds'])} ({_sec(r['min_s'])}-{_sec(r['max_s'])}){note} | {r['it_per_s']:.3f} "
                         f"| {r['images_per_s']:.1f} | {r['gflop']:.1f} | {r['gflops']:.1f} | {_f(r['pct_conv_peak'], 1)} "
                         f"| {r['gflop_executed']:.1f} | {_f(r['pct_conv_peak_executed'], 1)} "
                         f"| {r['peak_rss_mib']:.0f}{gpu} | {_f(r['first_warmup_s'], 2)} |")
        lines.append("")
    sp = [s for s in speedups(_grouped(rows)) if s["compiled_s"] is not None or s["compiled_xla_s"] is not None]
    if sp:
        lines += _table("Compiled / stacked (same run)",
                        ["model", "size", "determinism", "stacked s/it", "compiled s/it", "speed-up",
                         "compiled + XLA s/it", "speed-up"],
                        [[s["model"], f"{s['size']}{'' if s['precision'] == 'off' else ' ' + s['precision']}",
                          _on(s["determinism"]), f"{s['stacked_s']:.3f}", _f(s["compiled_s"]), _f(s["speedup"], 2),
                          _f(s["compiled_xla_s"]), _f(s["speedup_xla"], 2)] for s in sp])
    cf = conv_form_speedups(rows)
    if cf:
        lines += _switch_table("Grouped / literal upsampled convolutions (same run; --upsampled-conv)", cf,
                               ("literal", "literal_s"), ("grouped", "grouped_s"))
    mp = precision_speedups(_grouped(rows))
    if mp:
        lines += _switch_table("Mixed precision / float32 (same run)", mp, ("float32", "float32_s"), ("mixed", "mixed_s"))
    sc = device_scaling(_grouped(rows))
    if sc:
        lines += _table("Devices: N against one (same run; --strategy mirrored, global batch split)",
                        ["model", "size", "engine", "mixed precision", "devices", "1 device s/it", "N devices s/it",
                         "speed-up", "scaling efficiency"],
                        [[c["model"], c["size"], c["engine"], c["precision"], c["devices"], f"{c['one_s']:.4f}",
                          f"{c['n_s']:.4f}", f"{c['speedup']:.2f}", f"{100 * c['efficiency']:.0f} %"] for c in sc])
        lines += ["On a CPU the N devices are logical ones sharing the same cores (GAN_KERAS_LOGICAL_CPUS): "
                  "they show that the path runs, not a speed-up.", ""]
    if info.get("hparam_variants"):
        lines += _table("Hyperparameter settings (same run; --hparams, against each one's first value)",
                        ["configuration", "against", "first value s/it", "this s/it", "speed-up"],
                        [[v["key"], v["against"], f"{v['first_s']:.4f}", f"{v['this_s']:.4f}", f"{v['speedup']:.2f}"]
                         for v in info["hparam_variants"]])
    if info.get("inception"):
        lines += _table("Evaluation: FID Inception features (same run; random 64x64 images resized to 299, batch 50)",
                        ["configuration", "images/s (median over rounds)", "rounds", "note"],
                        inception_rows(info["inception"]))
    ts = target_status(_grouped(rows))
    lines += ["## Targets (compiled engine, % of the Conv2D forward peak)", ""]
    if ts:
        lines += ["Measured = the published network's FLOPs per second; executed = the multiply-adds our layers "
                  "run (fewer: models/upsampled_conv.py), the machine's efficiency on them.", "",
                  "| model | size | determinism | XLA | target | measured | status | executed |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for t in ts:
            status = "n/a" if t["met"] is None else ("met" if t["met"] else "NOT met")
            lines.append(f"| {t['model']} | {t['size']} | {_on(t['determinism'])} | {_on(t['jit'])} | >= {t['target_pct']:.0f} % "
                         f"| {_f(t['pct'], 1)} % | {status} | {_f(t['pct_executed'], 1)} % |")
    else:
        lines.append("No compiled DCGAN-28, DCGAN-64 or WGANGP-64 configuration was measured.")
    if a.quick:
        lines += ["", "(--quick: batch 4 and a small peak; these percentages mean nothing.)"]
    if info.get("chart"):
        lines += ["", f"![% of the convolution peak]({info['chart']})"]
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))
