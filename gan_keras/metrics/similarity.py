"""Nearest real images of generated ones (dissertation Figures 4-13, 4-14, 4-16, 4-17, 4-31, 4-44).

For a handful of generated images, the closest real images by Euclidean (L2) distance

- in **pixel space**: over the *whole* training set, images compared as float [-1, 1] vectors
  (H*W*C numbers), computed block by block so memory stays bounded;
- in **Inception feature space**: over the real sample whose features the evaluation already
  computed for FID (2048-d pool features; computing features for every training image would
  cost far more than the rest of the evaluation on a CPU).

A generated image that is (almost) a copy of a training image shows up as a pixel-space
neighbour at a small distance: this is how a user sees whether a model memorises its data.
"""
from __future__ import annotations

import numpy as np


def nearest_neighbours(queries, references, k: int = 4, block: int = 2048, transform=None):
    """Indices and L2 distances of the ``k`` nearest ``references`` rows of every query row.

    Args:
        queries: (q, D) array.
        references: (N, D) array (any dtype, e.g. uint8 pixels); read ``block`` rows at a time.
        k: neighbours per query (at most N).
        transform: applied to each block of references (e.g. uint8 -> [-1, 1]) before comparing.

    Returns:
        ``(indices (q, k) int64, distances (q, k) float64)``, nearest first.
    """
    q = np.asarray(queries, np.float64).reshape(len(queries), -1)
    n = int(references.shape[0])
    k = int(min(k, n))
    if k < 1:
        raise ValueError("nearest_neighbours needs at least one reference")
    qq = np.einsum("ij,ij->i", q, q)
    best_d = np.full((q.shape[0], 0), np.inf)
    best_i = np.zeros((q.shape[0], 0), np.int64)
    for start in range(0, n, block):
        ref = references[start:start + block]
        ref = transform(ref) if transform is not None else ref
        ref = np.asarray(ref, np.float64).reshape(ref.shape[0], -1)
        if ref.shape[1] != q.shape[1]:
            raise ValueError(f"queries have {q.shape[1]} values, references {ref.shape[1]}")
        d2 = qq[:, None] - 2.0 * (q @ ref.T) + np.einsum("ij,ij->i", ref, ref)[None, :]
        cand_d = np.concatenate([best_d, np.sqrt(np.maximum(d2, 0.0))], axis=1)
        cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + ref.shape[0]), d2.shape)], axis=1)
        order = np.argsort(cand_d, axis=1, kind="stable")[:, :k]
        best_d = np.take_along_axis(cand_d, order, axis=1)
        best_i = np.take_along_axis(cand_i, order, axis=1)
    return best_i.astype(np.int64), best_d


def pixel_neighbours(generated, real_uint8, k: int = 4, block: int = 2048):
    """Nearest training images in pixel space: generated float [-1, 1] (q, H, W, C) vs uint8 (N, H, W, C)."""
    from gan_keras.data.base import to_unit_range

    generated = np.asarray(generated, np.float32)
    if generated.shape[1:] != real_uint8.shape[1:]:
        raise ValueError(f"generated images {generated.shape[1:]} and real images {real_uint8.shape[1:]} differ in shape")
    return nearest_neighbours(generated.reshape(len(generated), -1), real_uint8.reshape(len(real_uint8), -1),
                              k=k, block=block, transform=to_unit_range)


def feature_neighbours(generated_features, real_features, k: int = 4, block: int = 4096):
    """Nearest real samples in feature space (indices into ``real_features``)."""
    return nearest_neighbours(generated_features, np.asarray(real_features), k=k, block=block)
