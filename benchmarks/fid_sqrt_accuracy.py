"""Accuracy of the FID matrix square root at the real feature size (2048), where it matters.

    python benchmarks/fid_sqrt_accuracy.py [--seed 0]

Two Gaussians whose covariances share eigenvectors have a closed-form FID:
|mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2. With ranks below 2048 (what fewer than 2048
images give) the covariances are singular, the case where scipy's ``sqrtm`` (pytorch-fid's
route) loses accuracy. Prints the error of our eigh-based route and of the scipy route for a
full-rank and two rank-deficient cases, and writes them to benchmarks/results/fid_sqrt_accuracy.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))

from runs_common import command_line, machine_line  # noqa: E402

from gan_keras.metrics.fid import frechet_distance  # noqa: E402

D = 2048


def case(rng, rank1, rank2):
    q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    a, b = np.zeros(D), np.zeros(D)
    a[:rank1] = rng.uniform(0, 3, rank1)
    b[D - rank2:] = rng.uniform(0, 3, rank2)  # overlapping supports when rank1 + rank2 > D
    mu1, mu2 = rng.normal(size=D), rng.normal(size=D)
    expected = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    s1, s2 = (q * a) @ q.T, (q * b) @ q.T
    row = {"ranks": f"{rank1} / {rank2}", "closed form": expected}
    for method in ("eigh", "scipy"):
        t = time.perf_counter()
        value = frechet_distance(mu1, s1, mu2, s2, method=method)
        row[method] = (abs(value - expected), time.perf_counter() - t)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = [case(rng, *ranks) for ranks in ((2048, 2048), (1000, 1500), (500, 500))]
    lines = [
        "# FID square root accuracy, 2048-d Gaussians with a closed-form FID",
        "",
        f"Command: `{command_line(script=__file__)}`  ",
        f"Machine: {machine_line()}; numpy {np.__version__}",
        "",
        "| ranks (cov 1 / cov 2) | closed-form FID | abs error, eigh (ours) | abs error, scipy sqrtm | time eigh / scipy (s) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['ranks']} | {r['closed form']:.6f} | {r['eigh'][0]:.2e} | {r['scipy'][0]:.2e} | "
                     f"{r['eigh'][1]:.1f} / {r['scipy'][1]:.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "fid_sqrt_accuracy.md")
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
