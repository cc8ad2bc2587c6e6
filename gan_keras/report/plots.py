"""Training curves like the dissertation's Figures 4-2 (losses), 4-12 (JS divergence) and
4-15 (Wasserstein estimate), and seed 002's Figure 5 (discriminator F1), drawn from a run's log.csv.

Which curves go in which figure is not decided here: every engine declares its plots in its
``LogSpec`` (``gan_keras.training.logspec``), which the run also stores in config.json.
"""
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


REFERENCE_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1)))   # one per reference line of a figure


def save_figure(fig, path: str) -> str:
    """Every figure of the project is written so: PNG at 110 dpi, whole (written beside and renamed:
    a reader never sees half a file), and closed."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_values(log: dict, plot, labels: dict[str, str], path: str, title: str,
                smooth_window: int | None = None, checkpoints=()) -> str:
    """One declared figure: each value raw (faint) with a moving average (bold, its window in the
    legend), or as points for values logged only every N iterations; reference lines dashed; the
    checkpoints (the iterations an evaluation scores) as ticks on the x axis."""
    it = log["iteration"]
    window = smooth_window or max(1, len(it) // 100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, name in enumerate(plot.values):
        if name not in log:
            continue
        colour, values = colours[i % len(colours)], log[name]
        if plot.markers:
            keep = np.isfinite(values)
            ax.plot(it[keep], values[keep], "o-", color=colour, markersize=3, linewidth=1.0, label=labels.get(name, name))
        else:
            ax.plot(it, values, color=colour, alpha=0.25, linewidth=0.6)
            smoothed = labels.get(name, name) + (f" ({window}-iteration mean)" if window > 1 else "")
            ax.plot(it, smooth(values, window), color=colour, linewidth=1.6, label=smoothed)
    if not plot.markers:
        _robust_ylim(ax, [log[n] for n in plot.values if n in log], window, [y for y, _ in plot.hlines])
    for (y, label), style in zip(plot.hlines, REFERENCE_STYLES):
        ax.axhline(y, color="grey", linestyle=style, linewidth=0.9, label=label)
    for name in plot.events:
        hits = it[np.nan_to_num(log.get(name, np.zeros(0))) > 0] if name in log else []
        for j, x in enumerate(hits):
            ax.axvline(x, color="tab:red", linestyle=":", linewidth=1.2, label=labels.get(name, name) if j == 0 else None)
    marks = [x for x in checkpoints if len(it) and it[0] <= x <= it[-1]]
    if marks:
        ax.scatter(marks, [0.0] * len(marks), marker="^", s=22, color="dimgrey", clip_on=False, zorder=3,
                   transform=ax.get_xaxis_transform(), label="checkpoint")
    ax.set_xlabel("iteration")
    ax.set_ylabel(plot.ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if plot.markers or plot.hlines:  # sparse points fill the axes, a reference line spans them: the legend goes beside
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    else:
        ax.legend(loc="best", framealpha=0.6)
    save_figure(fig, path)
    return path


def _robust_ylim(ax, series, window, lines=()):
    """Keep a few early spikes from flattening the rest: the y range covers the 1st..99th
    percentile of the raw values, all of the smoothed curves and the reference ``lines`` (a
    legend entry for a line outside the axes would mislead), with a margin."""
    finite = [v[np.isfinite(v)] for v in series]
    finite = [v for v in finite if v.size]
    if not finite or sum(v.size for v in finite) < 50:
        return
    raw = np.concatenate(finite)
    smoothed = np.concatenate([smooth(v, window) for v in finite])
    lo = min(np.percentile(raw, 1), smoothed.min(), *lines)
    hi = max(np.percentile(raw, 99), smoothed.max(), *lines)
    if hi > lo:
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))


def _log_spec_of(run_dir: str, columns):
    """The run's declared LogSpec (config.json), or one inferred from the columns of an older run."""
    from gan_keras.training.logspec import LOSSES_PLOT, LogSpec, LogValue, Plot

    try:
        return LogSpec.from_json(rundir.read_config(run_dir)["log"])
    except Exception:  # noqa: BLE001 - a run written before logs were declared, or no config
        values = tuple(LogValue(c, c, c) for c in columns if c not in ("iteration", "seconds"))
        plots = (LOSSES_PLOT,) if {"d_loss", "g_loss"} <= set(columns) else ()
        if "divergence" in columns:
            plots += (Plot("divergence.png", "divergence", ("divergence",), "divergence"),)
        return LogSpec(values, plots=plots)


def plot_run(run_dir: str, log_spec=None, title: str = "", log_name: str = "log.csv",
             plots_dir: str = "plots") -> list[str]:
    """Every plot the run's LogSpec declares (``plots/<file>``); returns the PNG paths.

    ``log_spec`` defaults to the declaration stored in the run's config.json.
    """
    log_path = os.path.join(run_dir, log_name)
    if not os.path.isfile(log_path):
        return []
    log = read_log(log_path)
    if not log or len(log.get("iteration", [])) == 0:
        return []
    spec = log_spec or _log_spec_of(run_dir, list(log))
    labels = {v.name: v.description for v in spec.values}
    out = os.path.join(run_dir, plots_dir)
    checkpoints = [c.iteration for c in rundir.list_checkpoints(run_dir)]   # what GAN_evaluation.py scores
    return [plot_values(log, plot, labels, os.path.join(out, plot.file), f"{title} {plot.title}".strip(),
                        checkpoints=checkpoints)
            for plot in spec.plots]
