"""Training speed of every engine against the machine's own convolution peak (issue 15, item 4).

    python benchmarks/train_speed.py [--models GAN DCGAN WGAN WGANGP] [--sizes 28 64]
        [--engines stacked compiled] [--determinism on off] [--jit off on]
        [--precision off bf16 fp16] [--devices 1 2] [--upsampled-conv grouped literal]
        [--iterations 3] [--warmup 2] [--repeats 2] [--quick] [--out benchmarks/results/train_speed.md]

For each model at 28x28x1 (batch 128, the dissertation's MNIST runs) and 64x64x3 (batch 64, its
102flowers/NLVR runs), each engine (the reference ``stacked`` one and ``compiled``), with and
without op determinism (``GAN_main.py``'s default / ``--no-determinism``) and, for the compiled
engine, with and without XLA (``--jit``), it measures seconds per iteration. Each configuration
runs in its own child process (``--child``: determinism is process-global): it builds the engine,
runs ``--warmup`` iterations (the first one traces/compiles), then times ``--iterations``
iterations one by one. The parent runs the configurations round-robin ``--repeats`` times (odd
rounds in reverse order, so slow drift of the machine hits every configuration alike) and reports
the median over all timed iterations of all rounds, with the min and max. Random uint8 images
stand in for data (the speed does not depend on the pixels).

* iterations/s = 1 / median seconds; **images/s = real images consumed per second** = batch x
  real batches per iteration (the critic steps: 5 for WGAN and WGAN-GP, 1 otherwise) x it/s.
* **FLOPs of one iteration are counted from the layers, not measured** (``iteration_flops``):
  only Conv (incl. transposed) and Dense layers count, a forward pass costs 2 x its
  multiply-accumulates; biases, BatchNorm, activations, dropout, upsampling, padding and the
  optimizers' updates are elementwise work and are left out (a few % of a convolutional model's
  arithmetic, all of it memory-bound). Backward of a layer = 2 x its forward (its input gradient
  plus its weight gradient), except: the first counted layer of a network whose input needs no
  gradient (images, fakes given as data, z) computes no input gradient; a frozen network (D inside
  the generator update) computes input gradients only. One iteration of the stacked schedule =
  critic_steps x [G forward (inference) + D forward + backward on the real batch + the same on
  the fake batch] + the G update [G forward + D forward + D input-gradient backward + G backward].
  WGAN-GP adds per critic step the gradient penalty: D forward on the interpolates + 2 x a full D
  backward (the input gradient, and the double backward through it to the weights). The BEGAN
  family's and EDGEGAN's steps are the stacked schedule with one critic step.
* Our generators compute each convolution that follows a nearest x2 UpSampling2D on the small map
  (``--upsampled-conv grouped``, models/upsampled_conv.py): the same function with 2.25x (3x3) to
  2.8x (5x5) fewer multiply-adds. The FLOPs above are the *published* network's, so GFLOP/s and %
  of the peak say how fast the published network trains (and can pass 100 %); "executed" columns
  count what our layers run, the machine's efficiency. ``--upsampled-conv grouped literal`` times
  both forms (a table gives literal / grouped).
* The peak: a child process (same environment and thread settings) times, every round, one large
  5x5 'same' Conv2D forward at the shape of DCGAN-64's heaviest generator stages (batch 64,
  32x32x256 -> 128 filters: all four 5x5 stages of that generator have the same 0.84 GMAC per
  image), its two backward convolutions (input and filter gradients) at the same shape, and a
  4096^3 matmul, each the median of several calls, as GFLOP/s. Each model's achieved GFLOP/s =
  FLOPs / median seconds, and its ratio to the forward convolution's peak; the issue's targets
  (compiled DCGAN-64 and WGAN-GP-64 >= 85 %, DCGAN-28 >= 80 %) are marked met / not met.
* ``--precision``: the runs' ``--mixed-precision``; a table gives each 16-bit speed-up over float32.
  ``--devices 1 N``: the compiled engine with ``--strategy mirrored`` over N GPUs (N logical CPU
  devices where there is none: correctness, not speed); a table gives the speed-up t(1)/t(N) and
  the scaling efficiency, speed-up / N. On ``KERAS_BACKEND=jax`` (``speed_backends.py``) both
  engines run, the compiled one always with XLA (``--jit`` is TensorFlow's switch), and
  ``--devices`` needs TensorFlow.
* Peak memory: the child's peak RSS (``ru_maxrss``) and, on a GPU, TensorFlow's peak.

Writes ``--out`` (Markdown), the same name with ``.json`` (every measurement) and ``.png`` (% of
the convolution peak per model and engine). ``--quick`` (batch 4, 1 warm-up, 1 iteration, 1
round, a small peak; written to /tmp unless ``--out`` is given) checks that everything runs.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(1, ROOT)
from runs_common import machine  # noqa: E402
import speed_backends  # noqa: E402  (TensorFlow or JAX: environment, memory, determinism, the peak)

SETTINGS = {28: ((28, 28, 1), 128), 64: ((64, 64, 3), 64)}   # mnist batch 128; nlvr / 102flowers batch 64
DISSERTATION_MODELS = ["GAN", "DCGAN", "WGAN", "WGANGP"]
TARGETS = {("DCGAN", 64): 0.85, ("WGANGP", 64): 0.85, ("DCGAN", 28): 0.80}   # of the conv peak, compiled engine
# DCGAN-64's generator stage at 32x32 (UpSampling2D 16->32, Conv2D 256 -> 128, 5x5 'same').
PEAK_CONV = {"batch": 64, "side": 32, "cin": 256, "cout": 128, "kernel": 5}
PEAK_MATMUL = 4096
QUICK_BATCH = 4
MARK = "TRAIN_SPEED_RESULT "


# FLOPs counted from the layers: benchmarks/flops.py
from flops import flop_kind, iteration_flops, network_flops  # noqa: E402,F401  (re-exported)

# ----------------------------------------------------------------------------------------------
# Child processes: one configuration, or the peak
# ----------------------------------------------------------------------------------------------

def child_train(cfg: dict) -> dict:
    """Build one engine, warm it up, time ``iterations`` iterations one by one."""
    env = speed_backends.environment()
    import keras
    import numpy as np

    from gan_keras.errors import ConfigError
    from gan_keras.registry import get_model
    from gan_keras.training import distribute
    from gan_keras.training.engine import build_engine

    devices, strategy = cfg.get("devices", 1), None
    if devices > 1:   # --strategy mirrored, made before TensorFlow runs anything (as a run does)
        os.environ["GAN_KERAS_LOGICAL_CPUS"] = str(devices)   # splits the CPU where there is no GPU
        try:
            strategy = distribute.make_strategy("mirrored")
        except ConfigError as exc:
            return {"unavailable": str(exc), **env}
        if strategy.num_replicas_in_sync != devices:
            return {"unavailable": f"{strategy.num_replicas_in_sync} devices here, not {devices}", **env}
    keras.utils.set_random_seed(0)
    if not speed_backends.set_determinism(cfg["determinism"]):
        return {"unavailable": f"op determinism is a TensorFlow switch (backend {env['backend']})", **env}
    spec = get_model(cfg["model"])
    shape = SETTINGS[cfg["size"]][0]
    batch = cfg["batch"]
    overrides = {"engine": cfg["engine"]}
    if cfg["jit"]:
        overrides["jit"] = True
    if cfg.get("precision", "off") != "off":
        overrides["mixed_precision"] = cfg["precision"]
    if cfg.get("upsampled_conv", "grouped") != "grouped":
        overrides["upsampled_conv"] = cfg["upsampled_conv"]
    hp = spec.hyperparams(**overrides)
    try:
        spec.check_shape(shape, hp)
        t = time.perf_counter()
        with distribute.scope(strategy):
            engine = build_engine(spec, hp, shape)
    except ConfigError as exc:   # no such shape, TensorFlow code on another backend, not replicable
        return {"unavailable": str(exc), **env}
    build_s = time.perf_counter() - t
    critic_steps = int(hp.get("critic_steps", 1))
    step = getattr(getattr(engine, "model", None), "real_batches_per_step", None)
    real_batches = int(step()) if step else critic_steps
    rng = np.random.default_rng(0)
    n = max(512, 2 * batch * real_batches)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    if hasattr(engine, "attach_data"):   # the compiled engine: data resident on the device
        engine.attach_data(images, batch)

    def draw():
        return images[rng.integers(0, n, batch)].astype(np.float32) / 127.5 - 1.0

    def timed():
        t0 = time.perf_counter()
        logs = engine.train_iteration(draw, rng)
        return time.perf_counter() - t0, logs

    warmup = [timed()[0] for _ in range(cfg["warmup"])]
    times, logs = [], {}
    for _ in range(cfg["iterations"]):
        sec, logs = timed()
        times.append(sec)
    flops = iteration_flops(engine, batch, critic_steps, flop_kind(spec), detail=True)
    flops.pop("generator_layers")
    flops.pop("discriminator_layers")
    flops["executed"] = iteration_flops(engine, batch, critic_steps, flop_kind(spec), executed=True)
    return {"times": times, "warmup_times": warmup, "build_s": build_s, "batch": batch,
            "critic_steps": critic_steps, "real_batches": real_batches, "flops": flops,
            "finite": all(math.isfinite(v) for v in logs.values()), **speed_backends.memory(), **env}


def child_peak(cfg: dict) -> dict:
    """The convolution (forward, input and filter gradients) and matmul peaks, GFLOP/s."""
    env = speed_backends.environment()
    out = speed_backends.peak(cfg["conv"], cfg["matmul"], cfg["calls"])
    return {"peak": out, "shape": {"conv": cfg["conv"], "matmul": cfg["matmul"]}, **speed_backends.memory(), **env}


def child_inception(cfg: dict) -> dict:
    """Images/s of the FID Inception's features (what GAN_evaluation.py spends its time on): random
    64x64x3 images, resized to 299 inside the compiled function, batch 50, timed after one batch."""
    env = speed_backends.environment()
    if env["backend"] != "tensorflow":
        return {"unavailable": "the Inception backbones are TensorFlow functions", **env}
    import keras
    import numpy as np

    from gan_keras.errors import GanKerasError
    from gan_keras.metrics.backbones import get_backbone

    keras.config.set_dtype_policy("mixed_bfloat16" if cfg["precision"] == "bf16" else "float32")
    try:
        backbone = get_backbone("fid", download=False, jit_compile=cfg["jit"])
    except GanKerasError as exc:
        return {"unavailable": str(exc).splitlines()[0], **env}
    finally:
        keras.config.set_dtype_policy("float32")
    images = np.random.default_rng(0).uniform(-1, 1, (cfg["images"], 64, 64, 3)).astype(np.float32)
    backbone.features(images[:cfg["batch"]], batch_size=cfg["batch"])   # trace
    t = time.perf_counter()
    backbone.features(images, batch_size=cfg["batch"])
    return {"images_per_s": cfg["images"] / (time.perf_counter() - t), **speed_backends.memory(), **env}


def child_main(text: str) -> None:
    cfg = json.loads(text)
    what = cfg.get("what")
    result = child_peak(cfg) if what == "peak" else child_inception(cfg) if what == "inception" else child_train(cfg)
    sys.stdout.flush()
    print(MARK + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------
# The parent: configurations, rounds, summary, report
# ----------------------------------------------------------------------------------------------

def configurations(a) -> list[dict]:
    configs = []
    for size in a.sizes:
        for model in a.models:
            for engine in a.engines:
                for det in a.determinism:
                    for jit in a.jit:
                        if jit == "on" and engine != "compiled":
                            continue   # XLA only compiles the compiled engine's function
                        for precision in a.precision:
                            for devices in a.devices:
                                if devices > 1 and engine != "compiled":
                                    continue   # --strategy mirrored runs the compiled engine
                                for form in a.upsampled_conv:
                                    configs.append({"what": "train", "model": model, "size": size, "engine": engine,
                                                    "determinism": det == "on", "jit": jit == "on",
                                                    "precision": precision, "devices": devices,
                                                    "upsampled_conv": form,
                                                    "batch": QUICK_BATCH if a.quick else SETTINGS[size][1],
                                                    "warmup": a.warmup, "iterations": a.iterations})
    return configs


def config_key(cfg) -> str:
    precision = cfg.get("precision", "off")
    return (f"{cfg['model']}-{cfg['size']} {cfg['engine']} det={'on' if cfg['determinism'] else 'off'} "
            f"xla={'on' if cfg['jit'] else 'off'}" + (f" mp={precision}" if precision != "off" else "")
            + (f" devices={cfg['devices']}" if cfg.get("devices", 1) > 1 else "")
            + (f" conv={cfg['upsampled_conv']}" if cfg.get("upsampled_conv", "grouped") != "grouped" else ""))


def run_child(cfg: dict, timeout: float) -> dict:
    """One child process; its JSON result, or {"error": ...} (never raises)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(cfg)]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            result = json.loads(line[len(MARK):])
            result["wall_s"] = wall
            return result
    tail = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()]
    return {"error": f"exit {proc.returncode}: {tail[-1] if tail else 'no output'}", "wall_s": wall}


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
            if (r["model"] == model and r["size"] == size and r["engine"] == "compiled" and "seconds" in r
                    and r["precision"] == "off" and r["devices"] == 1):
                pct = r.get("pct_conv_peak")
                out.append({"model": model, "size": size, "determinism": r["determinism"], "jit": r["jit"],
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

    labels = [f"{r['model']}-{r['size']} {r['engine']}{' XLA' if r['jit'] else ''} det {_on(r['determinism'])}"
              + (f" {r['precision']}" if r["precision"] != "off" else "")
              + (f" x{r['devices']} devices" if r["devices"] > 1 else "")
              + (" literal conv" if r.get("upsampled_conv") == "literal" else "")
              for r in rows]
    colours = {("stacked", False): "#999999", ("compiled", False): "#1f77b4", ("compiled", True): "#ff7f0e"}
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.5))
    y = range(len(rows))
    ax.barh(list(y), [r["pct_conv_peak"] for r in rows],
            color=[colours.get((r["engine"], r["jit"]), "#2ca02c") for r in rows])
    for (model, size), goal in TARGETS.items():
        idx = [i for i, r in enumerate(rows) if r["model"] == model and r["size"] == size]
        if idx:
            ax.vlines(100 * goal, min(idx) - 0.4, max(idx) + 0.4, colors="red", linestyles="dashed")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colours[("stacked", False)], label="stacked"),
                       Patch(color=colours[("compiled", False)], label="compiled"),
                       Patch(color=colours[("compiled", True)], label="compiled + XLA")], fontsize=7, loc="lower right")
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("% of the 5x5 convolution's forward GFLOP/s (same run); red: the issue's target")
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
             f"- date: {info['date']}; wall time {info['wall_s'] / 60:.1f} min",
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
    if info.get("inception"):
        lines += _table("Evaluation: FID Inception features (same run; random 64x64 images resized to 299, batch 50)",
                        ["configuration", "images/s (median over rounds)", "rounds", "note"],
                        inception_rows(info["inception"]))
    ts = target_status(_grouped(rows))
    lines += ["## The issue's targets (compiled engine, % of the Conv2D forward peak)", ""]
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--models", nargs="+", default=DISSERTATION_MODELS,
                   help="GAN DCGAN WGAN WGANGP (default); also LSGAN BEGAN BEGANCS BEGANV3 MLPGAN EDGEGAN DELIGAN")
    p.add_argument("--sizes", nargs="+", type=int, choices=sorted(SETTINGS), default=[28, 64])
    p.add_argument("--engines", nargs="+", choices=["stacked", "compiled"], default=["stacked", "compiled"])
    p.add_argument("--determinism", nargs="+", choices=["on", "off"], default=["on", "off"])
    p.add_argument("--jit", nargs="+", choices=["off", "on"], default=["off", "on"])
    p.add_argument("--precision", nargs="+", choices=["off", "bf16", "fp16"], default=["off"],
                   help="--mixed-precision of the runs (default off: float32)")
    p.add_argument("--inception-images", type=int, default=200, metavar="N",
                   help="also time the FID Inception's features on N images per round, for each --jit and "
                        "--precision (0: skip; default 200)")
    p.add_argument("--devices", nargs="+", type=int, default=[1],
                   help="1 and/or N: N > 1 trains the compiled engine with --strategy mirrored over N GPUs, or N "
                        "logical CPU devices where there is no GPU (default 1)")
    p.add_argument("--upsampled-conv", nargs="+", choices=["grouped", "literal"], default=["grouped"],
                   help="the runs' --upsampled-conv (default grouped); both: a table gives literal / grouped")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--peak-calls", type=int, default=5, help="timed calls of each peak operation per round")
    p.add_argument("--child-timeout", type=float, default=3600.0, help="seconds before a child is abandoned")
    p.add_argument("--quick", action="store_true",
                   help="smoke check: batch 4, 1 warm-up, 1 iteration, 1 round, a small peak (written to /tmp)")
    p.add_argument("--out", default=None, help="Markdown report (default benchmarks/results/train_speed.md)")
    a = p.parse_args(argv)
    if a.child:
        return child_main(a.child)
    if a.quick:
        a.warmup, a.iterations, a.repeats, a.peak_calls = 1, 1, 1, 2
        a.inception_images = min(a.inception_images, 100)
    a.out = a.out or (os.path.join("/tmp", "train_speed_quick", "train_speed.md") if a.quick
                      else os.path.join(HERE, "results", "train_speed.md"))
    stem = os.path.splitext(a.out)[0]

    configs = configurations(a)
    peak_cfg = {"what": "peak", "calls": a.peak_calls,
                "conv": dict(PEAK_CONV, batch=QUICK_BATCH) if a.quick else PEAK_CONV,
                "matmul": 512 if a.quick else PEAK_MATMUL}
    info = {"command": "python " + " ".join(shlex.quote(x) for x in [os.path.relpath(__file__, ROOT), *sys.argv[1:]])
            if argv is None else "train_speed.main(" + repr(argv) + ")",
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
            "load_before": os.getloadavg()[0], "peak_shape": {"conv": peak_cfg["conv"], "matmul": peak_cfg["matmul"]}}
    print(f"{len(configs)} configurations x {a.repeats} round(s), plus the peak each round", flush=True)
    t_start = time.perf_counter()
    results = {config_key(c): [] for c in configs}
    peaks, unavailable, inception = [], set(), {}
    inception_cfgs = [{"what": "inception", "images": a.inception_images, "batch": 50, "jit": jit == "on",
                       "precision": precision} for jit in a.jit for precision in a.precision] if a.inception_images else []
    for rnd in range(a.repeats):
        peak = run_child(peak_cfg, a.child_timeout)
        peaks.append(peak)
        if "peak" in peak:
            p = peak["peak"]["conv_forward"]
            print(f"[round {rnd + 1}] peak: conv forward {p['flops'] / statistics.median(p['times']) / 1e9:.1f} GFLOP/s",
                  flush=True)
        else:
            print(f"[round {rnd + 1}] peak FAILED: {peak.get('error')}", flush=True)
        for cfg in inception_cfgs:
            r = run_child(cfg, a.child_timeout)
            inception.setdefault(inception_key(cfg), []).append(r)
            print(f"[round {rnd + 1}] Inception {inception_key(cfg)}: "
                  + (f"{r['images_per_s']:.1f} images/s" if "images_per_s" in r else r.get("unavailable") or r.get("error")),
                  flush=True)
        for cfg in (configs if rnd % 2 == 0 else configs[::-1]):
            key = config_key(cfg)
            if key in unavailable:
                continue
            r = run_child(cfg, a.child_timeout)
            results[key].append(r)
            if "unavailable" in r:
                unavailable.add(key)
                print(f"[round {rnd + 1}] {key}: not available ({r['unavailable']})", flush=True)
            elif "times" in r:
                print(f"[round {rnd + 1}] {key}: {statistics.median(r['times']):.3f} s/iteration "
                      f"(first {r['warmup_times'][0] if r['warmup_times'] else float('nan'):.1f} s), "
                      f"{r['flops']['total'] / 1e9:.1f} GFLOP/iter, peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)
            else:
                print(f"[round {rnd + 1}] {key}: FAILED {r['error']}", flush=True)
    info["wall_s"] = time.perf_counter() - t_start
    info["inception"] = inception
    info["load_after"] = os.getloadavg()[0]
    env_src = next((r for rs in results.values() for r in rs if "versions" in r),
                   next((pk for pk in peaks if "versions" in pk), {}))
    info["environment"] = {k: env_src.get(k) for k in ("backend", "versions", "threads", "devices") if k in env_src}
    info["peak_errors"] = sorted({pk["error"] for pk in peaks if "error" in pk})
    peak = summarise_peak(peaks)
    conv = peak.get("conv_forward", {}).get("gflops")
    rows = [summarise(c, results[config_key(c)], conv) for c in configs]

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    info["chart"] = write_chart(rows, stem + ".png")
    write_report(a, info, rows, peak, a.out)
    with open(stem + ".json", "w") as f:
        json.dump({"info": info, "args": vars(a), "peak": peak, "rows": rows, "speedups": speedups(_grouped(rows)),
                   "mixed_precision": precision_speedups(_grouped(rows)), "devices": device_scaling(_grouped(rows)),
                   "targets": target_status(_grouped(rows)),
                   "upsampled_conv": conv_form_speedups(rows), "raw": {"peaks": peaks, "configurations": results}}, f, indent=1)
    print(f"conv forward peak {_f(conv, 1)} GFLOP/s")
    for r in rows:
        if "seconds" in r:
            print(f"{r['key']:40s} {r['seconds']:8.3f} s/it {r['it_per_s']:7.3f} it/s {r['images_per_s']:8.1f} img/s "
                  f"{r['gflop']:8.1f} GFLOP/it {r['gflops']:6.1f} GFLOP/s {_f(r['pct_conv_peak'], 1):>6s} % of conv peak")
        else:
            print(f"{r['key']:40s} {r.get('unavailable') or '; '.join(r['errors']) or 'no result'}")
    for t in target_status(_grouped(rows)):
        print(f"target {t['model']}-{t['size']} det {_on(t['determinism'])} XLA {_on(t['jit'])}: "
              f"{_f(t['pct'], 1)} % (>= {t['target_pct']:.0f} %): {'met' if t['met'] else 'NOT met'}")
    print(f"written to {a.out} (+ .json, .png)")


if __name__ == "__main__":
    main()
