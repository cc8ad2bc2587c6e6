"""Does GAN_evaluation.py's FID agree with a folder-to-folder FID of the same images?

The folder FID reaches the images only through the PNG files (another code path: it knows nothing
of the run) but uses the same backbone and Frechet code, so it checks the files and the
bookkeeping, not the network; the network is checked against the reference TorchScript file by
tests/test_backbones.py.

    python benchmarks/fid_agreement.py RUN_DIR --checkpoint ITER [-n 500] [--weights PATH]

1. ``GAN_evaluation.py RUN_DIR n n --checkpoint ITER --inception fid --save-real`` computes the
   table's FID and writes the real sample and the generated images as PNG files.
2. ``python -m gan_keras.metrics.fid`` recomputes FID from those two folders alone (the
   pytorch-fid convention: read PNGs, no knowledge of the run).
3. The same two folders with pytorch-fid's input scaling (x / 127.5 - 1) instead of the 2015 TF
   graph's own (x / 128 - 1, what our ``fid`` backbone feeds), to size that difference.

Prints the three FIDs and their relative differences and writes them, with the machine and the
command, to benchmarks/results/fid_agreement.md. Needs the FID Inception weights
(../shared/weights/fid-inception-2015-12-05.pt, or --weights).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(1, os.path.join(ROOT, "benchmarks"))
from runs_common import command_line, machine_line  # noqa: E402


def _run(args):
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{result.stderr}")
    return result.stdout


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--checkpoint", required=True, type=int)
    p.add_argument("-n", type=int, default=500, help="real and generated images (default 500)")
    p.add_argument("--weights", default=os.path.join(ROOT, "..", "shared", "weights", "fid-inception-2015-12-05.pt"))
    args = p.parse_args()
    weights = os.path.abspath(args.weights)
    out = tempfile.mkdtemp(prefix="fid_agreement-")

    t = time.perf_counter()
    _run(["GAN_evaluation.py", args.run_dir, str(args.n), str(args.n), "--checkpoint", str(args.checkpoint),
          "--inception", "fid", "--inception-weights", weights, "--save-real", "--no-similarity", "--quiet",
          "--out", out])
    with open(os.path.join(out, "evaluation.json")) as f:
        table_fid = json.load(f)["checkpoints"][0]["fid"]
    real = os.path.join(out, "real_sample")
    fake = os.path.join(out, f"iter_{args.checkpoint:07d}", "generated")
    printed = _run(["-m", "gan_keras.metrics.fid", real, fake, "--inception", "fid",
                    "--inception-weights", weights, "--quiet"])
    folder_fid = float(re.search(r"FID: (\S+)", printed).group(1))

    from gan_keras.cli.common import quiet_tensorflow

    quiet_tensorflow()
    from gan_keras.metrics import backbones
    from gan_keras.metrics.fid import fid_from_features, folder_features

    backbones._FID_SCALE = 1.0  # [-1, 1] passed through unchanged: pytorch-fid's x / 127.5 - 1
    backbone = backbones.get_backbone("fid", weights=weights)
    a, _ = folder_features(real, backbone, progress=False)
    b, _ = folder_features(fake, backbone, progress=False)
    pytorch_scaling_fid = fid_from_features(a, b)
    seconds = time.perf_counter() - t

    def rel(x):
        return f"{100 * abs(x - table_fid) / table_fid:.4f} %"

    lines = [
        "# FID agreement: GAN_evaluation.py vs a folder-to-folder FID of its PNG files",
        "",
        f"Command: `{command_line(script=__file__)}`  ",
        f"Machine: {machine_line()}; {seconds:.0f} s in all",
        "",
        f"{args.n} real training images vs {args.n} generated images of checkpoint {args.checkpoint}, "
        "`fid` backbone (TF 2015-12-05 Inception).",
        "",
        "| FID computed by | value | difference from the table |",
        "|---|---|---|",
        f"| GAN_evaluation.py (metrics table) | {table_fid:.6f} | - |",
        f"| python -m gan_keras.metrics.fid on the written PNG folders | {folder_fid:.6f} | {rel(folder_fid)} |",
        f"| the same folders, pytorch-fid's x/127.5-1 input scaling | {pytorch_scaling_fid:.6f} | "
        f"{rel(pytorch_scaling_fid)} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    path = os.path.join(ROOT, "benchmarks", "results", "fid_agreement.md")
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
