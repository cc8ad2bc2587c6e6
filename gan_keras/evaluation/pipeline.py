"""``evaluate_run``: the whole evaluation of one run directory, as a library call.

    from gan_keras.evaluation import EvalConfig, evaluate_run
    result = evaluate_run("gan_models/DCGAN_mnist", EvalConfig(5000, 500))
    result.fid_by_iteration        # {1000: 88.1, 2000: 61.7, ...}

It used to live inside the command line, so nothing else (benchmarks, notebooks, a training
script that evaluates as it goes) could run it. ``GAN_evaluation.py`` is now a thin caller.

The run is read through its config.json's data and latent fields (``dataset``, ``data_dir``,
``data_limit``, ``dataset_info``'s fingerprint, ``dataset_size``, ``image_shape``, ``image_size``,
``latent_dim`` and ``hyperparams.latent``), never through its model (whose name is only a
title), so runs of any model, including ones the dissertation does not have, evaluate alike. The steps, in order: validate the options, find the
complete checkpoints, check that memory and disk suffice, load the backbone and the real
dataset, compute (or read from the cache) the real features, then evaluate each checkpoint and
rewrite the outputs after each. Errors a user can cause are ``GanKerasError`` subclasses;
nothing here exits the process.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import platform
import sys
import time

import numpy as np

from gan_keras.errors import CheckpointError, ConfigError, DatasetError, GanKerasError
from gan_keras.evaluation import checkpoint as ckpt_mod
from gan_keras.evaluation.checkpoint import NOISE_STREAM, SIMILARITY_K, SIMILARITY_QUERIES
from gan_keras.evaluation.config import EvalConfig
from gan_keras.evaluation.earlier import METRICS_VERSION, earlier_rows, kept_row, remove_folders
from gan_keras.evaluation.images import GRID_MAX, checkpoint_dir, images_match, save_real
from gan_keras.evaluation.outputs import now, write_outputs
from gan_keras.evaluation.preflight import check_resources, choose_checkpoints, run_latent, run_shape, warn
from gan_keras.evaluation.result import EvaluationResult, model_fid

TOOL = "GAN_evaluation.py"  # evaluation.json's "tool": the format, whichever way it was produced


# ----------------------------------------------------------------------------------------------
# loaders: module-level so that tests can replace them (library callers may pass instances)
# ----------------------------------------------------------------------------------------------

def load_backbone(name: str, weights, resize: str, download: bool = True):
    """The feature network ``name`` ("keras" or "fid") from ``gan_keras.metrics.backbones``;
    ``download=False`` forbids fetching its weights when they are not found."""
    from gan_keras.metrics import backbones

    kwargs = {"resize": resize, "download": download}
    if weights is not None:
        kwargs["weights"] = weights
    return backbones.get_backbone(name, **kwargs)


def load_real_dataset(name: str, data_dir, image_size: int | None = None, limit: int | None = None):
    """The run's training set, loaded as in training: ``image_size`` and ``limit`` (``--limit``,
    the run's ``data_limit``) are passed only when the run had them, so the FID's real images are
    drawn from the images the run trained on (for nlvr --limit 3102: the dissertation's 9,306 crops,
    not all 27,594)."""
    from gan_keras.data import load_dataset

    if image_size is None and limit is None:
        return load_dataset(name, data_dir=data_dir)
    params = inspect.signature(load_dataset).parameters
    if image_size is not None and "image_size" not in params and \
            not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        raise DatasetError(f"the run was trained on {name} at image_size {image_size}, but this version of "
                           "gan_keras.data.load_dataset cannot resize datasets (no image_size argument)")
    given = {k: v for k, v in (("image_size", image_size), ("limit", limit)) if v is not None}
    return load_dataset(name, data_dir=data_dir, **given)


SMALL_FID_SAMPLE = 2048   # below the 2,048 features' dimension the covariance is singular, and the bias large


def fid_summary(rows) -> str:
    """One line for the terminal: the FID of each evaluated checkpoint and the best."""
    scored = [(r["iteration"], model_fid(r)) for r in rows if model_fid(r) is not None]
    if not scored:
        return "FID: no checkpoint could be scored"
    best = min(scored, key=lambda pair: pair[1])
    return ("FID by iteration: " + ", ".join(f"{it:,}: {fid:.2f}" for it, fid in scored)
            + f"; best {best[1]:.2f} at {best[0]:,}")


def _versions() -> dict:
    out = {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
           "cpu_count": os.cpu_count()}
    for mod in ("scipy", "tensorflow", "keras", "PIL", "gan_keras"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            out[mod] = None
    return out


def _command(run_dir: str, cfg: EvalConfig, backbone, dataset):
    """The command line as given, or this call written out (injected objects named by type)."""
    if cfg.command is not None:
        return list(cfg.command) if not isinstance(cfg.command, str) else cfg.command
    extra = "".join(f", {k}=<{type(v).__name__}>" for k, v in (("backbone", backbone), ("dataset", dataset))
                    if v is not None)
    return f"evaluate_run({run_dir!r}, {cfg.describe()}{extra})"


# ----------------------------------------------------------------------------------------------
# the whole evaluation
# ----------------------------------------------------------------------------------------------

def evaluate_run(run_dir: str | os.PathLike, config: EvalConfig, *, backbone=None, dataset=None) -> EvaluationResult:
    """Evaluate every complete generator checkpoint of ``run_dir`` (or ``config.checkpoint``).

    Args:
        run_dir: a run directory written by GAN_main.py (config.json and checkpoints/).
        config: the options (validated here; ``ConfigError`` names the bad one).
        backbone: a feature network to use instead of loading ``config.inception`` (needs
            ``name``, ``feature_dim``, ``has_classifier``, ``features(images, batch_size=)`` and,
            with a classifier, ``features_and_logits(images, batch_size=)``).
        dataset: the real images (an ``ImageDataset`` of the run's image shape) to use instead of
            loading the run's dataset.

    Returns:
        An ``EvaluationResult``; the files are in ``result.out``.

    Raises:
        ConfigError, RunDirError, CheckpointError (also when no checkpoint could be evaluated;
        the outputs are written first and the exception's ``result`` holds them), DatasetError,
        WeightsError; MemoryError and OSError pass through.
    """
    from gan_keras import rundir
    from gan_keras.metrics.fid import SQRTM_METHOD
    from gan_keras.metrics.real_stats import real_features
    from gan_keras.metrics.scores import IS_SPLITS, KID_SUBSET_SIZE, KID_SUBSETS, PR_K

    if not isinstance(config, EvalConfig):
        raise ConfigError(f"config must be an EvalConfig, got {type(config).__name__}")
    cfg = config.validate()
    started, t_start = now(), time.perf_counter()
    warnings: list[str] = []

    def log(msg: str) -> None:
        if cfg.progress:
            print(msg, file=sys.stderr, flush=True)

    fid_n, gen_n = cfg.fid_sample_number, cfg.generate_sample_number
    run_dir = os.fspath(run_dir)
    rundir.not_a_checkpoint_folder(run_dir, "give its run directory and the checkpoint, {run} --checkpoint {iteration}")
    run_config = rundir.read_config(run_dir)
    latent_dim, image_shape, image_size = run_shape(run_dir, run_config)
    latent = run_latent(run_config)
    checkpoints, incomplete = choose_checkpoints(run_dir, cfg.checkpoint_iteration, warnings)
    out = os.path.abspath(os.fspath(cfg.out) if cfg.out is not None else os.path.join(run_dir, rundir.EVALUATION))
    created = not os.path.exists(out)   # check_resources makes it, to see that it can be written
    est = check_resources(cfg, run_config, image_shape, len(checkpoints), out)

    injected_backbone = backbone is not None
    backbone_name = cfg.inception if backbone is None else getattr(backbone, "name", type(backbone).__name__)
    log(f"evaluating {run_dir}: {len(checkpoints)} checkpoint(s) "
        f"({', '.join(str(c.iteration) for c in checkpoints)}), backbone {backbone_name}, {cfg.resize} resize")
    command = _command(run_dir, cfg, backbone, dataset)
    t = time.perf_counter()
    if backbone is None:
        # download is passed only when it is not the default, so that replacement loaders written
        # for the older (name, weights, resize) signature keep working
        extra = {} if cfg.download else {"download": False}
        try:
            backbone = load_backbone(cfg.inception, None if cfg.inception_weights is None
                                     else os.fspath(cfg.inception_weights), cfg.resize, **extra)
        except BaseException:   # no weights (say): no empty output folder is left behind
            if created:
                with contextlib.suppress(OSError):
                    os.rmdir(out)
            raise
    backbone_seconds = time.perf_counter() - t
    if dataset is None:
        data_dir = os.fspath(cfg.data_dir) if cfg.data_dir is not None else run_config.get("data_dir")
        dataset = load_real_dataset(run_config["dataset"], data_dir, image_size, run_config.get("data_limit"))
    if tuple(dataset.image_shape) != image_shape:
        raise DatasetError(f"the dataset {run_config['dataset']} now has images {dataset.image_shape}, the run was "
                           f"trained on {image_shape}")
    notes = []
    trained_fp = (run_config.get("dataset_info") or {}).get("fingerprint")
    current_fp = (getattr(dataset, "info", None) or {}).get("fingerprint")
    if trained_fp and current_fp and trained_fp != current_fp:
        notes.append(f"the training set found now ({current_fp}) differs from the one the run was trained on "
                     f"({trained_fp})")
        warn(warnings, notes[-1])
    if len(dataset) < fid_n:
        notes.append(f"the dataset has only {len(dataset)} images: all of them are the real set, fewer than "
                     f"FID_sample_number {fid_n}")
        warn(warnings, notes[-1])

    log(f"real images: {min(fid_n, len(dataset))} of {len(dataset)} {run_config['dataset']} training images "
        f"(seed {cfg.seed})")
    if cfg.fid_sample_number < SMALL_FID_SAMPLE:
        log(f"note: an FID from {cfg.fid_sample_number} generated images is biased upwards (the bias shrinks as "
            f"1/N): compare it only with FIDs from as many images (the dissertation's: 5,000)")
    real = real_features(dataset, backbone, fid_n, seed=cfg.seed, batch_size=cfg.batch_size,
                         use_cache=cfg.use_cache, progress=cfg.progress)
    if cfg.save_real:
        real.description["saved_png_dir"] = save_real(dataset, real.indices, out)
    real_reference = {}
    if real.probabilities is not None:
        try:
            m, s = ckpt_mod.inception_score_of(real.probabilities)
            real_reference["inception_score"], real_reference["inception_score_std"] = m, s
        except GanKerasError as exc:
            real_reference["inception_score_error"] = str(exc)

    resize = getattr(backbone, "resize", cfg.resize) if injected_backbone else cfg.resize
    run_keys = ("model", "dataset", "latent_dim", "image_shape", "seed", "epochs", "batch_size", "data_dir",
                "dataset_size") + (("image_size",) if "image_size" in run_config else ())
    summary = {
        "tool": TOOL, "command": command, "started": started,
        "run_dir": os.path.abspath(run_dir), "out": out,
        "run": {k: run_config.get(k) for k in run_keys},
        "fid_sample_number": fid_n, "generate_sample_number": gen_n, "seed": cfg.seed,
        "skipped_incomplete_checkpoints": incomplete,
        "batch_size": cfg.batch_size, "metrics_version": METRICS_VERSION,
        "backbone": {"name": backbone.name, "resize": resize, "feature_dim": int(backbone.feature_dim),
                     "has_classifier": bool(backbone.has_classifier),
                     "description": getattr(backbone, "description", {}), "load_seconds": backbone_seconds},
        "real_images": {**real.description, "reference_metrics": real_reference,
                        "why": "the run's own training images, the set the model learned from; the dissertation "
                               "defines no held-out split. As many real as generated images, so that FID's "
                               "sample-size bias is the same on both sides"},
        "generated_images": {"n_fid": fid_n, "n_saved": gen_n,
                             "noise": f"numpy.random.default_rng([{cfg.seed}, {NOISE_STREAM}])."
                                      + ("standard_normal" if latent == "normal" else "uniform(-1, 1, ")
                                      + f"((max(FID_sample_number, Generate_sample_number), {latent_dim})), float32, "
                                      "the same for every checkpoint (a generator with randomness of its own "
                                      "draws it from the seed state saved with each checkpoint)",
                             "fid_images": "the first FID_sample_number of that noise",
                             "saved_images": "the first Generate_sample_number of that noise (00000.png = the first)",
                             "generation": f"model(z, training=False) in batches of {cfg.batch_size}",
                             "quantisation": "outputs rounded to 8 bits (as the saved PNGs, and as the real images) "
                                             "before the metrics: (round((x + 1) * 127.5) clipped to 0..255) / 127.5 - 1",
                             "grid_max": GRID_MAX},
        "settings": {"fid_formula": "|mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)) (eq. 2-15), float64, "
                                    "covariances with ddof=1",
                     "sqrtm": SQRTM_METHOD, "kid_subsets": KID_SUBSETS,
                     "kid_subset_size": int(min(KID_SUBSET_SIZE, fid_n, real.features.shape[0])),
                     "kid_kernel": "(x.y/d + 1)^3", "kid_seed": cfg.seed, "pr_k": PR_K, "is_splits": IS_SPLITS,
                     "similarity": None if not cfg.similarity else
                     {"queries": SIMILARITY_QUERIES, "k": SIMILARITY_K,
                      "pixel_space": "L2 over [-1, 1] pixels, whole training set",
                      "feature_space": "L2 over Inception features, the real FID sample"}},
        "memory_estimate_bytes": est, "notes": notes, "versions": _versions(),
    }
    ctx = ckpt_mod.CheckpointContext(
        run_dir=run_dir, out=out, config=cfg, latent_dim=latent_dim, latent=latent, image_shape=image_shape,
        backbone=backbone,
        dataset=dataset, real=real, title=f"{run_config.get('model', '?')} on {run_config['dataset']}", log=log)
    rows, done_now = [], {c.iteration for c in checkpoints}
    previous, previous_complete = earlier_rows(out, summary, done_now, warnings, cfg)
    if cfg.checkpoint_iteration is not None:   # beside --checkpoint N, the other checkpoints' rows stay
        beside = [r for it, r in previous.items() if it not in done_now]
    else:   # a whole evaluation rewrites the table: a checkpoint the run no longer has goes, folder and all
        beside, gone = [], sorted(set(previous) - done_now)
        if gone:
            warn(warnings, f"the rows of iteration(s) {', '.join(map(str, gone))} leave the table: the run has no "
                           "complete checkpoint of them now")
            remove_folders(out, gone)

    voided = set()   # checkpoints evaluated again: evaluate_checkpoint first removes their earlier files

    def table() -> list:
        """The rows so far, and the earlier evaluation's rows of the checkpoints not done yet
        (and not voided): an interrupted evaluation keeps them, as "not finished", for the next
        one to check (kept_row, images_match) and keep."""
        done = {r["iteration"] for r in rows}
        ahead = [previous[c.iteration] for c in checkpoints
                 if c.iteration in previous and c.iteration not in done | voided]
        return sorted([*beside, *ahead, *rows], key=lambda r: r["iteration"])

    try:
        for i, ckpt in enumerate(checkpoints, 1):
            kept = None if cfg.recompute else kept_row(previous, ckpt, out, cfg.similarity)
            rewrite = kept is not None and not images_match(kept, checkpoint_dir(out, ckpt.iteration), gen_n)
            if rewrite:   # another Generate_sample_number: the metrics stand, the PNGs are written again
                kept = ckpt_mod.rewrite_saved_images(ckpt, ctx, kept)
            if kept is not None:
                log(f"checkpoint {i}/{len(checkpoints)}: iteration {ckpt.iteration}: kept from the earlier "
                    "evaluation in this folder (same settings, same generator file; --recompute redoes it)"
                    + (f"; its {gen_n} PNGs written" if rewrite else ""))
                rows.append(kept)
                if rewrite:
                    write_outputs(table(), out, summary, complete=False)
                continue
            log(f"checkpoint {i}/{len(checkpoints)}: iteration {ckpt.iteration}")
            voided.add(ckpt.iteration)
            rows.append(ckpt_mod.evaluate_checkpoint(ckpt, ctx))
            write_outputs(table(), out, summary, complete=False)
    finally:
        summary["total_seconds"] = time.perf_counter() - t_start
        done = len(rows) == len(checkpoints) and (previous_complete or not beside)   # beside an unfinished table
        record = write_outputs(table(), out, summary, complete=done)
    newer = [c.iteration for c in rundir.list_checkpoints(run_dir) if c.iteration > max(done_now)]
    if newer and cfg.checkpoint_iteration is None:   # a run still training saved more meanwhile
        warn(warnings, f"checkpoint(s) {', '.join(map(str, newer))} were saved during this evaluation and are not "
                       "in it; the same command again evaluates them (and keeps the rows it has)")
    result = EvaluationResult(rows=record["checkpoints"], summary=record, out=out, warnings=warnings)
    failed = [r for r in result.failed if r["iteration"] in done_now]   # not an earlier evaluation's rows
    log(f"wrote {os.path.join(out, 'metrics.md')}, metrics.csv, fid.png, evaluation.json "
        f"({summary['total_seconds']:.1f} s)")
    log(fid_summary(record["checkpoints"]))
    if failed and len(failed) == len(rows):
        error = CheckpointError(f"none of the {len(rows)} checkpoint(s) could be evaluated ({failed[0]['error']}); "
                                f"see {os.path.join(out, 'metrics.md')}")
        error.result = result
        raise error
    if failed:
        warn(warnings, f"{len(failed)} of {len(rows)} checkpoints could not be evaluated (see metrics.md): "
                       + "; ".join(f"{r['iteration']}: {r['error']}" for r in failed))
    return result
