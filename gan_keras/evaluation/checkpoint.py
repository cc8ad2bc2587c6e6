"""One checkpoint: load its generator, generate from fixed noise, compute the metrics, draw the figures.

Separate from the run-level pipeline because this is the part repeated per checkpoint and the part
that must never stop the evaluation: a checkpoint that does not load becomes a ``failed`` row and
the others are still evaluated. Generated images are rounded to 8 bits before the metrics, exactly
as the saved PNGs, so the folder FID of those PNGs reproduces the table's FID.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gan_keras.errors import CheckpointError
from gan_keras.evaluation.config import EvalConfig
from gan_keras.evaluation.images import GENERATED, SavedImages, checkpoint_dir
from gan_keras.hparams import draw_latent

NOISE_STREAM = 1            # noise = default_rng([seed, NOISE_STREAM])
SIMILARITY_QUERIES = 8      # generated images shown in the similarity figure
SIMILARITY_K = 4            # neighbours per query and per space
CHUNK = 100                 # about this many images generated and passed to the backbone per step


@dataclass
class CheckpointContext:
    """What every checkpoint of one evaluation shares (the run, the real features, the backbone)."""

    run_dir: str
    out: str
    config: EvalConfig
    latent_dim: int
    latent: str          # the run's z distribution: "normal" N(0, 1) or "uniform" U[-1, 1]
    image_shape: tuple
    backbone: Any
    dataset: Any
    real: Any
    title: str
    log: Callable[[str], None]


def load_checked_generator(path: str, latent_dim: int, image_shape):
    """A checkpoint's generator, loaded and checked against the run (its noise size and image
    shape); CheckpointError with one line when it does not load or does not fit."""
    from gan_keras.training.checkpoints import load_generator

    try:
        model = load_generator(path)
    except Exception as exc:  # noqa: BLE001 - one clear line instead of Keras' traceback
        msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise CheckpointError(f"cannot load {path}: {type(exc).__name__}: {msg}") from None
    check_generator(model, latent_dim, image_shape)
    return model


def generate_images(generate, z, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The 8-bit images (the saved PNGs' form) that ``generate`` (``generator_fn``) makes of the
    noise ``z``, in batches of ``batch_size``, and which of them held NaN or inf (set to 0 first).
    Every tool that shows or scores generated images makes them here."""
    from gan_keras.data.base import to_uint8

    images = np.concatenate([generate(z[i:i + batch_size]) for i in range(0, len(z), batch_size)], axis=0)
    bad = ~np.isfinite(images).reshape(len(z), -1).all(axis=1)
    return to_uint8(np.nan_to_num(images)), bad


def latent_chunks(seed: int, total: int, latent_dim: int, latent: str, batch_size: int):
    """(start, z) for the ``total`` noise vectors of an evaluation with ``seed``, in chunks of whole
    batches (about ``CHUNK`` rows): the same vectors for every checkpoint, run and machine."""
    rng = np.random.default_rng([seed, NOISE_STREAM])
    step = batch_size * max(1, math.ceil(CHUNK / batch_size))
    for start in range(0, total, step):
        yield start, draw_latent(rng, (min(step, total - start), latent_dim), latent, float64_normal=True)


def generator_fn(model, compiled: bool = True):
    """A compiled forward pass (inference mode) when possible, else the model call; ``compiled``
    False for one batch, which tracing would cost more than it saves."""
    from gan_keras import backend

    if not compiled:
        return lambda z: np.asarray(keras_to_numpy(model(z, training=False)), dtype=np.float32)
    if not backend.is_tensorflow():
        return lambda z: np.asarray(model.predict_on_batch(z), dtype=np.float32)
    # A partial, not a lambda: TensorFlow counts traces per function code, so one lambda per
    # checkpoint warned "triggered tf.function retracing" from the 5th checkpoint on, as if each
    # model's one trace were a bug. A partial is counted as itself.
    forward = functools.partial(_forward_in_inference_mode, model)
    try:
        import tensorflow as tf

        fn = tf.function(forward, reduce_retracing=True)

        def run(z):
            out = fn(tf.convert_to_tensor(z))
            return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float32)
        return run
    except Exception:  # noqa: BLE001
        return lambda z: np.asarray(keras_to_numpy(forward(z)), dtype=np.float32)


def _forward_in_inference_mode(model, z):
    return model(z, training=False)


def _generated(generate, ctx: CheckpointContext, total: int):
    """(start, 8-bit images, which are non-finite, seconds) for the evaluation's first ``total``
    noise vectors, chunk by chunk, always in the same batches: a generator with randomness of its
    own (DeLiGAN's component choice) draws it per batch, so the same batches give the same images.
    8-bit, exactly as the PNG files: the metrics then describe the saved images, real and generated
    images are treated alike, and the folder command on the PNGs gives the same FID."""
    bs = ctx.config.batch_size
    for start, z in latent_chunks(ctx.config.seed, total, ctx.latent_dim, ctx.latent, bs):
        t = time.perf_counter()
        u8, bad = generate_images(generate, z, bs)
        yield start, u8, bad, time.perf_counter() - t


def rewrite_saved_images(ckpt, ctx: CheckpointContext, row: dict) -> dict | None:
    """``row``, kept from an earlier evaluation in the folder (same settings, same generator file),
    with this evaluation's Generate_sample_number of PNGs and its grid: only the generator runs.

    Its metrics stand: they read the first FID_sample_number images, which the number of saved
    images does not change while the earlier and the new number are both at most
    FID_sample_number (the noise and its batches are then the same; otherwise the pipeline
    treats the evaluations as made with other settings). None when the generator no longer
    loads (the checkpoint is then evaluated again, and its row says why it failed)."""
    cfg, out_dir = ctx.config, checkpoint_dir(ctx.out, ckpt.iteration)
    try:
        generate = generator_fn(load_checked_generator(ckpt.generator_path, ctx.latent_dim, ctx.image_shape))
    except CheckpointError:
        return None
    saved = SavedImages(out_dir, cfg.generate_sample_number)   # the old files stay until the new ones are complete
    for start, u8, _, _ in _generated(generate, ctx, max(cfg.fid_sample_number, cfg.generate_sample_number)):
        if start >= cfg.generate_sample_number:
            break
        saved.add(start, u8)
    return {**{k: v for k, v in row.items() if k not in ("grid", "grid_layout")}, **saved.finish(ctx.out)}


def keras_to_numpy(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def check_generator(model, latent_dim: int, image_shape) -> None:
    """CheckpointError unless ``model`` takes the run's noise and makes its images."""
    in_shape = tuple(model.inputs[0].shape)[1:] if getattr(model, "inputs", None) else None
    out_shape = tuple(model.outputs[0].shape)[1:] if getattr(model, "outputs", None) else None
    if in_shape is not None and tuple(in_shape) != (latent_dim,):
        raise CheckpointError(f"generator takes input {in_shape}, the run's latent_dim is {latent_dim}")
    if out_shape is not None and tuple(out_shape) != tuple(image_shape):
        raise CheckpointError(f"generator makes images {out_shape}, the run's images are {tuple(image_shape)}")


def evaluate_checkpoint(ckpt, ctx: CheckpointContext) -> dict:
    """Everything for one checkpoint; never raises for a bad checkpoint (the row records the error)."""
    from gan_keras.data.base import to_unit_range
    from gan_keras.metrics.fid import MetricError, fid_from_features
    from gan_keras.metrics.progress import Progress
    from gan_keras.metrics.weights import file_digest
    from gan_keras.metrics.scores import kernel_inception_distance, precision_recall

    cfg = ctx.config
    row = {"iteration": ckpt.iteration, "checkpoint": os.path.relpath(ckpt.path, ctx.run_dir),
           "status": "ok", "error": None}
    times = {}
    # This checkpoint's outputs from an earlier evaluation are void now: none may outlive its row
    # (a grid after Generate_sample_number 0, a figure after --no-similarity, images after a failure).
    out_dir = checkpoint_dir(ctx.out, ckpt.iteration)
    for name in ("grid.png", "similarity.png"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(out_dir, name))
    shutil.rmtree(os.path.join(out_dir, GENERATED), ignore_errors=True)
    t0 = time.perf_counter()
    try:
        # what was evaluated: a re-run keeps this row only while the generator is the same file
        row["generator_sha256"] = file_digest(ckpt.generator_path)
        model = load_checked_generator(ckpt.generator_path, ctx.latent_dim, ctx.image_shape)
    except (OSError, CheckpointError) as exc:  # a damaged checkpoint is reported, the others evaluated
        row.update(status="failed", error=str(exc) if isinstance(exc, CheckpointError) else
                   f"cannot load {ckpt.generator_path}: {type(exc).__name__}: {exc}")
        ctx.log(f"  {row['error']}")
        return row
    times["load_seconds"] = time.perf_counter() - t0

    generate = generator_fn(model)
    fid_n, gen_n, bs = cfg.fid_sample_number, cfg.generate_sample_number, cfg.batch_size
    total = max(fid_n, gen_n)
    backbone = ctx.backbone
    want_probs = bool(backbone.has_classifier)
    os.makedirs(out_dir, exist_ok=True)
    saved = SavedImages(out_dir, gen_n)
    feats, probs = [], []
    queries = None
    nonfinite = 0
    t_gen = t_feat = 0.0
    with Progress(total, f"  iter {ckpt.iteration}: generate + features", enabled=cfg.progress) as bar:
        for start, u8, bad, seconds in _generated(generate, ctx, total):
            m = len(u8)
            t_gen += seconds
            nonfinite += int(bad[: max(0, min(m, fid_n - start))].sum())
            images = to_unit_range(u8)
            if start < fid_n:
                k = min(m, fid_n - start)
                t = time.perf_counter()
                if want_probs:
                    f, p = backbone.features_and_logits(images[:k], batch_size=bs)
                    probs.append(np.asarray(p, np.float64))
                else:
                    f = backbone.features(images[:k], batch_size=bs)
                feats.append(np.asarray(f, np.float64))
                t_feat += time.perf_counter() - t
            saved.add(start, u8)
            if queries is None:  # only images whose features are computed (the first fid_n)
                queries = images[:min(SIMILARITY_QUERIES, fid_n)].copy()
            bar.update(m)
    row.update(saved.finish(ctx.out))
    gen_features = np.concatenate(feats)
    gen_probs = np.concatenate(probs) if want_probs else None
    times.update(generate_seconds=t_gen, generate_images_per_second=total / t_gen if t_gen > 0 else None,
                 features_seconds=t_feat, features_images_per_second=fid_n / t_feat if t_feat > 0 else None)
    row["generated_nonfinite"] = nonfinite

    real = ctx.real
    t = time.perf_counter()
    if nonfinite:
        row.update(status="nan", error=f"{nonfinite} of {fid_n} generated images contain NaN or inf "
                                       "(replaced by 0 for the metrics; the model has probably diverged)")
    try:
        fid, fid_info = fid_from_features(real.features, gen_features, return_info=True)
        row["fid"] = fid
        row["fid_terms"] = fid_info
    except MetricError as exc:
        row.update(fid=None, status="failed", error=str(exc))
    try:
        kid, kid_std = kernel_inception_distance(real.features, gen_features, seed=cfg.seed)
        row.update(kid=kid, kid_std=kid_std)
    except MetricError as exc:
        row.update(kid=None, kid_std=None, kid_error=str(exc))
    try:
        precision, recall = precision_recall(real.features, gen_features)
        row.update(precision=precision, recall=recall)
    except MetricError as exc:
        row.update(precision=None, recall=None, pr_error=str(exc))
    if gen_probs is not None:
        try:
            row["is"], row["is_std"] = inception_score_of(gen_probs)
        except MetricError as exc:
            row.update({"is": None, "is_std": None, "is_error": str(exc)})
    else:
        row.update({"is": None, "is_std": None})
    times["metrics_seconds"] = time.perf_counter() - t

    if cfg.similarity and queries is not None and len(queries):
        t = time.perf_counter()
        row["similarity"] = _similarity(queries, gen_features[:len(queries)], ctx, out_dir, ckpt.iteration)
        times["similarity_seconds"] = time.perf_counter() - t
    times["total_seconds"] = time.perf_counter() - t0
    row["timings"] = times
    fid_text = f"{row['fid']:.4f}" if row.get("fid") is not None else "n/a"
    ctx.log(f"  iter {ckpt.iteration}: FID {fid_text} ({times['total_seconds']:.1f} s)")
    del model
    return row



def inception_score_of(probs: np.ndarray):
    """IS from the backbone's classifier output: probabilities (rows sum to 1) or logits."""
    from gan_keras.metrics.scores import inception_score

    p = np.asarray(probs, np.float64)
    if p.size and (p >= 0).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        return inception_score(probabilities=p)
    return inception_score(logits=p)


def _similarity(queries, query_features, ctx: CheckpointContext, out_dir, iteration) -> dict:
    from gan_keras.metrics.similarity import feature_neighbours, pixel_neighbours
    from gan_keras.report.eval_plots import plot_similarity

    dataset, real = ctx.dataset, ctx.real
    pix_idx, pix_d = pixel_neighbours(queries, dataset.images, k=SIMILARITY_K)
    feat_idx, feat_d = feature_neighbours(query_features, real.features, k=SIMILARITY_K)
    feat_train_idx = real.indices[feat_idx]
    path = os.path.join(out_dir, "similarity.png")
    plot_similarity(queries, dataset.images[pix_idx], pix_d, dataset.images[feat_train_idx], feat_d, path,
                    title=f"{ctx.title} - iteration {iteration}",
                    feature_label=f"Inception ({ctx.backbone.name}) features")
    return {"file": os.path.relpath(path, ctx.out), "queries": int(len(queries)), "k": SIMILARITY_K,
            "query_indices": list(range(len(queries))),
            "pixel": {"space": "L2 over float [-1, 1] pixels", "searched": "the whole training set",
                      "searched_n": int(len(dataset)), "train_indices": pix_idx.tolist(),
                      "distances": pix_d.tolist()},
            "features": {"space": f"L2 over {ctx.backbone.feature_dim}-d Inception features",
                         "searched": "the real FID sample", "searched_n": int(len(real.indices)),
                         "train_indices": feat_train_idx.tolist(), "distances": feat_d.tolist()}}


