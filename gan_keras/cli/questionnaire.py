"""The command line of ``python GAN_questionnaire.py build|serve|report`` (the human evaluation).

    python GAN_questionnaire.py build RUN_DIR [RUN_DIR ...] --questions N --out Q/
    python GAN_questionnaire.py serve Q/ [--host 127.0.0.1] [--port 8000]
    python GAN_questionnaire.py report Q/ [--out DIR]

A thin wrapper: the work is in build.py, server.py and report.py. Errors a user can cause are one
line on stderr (exit 1; usage errors exit 2), as in GAN_main.py and GAN_evaluation.py.
"""
from __future__ import annotations

from gan_keras.cli.common import OneLineParser, fail, os_error_line, positive_int, seed_int
from gan_keras.errors import GanKerasError

PROG = "GAN_questionnaire.py"


def _port(text: str) -> int:
    import argparse

    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535 (0: any free port), got {text!r}")
    return int(text)


def _non_negative(text: str) -> int:
    import argparse

    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return int(text)


def parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description="The dissertation's human evaluation (3.5.1, Appendix A) "
                                             "as a local web questionnaire.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    b = sub.add_parser("build", help="sample the questions from run directories")
    b.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories written by GAN_main.py")
    b.add_argument("--questions", type=positive_int, default=1,
                   help="questions per model, each 2 real + 2 generated images (default 1, as in Appendix A)")
    b.add_argument("--out", required=True, help="the questionnaire folder to write")
    b.add_argument("--examples", type=_non_negative, default=4,
                   help="real and generated example images shown above each question (Figure 3-13; default 4)")
    b.add_argument("--checkpoint", type=positive_int, nargs="+", metavar="ITER",
                   help="generator checkpoint: one iteration for all runs or one per run (default: each run's last)")
    b.add_argument("--label", nargs="+", metavar="NAME",
                   help="the models' names in the report, one per run (default: the model, or the run folder)")
    b.add_argument("--seed", type=seed_int, default=0, help="noise, real images and positions (default 0)")
    b.add_argument("--data-dir", help="where the datasets are (default: where each run found them)")
    b.add_argument("--researcher", help="who runs the study, shown on the consent page")
    b.add_argument("--force", action="store_true", help="replace an existing folder, answers included")
    s = sub.add_parser("serve", help="serve the questionnaire to participants")
    s.add_argument("folder", metavar="Q", help="a folder written by build")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: the network)")
    s.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0: any free port)")
    s.add_argument("--verbose", action="store_true", help="log every request, not only the refused ones")
    r = sub.add_parser("report", help="error rates, Wilson intervals, per-question difficulty, chart")
    r.add_argument("folder", metavar="Q", help="a folder written by build and answered through serve")
    r.add_argument("--out", help="where to write report.md, report.json, report.png (default: Q)")
    r.add_argument("--include-partial", action="store_true",
                   help="also score the answers of participants who stopped before the last question (default: "
                        "only those who completed it, as the dissertation counted submitted forms)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            from gan_keras.cli.common import quiet_tensorflow
            from gan_keras.questionnaire.build import build_questionnaire

            quiet_tensorflow()
            build_questionnaire(args.run_dirs, args.out, questions=args.questions, examples=args.examples,
                                seed=args.seed, checkpoints=args.checkpoint, labels=args.label,
                                data_dir=args.data_dir, researcher=args.researcher, force=args.force)
        elif args.command == "serve":
            from gan_keras.questionnaire.server import serve

            serve(args.folder, args.host, args.port, verbose=args.verbose)
        else:
            from gan_keras.questionnaire.report import write_report

            write_report(args.folder, args.out, include_partial=args.include_partial)
    except GanKerasError as exc:
        return fail(PROG, str(exc))
    except OSError as exc:
        return fail(PROG, os_error_line(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
