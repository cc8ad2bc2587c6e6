"""The comparison's figures: all runs of a dataset in one plot, and one checkpoint panel per run.

* ``losses_<dataset>.png``: one panel per declared loss (D, G), one line per model;
* ``divergence_<dataset>.png``: one panel per kind of divergence estimate (the JSD of GAN/DCGAN
  as in Figures 4-12, 4-30, 4-43; the Wasserstein estimate of WGAN/WGAN-GP as in 4-15, 4-32,
  4-45), because estimates of different divergences share no scale;
* ``fid_<dataset>.png``: FID against iterations, the dissertation's values dashed beside ours;
* ``panel_<run>.png``: one row of samples per checkpoint from the same fixed noise (Figures 4-3,
  4-6, ...), so a reader sees what the numbers mean.

Which columns are losses and which is the divergence comes from each run's declared ``LogSpec``
(config.json), never from a model's name. Several seeds of one experiment are drawn as their
mean with a band from their minimum to their maximum.

Each figure function returns what it drew, read back from the matplotlib axes (the labels of the
lines tagged as series), so callers and tests can check the figure itself.
"""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gan_keras import rundir  # noqa: E402
from gan_keras.compare import dissertation as diss  # noqa: E402
from gan_keras.compare.runs import Group, Run, safe_name  # noqa: E402
from gan_keras.compare.tables import group_iterations, group_stat  # noqa: E402
from gan_keras.report import plots  # noqa: E402
from gan_keras.training.logspec import LOSSES_PLOT  # noqa: E402
from gan_keras.utils import atomic_path  # noqa: E402

SERIES, REFERENCE = "series", "dissertation"   # gid of our lines and of the dissertation's


def _colours():
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


class RunCurves:
    """A run's log.csv columns and what its LogSpec says they are (read once per run)."""

    def __init__(self, run: Run):
        self.log = plots.read_log(os.path.join(run.path, rundir.LOG))
        if len(self.log.get("iteration", [])) == 0:
            self.log, self.losses, self.divergence, self.labels, self.hlines = {}, [], None, {}, ()
            self.loss_kind = None
            return
        spec = plots._log_spec_of(run.path, list(self.log))
        self.labels = {v.name: v.description for v in spec.values}
        declared = [p for p in spec.plots if p.file == LOSSES_PLOT.file]
        self.losses = [n for p in declared for n in p.values if n in self.log]
        self.divergence = spec.divergence if spec.divergence in self.log else None
        self.hlines = next((p.hlines for p in spec.plots if self.divergence in p.values), ())
        # What its losses are losses of: a stacked model's loss row (bce, wasserstein, ...) or its
        # own train step's (a WGAN-GP critic loss is not on a BCE's scale).
        self.loss_kind = str(run.config.get("loss") or run.config.get("train_step") or run.model)

    @property
    def divergence_kind(self) -> str | None:
        return self.labels.get(self.divergence, self.divergence) if self.divergence else None


def _window(curves: list[RunCurves], column: str) -> int:
    """One moving-average window for a whole panel (1 % of its longest run), so that a long run
    does not look calmer than a short one only because it was smoothed over more iterations."""
    return max([1] + [len(c.log["iteration"]) // 100 for c in curves if column in c.log])


def _xlabel(window: int) -> str:
    return "iteration" + (f" (every curve a {window}-iteration moving mean)" if window > 1 else "")


def _series(curves: list[RunCurves], column: str, window: int):
    """(iterations, mean, min, max, n, the longest run's last iteration) of a column's smoothed
    curves over the runs that log it, at the iterations they all have (the shortest run's)."""
    have = [c.log for c in curves if column in c.log]
    if not have:
        return None
    common = have[0]["iteration"]
    for log in have[1:]:
        common = np.intersect1d(common, log["iteration"])
    if common.size == 0:
        return None
    stacked = []
    for log in have:
        keep = np.isin(log["iteration"], common)
        stacked.append(plots.smooth(log[column][keep], window))
    stacked = np.vstack(stacked)
    longest = max(float(log["iteration"][-1]) for log in have)
    return common, stacked.mean(axis=0), stacked.min(axis=0), stacked.max(axis=0), len(have), longest


def _line_label(group: Group, n: int) -> str:
    if n > 1:
        return f"{group.label} (mean of {n} seeds, band min–max)"
    return f"{group.label} ({group.runs[0].name})" if len(group.runs) == 1 else group.label


def _draw(ax, series, group: Group, colour):
    it, mean, lo, hi, n, longest = series
    label = _line_label(group, n)
    if longest > it[-1]:   # seeds of other lengths: the mean stops where the shortest does
        label = label[:-1] + f"; to iteration {int(it[-1]):,}, where the shortest seed ends)"
    (line,) = ax.plot(it, mean, color=colour, linewidth=1.4, label=label)
    line.set_gid(SERIES)
    if n > 1:
        ax.fill_between(it, lo, hi, color=colour, alpha=0.2, linewidth=0)


def _drawn(fig) -> list[dict]:
    return [{"title": ax.get_title(), "xlabel": ax.get_xlabel(),
             "series": [ln.get_label() for ln in ax.get_lines() if ln.get_gid() == SERIES],
             "dissertation": [ln.get_label() for ln in ax.get_lines() if ln.get_gid() == REFERENCE],
             "legend": [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []}
            for ax in fig.axes]


def _save(fig, path: str) -> dict:
    drawn = _drawn(fig)
    plots.save_figure(fig, path)
    return {"file": os.path.basename(path), "axes": drawn}


def _panels(n: int, title: str):
    fig, axes = plt.subplots(n, 1, figsize=(8, 3.4 * n), squeeze=False, layout="constrained")
    fig.suptitle(title)
    return fig, [a[0] for a in axes]


def losses_figure(dataset: str, groups: list[Group], curves: dict[str, RunCurves], out: str) -> dict | None:
    """D and G losses of every model in one figure: one panel per declared loss and kind of loss
    (a BCE and a Wasserstein critic loss on one axis would flatten the BCE); None if none logged."""
    panels = []
    for g in groups:
        for r in g.runs:
            c = curves[r.name]
            panels += [(column, c.loss_kind) for column in c.losses if (column, c.loss_kind) not in panels]
    if not panels:
        return None
    fig, axes = _panels(len(panels), f"{dataset}: losses")
    for ax, (column, kind) in zip(axes, panels):
        labels = [curves[r.name].labels.get(column) for g in groups for r in g.runs
                  if column in curves[r.name].log and curves[r.name].loss_kind == kind]
        label = next((lab for lab in labels if lab), column)
        window = _window([curves[r.name] for g in groups for r in g.runs if curves[r.name].loss_kind == kind], column)
        for colour, g in zip(_colours() * 4, groups):
            s = _series([curves[r.name] for r in g.runs if curves[r.name].loss_kind == kind], column, window)
            if s is not None:
                _draw(ax, s, g, colour)
        ax.set_title(f"{label} ({kind} loss)")
        ax.set_xlabel(_xlabel(window))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8, framealpha=0.6)
    return _save(fig, os.path.join(out, f"losses_{safe_name(dataset)}.png"))


def divergence_figure(dataset: str, groups: list[Group], curves: dict[str, RunCurves], out: str) -> dict | None:
    """Each model's divergence estimate; one panel per kind of estimate. None if no run declares one."""
    kinds: list[str] = []
    for g in groups:
        for r in g.runs:
            k = curves[r.name].divergence_kind
            if k and k not in kinds:
                kinds.append(k)
    if not kinds:
        return None
    fig, axes = _panels(len(kinds), f"{dataset}: divergence estimates")
    for ax, kind in zip(axes, kinds):
        hlines = {}
        everyone = [curves[r.name] for g in groups for r in g.runs if curves[r.name].divergence_kind == kind]
        window = max(_window([c], c.divergence) for c in everyone)
        for colour, g in zip(_colours() * 4, groups):
            mine = [curves[r.name] for r in g.runs if curves[r.name].divergence_kind == kind]
            if not mine:
                continue
            s = _series(mine, mine[0].divergence, window)
            if s is not None:
                _draw(ax, s, g, colour)
            hlines.update({y: label for y, label in mine[0].hlines})
        for (y, label), style in zip(hlines.items(), plots.REFERENCE_STYLES):
            ax.axhline(y, color="grey", linestyle=style, linewidth=0.9, label=label)
        ax.set_title(kind)
        ax.set_xlabel(_xlabel(window))
        ax.set_ylabel("estimate")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8, framealpha=0.6)
    return _save(fig, os.path.join(out, f"divergence_{safe_name(dataset)}.png"))


def fid_figure(dataset: str, groups: list[Group], out: str, settings_text: str = "") -> dict | None:
    """FID against iterations, mean over seeds with min-max bars; the dissertation's dashed. None when
    no run of the dataset was evaluated."""
    evaluated = [g for g in groups if group_iterations(g)]
    if not evaluated:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for colour, g in zip(_colours() * 4, groups):
        its = group_iterations(g)
        if not its:
            continue
        stats = [group_stat(g, it) for it in its]
        mean = np.array([s.mean for s in stats])
        n = max(s.n for s in stats)
        runs = sum(r.evaluated for r in g.runs)
        label = _line_label(g, n)
        if n < runs:   # a seed without a FID at any checkpoint
            label = f"{g.label} (mean of {n} of {runs} seeds" + (", band min–max)" if n > 1 else ")")
        # The line joins means over the same seeds only; a checkpoint that fewer seeds reached (a seed
        # diverged there, or stopped earlier) is a hollow marker of its own.
        full = np.array([s.n == n for s in stats])
        (line,) = ax.plot(np.asarray(its)[full], mean[full], "o-", color=colour, markersize=4, label=label)
        line.set_gid(SERIES)
        if not full.all():
            fewer = ", ".join(sorted({str(s.n) for s in stats if s.n < n}))
            ax.plot(np.asarray(its)[~full], mean[~full], "o", color=colour, markersize=6, markerfacecolor="none",
                    label=f"{g.label}: mean of {fewer} seed(s) where fewer have a FID")
        if n > 1:
            lo, hi = np.array([s.min for s in stats]), np.array([s.max for s in stats])
            ax.errorbar(its, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor=colour, capsize=3, alpha=0.7)
        first = g.runs[0]
        if diss.mismatch(g.model, dataset, first.batch_size, first.arch) is None:
            ref = diss.reference_fid(dataset, g.model)
            ours = {r.eval_settings().get("backbone") for r in g.runs if r.evaluated}
            caveat = "" if ours <= {diss.BACKBONE} else f"; not comparable with our {'/'.join(sorted(map(str, ours)))}"
            (dl,) = ax.plot(list(ref), list(ref.values()), "x--", color=colour, alpha=0.8,
                            label=f"{g.label}: dissertation ({diss.TABLE_OF[(dataset, g.model)]}, "
                                  f"{diss.BACKBONE_TEXT}{caveat})")
            dl.set_gid(REFERENCE)
    ax.set_title(f"{dataset}: FID against iterations" + (f"\n{settings_text}" if settings_text else ""), fontsize=9)
    ax.set_xlabel("iteration")
    values = np.concatenate([ln.get_ydata() for ln in ax.get_lines()]).astype(np.float64)
    log_scale = values.size and (values > 0).all() and values.max() / values.min() > 10
    if log_scale:   # GAN's 100s beside WGAN-GP's single digits: a linear axis hides the latter
        ax.set_yscale("log")
    ax.set_ylabel("FID (lower is better" + (", log scale)" if log_scale else ")"))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.6)
    return _save(fig, os.path.join(out, f"fid_{safe_name(dataset)}.png"))


# ---------------------------------------------------------------------------------------------
# checkpoint panels
# ---------------------------------------------------------------------------------------------

PANEL_COLUMNS = 8
PAD = 2


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        return ImageFont.load_default()


def checkpoint_panel(run: Run, out: str, seed: int = 0, columns: int = PANEL_COLUMNS) -> dict | None:
    """``panel_<run>.png``: one row of ``columns`` samples per checkpoint, each row labelled with its
    iteration; the same noise (seed ``seed``, the run's latent distribution) for every checkpoint.
    A header line says what it shows, so the image can be read on its own.

    Returns the layout (rows, tile, pad, header and label width, iterations, failed checkpoints), or
    None when the run has no checkpoint. A checkpoint whose generator does not load leaves a grey row.
    """
    from PIL import Image, ImageDraw

    from gan_keras.evaluation.checkpoint import generate_images, generator_fn
    from gan_keras.hparams import draw_latent
    from gan_keras.training.checkpoints import load_generator
    from gan_keras.report.grids import make_grid

    checkpoints = rundir.list_checkpoints(run.path)
    if not checkpoints:
        return None
    z = draw_latent(np.random.default_rng(seed), (columns, run.latent_dim), run.latent, float64_normal=True)
    shape = tuple(run.config.get("image_shape") or ())
    images, failed = [], []
    for ckpt in checkpoints:
        try:
            u8, _ = generate_images(generator_fn(load_generator(ckpt.generator_path), compiled=False), z, len(z))
            shape = shape or u8.shape[1:]
            images.append(u8)
        except Exception as exc:  # noqa: BLE001 - one bad checkpoint must not cost the others
            failed.append({"iteration": ckpt.iteration, "error": f"{type(exc).__name__}: {str(exc)[:200]}"})
            images.append(None)
    if not shape:
        return {"file": None, "rows": len(checkpoints), "iterations": [c.iteration for c in checkpoints],
                "failed": failed}
    blank = np.full((columns,) + tuple(shape), 128, np.uint8)
    stack = np.concatenate([blank if im is None else im for im in images])
    grid = make_grid(stack, rows=len(checkpoints), cols=columns, pad=PAD)
    h = shape[0]
    scale = 2 if h < 48 else 1
    tile, pad = h * scale, PAD * scale
    img = Image.fromarray(grid)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    font_size = max(10, min(16, tile // 3))
    label_width, header = font_size * 6, 2 * font_size + 3 * pad
    canvas = Image.new("RGB", (img.width + label_width, img.height + header), (255, 255, 255))
    canvas.paste(img, (label_width, header))
    draw, font = ImageDraw.Draw(canvas), _font(font_size)
    draw.text((4, pad), f"{run.name}: {run.model} on {run.dataset}", fill=(0, 0, 0), font=font)
    draw.text((4, 2 * pad + font_size), f"iteration (rows): the same {columns} noise vectors at each checkpoint",
              fill=(80, 80, 80), font=_font(max(9, font_size - 2)))
    for i, ckpt in enumerate(checkpoints):
        y = header + pad + i * (tile + pad) + tile // 2 - font_size // 2
        text = f"{ckpt.iteration:,}" + (" !" if images[i] is None else "")
        draw.text((4, y), text, fill=(0, 0, 0), font=font)
    path = os.path.join(out, f"panel_{safe_name(run.name)}.png")
    with atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
    return {"file": os.path.basename(path), "rows": len(checkpoints), "columns": columns, "tile": tile, "pad": pad,
            "header": header, "label_width": label_width, "iterations": [c.iteration for c in checkpoints], "failed": failed,
            "noise": f"numpy.random.default_rng({seed}), {run.latent} latent, {columns} x {run.latent_dim}"}
