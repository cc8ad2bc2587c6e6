"""Our engines beside an independent PyTorch implementation of the same networks, in one run.

Issue 15's check: "We will run the benchmark beside our own independent implementation of the same
layers in another framework on the same machine, and expect this project to be ahead on every
model." ``benchmarks/torch_reference.py`` is such an implementation (written from the published
tables; its parameter counts are checked against them). This script times it and our engines on
the same machine, interleaved: each round runs every configuration once, each in its own process
(odd rounds in reverse order), and the report gives medians over all timed iterations.

  python benchmarks/versus_torch.py --torch-python /tmp/venv-torch/bin/python \
      --models GAN DCGAN WGAN WGANGP --sizes 28 64 --iterations 2 --warmup 1 --repeats 2

Our side runs through ``train_speed.py``'s child (same data, same timing: one iteration of the
engine, the batch draw included), with the project's defaults (op determinism on, float32,
``--upsampled-conv grouped``). torch needs its own environment (it is not a project dependency):
``python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch==2.13.0 numpy``.
Writes ``--out`` (Markdown) and the same name with ``.json``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_speed  # noqa: E402  (our child process, the settings, the machine)
from runs_common import command_line  # noqa: E402
from speed_report import _sec  # noqa: E402
TORCH_MARK = "TORCH_REFERENCE_RESULT "   # torch_reference.MARK (that module needs torch)

ROOT = train_speed.ROOT


def iterations(model, a) -> int:
    """The MLP GAN's iteration takes milliseconds: time more of them."""
    return a.gan_iterations if model == "GAN" else a.iterations


def our_variants(a) -> list[str]:
    """Our columns: each engine, and "<engine> literal" for --upsampled-conv literal."""
    return [e if form == "grouped" else f"{e} {form}" for form in a.upsampled_conv for e in a.engines]


def our_config(model, size, variant, a) -> dict:
    engine, _, form = variant.partition(" ")
    return {"what": "train", "model": model, "size": size, "engine": engine, "determinism": a.determinism == "on",
            "jit": False, "precision": "off", "devices": 1, "upsampled_conv": form or "grouped",
            "batch": train_speed.SETTINGS[size][1], "warmup": a.warmup, "iterations": iterations(model, a)}


def run_torch(model, size, layout, a) -> dict:
    cmd = [a.torch_python, os.path.join(HERE, "torch_reference.py"), "--model", model, "--size", str(size),
           "--warmup", str(a.warmup), "--iterations", str(iterations(model, a))]
    if layout == "channels_last":
        cmd.append("--channels-last")
    return train_speed.run_marked(cmd, TORCH_MARK, a.child_timeout)


def entries(a) -> list[tuple[str, tuple]]:
    """(key, what) for every configuration: ("ours", model, size, variant) or ("torch", model, size, layout)."""
    out = []
    for size in a.sizes:
        for model in a.models:
            out += [(f"{model}-{size} ours {e}", ("ours", model, size, e)) for e in our_variants(a)]
            out += [(f"{model}-{size} torch {lay}", ("torch", model, size, lay)) for lay in a.torch_layouts]
    return out


def median(results: list[dict]):
    times = [t for r in results for t in r.get("times", [])]
    return statistics.median(times) if times else None


def write_report(a, info, table, path):
    m = info["machine"]
    lines = [
        "# Our engines beside an independent PyTorch implementation",
        "",
        f"- command: `{info['command']}`",
        f"- date: {info['date']}; wall time {info['wall_s'] / 60:.1f} min; code revision {m.get('revision', 'not recorded')}",
        f"- machine: {m['model']}, {m['cpus']} CPUs, AVX2 {'yes' if m['avx2'] else 'no'}, AVX-512 "
        f"{', '.join(m['avx512']) or 'no'}; {m['platform']}",
        f"- load average (1 min) before / after: {info['load_before']:.2f} / {info['load_after']:.2f}",
        f"- ours: {info['ours']}; torch: {info['torch']}",
        f"- {a.warmup} warm-up iteration(s), then {a.iterations} ({a.gan_iterations} for the MLP GAN) timed one by one, in each of {a.repeats} round(s), "
        "round-robin (odd rounds reversed), every configuration in its own process; median over all timed "
        "iterations. Batch 128 at 28x28x1, 64 at 64x64x3; random uint8 images resident in memory.",
        "- torch: `benchmarks/torch_reference.py`, the published networks (parameter counts checked) and the "
        "dissertation's iteration, NCHW (torch's default) and channels_last layouts.",
        f"- ours: op determinism {a.determinism} (the project's default is on), float32, `--upsampled-conv grouped` "
        "(the default; a column marked literal runs `--upsampled-conv literal`, Keras' UpSampling2D -> Conv2D as "
        "torch runs it).",
        "",
        "| model | " + " | ".join(f"ours {e} s/it" for e in our_variants(a)) + " | "
        + " | ".join(f"torch {lay} s/it" for lay in a.torch_layouts) + " | "
        + " | ".join(f"best torch / ours {e}" for e in our_variants(a)) + " |",
        "| --- " * (1 + 2 * len(our_variants(a)) + len(a.torch_layouts)) + "|",
    ]
    for row in table:
        cells = [_sec(row["ours"][e]) if row["ours"].get(e) else "n/a" for e in our_variants(a)]
        cells += [_sec(row["torch"][lay]) if row["torch"].get(lay) else "n/a" for lay in a.torch_layouts]
        cells += [f"{row['ratios'][e]:.2f}" if row["ratios"].get(e) else "n/a" for e in our_variants(a)]
        lines.append(f"| {row['model']}-{row['size']} | " + " | ".join(cells) + " |")
    lines += ["", "A ratio above 1 means that engine of ours is ahead of torch's faster layout by that factor.", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON", "python"),
                   help="a Python that has torch (default $TORCH_PYTHON or python)")
    p.add_argument("--models", nargs="+", default=train_speed.DISSERTATION_MODELS,
                   choices=train_speed.DISSERTATION_MODELS)
    p.add_argument("--sizes", nargs="+", type=int, choices=sorted(train_speed.SETTINGS), default=[28, 64])
    p.add_argument("--engines", nargs="+", choices=["stacked", "compiled"], default=["stacked", "compiled"])
    p.add_argument("--upsampled-conv", nargs="+", choices=["grouped", "literal"], default=["grouped"],
                   help="our --upsampled-conv (default grouped); literal computes the published pair as torch does")
    p.add_argument("--torch-layouts", nargs="+", choices=["nchw", "channels_last"], default=["nchw", "channels_last"])
    p.add_argument("--determinism", choices=["on", "off"], default="on")
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--gan-iterations", type=int, default=30, help="timed iterations of the MLP GAN (default 30)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--child-timeout", type=float, default=3600.0)
    p.add_argument("--out", default=os.path.join(HERE, "results", "versus_torch", "versus_torch.md"))
    a = p.parse_args(argv)
    configs = entries(a)
    info = {"command": command_line(argv, __file__),
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": train_speed.machine(),
            "load_before": os.getloadavg()[0]}
    results = {key: [] for key, _ in configs}
    t0 = time.perf_counter()
    for rnd in range(a.repeats):
        for key, (side, model, size, variant) in (configs if rnd % 2 == 0 else configs[::-1]):
            r = (train_speed.run_child(our_config(model, size, variant, a), a.child_timeout) if side == "ours"
                 else run_torch(model, size, variant, a))
            results[key].append(r)
            status = f"{statistics.median(r['times']):.3f} s/it" if "times" in r else r.get("error") or r.get("unavailable")
            print(f"[round {rnd + 1}] {key}: {status}", flush=True)
            if "times" in r and not r.get("finite", True):
                print(f"[round {rnd + 1}] {key}: NON-FINITE losses", flush=True)
    info["wall_s"] = time.perf_counter() - t0
    info["load_after"] = os.getloadavg()[0]
    ours_env = next((r for key, rs in results.items() if " ours " in key for r in rs if "versions" in r), {})
    torch_env = next((r for key, rs in results.items() if " torch " in key for r in rs if "torch" in r), {})
    info["ours"] = ", ".join(f"{k} {v}" for k, v in ours_env.get("versions", {}).items()) or "?"
    info["torch"] = (f"torch {torch_env['torch']}, {torch_env['threads']} threads, python {torch_env['python']}"
                     if torch_env else "?")

    table = []
    for size in a.sizes:
        for model in a.models:
            ours = {e: median(results[f"{model}-{size} ours {e}"]) for e in our_variants(a)}
            torch = {lay: median(results[f"{model}-{size} torch {lay}"]) for lay in a.torch_layouts}
            best_torch = min((v for v in torch.values() if v), default=None)
            ratios = {e: best_torch / v if v and best_torch else None for e, v in ours.items()}
            table.append({"model": model, "size": size, "ours": ours, "torch": torch, "ratios": ratios})
            print(f"{model}-{size}: ours {ours}, torch {torch}, best torch / ours {ratios}")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    write_report(a, info, table, a.out)
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump({"info": info, "args": vars(a), "table": table, "raw": results}, f, indent=1)
    print(f"written to {a.out} (+ .json)")


if __name__ == "__main__":
    main()
