"""What a run checks before it writes anything, and what its directory says about it.

``training/loop.py`` calls these in order: the sizes, the run directory (a new one, the same run to
resume, or a different run it refuses to overwrite), the data, the memory. Each raises a
``ConfigError`` or ``RunDirError`` with what to do, so bad input leaves nothing behind. Then
``describe_run`` is the run's ``config.json``: everything needed to know, resume and evaluate it.
"""
from __future__ import annotations

import json
import os

from gan_keras import rundir
from gan_keras.errors import ConfigError, RunDirError
from gan_keras.training import runlock
from gan_keras.training.config import IDENTITY_KEYS, RunConfig, estimate_memory, gib, versions
from gan_keras.utils import mem_available


def validate_sizes(c: RunConfig) -> None:
    for name in ("epochs", "batch_size", "sample_interval", "save_model_interval"):
        value = getattr(c, name)
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if c.on_nan not in ("stop", "rollback"):
        raise ConfigError("on_nan must be 'stop' or 'rollback'")
    for name in ("f1_every", "f1_images"):
        value = getattr(c, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
    if c.f1_images is not None and c.f1_every is None:
        raise ConfigError("--f1-images needs --f1-every (how often to measure the discriminator's F1)")
    if c.image_size is not None and c.image_size not in (28, 32, 64):
        raise ConfigError(f"--image-size must be 28, 32 or 64, got {c.image_size!r}")


def f1_images(c: RunConfig):
    """How many real images are held out for the discriminator's F1 (None: F1 is off)."""
    if c.f1_every is None:
        return None
    return c.f1_images or c.batch_size


def identity(c: RunConfig, hp, image_shape, seed) -> dict:
    """What makes two runs the same run: a directory holding another identity is never resumed."""
    return json.loads(json.dumps({
        "model": c.model, "dataset": c.dataset, "data_limit": c.data_limit, "batch_size": c.batch_size, "seed": seed,
        "hyperparams": hp.to_dict(), "image_shape": list(image_shape), "f1_images": f1_images(c),
    }))


def comparable_hyperparams(spec, saved):
    """A run's saved hyperparameters, as this version declares them for its model.

    Runs written before the hyperparameters were declared per model saved every model's
    (gp_weight for DCGAN, clip_value for WGAN-GP), none of which had any effect on other models,
    and lacked the ones added since (arch, gp_form), whose defaults are the old behaviour. So
    undeclared names are dropped and missing ones take their declared defaults; such a run
    resumes as before.
    """
    if not isinstance(saved, dict):
        return saved
    return {name: saved.get(name, param.default) for name, param in spec.declared_params().items()}


# The flags behind the identity keys whose names are not their flags' (the positional arguments'
# are), so that a refusal names what the user typed.
KEY_FLAGS = {"data_limit": "--limit", "image_shape": "the dataset or --image-size",
             "f1_images": "--f1-every / --f1-images"}


def _difference(key, theirs, mine, advise=True) -> str:
    """One identity key's difference, the run's value first; hyperparameters name by name, with
    the flag that gives the run's value (to change the flag given, or add it where a run started
    before a default changed; not when ``advise`` is off: another model's run cannot be resumed
    by flags)."""
    if key != "hyperparams" or not isinstance(theirs, dict) or not isinstance(mine, dict):
        label = f"{key} ({KEY_FLAGS[key]})" if key in KEY_FLAGS else key
        return f"{label}: {theirs!r} -> {mine!r}"

    def one(name):
        text = f"{name} {theirs.get(name)!r} -> {mine.get(name)!r}"
        if advise and name in theirs and not isinstance(theirs[name], bool) and theirs[name] is not None:
            text += f" (the run's: --{name.replace('_', '-')} {theirs[name]})"
        return text

    return "hyperparameters: " + ", ".join(one(n) for n in sorted(set(theirs) | set(mine))
                                           if theirs.get(n) != mine.get(n))


CHECKPOINT_FOLDER_ADVICE = ("to continue the run, pass --resume {run}; to start a new run from this checkpoint's "
                            "weights, pass --init-from {path} and another --out")


def existing_run(run_dir: str, c: RunConfig, spec, hp, image_shape):
    """None for a fresh directory, else its config (refusing a different run without --force).

    ``--force`` overwrites a different run, and says so; never one named by ``--resume``: a user who
    asked to continue a run and gave other values wants to be told, not to lose it."""
    if not os.path.exists(run_dir):
        return None
    if not os.path.isdir(run_dir):
        raise RunDirError(f"{run_dir} exists and is not a directory")
    if runlock.is_empty(run_dir):   # new, or holding only this process's lock
        return None
    if not rundir.holds_run(run_dir):   # never overwritten, not even with --force
        raise RunDirError(f"{run_dir} is not empty and holds no gan_keras run; choose another --out "
                          f"(--force replaces only a gan_keras run)")
    try:
        previous = rundir.read_config(run_dir)
    except RunDirError as exc:
        if c.force and not c.resume:
            print(f"--force: overwriting {run_dir} ({exc})", flush=True)
            return None
        if c.resume:
            raise RunDirError(f"cannot resume: {exc}; to train the run again from iteration 0, give "
                              f"--out {run_dir} --force in place of --resume") from None
        raise RunDirError(f"{exc}; choose another --out or pass --force to overwrite it") from None
    mine = identity(c, hp, image_shape, c.seed if c.seed is not None else previous.get("seed"))
    theirs = {k: previous.get(k) for k in IDENTITY_KEYS}
    theirs["hyperparams"] = comparable_hyperparams(spec, theirs.get("hyperparams"))
    theirs["dataset"] = _canonical_or_same(theirs.get("dataset"))  # runs recorded before names were canonical
    if mine != theirs:
        same_model = theirs.get("model") == mine.get("model")
        diff = "; ".join(_difference(k, theirs.get(k), mine.get(k), advise=same_model) for k in IDENTITY_KEYS
                         if theirs.get(k) != mine.get(k))
        if c.resume:
            raise RunDirError(f"cannot resume {run_dir}: it was trained with other values ({diff}); give its "
                              f"values to continue it (--force never overwrites a run named by --resume)")
        if c.force:
            print(f"--force: overwriting {run_dir}, which held another run ({diff})", flush=True)
            return None
        raise RunDirError(f"{run_dir} already holds a different run ({diff}); to continue that run, give its "
                          f"values; to train another, choose another --out, or pass --force to overwrite it")
    return previous


def note_backend_change(previous) -> None:
    """One line when a run trained on one Keras backend is resumed on another (KERAS_BACKEND): the
    weights, optimizers and draw states carry over, but the backends' random streams differ, so
    the continuation is a valid run, not what a straight run on either backend computes."""
    if not previous:
        return
    sessions = previous.get("sessions") or []
    then = ((sessions[-1] if sessions else previous).get("versions") or {}).get("backend")
    now = versions()["backend"]
    if then and then != now:
        print(f"note: this run trained on Keras's {then} backend and resumes on {now}: the weights, optimizers "
              f"and draw states carry over, but the two backends draw other random numbers, so from here on it "
              f"is not what a straight {then} run would compute (KERAS_BACKEND={then} continues it as it was)",
              flush=True)


def load_data(c: RunConfig):
    """The run's dataset, refused when a batch (after the F1's held-out images) does not fit in it."""
    from gan_keras.data import load_dataset

    size = {"image_size": c.image_size} if c.image_size is not None else {}
    dataset = load_dataset(c.dataset, data_dir=c.data_dir, limit=c.data_limit, **size)
    held_out = f1_images(c) or 0
    if held_out >= len(dataset):
        raise ConfigError(f"--f1-images {held_out} would hold out all {len(dataset)} images of {c.dataset}, "
                          f"leaving none to train on")
    if held_out and c.batch_size > len(dataset) - held_out:
        raise ConfigError(f"batch size {c.batch_size} is larger than the {max(len(dataset) - held_out, 0)} "
                          f"training images left after holding out {held_out} of {len(dataset)} for the F1 "
                          f"(--f1-images)")
    if c.batch_size > len(dataset):
        raise ConfigError(f"batch size {c.batch_size} is larger than the dataset "
                          f"({len(dataset)} images in {c.dataset})")
    return dataset


def check_memory(spec, hp, dataset, batch_size: int) -> dict:
    """The run's memory estimate; refused when it exceeds what the machine has available."""
    try:
        est = estimate_memory(spec, hp, dataset.image_shape, batch_size, dataset.images.nbytes)
    except Exception as exc:  # noqa: BLE001 - TensorFlow's ResourceExhaustedError, MemoryError
        if not (isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError"):
            raise
        raise ConfigError(f"the networks do not fit in memory: building them ran out of it "
                          f"(latent_dim {hp.latent_dim}); use a smaller --latent-dim") from None
    available = mem_available()
    if available is not None and est["total"] > available:
        parts = {"dataset": "use fewer images (--limit)", "weights_and_optimizer": "use smaller networks",
                 "activations": "use a smaller batch size"}
        biggest = max(parts, key=lambda k: est[k])
        raise ConfigError(
            f"this run needs about {gib(est['total'])} of memory (dataset {gib(est['dataset'])}, "
            f"weights and optimizer {gib(est['weights_and_optimizer'])}, activations at batch size "
            f"{batch_size} {gib(est['activations'])}) but only {gib(available)} is available; "
            f"{parts[biggest]}")
    return est


def _canonical_or_same(dataset):
    from gan_keras.data import canonical_name

    try:
        return canonical_name(dataset)
    except (ConfigError, TypeError):
        return dataset


def check_same_data(c: RunConfig, previous, dataset) -> None:
    """A resumed run must train on the images it trained on: their content hash must match the one
    config.json recorded (another --data-dir, a changed folder). ``--force`` resumes anyway (a
    re-extracted copy of the same dataset, other Pillow resizing)."""
    then = ((previous or {}).get("dataset_info") or {}).get("fingerprint")
    now = (dataset.info or {}).get("fingerprint")
    if then and now and then != now and not c.force:
        raise RunDirError(
            f"the {c.dataset} images found now ({dataset.source}) are not the ones this run trained on "
            f"(content fingerprint {now[:16]}, the run's {then[:16]}, from {previous.get('dataset_source')}); "
            f"resume with the run's data (--data-dir), or pass --force to resume on these images anyway")


def session(c: RunConfig, start: int, dataset) -> dict:
    """One start of a run (config.json's ``sessions``): a resume may run other code, on another
    machine, with other data or settings that are not part of the run's identity."""
    import datetime

    from gan_keras.utils import code_revision, machine

    return {"from_iteration": start, "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"), "command": c.command, "code_revision": code_revision(), "versions": versions(),
            "machine": machine(), "deterministic": c.deterministic, "dataset_source": dataset.source,
            "dataset_fingerprint": (dataset.info or {}).get("fingerprint")}


def sessions(previous, this: dict) -> list:
    """The run's sessions so far, then this one (a config.json written before sessions were
    recorded contributes its command and versions as its first)."""
    if previous is None:
        return [this]
    earlier = previous.get("sessions")
    if not isinstance(earlier, list):   # only the latest start before this one was recorded
        earlier = [{"from_iteration": None, "command": previous.get("command"), "versions": previous.get("versions"),
                    "note": "the run's latest start before sessions were recorded; earlier ones are unknown"}]
    return [*earlier, this]


def describe_run(c: RunConfig, spec, hp, image_shape, *, seed, start, dataset, engine, probe, log_spec,
                 init_info, memory, previous=None) -> dict:
    """The run's ``config.json``: its identity, its settings, where its data came from, its engine,
    its log's columns, its parameter counts, the versions and the command that made it (this
    session's), and every session of the run (``sessions``: each start and resume)."""
    this = session(c, start, dataset)
    return {
        **identity(c, hp, image_shape, seed), "epochs": max(c.epochs, start), "sample_interval": c.sample_interval,
        "save_model_interval": c.save_model_interval, "latent_dim": hp.latent_dim,
        "data_dir": c.data_dir, "dataset_source": dataset.source, "dataset_size": len(dataset),
        "dataset_skipped": dataset.skipped, "dataset_info": dataset.info,
        "image_size": c.image_size, "architecture": spec.architecture(hp).source,
        # the engine that ran (--engine), and the model's own form: "stacked" (train_on_batch on D and
        # the stacked G->D model) or "train_step" (its keras.Model subclass), which either engine runs
        "engine": hp.get("engine", "stacked"), "training_form": spec.training_form,
        "loss": getattr(spec.loss, "name", spec.loss), "strategy": c.strategy or "none",
        "replicas": getattr(engine, "replicas", 1),
        "train_step": spec.train_step.__name__ if spec.train_step else None,
        "description": spec.description, "on_nan": c.on_nan, "deterministic": c.deterministic,
        "init_from": init_info,
        "f1": None if probe is None else {
            "every": c.f1_every, "images": len(probe.held_out), "threshold": probe.threshold,
            "held_out": f"the last {len(probe.held_out)} images of the dataset, never drawn for training",
            "fake_noise": "numpy.random.default_rng([seed, 2, iteration])"},
        "log": log_spec.to_json(),
        "parameters": {"generator": engine.generator.count_params(),
                       "discriminator": engine.discriminator.count_params()},
        "memory_estimate_bytes": memory, "versions": versions(), "code_revision": this["code_revision"],
        "machine": this["machine"], "command": c.command, "sessions": sessions(previous, this),
    }
