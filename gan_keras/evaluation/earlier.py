"""What an earlier evaluation in the output folder leaves that still stands.

An evaluation folder shows one evaluation. Run again with the same settings, it keeps the rows of
the checkpoints whose generator file is unchanged (an interrupted evaluation continues; one
checkpoint, ``--checkpoint N``, joins the others' table). Made with other settings, it is
replaced, or, for one checkpoint, refused: a quick check must not cost the whole table.
"""
from __future__ import annotations

import json
import os
import shutil

from gan_keras.errors import ConfigError
from gan_keras.evaluation.config import EvalConfig
from gan_keras.evaluation.images import GENERATED, checkpoint_dir
from gan_keras.evaluation.preflight import warn

# What must match for an earlier evaluation's rows to stand beside new ones in one table (and the
# backbone and the real images: evaluation_identity). The batch size too: a generator with
# randomness of its own (DeLiGAN's component choice, EDGEGAN's Mean Rescaling) draws it per batch.
# metrics_version: the version of the code that computes a row (generation, features, the metrics).
# A change that alters a row's numbers increases METRICS_VERSION, and a table made before it is then
# replaced instead of kept beside new rows; evaluations older than the field are version 1.
SAME_EVALUATION = ("run_dir", "fid_sample_number", "generate_sample_number", "seed", "batch_size", "metrics_version")
METRICS_VERSION = 1


def evaluation_identity(summary: dict, one_checkpoint: bool = False) -> dict:
    """What an evaluation's rows depend on. Generate_sample_number only where it exceeds
    FID_sample_number: at most that, the noise is FID_sample_number rows, drawn and generated in
    the same batches whatever the number of PNGs, so every metric is the same, and a kept row's
    PNGs are written again instead (``checkpoint.rewrite_saved_images``). Except for one
    checkpoint (``--checkpoint N``): the other rows' folders would hold another number of images
    than the table says."""
    from gan_keras.metrics.real_stats import content_description

    backbone, real = summary.get("backbone") or {}, summary.get("real_images") or {}
    description = content_description(backbone.get("description"))   # the weights' content, not their path
    same = {k: summary.get(k) for k in SAME_EVALUATION}
    same["metrics_version"] = summary.get("metrics_version", 1)
    fid_n, gen_n = same["fid_sample_number"], same["generate_sample_number"]
    if not one_checkpoint and isinstance(fid_n, int) and isinstance(gen_n, int) and gen_n <= fid_n:
        same["generate_sample_number"] = "at most fid_sample_number"
    return json.loads(json.dumps({**same, "backbone": [backbone.get(k) for k in ("name", "resize")] + [description],
                                  "real": [real.get(k) for k in ("dataset_fingerprint", "n", "indices_sha256")]},
                                 default=str))


def earlier_rows(out: str, summary: dict, redone: set, warnings: list, cfg: EvalConfig) -> tuple[dict, bool]:
    """The rows (by iteration) of the evaluation ``out`` already holds, when it was computed the
    same way: kept beside new ones (``--checkpoint N``) or instead of them (an interrupted
    evaluation continues); and whether that table was complete (True when there is none). Made
    another way, it is replaced: its rows and the folders of the checkpoints not evaluated now are
    removed, with a warning naming what differs. Except that one checkpoint (``--checkpoint N``)
    never replaces an evaluation of others without ``--recompute``: a quick check would cost the
    whole table (ConfigError, nothing removed)."""
    try:
        with open(os.path.join(out, "evaluation.json")) as f:
            previous = json.load(f)
        rows = {r["iteration"]: r for r in previous["checkpoints"] if isinstance(r.get("iteration"), int)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, True
    one = cfg.checkpoint_iteration is not None
    theirs, mine = evaluation_identity(previous, one), evaluation_identity(summary, one)
    if rows and theirs != mine:
        differ = "; ".join(k if k not in SAME_EVALUATION else f"{k} {theirs.get(k)} then, {mine[k]} now"
                           for k in mine if theirs.get(k) != mine[k])
        others = sorted(set(rows) - redone)
        if one and others and not cfg.recompute:
            raise ConfigError(f"{out} holds an evaluation of iteration(s) {', '.join(map(str, others))} made with "
                              f"other settings ({differ}); evaluating checkpoint {cfg.checkpoint_iteration} there would "
                              f"replace it: give --out to keep both, or --recompute to replace it")
        remove_folders(out, set(rows) - redone)   # images and figures go with their rows
        warn(warnings, f"{out} held an evaluation of iteration(s) {', '.join(map(str, sorted(rows)))} made with "
                       f"other settings ({differ}); it is replaced by this one (to keep both, evaluate into "
                       "another folder with --out)")
        return {}, True
    return rows, previous.get("complete", True) is not False


def remove_folders(out: str, iterations) -> None:
    """The ``iter_`` folders of rows the table no longer holds: the folder shows one evaluation."""
    for iteration in iterations:
        shutil.rmtree(checkpoint_dir(out, iteration), ignore_errors=True)


def kept_row(earlier: dict, ckpt, out: str, similarity: bool) -> dict | None:
    """The earlier row of this checkpoint when it can stand: scored, from the same generator file,
    its images still there, with a similarity figure (still there) exactly when one is asked for."""
    from gan_keras.metrics.weights import file_digest

    row = earlier.get(ckpt.iteration)
    if not row or row.get("status") != "ok" or not row.get("generator_sha256"):
        return None
    if not os.path.isdir(os.path.join(checkpoint_dir(out, ckpt.iteration), GENERATED)):
        return None
    figure = (row.get("similarity") or {}).get("file") if isinstance(row.get("similarity"), dict) else None
    if similarity != bool(figure) or (figure and not os.path.isfile(os.path.join(out, figure))):
        return None
    try:
        same = file_digest(ckpt.generator_path) == row["generator_sha256"]
    except OSError:
        return None
    return row if same else None
