"""Inception features of the real images, computed once and cached.

Which real images
-----------------
The real set of an evaluation is a seeded uniform random sample, without replacement, of
``FID_sample_number`` images of the run's training set (all of them when the set is smaller),
drawn with ``numpy.random.default_rng(seed).choice(N, n, replace=False)`` and sorted. Using as many
real as generated images keeps FID's sample-size bias the same on both sides and FIDs comparable
across runs evaluated with the same number; the training images are the ones the dissertation's
models were trained on and compared with (it defines no held-out split).

Cache
-----
``<cache dir>/fid_stats/<dataset>-<backbone>-<resize>-n<n>-seed<seed>-<12 hex>.npz``, beside the
dataset cache (``$GAN_KERAS_CACHE_DIR`` or ``<repo>/data/cache``). The hex digest covers the
dataset's content fingerprint, the selected indices, the backbone's description (network, weights
file hash, resize) and this module's version, so a changed dataset, backbone or weights file
never reuses stale features. The file holds the features (float32, exactly the network's float32
output), the classifier's probabilities when the backbone has one, the indices and a JSON
``meta``; it is written atomically and a damaged or mismatching file is recomputed. Backbones
without pretrained weights (random initialisation, tests) are never cached.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from gan_keras.errors import warn
from gan_keras.utils import load_keyed_npz, save_keyed_npz

CACHE_VERSION = 1
CACHE_SUBDIR = "fid_stats"
SELECTION = ("seeded uniform random sample without replacement of the training images "
             "(numpy.random.default_rng(seed).choice(N, n, replace=False), sorted); all images if N <= n")


@dataclass
class RealFeatures:
    features: np.ndarray                 # (n, D) float64
    probabilities: np.ndarray | None     # (n, classes) float64 or None
    indices: np.ndarray                  # (n,) int64 indices into the training set
    description: dict = field(default_factory=dict)


def select_indices(total: int, n: int, seed: int) -> np.ndarray:
    """Sorted indices of the real sample: ``n`` of ``total`` drawn without replacement (all if fewer)."""
    if n >= total:
        return np.arange(total, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=n, replace=False)).astype(np.int64)


def default_cache_dir() -> str:
    """``<dataset cache>/fid_stats``: $GAN_KERAS_CACHE_DIR or <repo>/data/cache, as the data module."""
    try:
        from gan_keras.data import resolve_cache_dir

        base = resolve_cache_dir()
    except ImportError:  # pragma: no cover - the data module is always there in a full checkout
        base = os.environ.get("GAN_KERAS_CACHE_DIR", "").strip() or os.path.join(
            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data", "cache")
    return os.path.join(base, CACHE_SUBDIR)


def dataset_fingerprint(dataset) -> str:
    """The dataset's content fingerprint (computed here when the loader did not record one)."""
    fp = (getattr(dataset, "info", None) or {}).get("fingerprint")
    if fp:
        return str(fp)
    digest = hashlib.sha256(str(dataset.images.shape).encode())
    digest.update(memoryview(np.ascontiguousarray(dataset.images)).cast("B"))
    return f"{dataset.name}-{'x'.join(str(d) for d in dataset.images.shape)}-{digest.hexdigest()[:16]}"


def backbone_cacheable(backbone) -> bool:
    """False for backbones whose features are not reproducible (random initialisation, test fakes)."""
    explicit = getattr(backbone, "cacheable", None)
    if explicit is not None:
        return bool(explicit)
    desc = getattr(backbone, "description", {}) or {}
    if backbone.name == "keras" and not desc.get("weights"):
        return False
    return True


def content_description(description: dict | None) -> dict:
    """A backbone's description without where its weights file lies, when the file's hash is in it:
    the same weights reached by another path (a link, a copy) describe the same network. Without a
    hash the path stays, the only trace of which weights were used."""
    desc = dict(description or {})
    if desc.get("sha256") or desc.get("md5"):
        desc.pop("file", None)
    return desc


def _cache_key(fingerprint: str, indices: np.ndarray, backbone) -> str:
    h = hashlib.sha256()
    desc = content_description(getattr(backbone, "description", None))
    h.update(json.dumps({"version": CACHE_VERSION, "fingerprint": fingerprint, "backbone": backbone.name,
                         "resize": getattr(backbone, "resize", None), "description": desc},
                        sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(indices, dtype=np.int64).tobytes())
    return h.hexdigest()


def cache_path(cache_dir: str, dataset_name: str, backbone, n: int, seed: int, key: str) -> str:
    resize = getattr(backbone, "resize", "na")
    return os.path.join(cache_dir, f"{dataset_name}-{backbone.name}-{resize}-n{n}-seed{seed}-{key[:12]}.npz")


def _read_cache(path: str, key: str, n: int, dim: int, want_probs: bool):
    try:
        found = load_keyed_npz(path, key)
        if found is None:
            return None
        arrays, meta = found
        feats = np.asarray(arrays["features"], np.float64)
        probs = np.asarray(arrays["probabilities"], np.float64) if "probabilities" in arrays else None
        indices = np.asarray(arrays["indices"], np.int64)
        if feats.shape != (n, dim) or indices.shape != (n,) or not np.isfinite(feats).all():
            raise ValueError(f"unexpected features {feats.shape}")
        if want_probs and (probs is None or probs.shape[0] != n):
            return None
        return feats, probs, indices, meta
    except Exception as exc:  # noqa: BLE001 - a damaged cache is recomputed, whatever the damage
        warn(f"ignoring damaged real-feature cache {path} ({type(exc).__name__}: {exc}); recomputing")
        return None


def _write_cache(path: str, feats, probs, indices, meta) -> bool:
    try:
        arrays = {"features": feats.astype(np.float32), "indices": indices}
        if probs is not None:
            arrays["probabilities"] = probs.astype(np.float32)
        save_keyed_npz(path, arrays, meta)
        return True
    except Exception as exc:  # noqa: BLE001 - caching is an optimisation, never fatal
        warn(f"could not write real-feature cache {path} ({type(exc).__name__}: {exc})")
        return False


def compute_features(backbone, images_uint8: np.ndarray, batch_size: int, want_probs: bool,
                     progress: bool = True, label: str = "real images", chunk: int = 100):
    """Features (and probabilities) of uint8 images, converted to [-1, 1] chunk by chunk."""
    from gan_keras.data.base import to_unit_range
    from gan_keras.metrics.progress import Progress

    n = images_uint8.shape[0]
    chunk = batch_size * max(1, -(-chunk // batch_size))  # whole batches; progress updated once per chunk
    feats, probs = [], []
    with Progress(n, f"features of {label}", enabled=progress) as bar:
        for start in range(0, n, chunk):
            batch = to_unit_range(images_uint8[start:start + chunk])
            if want_probs:
                f, p = backbone.features_and_logits(batch, batch_size=batch_size)
                probs.append(np.asarray(p, np.float64))
            else:
                f = backbone.features(batch, batch_size=batch_size)
            feats.append(np.asarray(f, np.float64))
            bar.update(batch.shape[0])
    return np.concatenate(feats), (np.concatenate(probs) if want_probs else None)


def real_features(dataset, backbone, sample_number: int, seed: int = 0, batch_size: int = 50,
                  cache_dir: str | None = None, use_cache: bool = True, progress: bool = True) -> RealFeatures:
    """Features of the real sample of ``dataset`` (see the module docstring), from the cache if possible."""
    total = len(dataset)
    indices = select_indices(total, int(sample_number), int(seed))
    n = int(indices.shape[0])
    fingerprint = dataset_fingerprint(dataset)
    want_probs = bool(getattr(backbone, "has_classifier", False))
    key = _cache_key(fingerprint, indices, backbone)
    cacheable = use_cache and backbone_cacheable(backbone)
    cache_dir = cache_dir or default_cache_dir()
    path = cache_path(cache_dir, dataset.name, backbone, n, seed, key) if cacheable else None
    description = {
        "dataset": dataset.name,
        "dataset_fingerprint": fingerprint,
        "dataset_source": getattr(dataset, "source", ""),
        "dataset_size": total,
        "requested": int(sample_number),
        "n": n,
        "seed": int(seed),
        "selection": SELECTION,
        "indices_sha256": hashlib.sha256(indices.tobytes()).hexdigest()[:16],
        "cache_file": path,
    }
    t0 = time.perf_counter()
    hit = _read_cache(path, key, n, int(backbone.feature_dim), want_probs) if path else None
    if hit is not None:
        feats, probs, _, meta = hit
        description.update(cache="hit", seconds=time.perf_counter() - t0,
                           computed_seconds=meta.get("seconds"), images_per_second=meta.get("images_per_second"))
        if progress:
            print(f"real-image features: {n} images from cache {path}", file=sys.stderr)
        return RealFeatures(feats, probs if want_probs else None, indices, description)
    feats, probs = compute_features(backbone, dataset.images[indices], batch_size, want_probs, progress)
    # what the cache stores (float32, the networks' own precision), so a hit gives the same numbers
    feats = feats.astype(np.float32).astype(np.float64)
    probs = None if probs is None else probs.astype(np.float32).astype(np.float64)
    seconds = time.perf_counter() - t0
    ips = n / seconds if seconds > 0 else None
    description.update(cache="miss" if path else "off", seconds=seconds, images_per_second=ips)
    if path:
        meta = {"key": key, "dataset": dataset.name, "fingerprint": fingerprint, "backbone": backbone.name,
                "resize": getattr(backbone, "resize", None), "n": n, "seed": int(seed), "seconds": seconds,
                "images_per_second": ips, "backbone_description": getattr(backbone, "description", {})}
        if not _write_cache(path, feats, probs, indices, meta):
            description["cache"] = "write failed"
    return RealFeatures(feats, probs, indices, description)
