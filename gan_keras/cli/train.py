"""``GAN_main.py``: train a model, with the dissertation's six positional arguments (3.4.5)."""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from gan_keras.cli.common import (
    OneLineParser, existing_dir, fail, held_signal_pending, non_negative_float, os_error_line, positive_float,
    positive_int, quiet_tensorflow, release_held_signals, seed_int,
)

PROG = "GAN_main.py"


def build_parser() -> OneLineParser:
    """The parser; model and dataset choices come from their registries."""
    from gan_keras.data import FOLDER_HELP, is_dataset_name
    from gan_keras.data import dataset_names as _dataset_names
    from gan_keras.registry import MODELS
    from gan_keras.registry import model_names as _model_names

    model_names, dataset_names = _model_names(), _dataset_names()
    p = OneLineParser(
        prog=PROG,
        description="Train a GAN of 'Synthesising Images by Imagination' (Chen, 2019).",
        epilog="example: python GAN_main.py WGANGP 102flowers 40000 64 1000 10000",
    )
    by_lower = {name.lower(): name for name in model_names}   # dcgan -> DCGAN, as dataset names are read
    p.add_argument("model_name", choices=model_names, metavar="model_name", type=lambda s: by_lower.get(s.lower(), s),
                   help=f"Specify the type of model. ({', '.join(model_names)})")
    def dataset_arg(text):
        if not is_dataset_name(text):
            raise argparse.ArgumentTypeError(f"unknown dataset {text!r}: choose one of {', '.join(dataset_names)}, "
                                             "or folder:PATH")
        return text

    p.add_argument("training_dataName", type=dataset_arg, metavar="training_dataName",
                   help=f"Training data for GANs. ({', '.join(dataset_names)}; or {FOLDER_HELP})")
    p.add_argument("epochs", type=positive_int, help="Training iterations (one batch each), as in the dissertation.")
    p.add_argument("batch_size", type=positive_int, help="Batch size for the training process.")
    p.add_argument("sample_interval", type=positive_int, help="The interval of sampling synthesised images (iterations)")
    p.add_argument("save_model_interval", type=positive_int, help="The interval of saving GANs models (iterations; the last iteration is always saved)")

    run = p.add_argument_group("run")
    run.add_argument("--out", metavar="DIR", help="run directory (default gan_models/<model>_<dataset>); "
                     "an existing run of the same settings is resumed")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint")
    run.add_argument("--force", action="store_true", help="overwrite a run directory that holds a different run")
    run.add_argument("--seed", type=seed_int, help="random seed (default: a random one, recorded in config.json)")
    run.add_argument("--data-dir", metavar="DIR", type=existing_dir, help="folder holding one folder per dataset, named as "
                     "the dataset: mnist/, 102flowers/, celeba/, ... (README 'Datasets'; default: $GAN_KERAS_DATA_DIR, "
                     "then the project's data/, then the Keras cache)")
    run.add_argument("--limit", type=positive_int, metavar="N",
                     help="use only the first N source images (nlvr gives 3 crops each: --limit 3102 gives "
                          "the dissertation's 9,306 crops; shapes: the number of images generated)")
    run.add_argument("--on-nan", choices=("stop", "rollback"), default="stop",
                     help="when a loss becomes NaN/inf: stop (default) or roll back to the last checkpoint "
                          "and continue with a new seed")
    run.add_argument("--autosave", type=non_negative_float, metavar="MINUTES", default=10.0,
                     help="every MINUTES of training (default 10; 0: never), overwrite a resume point "
                          "(checkpoints/autosave/) so that a killed run loses at most that much; it is not a "
                          "checkpoint: nothing evaluates it, and it is removed once a newer checkpoint exists")
    run.add_argument("--fetch-every", type=positive_int, metavar="K", default=1,
                     help="--engine compiled: run up to K iterations per call and fetch their logs (one row "
                          "each) once, so the host waits for the device only every K iterations; chunks end "
                          "where samples, checkpoints or F1 are due (default 1)")
    run.add_argument("--strategy", choices=("none", "mirrored", "multiworker"), default="none",
                     help="mirrored: train on every visible GPU with tf.distribute.MirroredStrategy; multiworker: "
                          "on several machines with MultiWorkerMirroredStrategy, cluster from TF_CONFIG, every "
                          "worker running the same command (both: --engine compiled; models "
                          f"{', '.join(name for name, spec in MODELS.items() if spec.replicable)}); each device "
                          "takes 1/N of every batch")
    run.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    run.add_argument("--no-determinism", action="store_true",
                     help="do not enable TensorFlow op determinism (not bit-reproducible; its graph "
                          "optimizer stays off in every run)")

    run.add_argument("--image-size", type=int, choices=(28, 32, 64), metavar="28|32|64",
                     help="train a colour dataset at 32x32 or 64x64; a folder:PATH also at 28x28 greyscale "
                          "(default: the dataset's own size)")
    run.add_argument("--init-from", metavar="RUN_DIR", type=existing_dir,
                     help="fine-tuning: start from this run's (or checkpoint folder's) generator and discriminator "
                          "weights; same architecture and image shape (seed 002, Appendix A)")
    run.add_argument("--f1-every", type=positive_int, metavar="N",
                     help="every N iterations, log the discriminator's F1, precision and recall on held-out real "
                          "images and fresh fakes (seed 002)")
    run.add_argument("--f1-images", type=positive_int, metavar="N",
                     help="how many real images to hold out of training for --f1-every (default: one batch)")
    add_hyperparameter_flags(p)
    return p


def _choices_text(users: dict, all_models) -> str:
    """'used by A, B; default 0.0002 (WGAN: 5e-05)' from {model: its default}."""
    by_value: dict[str, list[str]] = {}
    for model, value in users.items():
        by_value.setdefault("off" if value is None else str(value), []).append(model)
    common = max(by_value, key=lambda v: len(by_value[v]))
    special = [f"{', '.join(models)}: {value}" for value, models in by_value.items() if value != common]
    who = "all models" if set(users) == set(all_models) else ", ".join(users)
    return f"used by {who}; default {common}" + (f" ({'; '.join(special)})" if special else "")


def _argtype(param):
    def parse(text):
        try:
            return param.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = param.kind
    return parse


def add_hyperparameter_flags(parser) -> None:
    """One flag per declared hyperparameter (``gan_keras.hparams``), plus the aliases (``--lr``)."""
    from gan_keras.hparams import ALIASES
    from gan_keras.registry import MODELS, hyperparameter_table

    group = parser.add_argument_group("hyperparameters (each model's defaults: README; a flag a model does "
                                      "not use is refused)")
    for alias in ALIASES:
        group.add_argument("--" + alias.name.replace("_", "-"), dest=f"alias_{alias.name}", type=positive_float, metavar="X",
                           help=f"{alias.help} (sets {', '.join(alias.targets)})")
    for name, (param, users) in hyperparameter_table().items():
        kwargs = {"dest": f"hp_{name}", "default": None, "help": f"{param.help} [{_choices_text(users, MODELS)}]"}
        if param.kind == "flag":
            kwargs["action"] = "store_true"
        elif param.kind == "choice" and param.choices:
            kwargs["choices"] = param.choices
        elif param.kind == "choice":  # --arch: each model has its own architectures; the union here
            kwargs["choices"] = tuple(dict.fromkeys(arch for model in users for arch in MODELS[model].networks))
        else:
            kwargs.update(type=_argtype(param), metavar="N" if param.kind == "positive_int" else "X")
        group.add_argument(param.flag, **kwargs)


def hyperparam_overrides(args) -> dict:
    """The hyperparameters given on the command line (aliases first, then the specific flags)."""
    from gan_keras.hparams import ALIASES

    out = {}
    for alias in ALIASES:
        value = getattr(args, f"alias_{alias.name}")
        if value is not None:
            out.update(dict.fromkeys(alias.targets, value))
            if all(getattr(args, f"hp_{target}", None) is not None for target in alias.targets):
                print(f"warning: --{alias.name} {value} is not used: "
                      f"{' and '.join('--' + t.replace('_', '-') for t in alias.targets)} set every value it sets")
    for key, value in vars(args).items():
        if key.startswith("hp_") and value is not None:
            out[key[3:]] = value
    return out


def _script() -> str:
    """GAN_main.py as the user ran it (``/work/main/GAN_main.py`` from elsewhere), so that the
    commands a run prints and records (resume, evaluate) work from the user's directory."""
    return sys.argv[0] if sys.argv and os.path.basename(sys.argv[0]) == "GAN_main.py" else "GAN_main.py"


def main(argv=None) -> int:
    from gan_keras.training.runlog import StopRequest

    argv = sys.argv[1:] if argv is None else argv
    try:
        quiet_tensorflow()
        parser = build_parser()   # imports the models and datasets
        if held_signal_pending():   # Ctrl-C while importing: it is still held, and nothing is written yet
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        return fail(PROG, "interrupted while starting; nothing was written", 130)
    # From here a signal is a stop request (the loop's StopRequest continues it), never a
    # KeyboardInterrupt that a garbage-collector callback could swallow.
    with StopRequest(starting=True):
        release_held_signals()
        return _train(parser, argv)


def _train(parser, argv) -> int:
    args = parser.parse_args(argv)
    from gan_keras.errors import GanKerasError, TrainingDiverged
    from gan_keras.registry import get_model

    hyperparams = hyperparam_overrides(args)
    try:  # a flag this model does not use, or an architecture it does not have: a usage error
        get_model(args.model_name).hyperparams(**hyperparams)
    except GanKerasError as exc:
        return fail(PROG, str(exc), 2)
    from gan_keras.training.loop import RunConfig, Trainer

    out = args.out
    if args.resume:
        if args.out and os.path.abspath(args.out) != os.path.abspath(args.resume):
            return fail(PROG, "--out and --resume name different directories", 2)
        from gan_keras import rundir
        from gan_keras.training.run_setup import CHECKPOINT_FOLDER_ADVICE

        if not os.path.isdir(args.resume):
            return fail(PROG, f"cannot resume {args.resume}: no such directory", 2)
        try:
            rundir.not_a_checkpoint_folder(args.resume, CHECKPOINT_FOLDER_ADVICE)
        except GanKerasError as exc:
            return fail(PROG, f"cannot resume: {exc}", 2)
        if not (os.path.isfile(os.path.join(args.resume, rundir.CONFIG)) or rundir.list_checkpoints(args.resume)):
            return fail(PROG, f"cannot resume {args.resume}: it is not a run directory (no config.json)", 2)
        out = args.resume
    config = RunConfig(
        model=args.model_name, dataset=args.training_dataName, epochs=args.epochs, batch_size=args.batch_size,
        sample_interval=args.sample_interval, save_model_interval=args.save_model_interval, out=out,
        seed=args.seed, data_dir=args.data_dir, data_limit=args.limit, image_size=args.image_size,
        hyperparams=hyperparams, on_nan=args.on_nan, force=args.force, resume=bool(args.resume),
        f1_every=args.f1_every, f1_images=args.f1_images, init_from=args.init_from, autosave_minutes=args.autosave,
        fetch_every=args.fetch_every, strategy=args.strategy,
        tensorboard=not args.no_tensorboard, deterministic=not args.no_determinism,
        command=f"python {shlex.quote(_script())} " + shlex.join(argv),
    )
    try:
        Trainer(config).run()
    except TrainingDiverged as exc:
        return fail(PROG, str(exc), 3)
    except GanKerasError as exc:
        return fail(PROG, str(exc), 1)
    except MemoryError:
        return fail(PROG, "out of memory: a smaller batch size, --limit or --latent-dim needs less", 1)
    except OSError as exc:  # e.g. --out on a read-only or vanished file system
        return fail(PROG, os_error_line(exc), 1)
    except KeyboardInterrupt:
        return fail(PROG, "stopped at once; a run resumes from its last checkpoint or resume point, if it has one", 130)
    return 0
