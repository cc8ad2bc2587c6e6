"""Frechet Inception Distance (dissertation equation 2-15) and a folder-to-folder command.

    FID = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))

computed in float64 from two sets of Inception features (N, 2048).

The matrix square root
----------------------
Only the trace of (S1 S2)^(1/2) is needed. S1 S2 is not symmetric, which is why pytorch-fid calls
``scipy.linalg.sqrtm`` (a Schur method) on it and then has to cope with complex round-off and with
non-finite results when a covariance is singular (it retries with ``eps * I`` added and rejects
imaginary parts above 1e-3). This module uses instead the identity

    Tr (S1 S2)^(1/2) = Tr (S1^(1/2) S2 S1^(1/2))^(1/2) = sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2)))

where S1^(1/2) comes from the symmetric eigendecomposition of S1 and the middle matrix is symmetric
positive semi-definite, so ``numpy.linalg.eigh`` / ``eigvalsh`` apply: real arithmetic only, no
imaginary parts, no need for an eps offset, and exact (to round-off) for rank-deficient covariances,
e.g. when fewer than 2048 images are used. Eigenvalues below ``d * machine-eps * max`` (round-off
around a true zero) are set to zero before the square root. ``method="scipy"`` reproduces
pytorch-fid's computation for comparison.

Folder command (the pytorch-fid convention)
-------------------------------------------

    python -m gan_keras.metrics.fid DIR_A DIR_B [--inception fid|keras] [--batch-size 50]
                                                [--inception-weights PATH] [--resize bilinear]

Every image file directly in each folder (bmp, jpg, jpeg, pgm, png, ppm, tif, tiff, webp; any
size) is read as pytorch-fid reads it: ``PIL.Image.open(path).convert("RGB")`` (grayscale and
palette images become 3 equal channels, alpha is dropped), then 8-bit values x are mapped to
x / 127.5 - 1, i.e. pytorch-fid's ``2 * ToTensor(x) - 1``; the backbone resizes to 299x299
(bilinear, half-pixel centres, as ``F.interpolate(..., align_corners=False)``) and computes the
2048-d pool features. The ``fid`` backbone then rescales to the 2015 TF graph's own x / 128 - 1;
pytorch-fid feeds x / 127.5 - 1, which moves an FID by about 0.025 % (README, Backbones), so
statistics from pytorch-fid's ``--save-stats`` and from this command differ by that much. A path
may also be a ``.npz`` file holding ``mu`` and ``sigma`` (as written by pytorch-fid's
``--save-stats``). Prints ``FID: <value>``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from gan_keras.errors import ConfigError, DatasetError, GanKerasError

IMAGE_EXTENSIONS = ("bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp")  # pytorch-fid's list

SQRTM_METHOD = ("float64; Tr (S1 S2)^1/2 = sum sqrt(eig(S1^1/2 S2 S1^1/2)) by symmetric eigendecompositions "
                "(numpy.linalg.eigh), or, for a set of N <= D samples with S = A A^T (A = centred features / "
                "sqrt(N-1)), from singular values of A1^T A2 / eigenvalues of A1^T S2 A1; no eps offset, "
                "no imaginary parts")


class MetricError(GanKerasError):
    """A metric cannot be computed from the given features (too few samples, NaN or inf values)."""


# ----------------------------------------------------------------------------------------------
# statistics and the Frechet distance
# ----------------------------------------------------------------------------------------------

def _check_features(features, name: str = "features") -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise MetricError(f"{name} must be a 2-d array (samples, dims), got shape {features.shape}")
    if features.shape[0] < 2:
        raise MetricError(f"{name}: at least 2 samples are needed for a covariance, got {features.shape[0]}")
    if not np.isfinite(features).all():
        bad = int((~np.isfinite(features).all(axis=1)).sum())
        raise MetricError(f"{name}: {bad} of {features.shape[0]} feature vectors contain NaN or inf "
                          "(did the generator produce NaN images?)")
    return features


def statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (unbiased, ddof=1, as pytorch-fid / TTUR) of (N, D) features, in float64."""
    features = _check_features(features)
    mu = features.mean(axis=0)
    centred = features - mu
    sigma = centred.T @ centred / (features.shape[0] - 1)
    return mu, (sigma + sigma.T) / 2.0


def _psd_sqrt(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Square root of a symmetric PSD matrix; returns it and the most negative eigenvalue seen."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2.0)
    floor = max(float(w.max()), 0.0) * matrix.shape[0] * np.finfo(np.float64).eps
    most_negative = float(w.min())
    w = np.where(w > floor, w, 0.0)
    return (v * np.sqrt(w)) @ v.T, most_negative


def trace_sqrt_product(sigma1, sigma2) -> tuple[float, dict]:
    """Tr((sigma1 sigma2)^(1/2)) for symmetric PSD matrices, with diagnostics."""
    root1, neg1 = _psd_sqrt(np.asarray(sigma1, np.float64))
    middle = root1 @ np.asarray(sigma2, np.float64) @ root1
    ev = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    floor = max(float(ev.max()), 0.0) * middle.shape[0] * np.finfo(np.float64).eps
    kept = ev > floor
    info = {
        "min_eigenvalue_sigma1": neg1,
        "min_eigenvalue_product": float(ev.min()),
        "rank_product": int(kept.sum()),
    }
    return float(np.sqrt(ev[kept]).sum()), info


def _trace_sqrt_product_scipy(sigma1, sigma2, eps: float = 1e-6) -> float:
    """pytorch-fid's computation (scipy.linalg.sqrtm with its eps fallback), for comparison."""
    from scipy import linalg

    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if isinstance(covmean, tuple):  # older scipy with disp=False
        covmean = covmean[0]
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            m = np.max(np.abs(covmean.imag))
            raise MetricError(f"matrix square root has a large imaginary component {m}")
        covmean = covmean.real
    return float(np.trace(covmean))


def frechet_distance(mu1, sigma1, mu2, sigma2, method: str = "eigh", return_info: bool = False):
    """The Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    ``method="eigh"`` (default, see the module docstring) or ``"scipy"`` (pytorch-fid's way).
    With ``return_info`` returns ``(fid, info)`` where info holds the terms and diagnostics.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape:
        raise MetricError(f"mean vectors have different lengths: {mu1.shape} vs {mu2.shape}")
    if sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise MetricError(f"covariances have shapes {sigma1.shape} and {sigma2.shape}; expected "
                          f"{(mu1.size, mu1.size)}")
    for name, arr in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.isfinite(arr).all():
            raise MetricError(f"{name} contains NaN or inf")
    diff = mu1 - mu2
    mean_term = float(diff.dot(diff))
    if method == "eigh":
        tr_covmean, info = trace_sqrt_product(sigma1, sigma2)
    elif method == "scipy":
        tr_covmean, info = _trace_sqrt_product_scipy(sigma1, sigma2), {}
    else:
        raise ValueError(f"unknown method {method!r} (eigh or scipy)")
    tr1, tr2 = float(np.trace(sigma1)), float(np.trace(sigma2))
    fid = mean_term + tr1 + tr2 - 2.0 * tr_covmean
    # Round-off can push an exact zero (identical statistics) a hair below 0.
    scale = max(tr1 + tr2, 1.0)
    if -1e-9 * scale < fid < 0.0:
        fid = 0.0
    if not return_info:
        return fid
    info.update({"mean_term": mean_term, "trace_sigma1": tr1, "trace_sigma2": tr2,
                 "trace_sqrt_product": tr_covmean, "method": method})
    return fid, info


def _eigen_sqrt_trace(middle: np.ndarray) -> float:
    """sum sqrt(lambda_i) of a symmetric PSD matrix, round-off around zero removed."""
    ev = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    floor = max(float(ev.max()), 0.0) * middle.shape[0] * np.finfo(np.float64).eps
    return float(np.sqrt(ev[ev > floor]).sum())


def fid_from_features(features1, features2, method: str = "eigh", return_info: bool = False):
    """FID between two feature sets (N1, D) and (N2, D), in float64.

    Same value as ``frechet_distance(*statistics(f1), *statistics(f2))`` but cheaper and more
    accurate when a set has no more samples than dimensions (the usual case below 2048 images):
    with A = centred features / sqrt(N - 1) (so S = A A^T, exactly, no square root),
    Tr (S1 S2)^(1/2) is the sum of the singular values of A1^T A2 (both sets small) or the sum of
    the square roots of the eigenvalues of the symmetric PSD matrix A1^T S2 A1 (one set small, A1 the smaller).
    ``method="scipy"`` goes through the covariances as pytorch-fid does.
    """
    f1 = _check_features(features1, "features1")
    f2 = _check_features(features2, "features2")
    if f1.shape[1] != f2.shape[1]:
        raise MetricError(f"feature sets have different dimensions: {f1.shape[1]} vs {f2.shape[1]}")
    d = f1.shape[1]
    if method != "eigh" or (f1.shape[0] > d and f2.shape[0] > d):
        mu1, s1 = statistics(f1)
        mu2, s2 = statistics(f2)
        return frechet_distance(mu1, s1, mu2, s2, method=method, return_info=return_info)
    swapped = f1.shape[0] > f2.shape[0]
    if swapped:  # make f1 the smaller set (the distance is symmetric; the info keeps the caller's order)
        f1, f2 = f2, f1
    mu1, mu2 = f1.mean(axis=0), f2.mean(axis=0)
    a1 = (f1 - mu1).T / np.sqrt(f1.shape[0] - 1)
    diff = mu1 - mu2
    mean_term = float(diff.dot(diff))
    tr1 = float(np.sum(a1 * a1))
    if f2.shape[0] <= d:
        a2 = (f2 - mu2).T / np.sqrt(f2.shape[0] - 1)
        tr2 = float(np.sum(a2 * a2))
        tr_covmean = float(np.linalg.svd(a1.T @ a2, compute_uv=False).sum())
        how = "sum of singular values of A1^T A2 (A = centred features / sqrt(N-1))"
    else:
        _, s2 = statistics(f2)
        tr2 = float(np.trace(s2))
        tr_covmean = _eigen_sqrt_trace(a1.T @ s2 @ a1)
        how = "sum of sqrt(eigenvalues) of A1^T S2 A1 (A1 = centred features / sqrt(N1-1))"
    fid = mean_term + tr1 + tr2 - 2.0 * tr_covmean
    if -1e-9 * max(tr1 + tr2, 1.0) < fid < 0.0:
        fid = 0.0
    if not return_info:
        return fid
    if swapped:
        tr1, tr2 = tr2, tr1
    return fid, {"mean_term": mean_term, "trace_sigma1": tr1, "trace_sigma2": tr2,
                 "trace_sqrt_product": tr_covmean, "method": how}


# ----------------------------------------------------------------------------------------------
# image folders (pytorch-fid convention)
# ----------------------------------------------------------------------------------------------

def list_image_files(folder: str) -> list[str]:
    """Image files directly in ``folder`` (not recursive), sorted; extensions matched case-insensitively."""
    if not os.path.isdir(folder):
        raise DatasetError(f"image folder not found: {folder}")
    files = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        ext = os.path.splitext(name)[1][1:].lower()
        if ext in IMAGE_EXTENSIONS and os.path.isfile(path):
            files.append(path)
    if not files:
        raise DatasetError(f"no images in {folder} (expected files ending in "
                           f"{', '.join('.' + e for e in IMAGE_EXTENSIONS)} directly in that folder)")
    return files


def read_image_rgb(path: str) -> np.ndarray:
    """uint8 (H, W, 3), read exactly as pytorch-fid does: PIL ``.convert('RGB')``."""
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def folder_features(folder: str, backbone, batch_size: int = 50, progress: bool = True,
                    stream=None) -> tuple[np.ndarray, dict]:
    """Features (N, D) float64 of every image in ``folder`` and a description of what was read.

    Images are streamed ``batch_size`` at a time (memory stays bounded for big folders); images of
    different sizes in one batch are passed to the backbone in groups of equal size. Unreadable files
    are skipped with a warning and counted; a folder with no readable image is an error.
    """
    from gan_keras.metrics.progress import Progress

    stream = stream if stream is not None else sys.stderr
    files = list_image_files(folder)
    feats: list[np.ndarray] = []
    skipped: list[str] = []
    sizes: dict[str, int] = {}
    t0 = time.perf_counter()
    with Progress(len(files), f"features {os.path.basename(os.path.normpath(folder))}", stream=stream,
                  enabled=progress) as bar:
        for start in range(0, len(files), batch_size):
            chunk = files[start:start + batch_size]
            groups: dict[tuple, list[np.ndarray]] = {}
            for path in chunk:
                try:
                    img = read_image_rgb(path)
                except Exception as exc:  # unreadable / truncated / not an image
                    skipped.append(path)
                    stream.write(f"warning: skipping unreadable image {path}: {exc}\n")
                    continue
                groups.setdefault(img.shape, []).append(img)
            for shape, imgs in groups.items():
                key = f"{shape[1]}x{shape[0]}"
                sizes[key] = sizes.get(key, 0) + len(imgs)
                batch = np.stack(imgs).astype(np.float32) / 127.5 - 1.0
                feats.append(np.asarray(backbone.features(batch, batch_size=batch_size), np.float64))
            bar.update(len(chunk))
    if not feats:
        raise DatasetError(f"no readable images in {folder} ({len(skipped)} unreadable files skipped)")
    features = np.concatenate(feats, axis=0)
    seconds = time.perf_counter() - t0
    info = {"folder": os.path.abspath(folder), "images": int(features.shape[0]), "skipped": len(skipped),
            "sizes_WxH": sizes, "seconds": seconds,
            "images_per_second": features.shape[0] / seconds if seconds > 0 else None}
    return features, info


def _stats_for_path(path: str, backbone_factory, batch_size: int, progress: bool):
    if os.path.isfile(path) and path.lower().endswith(".npz"):
        try:
            with np.load(path) as data:
                return np.asarray(data["mu"], np.float64), np.asarray(data["sigma"], np.float64), \
                    {"stats_file": os.path.abspath(path)}
        except (OSError, KeyError, ValueError) as exc:
            raise DatasetError(f"{path} is not a statistics file with 'mu' and 'sigma' ({exc})") from None
    features, info = folder_features(path, backbone_factory(), batch_size=batch_size, progress=progress)
    if features.shape[0] < 2:
        raise DatasetError(f"{path}: at least 2 images are needed for FID, found {features.shape[0]}")
    mu, sigma = statistics(features)
    return mu, sigma, info


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan_keras.metrics.fid",
        description="FID between two image folders (pytorch-fid convention). Prints 'FID: <value>'.")
    parser.add_argument("path_a", metavar="DIR_A", help="folder of images (or a .npz with mu and sigma)")
    parser.add_argument("path_b", metavar="DIR_B", help="folder of images (or a .npz with mu and sigma)")
    parser.add_argument("--inception", choices=["fid", "keras"], default="fid",
                        help="feature network: 'fid' = the TF 2015-12-05 FID Inception of pytorch-fid/TTUR "
                             "(default; comparable with published FIDs), 'keras' = keras.applications.InceptionV3 "
                             "ImageNet weights (the dissertation's)")
    parser.add_argument("--inception-weights", metavar="PATH", default=None,
                        help="weights file of the chosen network (default: found automatically)")
    parser.add_argument("--batch-size", type=int, default=50, help="images per forward pass (default 50)")
    parser.add_argument("--resize", choices=["bilinear", "nearest"], default="bilinear",
                        help="resize to 299x299 (default bilinear with half-pixel centres, as pytorch-fid)")
    parser.add_argument("--method", choices=["eigh", "scipy"], default="eigh",
                        help="matrix square root: eigh (default, stable) or scipy (pytorch-fid's sqrtm)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.batch_size < 1:
            raise ConfigError(f"--batch-size must be a positive integer, got {args.batch_size}")
        for path in (args.path_a, args.path_b):  # fail on a missing/empty folder before loading a network
            if not (os.path.isfile(path) and path.lower().endswith(".npz")):
                list_image_files(path)
        cache = {}

        def factory():
            if "backbone" not in cache:
                from gan_keras.metrics import backbones

                kwargs = {"resize": args.resize}
                if args.inception_weights is not None:
                    kwargs["weights"] = args.inception_weights
                cache["backbone"] = backbones.get_backbone(args.inception, **kwargs)
            return cache["backbone"]

        mu1, s1, _ = _stats_for_path(args.path_a, factory, args.batch_size, not args.quiet)
        mu2, s2, _ = _stats_for_path(args.path_b, factory, args.batch_size, not args.quiet)
        if mu1.shape != mu2.shape:
            raise ConfigError(f"the two statistics have different dimensions ({mu1.size} vs {mu2.size})")
        value = frechet_distance(mu1, s1, mu2, s2, method=args.method)
    except GanKerasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if "backbone" in cache and not args.quiet:
        print(f"backbone: {args.inception} ({args.resize} resize to 299x299)", file=sys.stderr)
    print(f"FID: {value:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
