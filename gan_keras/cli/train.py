"""``GAN_main.py``: train a model, with the dissertation's six positional arguments (3.4.5)."""
from __future__ import annotations

import os
import shlex
import sys

from gan_keras.cli.common import (
    OneLineParser, existing_dir, fail, os_error_line, positive_float, positive_int, quiet_tensorflow, seed_int,
)

PROG = "GAN_main.py"


def build_parser() -> OneLineParser:
    """The parser; model and dataset choices come from their registries."""
    from gan_keras.data import dataset_names as _dataset_names
    from gan_keras.registry import model_names as _model_names

    model_names, dataset_names = _model_names(), _dataset_names()
    p = OneLineParser(
        prog=PROG,
        description="Train a GAN of 'Synthesising Images by Imagination' (Chen, 2019).",
        epilog="example: python GAN_main.py WGANGP 102flowers 40000 64 1000 10000",
    )
    p.add_argument("model_name", choices=model_names, metavar="model_name",
                   help=f"Specify the type of model. ({', '.join(model_names)})")
    p.add_argument("training_dataName", choices=dataset_names, metavar="training_dataName",
                   help=f"Training data for GANs. ({', '.join(dataset_names)})")
    p.add_argument("epochs", type=positive_int, help="Training iterations (one batch each), as in the dissertation.")
    p.add_argument("batch_size", type=positive_int, help="Batch size for the training process.")
    p.add_argument("sample_interval", type=positive_int, help="The interval of sampling synthesised images")
    p.add_argument("save_model_interval", type=positive_int, help="The interval of saving GANs models")

    run = p.add_argument_group("run")
    run.add_argument("--out", metavar="DIR", help="run directory (default gan_models/<model>_<dataset>); "
                     "an existing run of the same settings is resumed")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint")
    run.add_argument("--force", action="store_true", help="overwrite a run directory that holds a different run")
    run.add_argument("--seed", type=seed_int, help="random seed (default: a random one, recorded in config.json)")
    run.add_argument("--data-dir", metavar="DIR", type=existing_dir, help="folder holding mnist/, nlvr/, 102flowers/ "
                     "(default: $GAN_KERAS_DATA_DIR, then ./data, then the Keras cache)")
    run.add_argument("--limit", type=positive_int, metavar="N",
                     help="use only the first N source images (nlvr gives 3 crops each: --limit 3102 gives "
                          "the dissertation's 9,306 crops; shapes: the number of images generated)")
    run.add_argument("--on-nan", choices=("stop", "rollback"), default="stop",
                     help="when a loss becomes NaN/inf: stop (default) or roll back to the last checkpoint "
                          "and continue with a new seed")
    run.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    run.add_argument("--no-determinism", action="store_true",
                     help="do not enable TensorFlow op determinism (slightly faster, not bit-reproducible)")

    hp = p.add_argument_group("hyperparameters (defaults: the model's, see README)")
    hp.add_argument("--optimizer", choices=("adam", "rmsprop"))
    hp.add_argument("--lr", type=positive_float, help="learning rate of both networks")
    hp.add_argument("--d-lr", type=positive_float, help="discriminator/critic learning rate")
    hp.add_argument("--g-lr", type=positive_float, help="generator learning rate")
    hp.add_argument("--beta-1", type=float, help="Adam beta_1")
    hp.add_argument("--beta-2", type=float, help="Adam beta_2")
    hp.add_argument("--critic-steps", type=positive_int, help="discriminator updates per iteration")
    hp.add_argument("--clip-value", type=positive_float, help="WGAN weight clipping c")
    hp.add_argument("--clip-all-weights", action="store_true",
                    help="WGAN: also clip BatchNorm moving statistics (Keras-GAN's behaviour)")
    hp.add_argument("--gp-weight", type=positive_float, help="WGAN-GP gradient penalty lambda")
    hp.add_argument("--frozen-bn", choices=("batch", "moving"),
                    help="frozen D's BatchNorm inside the stacked model: batch statistics as in Keras 2.2 "
                         "(default) or moving statistics as in Keras 3")
    hp.add_argument("--latent-dim", type=positive_int, help="size of z (default 100)")
    return p


def hyperparam_overrides(args) -> dict:
    out = {}
    if args.lr is not None:
        out["d_lr"] = out["g_lr"] = args.lr
    for name in ("optimizer", "d_lr", "g_lr", "beta_1", "beta_2", "critic_steps", "clip_value",
                 "gp_weight", "frozen_bn", "latent_dim"):
        value = getattr(args, name)
        if value is not None:
            out[name] = value
    if args.clip_all_weights:
        out["clip_all_weights"] = True
    for beta in ("beta_1", "beta_2"):
        if beta in out and not 0.0 <= out[beta] < 1.0:
            raise ValueError(f"--{beta.replace('_', '-')} must be in [0, 1), got {out[beta]}")
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    try:
        hyperparams = hyperparam_overrides(args)
    except ValueError as exc:
        return fail(PROG, str(exc), 2)

    from gan_keras.errors import GanKerasError, TrainingDiverged
    from gan_keras.training.loop import RunConfig, Trainer

    out = args.out
    if args.resume:
        if args.out and os.path.abspath(args.out) != os.path.abspath(args.resume):
            return fail(PROG, "--out and --resume name different directories", 2)
        from gan_keras import rundir

        if not os.path.isdir(args.resume):
            return fail(PROG, f"cannot resume {args.resume}: no such directory", 2)
        if not (os.path.isfile(os.path.join(args.resume, rundir.CONFIG)) or rundir.list_checkpoints(args.resume)):
            return fail(PROG, f"cannot resume {args.resume}: it is not a run directory (no config.json)", 2)
        out = args.resume
    config = RunConfig(
        model=args.model_name, dataset=args.training_dataName, epochs=args.epochs, batch_size=args.batch_size,
        sample_interval=args.sample_interval, save_model_interval=args.save_model_interval, out=out,
        seed=args.seed, data_dir=args.data_dir, data_limit=args.limit, hyperparams=hyperparams, on_nan=args.on_nan, force=args.force,
        tensorboard=not args.no_tensorboard, deterministic=not args.no_determinism,
        command="python GAN_main.py " + shlex.join(argv),
    )
    try:
        Trainer(config).run()
    except TrainingDiverged as exc:
        return fail(PROG, str(exc), 3)
    except GanKerasError as exc:
        return fail(PROG, str(exc), 1)
    except MemoryError:
        return fail(PROG, "out of memory: use a smaller batch size", 1)
    except OSError as exc:  # e.g. --out on a read-only or vanished file system
        return fail(PROG, os_error_line(exc), 1)
    except KeyboardInterrupt:
        return fail(PROG, "stopped at once; the run directory keeps its last checkpoint", 130)
    return 0
