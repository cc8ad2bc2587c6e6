"""Before any image is generated: read the run, choose the checkpoints, check memory and disk.

Everything here is cheap and can fail, so it runs first and fails with one clear
``GanKerasError`` line rather than after minutes of loading networks and data. The run's shape is
read from config.json's ``latent_dim``, ``image_shape`` (else the dataset's registered shape) and
optional ``image_size``, and its size from ``dataset_size``, never from its model, so runs of any
model evaluate alike.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

import numpy as np

from gan_keras.errors import CheckpointError, ConfigError, RunDirError
from gan_keras.evaluation.checkpoint import CHUNK
from gan_keras.evaluation.config import EvalConfig
from gan_keras.evaluation.images import GRID_MAX
from gan_keras.utils import mem_available


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def estimate_memory(fid_n: int, generate_n: int, image_shape, dataset_bytes: int, feature_dim: int = 2048,
                    classes: int = 1000, batch_size: int = 50) -> dict:
    """Bytes the evaluation needs at its peak (features of both sets, statistics, distance blocks...)."""
    h, w, c = image_shape
    n = int(fid_n)
    batch_size = min(int(batch_size), max(n, int(generate_n)))   # a batch never holds more than every image
    est = {
        "dataset": int(dataset_bytes),
        "features": 2 * n * (feature_dim + classes) * 8 * 2,             # real + generated, float64, a copy
        "statistics": 3 * feature_dim * feature_dim * 8,                  # covariance, its root, a product
        "distances": 3 * min(1024, n) * n * 8,                            # precision/recall row blocks
        "kid": max(3 * n * n * 8 if 3 * n * n * 8 <= 2**30 else 0, 4 * min(1000, n) ** 2 * 8),  # kernel matrices
        "images": 3 * max(CHUNK, batch_size) * (h * w * c * 4 + 299 * 299 * 3 * 4),
        "grid_and_similarity": min(generate_n, GRID_MAX) * (h + 2) * (w + 2) * 3 * 4,
        "network": 400 * 2**20,
    }
    est["total"] = int(sum(est.values()))
    return est


def warn(warnings: list, msg: str) -> None:
    """Printed whatever ``progress`` says (a skipped checkpoint must not pass unnoticed), and kept."""
    warnings.append(msg)
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def run_latent(config: dict) -> str:
    """The run's noise distribution, "normal" or "uniform" (runs written before it was a
    hyperparameter drew N(0, 1))."""
    return (config.get("hyperparams") or {}).get("latent", "normal")


def run_shape(run_dir: str, config: dict) -> tuple[int, tuple, int | None]:
    """latent_dim, image shape (H, W, C) and image_size (or None) of the run."""
    from gan_keras import rundir

    for key in ("dataset", "latent_dim"):
        if key not in config:
            raise RunDirError(f"{os.path.join(run_dir, rundir.CONFIG)} lacks '{key}': not a run written by GAN_main.py")
    image_size = config.get("image_size")
    if image_size is not None:
        try:
            image_size = int(image_size)
        except (TypeError, ValueError):
            image_size = 0
        if image_size < 1:
            raise RunDirError(f"{run_dir}: config.json's image_size must be a positive integer, "
                              f"got {config.get('image_size')!r}")
    try:
        image_shape = tuple(int(d) for d in config.get("image_shape") or ())
    except (TypeError, ValueError):
        image_shape = ()
    if len(image_shape) != 3:
        try:
            from gan_keras.data import image_shape as registry_shape

            image_shape = tuple(registry_shape(config["dataset"]))
            if image_size is not None:
                image_shape = (image_size, image_size, image_shape[-1])
        except Exception:  # noqa: BLE001
            raise RunDirError(f"{run_dir}: config.json has no usable image_shape") from None
    return int(config["latent_dim"]), image_shape, image_size


def _why_not_evaluable(checkpoint) -> str | None:
    """Why a checkpoint folder cannot be evaluated, or None. The evaluation needs the manifest
    (written last: without it the folder is still being written, or was interrupted) and the
    generator; a folder pruned of its discriminator or trainer state to save disk is evaluated."""
    from gan_keras import rundir

    missing = rundir.missing_files(checkpoint.path)
    if missing is None:
        return f"no {rundir.MANIFEST} (still being written, or interrupted)"
    if not os.path.isfile(checkpoint.generator_path):
        return f"no {rundir.GENERATOR_FILE}"
    return None


def choose_checkpoints(run_dir: str, wanted: int | None, warnings: list) -> tuple[list, list[int]]:
    """The checkpoints to evaluate, and the iterations of those that cannot be (skipped, with why)."""
    from gan_keras import rundir

    checkpoints, incomplete, reasons = [], [], []
    for c in rundir.list_checkpoints(run_dir, include_incomplete=True):
        why = _why_not_evaluable(c)
        if why is None:
            checkpoints.append(c)
        else:
            incomplete.append(c.iteration)
            reasons.append(f"{c.iteration}: {why}")
    if not checkpoints:
        extra = f" (skipped {'; '.join(reasons)})" if reasons else ""
        raise CheckpointError(f"no saved generator checkpoint in {os.path.join(run_dir, rundir.CHECKPOINTS)}{extra}; "
                              "train longer than save_model_interval iterations first")
    if incomplete:
        warn(warnings, f"skipped checkpoint(s) {'; '.join(reasons)}; run the evaluation again once training "
                       "has saved them")
    if wanted is not None:
        chosen = [c for c in checkpoints if c.iteration == wanted]
        if not chosen:
            raise CheckpointError(f"no complete checkpoint for iteration {wanted} in {run_dir}; available: "
                                  + ", ".join(str(c.iteration) for c in checkpoints))
        checkpoints = chosen
    return checkpoints, incomplete


def check_resources(cfg: EvalConfig, run_config: dict, image_shape, n_checkpoints: int, out: str) -> dict:
    """Refuse early (ConfigError) what would run out of memory or disk; returns the memory estimate."""
    fid_n, gen_n = cfg.fid_sample_number, cfg.generate_sample_number
    dataset_size = int(run_config.get("dataset_size") or 0)
    est = estimate_memory(fid_n, gen_n, image_shape, dataset_size * int(np.prod(image_shape)),
                          batch_size=cfg.batch_size)
    available = mem_available()
    if available is not None and est["total"] > 0.9 * available:
        raise ConfigError(f"FID_sample_number {fid_n} needs about {_gib(est['total'])} of memory (Inception "
                          f"features {_gib(est['features'])}, distances {_gib(est['distances'])}, dataset "
                          f"{_gib(est['dataset'])}, images in flight at batch size {cfg.batch_size} "
                          f"{_gib(est['images'])}) but only {_gib(available)} is available; use a smaller "
                          + ("--batch-size" if est["images"] > est["features"] + est["distances"] else "number"))
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(f"cannot write to {out}: it is a file, not a folder")
    try:  # a file written and removed: a folder that exists but refuses writes fails here, not after the work
        os.makedirs(out, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".tmp-write-check-"):
            pass
        free = shutil.disk_usage(out).free
    except OSError as exc:
        raise ConfigError(f"cannot write to {out}: {exc.strerror or exc}") from None
    png_bytes = n_checkpoints * gen_n * (int(np.prod(image_shape)) * 1.1 + 300)
    if png_bytes > 0.9 * free:
        raise ConfigError(f"Generate_sample_number {gen_n} for {n_checkpoints} checkpoint(s) needs about "
                          f"{_gib(png_bytes)} of disk in {out}, only {_gib(free)} is free")
    return est
