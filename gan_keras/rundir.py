"""The layout of a run directory, shared by training (writer) and evaluation (reader).

    <run>/config.json                 everything needed to rebuild the run (model, dataset, sizes,
                                      hyperparameters, seed, versions); written first
    <run>/log.csv                     one row per iteration (see training.logs)
    <run>/samples/iter_0001000.png    8x8 grids from fixed noise, every sample_interval
    <run>/checkpoints/iter_0010000/   one folder per checkpoint:
        generator.keras, discriminator.keras   loadable with keras.saving.load_model
        trainer_state.npz, state.json          everything else needed to resume exactly
        manifest.json                          written last: the folder is complete
    <run>/plots/                      loss and divergence curves (PNG)
    <run>/tensorboard/                TensorBoard scalars
    <run>/evaluation/                 written by GAN_evaluation.py

A checkpoint folder is built under a temporary name (``.tmp-iter_...``) and renamed into
place in one step, so a reader either sees a whole checkpoint or none; ``list_checkpoints``
also ignores any folder whose manifest is missing or unreadable.
"""
from __future__ import annotations

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


def _is_complete(path: str) -> bool:
    try:
        with open(os.path.join(path, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    return all(os.path.isfile(os.path.join(path, name)) for name in manifest.get("files", []))


def list_checkpoints(run_dir: str, include_incomplete: bool = False) -> list[Checkpoint]:
    """Complete checkpoints of a run, oldest first. Half-written ones are skipped."""
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


def read_config(run_dir: str) -> dict:
    """The run's config.json as a dict (raises RunDirError with a clear message)."""
    from gan_keras.errors import RunDirError

    path = os.path.join(run_dir, CONFIG)
    if not os.path.isdir(run_dir):
        raise RunDirError(f"run directory not found: {run_dir}")
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise RunDirError(f"{run_dir} is not a gan_keras run directory (no {CONFIG})") from None
    except ValueError as exc:
        raise RunDirError(f"{path} is damaged ({exc})") from None
