"""Training speed of every engine against the machine's own convolution peak (issue 15, item 4).

    python benchmarks/train_speed.py [--models GAN DCGAN WGAN WGANGP] [--sizes 28 64]
        [--engines stacked compiled] [--determinism on off] [--jit off on]
        [--precision off bf16 fp16] [--devices 1 2] [--upsampled-conv grouped literal]
        [--hparams NAME=V1,V2 ...]
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
* ``--hparams critic_call=separate,joint``: a model hyperparameter's settings (several names: every
  combination); each is its own row ("WGANGP critic_call=joint"), a model without that
  hyperparameter is timed once with its own settings, and a table gives each setting's speed-up
  over the first value. Names and values are checked (in a child process) before anything is timed.
* Peak memory: the child's peak RSS (``ru_maxrss``) and, on a GPU, TensorFlow's peak.

Writes ``--out`` (Markdown), the same name with ``.json`` (every measurement) and ``.png`` (% of
the convolution peak per model and engine). ``--quick`` (batch 4, 1 warm-up, 1 iteration, 1
round, a small peak; written to /tmp unless ``--out`` is given) checks that everything runs.
"""
from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(1, ROOT)
from runs_common import command_line, machine  # noqa: E402
import speed_backends  # noqa: E402  (TensorFlow or JAX: environment, memory, determinism, the peak)

DISSERTATION_MODELS = ["GAN", "DCGAN", "WGAN", "WGANGP"]
# DCGAN-64's generator stage at 32x32 (UpSampling2D 16->32, Conv2D 256 -> 128, 5x5 'same').
PEAK_CONV = {"batch": 64, "side": 32, "cin": 256, "cout": 128, "kernel": 5}
PEAK_MATMUL = 4096
MARK = "TRAIN_SPEED_RESULT "


# FLOPs counted from the layers: benchmarks/flops.py
from flops import flop_kind, iteration_flops, network_flops  # noqa: E402,F401  (re-exported)
# The report (medians, tables, chart, Markdown): benchmarks/speed_report.py
from speed_report import (  # noqa: E402
    QUICK_BATCH, SETTINGS, _f, _grouped, _on, config_key, conv_form_speedups, device_scaling,
    inception_key, precision_speedups, speedups, summarise, summarise_peak, target_status, write_chart, write_report,
)

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
    declared = spec.declared_params()
    for name, text in cfg.get("hparams", {}).items():   # --hparams NAME=V1,V2
        if name not in declared:
            return {"unavailable": f"{cfg['model']} has no hyperparameter {name}", **env}
        try:
            overrides[name] = declared[name].parse(text)
        except ValueError as exc:
            return {"unavailable": f"{name}={text}: {exc}", **env}
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


def child_hparams(cfg: dict) -> dict:
    """--hparams checked before anything is timed: which models have each hyperparameter, and every
    value each one refuses (a typo in a name or a value would otherwise cost a whole benchmark)."""
    from gan_keras.errors import ConfigError
    from gan_keras.registry import get_model

    applies, errors = {}, []
    for model in cfg["models"]:
        try:
            declared = get_model(model).declared_params()
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        applies[model] = [name for name, _ in cfg["hparams"] if name in declared]
        for name, values in cfg["hparams"]:
            for value in values if name in declared else ():
                try:
                    declared[name].parse(value)
                except ValueError as exc:
                    errors.append(f"--hparams {name}={value}: {exc} ({model})")
    for name, _ in cfg["hparams"]:
        if applies and not any(name in names for names in applies.values()):
            errors.append(f"--hparams {name}: none of {', '.join(cfg['models'])} has this hyperparameter")
    return {"applies": applies, "errors": errors}


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
    children = {"peak": child_peak, "inception": child_inception, "hparams": child_hparams}
    result = children.get(what, child_train)(cfg)
    sys.stdout.flush()
    print(MARK + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------
# The parent: configurations, rounds, summary, report
# ----------------------------------------------------------------------------------------------

def configurations(a, applies: dict | None = None) -> list[dict]:
    """Every combination of the switches; ``applies``: the --hparams names each model has (a model
    is timed once for each combination of its own, and once with none)."""
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
                                    own = [(n, v) for n, v in a.hparams
                                           if applies is None or n in applies.get(model, ())]
                                    for values in itertools.product(*(v for _, v in own)):
                                        configs.append({
                                            "what": "train", "model": model, "size": size, "engine": engine,
                                            "determinism": det == "on", "jit": jit == "on", "precision": precision,
                                            "devices": devices, "upsampled_conv": form,
                                            "hparams": {n: v for (n, _), v in zip(own, values)},
                                            "batch": QUICK_BATCH if a.quick else SETTINGS[size][1],
                                            "warmup": a.warmup, "iterations": a.iterations})
    return configs


# The hyperparameters the benchmark's own switches set: --hparams may not set them behind their backs.
SWITCHED = {"engine": "--engines", "jit": "--jit", "mixed_precision": "--precision", "upsampled_conv": "--upsampled-conv"}


def hparam_setting(text: str) -> tuple[str, list[str]]:
    """--hparams' NAME=V1,V2 as (name, [values], each once); the name is the Python one (critic_call)."""
    name, sep, values = text.partition("=")
    name = name.strip().lstrip("-").replace("-", "_")
    kept = list(dict.fromkeys(v.strip() for v in values.split(",") if v.strip()))
    if not sep or not name or not kept:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE[,VALUE...], e.g. critic_call=separate,joint")
    if name in SWITCHED:
        raise argparse.ArgumentTypeError(f"{text!r}: {name} has its own switch here, {SWITCHED[name]}")
    return name, kept


def hparam_variants(configs: list[dict], rows: list[dict], settings: list) -> list[dict]:
    """Each configuration whose --hparams differ from every setting's first value, against the same
    configuration with the first values: first s/it / this s/it."""
    first = {name: values[0] for name, values in settings}
    by_key = {r["key"]: r for r in rows}
    out = []
    for cfg, row in zip(configs, rows):
        its_first = {name: first[name] for name in cfg["hparams"]}
        if cfg["hparams"] == its_first or "seconds" not in row:
            continue
        base = by_key.get(config_key(dict(cfg, hparams=its_first)))
        if base and "seconds" in base:
            out.append({"key": row["key"], "against": base["key"], "first_s": base["seconds"],
                        "this_s": row["seconds"], "speedup": base["seconds"] / row["seconds"]})
    return out


def run_marked(cmd: list, mark: str, timeout: float) -> dict:
    """Run a child command; the JSON on its last line starting with ``mark``, plus ``wall_s``, or
    {"error": ...} (never raises). versus_torch.py runs its torch child through this too."""
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    except OSError as exc:   # e.g. a --torch-python that does not exist
        return {"error": str(exc)}
    wall = time.perf_counter() - t
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(mark):
            result = json.loads(line[len(mark):])
            result["wall_s"] = wall
            return result
    tail = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()]
    return {"error": f"exit {proc.returncode}: {tail[-1] if tail else 'no output'}", "wall_s": wall}


def run_child(cfg: dict, timeout: float) -> dict:
    """One configuration (or the peak) in its own process; see ``run_marked``."""
    return run_marked([sys.executable, os.path.abspath(__file__), "--child", json.dumps(cfg)], MARK, timeout)


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
    p.add_argument("--hparams", nargs="+", type=hparam_setting, default=[], metavar="NAME=V1,V2",
                   help="model hyperparameters to compare, every combination (e.g. critic_call=separate,joint); "
                        "each setting is its own row, and a table gives each one's speed-up over the first values")
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

    if len({name for name, _ in a.hparams}) < len(a.hparams):
        p.error("--hparams: each hyperparameter once, with all its values (critic_call=separate,joint)")
    applies = None
    if a.hparams:
        check = run_child({"what": "hparams", "models": a.models, "hparams": a.hparams}, a.child_timeout)
        if check.get("error") or check.get("errors"):
            p.error("; ".join(check.get("errors") or [check["error"]]))
        applies = check["applies"]
    configs = configurations(a, applies)
    peak_cfg = {"what": "peak", "calls": a.peak_calls,
                "conv": dict(PEAK_CONV, batch=QUICK_BATCH) if a.quick else PEAK_CONV,
                "matmul": 512 if a.quick else PEAK_MATMUL}
    info = {"command": command_line(script=__file__) if argv is None else "train_speed.main(" + repr(argv) + ")",
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
            "load_before": os.getloadavg()[0], "peak_shape": {"conv": peak_cfg["conv"], "matmul": peak_cfg["matmul"]}}
    print(f"{len(configs)} configurations x {a.repeats} round(s), plus the peak each round", flush=True)
    t_start = time.perf_counter()
    results = {config_key(c): [] for c in configs}
    peaks, unavailable, inception = [], set(), {}
    inception_cfgs = [{"what": "inception", "images": a.inception_images, "batch": 50, "jit": jit == "on",
                       "precision": precision} for jit in a.jit for precision in a.precision] if a.inception_images else []
    # Ctrl-C (or `timeout -s INT`, as benchmarks/gpu_jax_session.sh stops it) ends the rounds early:
    # what was measured by then is still written, and the report says it was cut short.
    info["interrupted"] = None
    try:
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
    except KeyboardInterrupt:
        done = sum(len(rs) for rs in results.values())
        info["interrupted"] = (f"interrupted (SIGINT) after {done} of {len(configs) * a.repeats} configuration "
                               "runs: the rest have no result")
        print(f"\n{info['interrupted']}; writing what was measured", flush=True)
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
    info["hparam_variants"] = hparam_variants(configs, rows, a.hparams)

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
            print(f"{r['key']}: {'not available: ' + r['unavailable'] if r.get('unavailable') else '; '.join(r['errors']) or 'no result'}")
    for t in target_status(_grouped(rows)):
        print(f"target {t['model']}-{t['size']} det {_on(t['determinism'])} XLA {_on(t['jit'])}: "
              f"{_f(t['pct'], 1)} % (>= {t['target_pct']:.0f} %): {'met' if t['met'] else 'NOT met'}")
    print(f"written to {a.out} (+ .json, .png)")


if __name__ == "__main__":
    main()
