"""The layout of a run directory, shared by training (writer) and evaluation (reader).

    <run>/config.json                 everything needed to rebuild the run (model, dataset, sizes,
                                      hyperparameters, seed, versions); written first
    <run>/log.csv                     one row per iteration (training/runlog.py; its columns:
                                      the engine's LogSpec, training/logspec.py)
    <run>/samples/iter_0001000.png    8x8 grids from fixed noise, every sample_interval
    <run>/checkpoints/iter_0010000/   one folder per checkpoint:
        generator.keras, discriminator.keras   loadable with keras.saving.load_model
        trainer_state.npz, state.json          everything else needed to resume exactly
        log.csv, config.json                   copies of the run's, so a damaged or lost log or
                                               config is restored on resume
        manifest.json                          written last: the folder is complete
    <run>/checkpoints/autosave/       the newest resume point (--autosave MINUTES): only what
                                      resuming needs (no .keras files), overwritten as training goes
                                      on and removed once a newer checkpoint exists; not a
                                      checkpoint (nothing evaluates it)
    <run>/plots/                      loss and divergence curves (PNG)
    <run>/tensorboard/                TensorBoard scalars
    <run>/evaluation/                 written by GAN_evaluation.py
    <run>/.lock                       held by the process training the run (training/runlock.py)

A checkpoint folder is built under a temporary name (``.tmp-iter_...``) and renamed into
place in one step, so a reader either sees a whole checkpoint or none; ``list_checkpoints``
also ignores any folder whose manifest is missing or unreadable.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass

CONFIG = "config.json"
LOG = "log.csv"
SAMPLES = "samples"
CHECKPOINTS = "checkpoints"
PLOTS = "plots"
TENSORBOARD = "tensorboard"
EVALUATION = "evaluation"
MANIFEST = "manifest.json"
GENERATOR_FILE = "generator.keras"
DISCRIMINATOR_FILE = "discriminator.keras"
AUTOSAVE = "autosave"

_CKPT_RE = re.compile(r"^iter_(\d+)$")


def checkpoint_name(iteration: int) -> str:
    return f"iter_{iteration:07d}"


def sample_name(iteration: int) -> str:
    return f"iter_{iteration:07d}.png"


@dataclass(frozen=True)
class Checkpoint:
    iteration: int
    path: str

    @property
    def generator_path(self) -> str:
        return os.path.join(self.path, GENERATOR_FILE)

    @property
    def discriminator_path(self) -> str:
        return os.path.join(self.path, DISCRIMINATOR_FILE)


def missing_files(path: str) -> list[str] | None:
    """The files a checkpoint folder's manifest names that are not there; None without a readable
    manifest (the manifest is written last: the folder is still being written, or was interrupted)."""
    try:
        manifest = _read_json(os.path.join(path, MANIFEST))
        files = list(manifest.get("files", []))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return [str(name) for name in files if not os.path.isfile(os.path.join(path, str(name)))]


def incomplete(path: str) -> str | None:
    """What a checkpoint folder lacks (no readable manifest, or files its manifest names), or None."""
    missing = missing_files(path)
    if missing is None:
        return f"no readable {MANIFEST}"
    return f"missing {', '.join(missing)}" if missing else None


def _is_complete(path: str) -> bool:
    return incomplete(path) is None


def list_checkpoints(run_dir: str, include_incomplete: bool = False) -> list[Checkpoint]:
    """Complete checkpoints of a run, oldest first. Half-written ones are skipped, unless
    ``include_incomplete`` (to tell "no checkpoint yet" from "none loadable")."""
    root = os.path.join(run_dir, CHECKPOINTS)
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _CKPT_RE.match(name)
        path = os.path.join(root, name)
        if match and os.path.isdir(path) and (include_incomplete or _is_complete(path)):
            found.append(Checkpoint(int(match.group(1)), path))
    return sorted(found, key=lambda c: c.iteration)


def autosave(run_dir: str) -> Checkpoint | None:
    """The run's complete resume point (``checkpoints/autosave/``), or None."""
    path = os.path.join(run_dir, CHECKPOINTS, AUTOSAVE)
    if not _is_complete(path):
        return None
    try:
        return Checkpoint(int(_read_json(os.path.join(path, MANIFEST))["iteration"]), path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def checkpoint_folder(path: str) -> tuple[str, str] | None:
    """(the run directory, the checkpoint's name) when ``path`` is one of a run's checkpoint folders
    (``<run>/checkpoints/iter_N`` or ``autosave``, with our manifest, state or generator file), else None.

    Such a folder holds copies of the run's config.json and log.csv, so it looks like a run: no
    tool may take it for one (training there would overwrite the copies a resume restores from).
    """
    path = os.path.normpath(os.path.abspath(path))
    name, parent = os.path.basename(path), os.path.dirname(path)
    if os.path.basename(parent) != CHECKPOINTS or not (_CKPT_RE.match(name) or name == AUTOSAVE):
        return None
    if not any(os.path.isfile(os.path.join(path, f)) for f in (MANIFEST, "state.json", GENERATOR_FILE)):
        return None
    return os.path.dirname(parent), name


def not_a_checkpoint_folder(path: str, advice: str) -> None:
    """Raise ``RunDirError`` when ``path`` is a checkpoint's folder (``checkpoint_folder``), with
    ``advice``, formatted with ``path``, ``run`` (its run directory) and ``iteration`` (or "autosave")."""
    from gan_keras.errors import RunDirError

    found = checkpoint_folder(path)
    if found is not None:
        run, name = found
        iteration = int(name[5:]) if name != AUTOSAVE else AUTOSAVE
        raise RunDirError(f"{path} is the folder of one checkpoint of the run {run}, not a run directory: "
                          + advice.format(path=path, run=run, iteration=iteration))


def holds_run(run_dir: str) -> bool:
    """Whether a folder holds a gan_keras run, the only thing ``--force`` may overwrite: its
    config.json names a model; or it has checkpoints of ours (a folder ``iter_N`` or ``autosave``
    holding our manifest or state file; another tool's ``iter_N`` folders do not count); or an
    unreadable config.json beside a log.csv (a run whose config was damaged)."""
    damaged = False
    try:
        if "model" in _read_json(os.path.join(run_dir, CONFIG)):
            return True
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        damaged = True
    root = os.path.join(run_dir, CHECKPOINTS)
    if os.path.isdir(root):
        for name in os.listdir(root):
            if (_CKPT_RE.match(name) or name == AUTOSAVE) and any(
                    os.path.isfile(os.path.join(root, name, f)) for f in (MANIFEST, "state.json")):
                return True
    return damaged and os.path.isfile(os.path.join(run_dir, LOG))


def _read_json(path: str) -> dict:
    with open(path) as f:
        value = json.load(f)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def read_config(run_dir: str) -> dict:
    """The run's config.json as a dict (raises RunDirError with a clear message).

    When config.json is missing or damaged but a checkpoint holds a copy, the newest readable
    copy is used (with a warning), so a damaged config never costs a run.
    """
    from gan_keras.errors import RunDirError

    path = os.path.join(run_dir, CONFIG)
    if not os.path.isdir(run_dir):
        raise RunDirError(f"run directory not found: {run_dir}")
    not_a_checkpoint_folder(run_dir, "give its run directory, {run}")
    try:
        return _read_json(path)
    except FileNotFoundError:
        problem = f"{run_dir} is not a gan_keras run directory (no {CONFIG})"
    except (OSError, ValueError) as exc:
        problem = f"{path} is damaged ({exc})"
    point = autosave(run_dir)
    copies = list_checkpoints(run_dir) + ([point] if point is not None else [])
    for checkpoint in sorted(copies, key=lambda c: c.iteration, reverse=True):
        try:
            config = _read_json(os.path.join(checkpoint.path, CONFIG))
        except (OSError, ValueError):
            continue
        where = "its resume point" if checkpoint is point else f"checkpoint {checkpoint.iteration}"
        print(f"warning: {problem}; using the copy saved with {where}")
        return config
    raise RunDirError(problem)


def read_log_rows(path: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the sound rows of a log.csv, in iteration order.

    A log can be damaged in ways a reader must survive: a partial last line after a kill -9, NUL
    bytes or garbage after a crash of the file system, a line cut in two. A row is kept when it
    has every column, its iteration is a positive integer larger than the previous row's, and
    every value is a number (nan and inf included: a diverged iteration is logged) or empty (a
    value not measured every iteration, e.g. the F1 probe's). Returns
    ``([], [])`` for a missing or unreadable file.
    """
    try:
        with open(path, "rb") as f:
            text = f.read().replace(b"\0", b"").decode("utf-8", errors="replace")
    except OSError:
        return [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error:
        return [], []
    if not header or header[0] != "iteration":
        return [], []
    rows, last = [], 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            continue
        if len(row) != len(header):
            continue
        try:
            iteration = int(row[0])
            for value in row[1:]:
                if value != "":
                    float(value)
        except ValueError:
            continue
        if iteration <= last:
            continue
        rows.append(dict(zip(header, row)))
        last = iteration
    return header, rows


def log_is_whole(rows: list[dict[str, str]], until: int) -> bool:
    """True when ``rows`` hold exactly iterations 1..until."""
    kept = [int(r["iteration"]) for r in rows if int(r["iteration"]) <= until]
    return kept == list(range(1, until + 1))
