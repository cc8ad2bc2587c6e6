"""Training curves like the dissertation's Figures 4-2 (losses), 4-12 (JS divergence) and
4-15 (Wasserstein estimate), drawn from a run's log.csv."""
from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gan_keras import rundir  # noqa: E402
from gan_keras.utils import atomic_path  # noqa: E402


def read_log(path: str) -> dict[str, np.ndarray]:
    """log.csv as columns of floats. A damaged or half-written row (e.g. after a kill -9) is skipped."""
    header, rows = rundir.read_log_rows(path)
    return {name: np.array([float(r[name]) if r[name] != "" else math.nan for r in rows], dtype=np.float64)
            for name in header}


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average (same length; the start uses the points available)."""
    if window <= 1 or len(values) < 2:
        return values
    window = min(window, len(values))
    cumsum = np.cumsum(np.insert(np.nan_to_num(values), 0, 0.0))
    out = np.empty_like(values)
    out[window - 1:] = (cumsum[window:] - cumsum[:-window]) / window
    out[:window - 1] = cumsum[1:window] / np.arange(1, window)
    return out


def _save(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_losses(log: dict, path: str, title: str, smooth_window: int | None = None) -> str:
    """D and G loss per iteration (raw, faint) with a moving average (bold)."""
    it = log["iteration"]
    window = smooth_window or max(1, len(it) // 100)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, colour, label in [("d_loss", "tab:blue", "discriminator"), ("g_loss", "tab:orange", "generator")]:
        if name in log:
            ax.plot(it, log[name], color=colour, alpha=0.25, linewidth=0.6)
            ax.plot(it, smooth(log[name], window), color=colour, linewidth=1.6, label=f"{label} loss")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
    return path


def plot_divergence(log: dict, path: str, title: str, kind: str, smooth_window: int | None = None) -> str:
    """The JS-divergence estimate (GAN, DCGAN) or the Wasserstein estimate (WGAN, WGAN-GP)."""
    it = log["iteration"]
    window = smooth_window or max(1, len(it) // 100)
    label = "JS divergence estimate (log 2 - D loss)" if kind == "js" else "Wasserstein estimate E[f(x)] - E[f(G(z))]"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(it, log["divergence"], color="tab:green", alpha=0.25, linewidth=0.6)
    ax.plot(it, smooth(log["divergence"], window), color="tab:green", linewidth=1.6, label=label)
    if kind == "js":
        ax.axhline(math.log(2), color="grey", linestyle="--", linewidth=0.8, label="log 2 (maximum)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("divergence")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
    return path


def plot_run(run_dir: str, kind: str | None = None, title: str = "", log_name: str = "log.csv",
             plots_dir: str = "plots") -> list[str]:
    """All curves of one run; returns the PNG paths (none if the log is empty)."""
    log_path = os.path.join(run_dir, log_name)
    if not os.path.isfile(log_path):
        return []
    log = read_log(log_path)
    if not log or len(log.get("iteration", [])) == 0:
        return []
    kind = kind or ("js" if "d_acc" in log else "wasserstein")
    out = os.path.join(run_dir, plots_dir)
    return [
        plot_losses(log, os.path.join(out, "losses.png"), f"{title} losses".strip()),
        plot_divergence(log, os.path.join(out, "divergence.png"), f"{title} divergence".strip(), kind),
    ]
