"""``python -m gan_keras.compare RUN_DIR [RUN_DIR ...] --out DIR``: compare runs (chapter 4's tables and figures).

Prints the files written. Input that cannot be compared (not a run directory, an unreadable
evaluation, runs evaluated with different backbones or sample sizes without ``--allow-mixed``)
gives one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import sys

PROG = "python -m gan_keras.compare"


class _Parser(argparse.ArgumentParser):
    """A usage error is one line (and exit code 2), not the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 4294967295, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Compare training runs as the dissertation's chapter 4 does: FID tables per "
                "dataset with the dissertation's values and verdicts beside ours, loss / divergence / FID curves of "
                "all runs of a dataset in one plot, and one panel of samples per checkpoint for each run. "
                "Writes comparison.md, comparison.json and PNGs.")
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="run directories (GAN_main.py --out)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--eval-dir", default="evaluation", metavar="NAME",
                   help="each run's evaluation folder, relative to the run (GAN_evaluation.py --out; "
                        "default: evaluation)")
    p.add_argument("--allow-mixed", action="store_true",
                   help="compare runs evaluated with different backbones, resizes or FID sample numbers "
                        "(with a warning)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the panels' fixed noise (default 0)")
    p.add_argument("--no-panels", action="store_true", help="skip the checkpoint panels (no generator is loaded)")
    p.add_argument("--title", default=None, help="title of comparison.md")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if not args.run_dirs:
        print(f"{PROG}: error: no run directories given (see {PROG} -h)", file=sys.stderr)
        return 2
    from gan_keras.compare import compare_runs
    from gan_keras.errors import GanKerasError

    try:
        result = compare_runs(args.run_dirs, args.out, eval_dir=args.eval_dir, allow_mixed=args.allow_mixed,
                              seed=args.seed, panels=not args.no_panels, title=args.title)
    except GanKerasError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"{PROG}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in result.files.values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
