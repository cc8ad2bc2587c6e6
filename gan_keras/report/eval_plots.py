"""Figures of the evaluation: FID against iterations and the nearest-neighbour sheet."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gan_keras.data.base import to_uint8  # noqa: E402
from gan_keras.report.plots import save_figure as _save  # noqa: E402


def plot_fid(iterations, fids, path: str, title: str, kid=None, kid_std=None, diverged=((), ())) -> str:
    """FID (left axis) against training iterations, KID x 10^3 (right axis, with its std; the unit
    of the metrics table) when given; one legend for both. ``diverged``: (iterations, values) of
    checkpoints whose images held NaN or inf, red crosses off the curve (not FIDs of the model)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    it = np.asarray(iterations, np.float64)
    fid = np.asarray(fids, np.float64)
    if len(it):
        ax.plot(it, fid, "o-", color="tab:blue", label="FID")
    if len(diverged[0]):
        ax.plot(diverged[0], diverged[1], "x", color="tab:red", markersize=9, markeredgewidth=2,
                label="NaN/inf images, replaced by 0 (no FID of the model)")
    for x, y in zip(it, fid):
        if math.isfinite(y):
            ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.margins(x=0.08, y=0.15)
    ax.set_xlabel("iteration")
    ax.set_ylabel("FID (lower is better)", color="tab:blue")
    ax.grid(True, alpha=0.3)
    handles = ax.get_legend_handles_labels()
    if kid is not None and np.isfinite(np.asarray(kid, np.float64)).any():
        ax2 = ax.twinx()
        k = 1e3 * np.asarray(kid, np.float64)
        ax2.errorbar(it, k, yerr=None if kid_std is None else 1e3 * np.asarray(kid_std, np.float64),
                     fmt="s--", color="tab:orange", alpha=0.7, capsize=3,
                     label="KID x 10³" + (" (± std)" if kid_std is not None else ""))
        ax2.set_ylabel("KID x 10³", color="tab:orange")
        more = ax2.get_legend_handles_labels()
        handles = (handles[0] + more[0], handles[1] + more[1])
    ax.legend(*handles, loc="upper right", fontsize=8, framealpha=0.7)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def _rgb(images) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        arr = to_uint8(arr)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    return arr


def plot_similarity(generated, pixel_nn, pixel_dist, feature_nn, feature_dist, path: str, title: str,
                    feature_label: str = "Inception features") -> str:
    """One row per generated image: the image, its nearest real images in pixel space, then in
    feature space, each labelled with its L2 distance.

    generated: (q, H, W, C) float [-1, 1]; pixel_nn / feature_nn: (q, k, H, W, C) uint8 or None.
    """
    gen = _rgb(generated)
    q = gen.shape[0]
    k_pix = 0 if pixel_nn is None else pixel_nn.shape[1]
    k_feat = 0 if feature_nn is None else feature_nn.shape[1]
    # columns: generated | gap | pixel neighbours | gap | feature neighbours
    layout = [("gen", 0)] + ([("gap", 0)] + [("pix", j) for j in range(k_pix)] if k_pix else []) + \
             ([("gap", 0)] + [("feat", j) for j in range(k_feat)] if k_feat else [])
    widths = [0.25 if kind == "gap" else 1.0 for kind, _ in layout]
    size = 1.15
    fig, axes = plt.subplots(q, len(layout), figsize=(size * sum(widths), size * q + 0.7), squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    for r in range(q):
        for c, (kind, j) in enumerate(layout):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if kind == "gap":
                ax.axis("off")
                continue
            if kind == "gen":
                img, header, dist = gen[r], "generated", None
            elif kind == "pix":
                img, header, dist = _rgb(pixel_nn[r, j:j + 1])[0], f"pixel NN {j + 1}", pixel_dist[r, j]
            else:
                img, header, dist = _rgb(feature_nn[r, j:j + 1])[0], f"feature NN {j + 1}", feature_dist[r, j]
            ax.imshow(img, interpolation="nearest")
            if r == 0:
                ax.set_title(header, fontsize=7)
            if dist is not None:
                ax.set_xlabel(f"{dist:.2f}", fontsize=6, labelpad=1)
            if kind == "gen":
                for spine in ax.spines.values():
                    spine.set_edgecolor("tab:red")
                    spine.set_linewidth(1.5)
    fig.suptitle(f"{title}\nleft: generated; then its nearest real images by L2 distance (below each): in pixels "
                 f"on [-1, 1] ({k_pix}, among all training images)\nand in {feature_label} ({k_feat}, among the "
                 "FID's real sample)", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, path)
