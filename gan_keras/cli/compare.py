"""The command line of ``python GAN_compare.py RUN_DIR [RUN_DIR ...] --out DIR``: compare runs (chapter 4's tables and figures).

Prints the files written. Input that cannot be compared (not a run directory, an unreadable
evaluation, runs of one dataset evaluated differently without ``--allow-mixed``)
gives one line on stderr and exit code 2.
"""
from __future__ import annotations

import sys

from gan_keras.cli.common import OneLineParser, fail, os_error_line, seed_int

PROG = "GAN_compare.py"


def build_parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description="Compare training runs as the dissertation's chapter 4 does: FID tables per "
                "dataset with the dissertation's values and verdicts beside ours, loss / divergence / FID curves of "
                "all runs of a dataset in one plot, and one panel of samples per checkpoint for each run. "
                "Writes comparison.md, comparison.json and PNGs.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories (GAN_main.py --out)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; an earlier comparison there is replaced, figures included)")
    p.add_argument("--eval-dir", default="evaluation", metavar="NAME",
                   help="each run's evaluation folder, relative to the run (GAN_evaluation.py --out; "
                        "default: evaluation); a path with {run} is taken as given, {run} replaced by each "
                        "run folder's name, for evaluations written outside the runs (e.g. /evals/{run})")
    p.add_argument("--allow-mixed", action="store_true",
                   help="compare runs of one dataset evaluated differently (backbone, resize, generated or real "
                        "sample size, metrics version), with a warning; such runs are never averaged together")
    p.add_argument("--seed", type=seed_int, default=0, help="seed of the panels' fixed noise (default 0)")
    p.add_argument("--no-panels", action="store_true", help="skip the checkpoint panels (no generator is loaded)")
    p.add_argument("--title", default=None, help="title of comparison.md")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from gan_keras.compare import compare_runs
    from gan_keras.errors import GanKerasError

    try:
        result = compare_runs(args.run_dirs, args.out, eval_dir=args.eval_dir, allow_mixed=args.allow_mixed,
                              seed=args.seed, panels=not args.no_panels, title=args.title)
    except GanKerasError as exc:
        return fail(PROG, str(exc), 2)
    except OSError as exc:
        return fail(PROG, os_error_line(exc), 2)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in result.files.values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
