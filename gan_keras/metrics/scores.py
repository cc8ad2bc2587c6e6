"""More metrics from the same Inception features: KID, improved precision/recall, Inception Score.

- **KID** (Binkowski et al. 2018): the unbiased estimate of the squared MMD with the cubic polynomial
  kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets as clean-fid and torch-fidelity do
  (default 100 subsets of min(1000, N_real, N_fake) samples drawn without replacement); reported as
  mean and standard deviation (ddof 0, as torch-fidelity) over the subsets.
- **Precision / recall** (Kynkaanniemi et al. 2019, "Improved precision and recall"): each set's
  manifold is the union of balls centred at its samples with radius the distance to the k-th nearest
  neighbour in the same set (k = 3, the sample itself not counted); precision = fraction of generated
  samples inside the real manifold, recall = fraction of real samples inside the generated manifold.
  Pairwise distances are computed in row blocks so memory stays at ``block * N`` numbers.
- **Inception Score** (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))) on 10 consecutive splits,
  mean and standard deviation over the splits, from the ImageNet classifier's softmax; only
  available for a backbone that has its classifier.
"""
from __future__ import annotations

import numpy as np

from gan_keras.metrics.fid import MetricError, _check_features

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PR_K = 3
IS_SPLITS = 10


# ----------------------------------------------------------------------------------------------
# KID
# ----------------------------------------------------------------------------------------------

def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    """(x.y / d + coef0) ** degree, d = feature dimension (gamma = 1/d)."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased squared MMD between samples x (m, d) and y (n, d) with the polynomial kernel."""
    m, n = x.shape[0], y.shape[0]
    kxx = polynomial_kernel(x, x, degree, coef0)
    kyy = polynomial_kernel(y, y, degree, coef0)
    kxy = polynomial_kernel(x, y, degree, coef0)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def kernel_inception_distance(real_features, fake_features, num_subsets: int = KID_SUBSETS,
                              subset_size: int = KID_SUBSET_SIZE, seed: int = 0,
                              return_info: bool = False, max_gram_bytes: int = 1 << 30):
    """KID mean and std over random subsets: ``(mean, std)`` (or ``(mean, std, info)``)."""
    real = _check_features(real_features, "real features")
    fake = _check_features(fake_features, "generated features")
    if real.shape[1] != fake.shape[1]:
        raise MetricError(f"feature sets have different dimensions: {real.shape[1]} vs {fake.shape[1]}")
    if num_subsets < 1:
        raise MetricError(f"KID needs at least one subset, got {num_subsets}")
    size = int(min(subset_size, real.shape[0], fake.shape[0]))
    if size < 2:
        raise MetricError(f"KID needs at least 2 samples per set, got {size}")
    nf, nr = fake.shape[0], real.shape[0]
    # With moderate sample sizes the three kernel matrices are computed once (4x fewer flops than
    # 100 subsets of 1000 at N = 5000) and every subset is a gather; otherwise subset by subset.
    gram = (nf * nf + nr * nr + nf * nr) * 8 <= max_gram_bytes
    if gram:
        kff = polynomial_kernel(fake, fake)
        krr = polynomial_kernel(real, real)
        kfr = polynomial_kernel(fake, real)
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets, np.float64)
    m = size
    for i in range(num_subsets):
        fi = rng.choice(nf, size, replace=False)
        ri = rng.choice(nr, size, replace=False)
        if not gram:
            values[i] = mmd2_unbiased(fake[fi], real[ri])
            continue
        a = kff[np.ix_(fi, fi)]
        b = krr[np.ix_(ri, ri)]
        c = kfr[np.ix_(fi, ri)]
        values[i] = ((a.sum() - np.trace(a)) / (m * (m - 1)) + (b.sum() - np.trace(b)) / (m * (m - 1))
                     - 2.0 * c.mean())
    mean, std = float(values.mean()), float(values.std())
    if not return_info:
        return mean, std
    return mean, std, {"subsets": int(num_subsets), "subset_size": size, "kernel": "(x.y/d + 1)^3",
                       "estimator": "unbiased MMD^2", "seed": int(seed), "std_ddof": 0}


# ----------------------------------------------------------------------------------------------
# improved precision and recall
# ----------------------------------------------------------------------------------------------

def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def pairwise_distances_blocks(x: np.ndarray, y: np.ndarray, block: int = 1024):
    """Yield (start, distances[start:start+block, :]) of the Euclidean distances between x and y rows."""
    yy = _squared_norms(y)
    for start in range(0, x.shape[0], block):
        xb = x[start:start + block]
        d2 = _squared_norms(xb)[:, None] - 2.0 * (xb @ y.T) + yy[None, :]
        np.maximum(d2, 0.0, out=d2)
        yield start, np.sqrt(d2, out=d2)


def knn_radii(features: np.ndarray, k: int = PR_K, block: int = 1024) -> np.ndarray:
    """Distance of every sample to its k-th nearest neighbour in the same set (itself excluded)."""
    n = features.shape[0]
    if n <= k:
        raise MetricError(f"precision/recall with k={k} needs more than {k} samples per set, got {n}")
    radii = np.empty(n, np.float64)
    for start, dist in pairwise_distances_blocks(features, features, block):
        rows = np.arange(dist.shape[0])
        dist[rows, start + rows] = -1.0  # the sample itself: always the smallest, then excluded
        radii[start:start + dist.shape[0]] = np.partition(dist, k, axis=1)[:, k]
    return radii


def _coverage(queries: np.ndarray, refs: np.ndarray, ref_radii: np.ndarray, block: int) -> float:
    """Fraction of query points inside at least one reference ball."""
    inside = 0
    for _, dist in pairwise_distances_blocks(queries, refs, block):
        inside += int(np.any(dist <= ref_radii[None, :], axis=1).sum())
    return inside / queries.shape[0]


def precision_recall(real_features, fake_features, k: int = PR_K, block: int = 1024,
                     return_info: bool = False):
    """Improved precision and recall (Kynkaanniemi et al. 2019): ``(precision, recall)``."""
    real = _check_features(real_features, "real features")
    fake = _check_features(fake_features, "generated features")
    if real.shape[1] != fake.shape[1]:
        raise MetricError(f"feature sets have different dimensions: {real.shape[1]} vs {fake.shape[1]}")
    real_radii = knn_radii(real, k, block)
    fake_radii = knn_radii(fake, k, block)
    precision = _coverage(fake, real, real_radii, block)
    recall = _coverage(real, fake, fake_radii, block)
    if not return_info:
        return precision, recall
    return precision, recall, {"k": int(k), "distance": "Euclidean in feature space",
                               "n_real": int(real.shape[0]), "n_generated": int(fake.shape[0])}


# ----------------------------------------------------------------------------------------------
# Inception Score
# ----------------------------------------------------------------------------------------------

def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def inception_score(logits=None, probabilities=None, splits: int = IS_SPLITS, eps: float = 1e-16):
    """Inception Score ``(mean, std)`` over ``splits`` consecutive splits (Salimans et al. 2016).

    Pass the classifier's ``logits`` (softmax applied here) or its class ``probabilities``.
    """
    if (logits is None) == (probabilities is None):
        raise ValueError("pass exactly one of logits or probabilities")
    p = softmax(logits) if logits is not None else np.asarray(probabilities, np.float64)
    if p.ndim != 2:
        raise MetricError(f"class probabilities must be 2-d (samples, classes), got shape {p.shape}")
    if not np.isfinite(p).all():
        raise MetricError("class probabilities contain NaN or inf")
    n = p.shape[0]
    if n < splits:
        raise MetricError(f"the Inception Score with {splits} splits needs at least {splits} images, got {n}")
    scores = []
    for i in range(splits):  # the split boundaries of the original implementation
        part = p[i * n // splits:(i + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + eps) - np.log(py + eps))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
