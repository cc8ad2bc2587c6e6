"""Atomic checkpoints: everything needed to resume a run exactly.

A checkpoint folder holds the user-facing ``generator.keras`` / ``discriminator.keras`` and, for
resuming, ``trainer_state.npz`` (every variable of both networks and both optimizers, Dropout
and noise seed states included, plus the fixed sample noise) and ``state.json`` (iteration,
the numpy random generator's state, timings), with copies of the run's ``log.csv`` and
``config.json`` for repairing them. It is written under a temporary name, each file
fsynced, then renamed into place; ``manifest.json`` is written last. A crash at any moment
leaves either the previous checkpoints or the new one, never half of one.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile

import keras
import numpy as np

from gan_keras import rundir
from gan_keras.errors import CheckpointError
from gan_keras.utils import fsync_dir

STATE_NPZ = "trainer_state.npz"
STATE_JSON = "state.json"


def _fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def save_checkpoint(run_dir: str, iteration: int, engine, state: dict, arrays: dict,
                    copies: list[str] = (), autosave: bool = False) -> str:
    """Write checkpoint ``iteration`` atomically and return its folder.

    ``copies``: files copied into the checkpoint as they are now (the run's log.csv and
    config.json), so that resuming can restore them if they are later damaged or lost.
    ``autosave``: write the run's resume point (``checkpoints/autosave/``) instead: the same
    resume state without the two ``.keras`` files (nothing evaluates or loads it as a model),
    replacing the previous resume point.

    Raises CheckpointError (e.g. disk full) with the earlier checkpoints left intact.
    """
    root = os.path.join(run_dir, rundir.CHECKPOINTS)
    name = rundir.AUTOSAVE if autosave else rundir.checkpoint_name(iteration)
    final = os.path.join(root, name)
    tmp = os.path.join(root, ".tmp-" + name)
    try:
        os.makedirs(root, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        files = []
        if not autosave:
            engine.generator.save(os.path.join(tmp, rundir.GENERATOR_FILE))
            # Saved while trainable, so the loaded model reports the published trainable counts.
            engine.discriminator.trainable = True
            engine.discriminator.save(os.path.join(tmp, rundir.DISCRIMINATOR_FILE))
            files = [rundir.GENERATOR_FILE, rundir.DISCRIMINATOR_FILE]
        values = {f"var_{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(engine.state_variables())}
        values.update({f"extra_{k}": np.asarray(v) for k, v in arrays.items()})
        np.savez(os.path.join(tmp, STATE_NPZ), **values)
        with open(os.path.join(tmp, STATE_JSON), "w") as f:
            json.dump(state, f, indent=2, default=str)
        files += [STATE_NPZ, STATE_JSON]
        for source in copies:
            if os.path.isfile(source):
                shutil.copyfile(source, os.path.join(tmp, os.path.basename(source)))
                files.append(os.path.basename(source))
        with open(os.path.join(tmp, rundir.MANIFEST), "w") as f:
            json.dump({"iteration": iteration, "files": files, "n_variables": len(values)}, f, indent=2)
        for file_name in files + [rundir.MANIFEST]:
            _fsync_file(os.path.join(tmp, file_name))
        fsync_dir(tmp)   # the folder's entries too, before it is renamed into place
        old = os.path.join(root, ".old-" + name)
        if os.path.exists(final):  # moved aside, not deleted, until the new one is in place
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        os.replace(tmp, final)
        fsync_dir(root)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        what = "the disk is full" if exc.errno == errno.ENOSPC else str(exc)
        earlier = [c.iteration for c in rundir.list_checkpoints(run_dir) if c.iteration != iteration]
        kept = (f"earlier checkpoints are intact (latest: {earlier[-1]})" if earlier
                else "no earlier checkpoint exists")
        what_failed = f"the resume point at iteration {iteration}" if autosave else f"checkpoint {iteration}"
        raise CheckpointError(f"could not write {what_failed} in {root}: {what}; {kept}") from None
    return final


def load_checkpoint(checkpoint: rundir.Checkpoint, engine) -> tuple[dict, dict]:
    """Restore every engine variable from a checkpoint; return (state.json, extra arrays)."""
    try:
        with open(os.path.join(checkpoint.path, STATE_JSON)) as f:
            state = json.load(f)
        with np.load(os.path.join(checkpoint.path, STATE_NPZ)) as npz:
            values = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"checkpoint {checkpoint.path} is damaged ({exc})") from None
    problem = _state_problem(state, values)
    if problem:
        raise CheckpointError(f"checkpoint {checkpoint.path} is damaged ({problem})")
    variables = engine.state_variables()
    saved = sorted(k for k in values if k.startswith("var_"))
    if len(saved) != len(variables):
        raise CheckpointError(f"checkpoint {checkpoint.path} holds {len(saved)} variables, the model has "
                              f"{len(variables)}: it was written by a different model or version")
    for key, variable in zip(saved, variables):   # every shape checked before any variable changes
        if tuple(values[key].shape) != tuple(variable.shape):
            raise CheckpointError(f"checkpoint {checkpoint.path}: {variable.path} has shape "
                                  f"{values[key].shape}, expected {tuple(variable.shape)}")
    for key, variable in zip(saved, variables):
        variable.assign(values[key])
    extras = {k[len("extra_"):]: v for k, v in values.items() if k.startswith("extra_")}
    return state, extras


def _state_problem(state, values) -> str | None:
    """What is wrong with a state.json and trainer_state.npz that parsed (None: nothing), so that a
    damaged checkpoint is skipped like an unreadable one instead of failing the resume later."""
    if not isinstance(state, dict):
        return f"{STATE_JSON} is not a JSON object"
    if not isinstance(state.get("iteration"), int):
        return f"{STATE_JSON} has no iteration"
    try:
        np.random.default_rng().bit_generator.state = state["rng_state"]
    except (KeyError, TypeError, ValueError) as exc:
        return f"{STATE_JSON} has no usable rng_state ({type(exc).__name__}: {exc})"
    if "extra_fixed_noise" not in values:
        return f"{STATE_NPZ} has no fixed sample noise"
    return None


def tidy(run_dir: str) -> None:
    """What a crash while saving can leave in ``checkpoints/`` (called at the start, under the
    run's lock): a ``.tmp-`` folder being written is removed; a ``.old-`` folder (moved aside
    while its replacement was renamed in) is put back if the replacement never arrived, else removed."""
    root = os.path.join(run_dir, rundir.CHECKPOINTS)
    if not os.path.isdir(root):
        return
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.startswith(".tmp-"):
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(".old-"):
            final = os.path.join(root, name[len(".old-"):])
            if os.path.exists(final):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.replace(path, final)
                print(f"note: restored {final}, which a crash while saving had left aside")


def remove_autosave(run_dir: str, up_to: int | None = None) -> None:
    """Delete the run's resume point (only if it is not newer than iteration ``up_to``)."""
    point = rundir.autosave(run_dir)
    path = os.path.join(run_dir, rundir.CHECKPOINTS, rundir.AUTOSAVE)
    if point is None or up_to is None or point.iteration <= up_to:
        shutil.rmtree(path, ignore_errors=True)


def latest_loadable(run_dir: str, engine, resume_point: bool = True) -> tuple[rundir.Checkpoint, dict, dict] | None:
    """The newest checkpoint that loads, or the resume point when it is newer (``resume_point``);
    incomplete and damaged ones are skipped with a warning. None when nothing loads."""
    candidates = [(c.iteration, 1, c) for c in rundir.list_checkpoints(run_dir, include_incomplete=True)]
    point = rundir.autosave(run_dir) if resume_point else None
    if point is not None:   # after a checkpoint of the same iteration, tried before any older one
        candidates.append((point.iteration, 0, point))
    for _, _, checkpoint in sorted(candidates, key=lambda c: c[:2], reverse=True):
        name = "its resume point" if checkpoint is point else f"checkpoint {checkpoint.iteration}"
        problem = rundir.incomplete(checkpoint.path)
        if problem is not None:
            print(f"warning: {name} ({checkpoint.path}) is incomplete ({problem}); trying an earlier one")
            continue
        try:
            state, extras = load_checkpoint(checkpoint, engine)
            return checkpoint, state, extras
        except CheckpointError as exc:
            print(f"warning: {exc}; trying an earlier one")
    return None


def load_generator(path: str) -> keras.Model:
    """A saved generator, uncompiled. Its custom layers are registered: this module's package,
    gan_keras, has been imported, and it imports every model's module. A file that is no .keras
    archive is a ValueError that says so (Keras would say "File not found")."""
    if os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise ValueError(f"damaged or truncated: not a .keras zip archive ({os.path.getsize(path):,} bytes)")
    return keras.saving.load_model(path, compile=False)


def _weights_source(path: str) -> tuple[str, int | None, dict]:
    """(checkpoint folder, its iteration, the run's config) for --init-from RUN_DIR or a checkpoint folder."""
    from gan_keras.errors import ConfigError, RunDirError

    if not os.path.isdir(path):
        raise ConfigError(f"--init-from {path}: no such run directory")
    if os.path.isfile(os.path.join(path, rundir.GENERATOR_FILE)):  # a checkpoint folder itself
        run_dir, name = os.path.dirname(os.path.dirname(os.path.abspath(path))), os.path.basename(os.path.normpath(path))
        match = rundir._CKPT_RE.match(name)
        folder, iteration = path, (int(match.group(1)) if match else None)
    else:
        checkpoints = rundir.list_checkpoints(path)
        if not checkpoints:
            raise ConfigError(f"--init-from {path}: it holds no complete checkpoint (checkpoints/iter_*/ with "
                              f"{rundir.GENERATOR_FILE} and {rundir.DISCRIMINATOR_FILE})")
        run_dir, folder, iteration = path, checkpoints[-1].path, checkpoints[-1].iteration
    try:
        config = rundir.read_config(run_dir)
    except RunDirError:
        config = {}
    return folder, iteration, config


def initialise_from(path: str, engine, model_name: str | None = None) -> dict:
    """Fine-tuning (seed 002, Appendix A): copy another run's generator and discriminator weights.

    ``path`` is a run directory (its newest complete checkpoint is used) or one checkpoint folder.
    Every weight is copied (BatchNorm's moving statistics included); the optimizers start fresh.
    The two architectures must match weight for weight: otherwise ConfigError names the first
    weight whose shapes differ, with both shapes. Another model whose networks fit weight for
    weight (LSGAN's and DCGAN's differ only in D's output activation) is allowed, with a note.
    Returns what config.json records, the two files' sha256 among it (the source run may change
    or go later; the hashes still say which weights this run started from).
    """
    from gan_keras.errors import ConfigError
    from gan_keras.metrics.weights import file_digest

    folder, iteration, config = _weights_source(path)
    copied, digests = {}, {}
    for name, file, model in (("generator", rundir.GENERATOR_FILE, engine.generator),
                              ("discriminator", rundir.DISCRIMINATOR_FILE, engine.discriminator)):
        try:
            source = keras.saving.load_model(os.path.join(folder, file), compile=False)
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign file
            raise ConfigError(f"--init-from {path}: cannot load {file} ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
        mine, theirs = model.weights, source.weights
        for i, (a, b) in enumerate(zip(mine, theirs)):
            if tuple(a.shape) != tuple(b.shape):
                raise ConfigError(
                    f"--init-from {path}: the {name}s differ: weight {i} ({a.path}) has shape {tuple(b.shape)} "
                    f"there and {tuple(a.shape)} here; fine-tuning needs the same architecture and image shape")
        if len(mine) != len(theirs):
            raise ConfigError(f"--init-from {path}: the {name}s differ: {len(theirs)} weights there, {len(mine)} "
                              f"here; fine-tuning needs the same architecture")
        for a, b in zip(mine, theirs):
            a.assign(b.numpy())
        copied[name] = int(model.count_params())
        digests[name] = file_digest(os.path.join(folder, file))
    print(f"initialised the generator and discriminator from {folder}"
          + (f" (iteration {iteration})" if iteration is not None else ""))
    if model_name is not None and config.get("model") not in (None, model_name):
        print(f"note: --init-from: that run trained {config['model']}, this one is {model_name}; its weights fit "
              f"these networks weight for weight and were copied")
    return {"path": os.path.abspath(path), "checkpoint": os.path.abspath(folder), "iteration": iteration,
            "model": config.get("model"), "dataset": config.get("dataset"), "parameters_copied": copied,
            "sha256": digests}
