"""GAN_evaluation.py: FID (and KID, precision/recall, IS), samples and nearest neighbours of a run.

    python GAN_evaluation.py model_directory FID_sample_number Generate_sample_number [options]
    python GAN_evaluation.py gan_models/test 1000 500

For every complete generator checkpoint of the run directory (``checkpoints/iter_*/``):

1. FID_sample_number images are generated from fixed normal noise (the same noise for every
   checkpoint: ``numpy.random.default_rng([seed, 1]).standard_normal((n, latent_dim))``), in
   batches, and their Inception features computed (backbone ``--inception keras|fid``);
2. they are compared with the features of FID_sample_number real training images (a seeded random
   sample of the run's dataset, cached; see ``gan_keras.metrics.real_stats``): FID (equation 2-15),
   KID, improved precision/recall (k = 3) and, when the backbone has its ImageNet classifier, the
   Inception Score (10 splits);
3. the first Generate_sample_number of those images (same noise) are written as PNG files and as
   one grid, and the first 8 are drawn beside their nearest real training images in pixel space
   and in Inception feature space.

Outputs (``--out``, default ``<run>/evaluation``): ``metrics.csv``, ``metrics.md`` (a table like
the dissertation's Table 4-5), ``fid.png`` (FID against iterations), ``evaluation.json`` (every
value, sample size, seed, the backbone, the resize method, the real-image set, timings and
versions) and ``iter_XXXXXXX/{generated/*.png, grid.png, similarity.png}``. All files are written
atomically; the table, plot and JSON are rewritten after every checkpoint.
"""
from __future__ import annotations

import csv
import io
import math
import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone

import numpy as np

from gan_keras.cli.common import OneLineParser, existing_dir, fail, os_error_line, positive_int, quiet_tensorflow, seed_int
from gan_keras.errors import CheckpointError, ConfigError, DatasetError, GanKerasError, RunDirError
from gan_keras.utils import mem_available

PROG = "GAN_evaluation.py"
NOISE_STREAM = 1            # noise = default_rng([seed, NOISE_STREAM])
SIMILARITY_QUERIES = 8      # generated images shown in the similarity figure
SIMILARITY_K = 4            # neighbours per query and per space
GRID_MAX = 1024             # at most this many images in the grid PNG (all are saved individually)
CHUNK = 100                 # about this many images generated and passed to the backbone per step
MIN_SAMPLES = 2


# ----------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------

def build_parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Evaluate every saved generator checkpoint of a training run: FID (dissertation eq. 2-15), "
                    "KID, precision/recall, Inception Score, generated samples and nearest real images.",
        epilog="example: python GAN_evaluation.py gan_models/test 1000 500   (see README.md, 'Evaluation')")
    p.add_argument("model_directory", help="run directory written by GAN_main.py (holds config.json and checkpoints/)")
    p.add_argument("FID_sample_number", type=positive_int,
                   help="images generated per checkpoint for FID; as many real training images are compared "
                        "(the dissertation used 5000)")
    p.add_argument("Generate_sample_number", type=positive_int,
                   help="generated images written as PNG files (and as one grid) per checkpoint")
    p.add_argument("--checkpoint", metavar="ITER", default=None,
                   help="evaluate only this checkpoint (an iteration such as 10000, or iter_0010000)")
    p.add_argument("--batch-size", type=positive_int, default=50,
                   help="images per generator call and per Inception forward pass (default 50)")
    p.add_argument("--seed", type=seed_int, default=0,
                   help="seed of the real-image sample, the generator noise and the KID subsets (default 0)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default <model_directory>/evaluation)")
    p.add_argument("--inception", choices=["keras", "fid"], default="keras",
                   help="feature network: 'keras' = keras.applications.InceptionV3 ImageNet (the dissertation's, "
                        "default; has the classifier for the Inception Score), 'fid' = the TF 2015-12-05 FID "
                        "Inception of TTUR/pytorch-fid (FIDs comparable with published ones; no IS)")
    p.add_argument("--inception-weights", metavar="PATH", default=None,
                   help="weights file of the chosen network (default: found automatically, see README)")
    p.add_argument("--resize", choices=["bilinear", "nearest"], default="bilinear",
                   help="how images are resized to 299x299 (default bilinear, half-pixel centres)")
    p.add_argument("--data-dir", metavar="DIR", type=existing_dir, default=None,
                   help="where the run's dataset is found (default: the run's own data_dir, then the usual search)")
    p.add_argument("--no-similarity", action="store_true", help="skip the nearest-neighbour figure")
    p.add_argument("--save-real", action="store_true",
                   help="also write the real sample as PNG files (<out>/real_sample/), e.g. to check the FID with "
                        "another tool: with Generate_sample_number = FID_sample_number, "
                        "'python -m gan_keras.metrics.fid <out>/real_sample <out>/iter_X/generated --inception fid' "
                        "(or pytorch-fid) reproduces the table's FID")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the real-image feature cache")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


# ----------------------------------------------------------------------------------------------
# the pieces (module-level so that tests can replace them)
# ----------------------------------------------------------------------------------------------

def load_backbone(name: str, weights, resize: str):
    from gan_keras.metrics import backbones

    kwargs = {"resize": resize}
    if weights is not None:
        kwargs["weights"] = weights
    return backbones.get_backbone(name, **kwargs)


def load_real_dataset(name: str, data_dir):
    from gan_keras.data import load_dataset

    return load_dataset(name, data_dir=data_dir)


def load_generator(path: str):
    """``keras.saving.load_model`` after registering the project's custom layers."""
    try:  # registers GANBatchNormalization and the other custom objects
        import gan_keras.registry  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken models package must not stop the evaluation
        try:
            import gan_keras.models  # noqa: F401
        except Exception:  # noqa: BLE001
            pass
    import keras

    return keras.saving.load_model(path, compile=False)


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def estimate_memory(fid_n: int, generate_n: int, image_shape, dataset_bytes: int, feature_dim: int = 2048,
                    classes: int = 1000, batch_size: int = 50) -> dict:
    """Bytes the evaluation needs at its peak (features of both sets, statistics, distance blocks...)."""
    h, w, c = image_shape
    n = int(fid_n)
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


def _parse_checkpoint(text: str) -> int:
    t = text.strip()
    if t.startswith("iter_"):
        t = t[5:]
    try:
        value = int(t)
    except ValueError:
        raise ConfigError(f"--checkpoint must be an iteration such as 10000 or iter_0010000, got {text!r}") from None
    if value < 0:
        raise ConfigError(f"--checkpoint must be a non-negative iteration, got {text!r}")
    return value


def _versions() -> dict:
    out = {"python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
           "cpu_count": os.cpu_count()}
    for mod in ("scipy", "tensorflow", "keras", "PIL", "gan_keras"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            out[mod] = None
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _log(args, msg: str) -> None:
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def _json_float(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# ----------------------------------------------------------------------------------------------
# generation and per-checkpoint metrics
# ----------------------------------------------------------------------------------------------

def _generator_fn(model):
    """A compiled forward pass (inference mode) when possible, else the model call."""
    try:
        import tensorflow as tf

        fn = tf.function(lambda z: model(z, training=False), reduce_retracing=True)

        def run(z):
            out = fn(tf.convert_to_tensor(z))
            return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float32)
        return run
    except Exception:  # noqa: BLE001
        return lambda z: np.asarray(keras_to_numpy(model(z, training=False)), dtype=np.float32)


def keras_to_numpy(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def _check_generator(model, latent_dim: int, image_shape) -> None:
    in_shape = tuple(model.inputs[0].shape)[1:] if getattr(model, "inputs", None) else None
    out_shape = tuple(model.outputs[0].shape)[1:] if getattr(model, "outputs", None) else None
    if in_shape is not None and tuple(in_shape) != (latent_dim,):
        raise CheckpointError(f"generator takes input {in_shape}, the run's latent_dim is {latent_dim}")
    if out_shape is not None and tuple(out_shape) != tuple(image_shape):
        raise CheckpointError(f"generator makes images {out_shape}, the run's images are {tuple(image_shape)}")


def _save_pngs(images_uint8: np.ndarray, folder: str, start: int, digits: int) -> None:
    from PIL import Image

    for i, img in enumerate(images_uint8):
        arr = img[..., 0] if img.shape[-1] == 1 else img
        Image.fromarray(arr).save(os.path.join(folder, f"{start + i:0{digits}d}.png"), format="PNG")


def _replace_dir(tmp: str, final: str) -> None:
    """Move a finished folder into place (the old one, if any, is removed first)."""
    if os.path.isdir(final):
        old = final + ".old"
        if os.path.exists(old):
            shutil.rmtree(old)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _save_grid(images_uint8: np.ndarray, path: str) -> dict:
    from gan_keras.report.grids import save_grid

    n = min(len(images_uint8), GRID_MAX)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    h = images_uint8.shape[1]
    scale = 2 if h < 48 else 1
    save_grid(images_uint8[:n], path, rows=rows, cols=cols, scale=scale)
    return {"images": n, "rows": rows, "cols": cols, "scale": scale}


def _save_real(dataset, indices, out: str) -> str:
    """The real sample as PNGs named by training-set index (folder written under a temporary name)."""
    final = os.path.join(out, "real_sample")
    tmp = os.path.join(out, ".tmp-real_sample")
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    from PIL import Image

    digits = len(str(len(dataset)))
    for i in indices:
        img = dataset.images[i]
        Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(
            os.path.join(tmp, f"train_{int(i):0{digits}d}.png"), format="PNG")
    _replace_dir(tmp, final)
    return "real_sample"


def evaluate_checkpoint(ckpt, ctx: dict, args) -> dict:
    """Everything for one checkpoint; never raises for a bad checkpoint (the row records the error)."""
    from gan_keras.data.base import to_uint8, to_unit_range
    from gan_keras.metrics.fid import MetricError, fid_from_features
    from gan_keras.metrics.progress import Progress
    from gan_keras.metrics.scores import kernel_inception_distance, precision_recall

    row = {"iteration": ckpt.iteration, "checkpoint": os.path.relpath(ckpt.path, ctx["run_dir"]),
           "status": "ok", "error": None}
    times = {}
    t0 = time.perf_counter()
    try:
        model = load_generator(ckpt.generator_path)
        _check_generator(model, ctx["latent_dim"], ctx["image_shape"])
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint is reported, the others evaluated
        msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        row.update(status="failed", error=f"cannot load {ckpt.generator_path}: {type(exc).__name__}: {msg}")
        _log(args, f"  {row['error']}")
        return row
    times["load_seconds"] = time.perf_counter() - t0

    generate = _generator_fn(model)
    fid_n, gen_n, bs = ctx["fid_n"], ctx["generate_n"], args.batch_size
    total = max(fid_n, gen_n)
    backbone = ctx["backbone"]
    want_probs = bool(backbone.has_classifier)
    out_dir = os.path.join(ctx["out"], f"iter_{ckpt.iteration:07d}")
    os.makedirs(out_dir, exist_ok=True)
    png_tmp = os.path.join(out_dir, ".tmp-generated")
    if os.path.isdir(png_tmp):
        shutil.rmtree(png_tmp)
    os.makedirs(png_tmp)
    digits = max(5, len(str(gen_n - 1)))
    rng = np.random.default_rng([ctx["seed"], NOISE_STREAM])
    feats, probs = [], []
    kept_uint8, queries = [], None
    nonfinite = 0
    t_gen = t_feat = 0.0
    step = bs * max(1, math.ceil(CHUNK / bs))  # whole batches; progress is updated once per step
    with Progress(total, f"  iter {ckpt.iteration}: generate + features", enabled=not args.quiet) as bar:
        for start in range(0, total, step):
            m = min(step, total - start)
            z = rng.standard_normal((m, ctx["latent_dim"])).astype(np.float32)
            t = time.perf_counter()
            images = np.concatenate([generate(z[i:i + bs]) for i in range(0, m, bs)], axis=0)
            t_gen += time.perf_counter() - t
            bad = ~np.isfinite(images).reshape(m, -1).all(axis=1)
            nonfinite += int(bad[: max(0, min(m, fid_n - start))].sum())
            # 8-bit, exactly as the PNG files: the metrics then describe the saved images, real and
            # generated images are treated alike, and the folder command on the PNGs gives the same FID
            u8 = to_uint8(np.nan_to_num(images))
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
            if start < gen_n:
                k = min(m, gen_n - start)
                _save_pngs(u8[:k], png_tmp, start, digits)
                if sum(len(a) for a in kept_uint8) < GRID_MAX:
                    kept_uint8.append(u8[:min(k, GRID_MAX)])
            if queries is None:
                queries = images[:SIMILARITY_QUERIES].copy()
            bar.update(m)
    _replace_dir(png_tmp, os.path.join(out_dir, "generated"))
    gen_features = np.concatenate(feats)
    gen_probs = np.concatenate(probs) if want_probs else None
    times.update(generate_seconds=t_gen, generate_images_per_second=total / t_gen if t_gen > 0 else None,
                 features_seconds=t_feat, features_images_per_second=fid_n / t_feat if t_feat > 0 else None)
    row["generated_nonfinite"] = nonfinite
    row["generated_images_dir"] = os.path.relpath(os.path.join(out_dir, "generated"), ctx["out"])

    real = ctx["real"]
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
        kid, kid_std = kernel_inception_distance(real.features, gen_features, seed=ctx["seed"])
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
            row["is"], row["is_std"] = _inception_score(gen_probs)
        except MetricError as exc:
            row.update({"is": None, "is_std": None, "is_error": str(exc)})
    else:
        row.update({"is": None, "is_std": None})
    times["metrics_seconds"] = time.perf_counter() - t

    u8 = np.concatenate(kept_uint8) if kept_uint8 else np.zeros((0,) + tuple(ctx["image_shape"]), np.uint8)
    if len(u8):
        row["grid"] = os.path.relpath(os.path.join(out_dir, "grid.png"), ctx["out"])
        row["grid_layout"] = _save_grid(u8, os.path.join(out_dir, "grid.png"))
    if not args.no_similarity and queries is not None and len(queries):
        t = time.perf_counter()
        row["similarity"] = _similarity(queries, gen_features[:len(queries)], ctx, out_dir, ckpt.iteration)
        times["similarity_seconds"] = time.perf_counter() - t
    times["total_seconds"] = time.perf_counter() - t0
    row["timings"] = times
    fid_text = f"{row['fid']:.4f}" if row.get("fid") is not None else "n/a"
    _log(args, f"  iter {ckpt.iteration}: FID {fid_text} ({times['total_seconds']:.1f} s)")
    del model
    return row


def _inception_score(probs: np.ndarray):
    """IS from the backbone's classifier output: probabilities (rows sum to 1) or logits."""
    from gan_keras.metrics.scores import inception_score

    p = np.asarray(probs, np.float64)
    if p.size and (p >= 0).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        return inception_score(probabilities=p)
    return inception_score(logits=p)


def _similarity(queries, query_features, ctx, out_dir, iteration) -> dict:
    from gan_keras.metrics.similarity import feature_neighbours, pixel_neighbours
    from gan_keras.report.eval_plots import plot_similarity

    dataset, real = ctx["dataset"], ctx["real"]
    pix_idx, pix_d = pixel_neighbours(queries, dataset.images, k=SIMILARITY_K)
    feat_idx, feat_d = feature_neighbours(query_features, real.features, k=SIMILARITY_K)
    feat_train_idx = real.indices[feat_idx]
    path = os.path.join(out_dir, "similarity.png")
    plot_similarity(queries, dataset.images[pix_idx], pix_d, dataset.images[feat_train_idx], feat_d, path,
                    title=f"{ctx['title']} - iteration {iteration}",
                    feature_label=f"Inception ({ctx['backbone'].name}) features")
    return {"file": os.path.relpath(path, ctx["out"]), "queries": int(len(queries)), "k": SIMILARITY_K,
            "query_indices": list(range(len(queries))),
            "pixel": {"space": "L2 over float [-1, 1] pixels", "searched": "the whole training set",
                      "searched_n": int(len(dataset)), "train_indices": pix_idx.tolist(),
                      "distances": pix_d.tolist()},
            "features": {"space": f"L2 over {ctx['backbone'].feature_dim}-d Inception features",
                         "searched": "the real FID sample", "searched_n": int(len(real.indices)),
                         "train_indices": feat_train_idx.tolist(), "distances": feat_d.tolist()}}


# ----------------------------------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------------------------------

def _fmt(x, digits=4):
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"


def _pm(mean, std, digits=2, scale=1.0):
    if mean is None:
        return "n/a"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}" if std is not None else f"{mean * scale:.{digits}f}"


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


CSV_COLUMNS = ["iteration", "fid", "kid", "kid_std", "precision", "recall", "is", "is_std", "status", "error"]


def write_tables(rows, out: str, summary: dict) -> None:
    from gan_keras.utils import write_text_atomic

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([_csv_cell(r.get(c)) for c in CSV_COLUMNS])
    write_text_atomic(os.path.join(out, "metrics.csv"), buf.getvalue())

    s = summary
    lines = [
        f"# Evaluation of {s['run']['model']} on {s['run']['dataset']}",
        "",
        f"{s['fid_sample_number']} generated vs {s['real_images']['n']} real training images "
        f"(seeded random sample, seed {s['seed']}); backbone `{s['backbone']['name']}` "
        f"({s['backbone']['description'].get('network', '')}), {s['backbone']['resize']} resize to 299x299.",
        "",
        "| iteration | FID | KID (x10^3) | precision | recall | IS | status |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        status = r["status"] if not r.get("error") else f"{r['status']}: {r['error']}"
        lines.append(f"| {r['iteration']} | {_fmt(r.get('fid'), 2)} | {_pm(r.get('kid'), r.get('kid_std'), 2, 1e3)} | "
                     f"{_fmt(r.get('precision'), 3)} | {_fmt(r.get('recall'), 3)} | "
                     f"{_pm(r.get('is'), r.get('is_std'), 2)} | {status.replace('|', '/')} |")
    whole = s["settings"]["kid_subset_size"] >= min(s["fid_sample_number"], s["real_images"]["n"])
    lines += ["", "FID: lower is better (dissertation eq. 2-15). KID: unbiased MMD^2, cubic kernel, mean ± std over "
              f"{s['settings']['kid_subsets']} subsets of {s['settings']['kid_subset_size']}"
              + (" (every subset is the whole sample, hence std 0)" if whole else "") + ". Precision/recall: "
              f"Kynkaanniemi et al. 2019, k = {s['settings']['pr_k']}. IS: {s['settings']['is_splits']} splits"
              + ("" if s["backbone"]["has_classifier"] else " (n/a: this backbone has no ImageNet classifier)") + ".",
              "Compare FIDs only at equal sample sizes and with the same backbone.", ""]
    write_text_atomic(os.path.join(out, "metrics.md"), "\n".join(lines))


def write_plot(rows, out: str, summary: dict) -> str | None:
    from gan_keras.report.eval_plots import plot_fid

    ok = [r for r in rows if r.get("fid") is not None]
    if not ok:
        return None
    s = summary
    title = (f"{s['run']['model']} on {s['run']['dataset']}: FID vs iterations\n"
             f"{s['fid_sample_number']} generated vs {s['real_images']['n']} real, backbone {s['backbone']['name']}, "
             f"{s['backbone']['resize']} resize")
    kid = [r.get("kid") if r.get("kid") is not None else math.nan for r in ok]
    kid_std = [r.get("kid_std") if r.get("kid_std") is not None else 0.0 for r in ok]
    return plot_fid([r["iteration"] for r in ok], [r["fid"] for r in ok], os.path.join(out, "fid.png"), title,
                    kid=kid, kid_std=kid_std)


def _clean(obj):
    """JSON-safe: NaN/inf -> None, numpy -> Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _json_float(obj)
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    return obj


def write_outputs(rows, out: str, summary: dict, complete: bool) -> None:
    from gan_keras.utils import write_json_atomic

    summary["checkpoints"] = rows
    summary["complete"] = complete
    summary["finished"] = _now() if complete else None
    write_tables(rows, out, summary)
    plot = write_plot(rows, out, summary)
    summary["files"] = {"table_csv": "metrics.csv", "table_md": "metrics.md", "fid_plot": "fid.png" if plot else None,
                        "json": "evaluation.json"}
    write_json_atomic(os.path.join(out, "evaluation.json"), _clean(summary))


# ----------------------------------------------------------------------------------------------
# the whole evaluation
# ----------------------------------------------------------------------------------------------

def run(args) -> int:
    from gan_keras import rundir
    from gan_keras.metrics.fid import SQRTM_METHOD
    from gan_keras.metrics.real_stats import real_features
    from gan_keras.metrics.scores import IS_SPLITS, KID_SUBSET_SIZE, KID_SUBSETS, PR_K

    started, t_start = _now(), time.perf_counter()
    fid_n, gen_n = args.FID_sample_number, args.Generate_sample_number
    for name, value in (("FID_sample_number", fid_n), ("Generate_sample_number", gen_n)):
        if value < MIN_SAMPLES:
            raise ConfigError(f"{name} must be at least {MIN_SAMPLES} (FID needs a covariance), got {value}")

    run_dir = args.model_directory
    config = rundir.read_config(run_dir)
    for key in ("dataset", "latent_dim"):
        if key not in config:
            raise RunDirError(f"{os.path.join(run_dir, rundir.CONFIG)} lacks '{key}': not a run written by GAN_main.py")
    checkpoints = rundir.list_checkpoints(run_dir)
    complete = {c.iteration for c in checkpoints}
    incomplete = [c.iteration for c in rundir.list_checkpoints(run_dir, include_incomplete=True)
                  if c.iteration not in complete]
    if not checkpoints:
        extra = (f" ({len(incomplete)} incomplete checkpoint folder(s) without a manifest were skipped: "
                 "still being written, or interrupted)") if incomplete else ""
        raise CheckpointError(f"no saved generator checkpoint in {os.path.join(run_dir, rundir.CHECKPOINTS)}{extra}; "
                              "train longer than save_model_interval iterations first")
    if incomplete:
        print(f"warning: skipped checkpoint(s) {', '.join(map(str, incomplete))}: not complete (still being "
              "written, or interrupted); run the evaluation again once training has saved them",
              file=sys.stderr, flush=True)
    if args.checkpoint is not None:
        wanted = _parse_checkpoint(args.checkpoint)
        chosen = [c for c in checkpoints if c.iteration == wanted]
        if not chosen:
            raise CheckpointError(f"no complete checkpoint for iteration {wanted} in {run_dir}; available: "
                                  + ", ".join(str(c.iteration) for c in checkpoints))
        checkpoints = chosen

    latent_dim = int(config["latent_dim"])
    image_shape = tuple(int(d) for d in config.get("image_shape") or ())
    if len(image_shape) != 3:
        try:
            from gan_keras.data import image_shape as registry_shape

            image_shape = tuple(registry_shape(config["dataset"]))
        except Exception:  # noqa: BLE001
            raise RunDirError(f"{run_dir}: config.json has no usable image_shape") from None
    dataset_size = int(config.get("dataset_size") or 0)
    est = estimate_memory(fid_n, gen_n, image_shape, dataset_size * int(np.prod(image_shape)),
                          batch_size=args.batch_size)
    available = mem_available()
    if available is not None and est["total"] > 0.9 * available:
        raise ConfigError(f"FID_sample_number {fid_n} needs about {_gib(est['total'])} of memory (Inception "
                          f"features {_gib(est['features'])}, distances {_gib(est['distances'])}, dataset "
                          f"{_gib(est['dataset'])}) but only {_gib(available)} is available; use a smaller number")
    out = os.path.abspath(args.out or os.path.join(run_dir, rundir.EVALUATION))
    try:
        os.makedirs(out, exist_ok=True)
        free = shutil.disk_usage(out).free
    except OSError as exc:
        raise ConfigError(f"cannot write to {out}: {exc.strerror or exc}") from None
    png_bytes = len(checkpoints) * gen_n * (int(np.prod(image_shape)) * 1.1 + 300)
    if png_bytes > 0.9 * free:
        raise ConfigError(f"Generate_sample_number {gen_n} for {len(checkpoints)} checkpoint(s) needs about "
                          f"{_gib(png_bytes)} of disk in {out}, only {_gib(free)} is free")

    _log(args, f"evaluating {run_dir}: {len(checkpoints)} checkpoint(s) "
               f"({', '.join(str(c.iteration) for c in checkpoints)}), backbone {args.inception}, {args.resize} resize")
    t = time.perf_counter()
    backbone = load_backbone(args.inception, args.inception_weights, args.resize)
    backbone_seconds = time.perf_counter() - t
    data_dir = args.data_dir if args.data_dir is not None else config.get("data_dir")
    dataset = load_real_dataset(config["dataset"], data_dir)
    if tuple(dataset.image_shape) != image_shape:
        raise DatasetError(f"the dataset {config['dataset']} now has images {dataset.image_shape}, the run was "
                           f"trained on {image_shape}")
    notes = []
    trained_fp = (config.get("dataset_info") or {}).get("fingerprint")
    current_fp = (dataset.info or {}).get("fingerprint")
    if trained_fp and current_fp and trained_fp != current_fp:
        notes.append(f"the training set found now ({current_fp}) differs from the one the run was trained on "
                     f"({trained_fp})")
        print(f"warning: {notes[-1]}", file=sys.stderr)
    if len(dataset) < fid_n:
        notes.append(f"the dataset has only {len(dataset)} images: all of them are the real set, fewer than "
                     f"FID_sample_number {fid_n}")
        print(f"warning: {notes[-1]}", file=sys.stderr)

    _log(args, f"real images: {min(fid_n, len(dataset))} of {len(dataset)} {config['dataset']} training images "
               f"(seed {args.seed})")
    real = real_features(dataset, backbone, fid_n, seed=args.seed, batch_size=args.batch_size,
                         use_cache=not args.no_cache, progress=not args.quiet)
    if args.save_real:
        real.description["saved_png_dir"] = _save_real(dataset, real.indices, out)
    real_reference = {}
    if real.probabilities is not None:
        try:
            m, s = _inception_score(real.probabilities)
            real_reference["inception_score"], real_reference["inception_score_std"] = m, s
        except GanKerasError as exc:
            real_reference["inception_score_error"] = str(exc)

    summary = {
        "tool": "GAN_evaluation.py", "command": [PROG] + list(args._argv), "started": started,
        "run_dir": os.path.abspath(run_dir), "out": out,
        "run": {k: config.get(k) for k in ("model", "dataset", "latent_dim", "image_shape", "seed", "epochs",
                                            "batch_size", "data_dir", "dataset_size")},
        "fid_sample_number": fid_n, "generate_sample_number": gen_n, "seed": args.seed,
        "skipped_incomplete_checkpoints": incomplete,
        "batch_size": args.batch_size,
        "backbone": {"name": backbone.name, "resize": args.resize, "feature_dim": int(backbone.feature_dim),
                     "has_classifier": bool(backbone.has_classifier),
                     "description": getattr(backbone, "description", {}), "load_seconds": backbone_seconds},
        "real_images": {**real.description, "reference_metrics": real_reference,
                        "why": "the run's own training images, the set the model learned from; the dissertation "
                               "defines no held-out split. As many real as generated images, so that FID's "
                               "sample-size bias is the same on both sides"},
        "generated_images": {"n_fid": fid_n, "n_saved": gen_n,
                             "noise": f"numpy.random.default_rng([{args.seed}, {NOISE_STREAM}]).standard_normal"
                                      f"((max(FID_sample_number, Generate_sample_number), {latent_dim})), float32, "
                                      "the same for every checkpoint",
                             "fid_images": "the first FID_sample_number of that noise",
                             "saved_images": "the first Generate_sample_number of that noise (00000.png = the first)",
                             "generation": f"model(z, training=False) in batches of {args.batch_size}",
                             "quantisation": "outputs rounded to 8 bits (as the saved PNGs, and as the real images) "
                                             "before the metrics: (round((x + 1) * 127.5) clipped to 0..255) / 127.5 - 1",
                             "grid_max": GRID_MAX},
        "settings": {"fid_formula": "|mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)) (eq. 2-15), float64, "
                                    "covariances with ddof=1",
                     "sqrtm": SQRTM_METHOD, "kid_subsets": KID_SUBSETS,
                     "kid_subset_size": int(min(KID_SUBSET_SIZE, fid_n, real.features.shape[0])),
                     "kid_kernel": "(x.y/d + 1)^3", "kid_seed": args.seed, "pr_k": PR_K, "is_splits": IS_SPLITS,
                     "similarity": None if args.no_similarity else
                     {"queries": SIMILARITY_QUERIES, "k": SIMILARITY_K,
                      "pixel_space": "L2 over [-1, 1] pixels, whole training set",
                      "feature_space": "L2 over Inception features, the real FID sample"}},
        "memory_estimate_bytes": est, "notes": notes, "versions": _versions(),
    }
    ctx = {"run_dir": run_dir, "out": out, "fid_n": fid_n, "generate_n": gen_n, "seed": args.seed,
           "latent_dim": latent_dim, "image_shape": image_shape, "backbone": backbone, "dataset": dataset,
           "real": real, "title": f"{config.get('model', '?')} on {config['dataset']}"}
    rows = []
    try:
        for i, ckpt in enumerate(checkpoints, 1):
            _log(args, f"checkpoint {i}/{len(checkpoints)}: iteration {ckpt.iteration}")
            rows.append(evaluate_checkpoint(ckpt, ctx, args))
            write_outputs(rows, out, summary, complete=False)
    finally:
        summary["total_seconds"] = time.perf_counter() - t_start
        write_outputs(rows, out, summary, complete=len(rows) == len(checkpoints))
    failed = [r for r in rows if r["status"] == "failed"]
    _log(args, f"wrote {os.path.join(out, 'metrics.md')}, metrics.csv, fid.png, evaluation.json "
               f"({summary['total_seconds']:.1f} s)")
    if failed and len(failed) == len(rows):
        raise CheckpointError(f"none of the {len(rows)} checkpoint(s) could be evaluated ({failed[0]['error']}); "
                              f"see {os.path.join(out, 'metrics.md')}")
    if failed:
        print(f"warning: {len(failed)} of {len(rows)} checkpoints could not be evaluated (see metrics.md): "
              + "; ".join(f"{r['iteration']}: {r['error']}" for r in failed), file=sys.stderr)
    return 0


def main(argv=None) -> int:
    quiet_tensorflow()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args._argv = argv
    try:
        return run(args)
    except GanKerasError as exc:
        return fail(PROG, str(exc), 2)
    except MemoryError:
        return fail(PROG, "out of memory: use a smaller FID_sample_number or --batch-size", 2)
    except OSError as exc:
        return fail(PROG, os_error_line(exc), 2)
    except KeyboardInterrupt:
        return fail(PROG, "interrupted; the outputs written so far are complete files", 130)


if __name__ == "__main__":
    raise SystemExit(main())
