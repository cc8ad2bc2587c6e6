"""Comparing runs: the dissertation's chapter 4 tables and figures from several run directories.

Chen's results are twelve experiments (four models x three datasets) set side by side: FID tables
per dataset (Tables 4-1 to 4-6), the divergence curves of several models in one plot (Figures 4-12,
4-15, 4-30, 4-32, 4-43, 4-45) and sample panels across checkpoints. ``compare_runs`` makes the same
from any runs and their evaluations, puts the dissertation's values and verdicts beside ours
whichever way they go, and refuses FIDs that were computed differently unless told otherwise::

    from gan_keras.compare import compare_runs
    result = compare_runs(["gan_models/DCGAN_mnist", "gan_models/WGANGP_mnist"], "comparison")
    result.markdown        # also comparison/comparison.md; result.files: every file written

Command line: ``python GAN_compare.py RUN_DIR [RUN_DIR ...] --out DIR``.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field

from gan_keras import rundir
from gan_keras.compare.runs import (CompareError, MixedEvaluationsError, check_evaluations, evaluation_differences,
                                    group_runs, load_runs)

__all__ = ["compare_runs", "ComparisonResult", "CompareError", "MixedEvaluationsError"]


@dataclass
class ComparisonResult:
    """What ``compare_runs`` wrote and found.

    Attributes:
        markdown: the text of ``comparison.md`` (image links relative to ``out``).
        files: ``{key: absolute path}`` of every file written: ``markdown``, ``json``,
            ``losses_<dataset>``, ``divergence_<dataset>``, ``fid_<dataset>``, ``panel_<run>``.
        tables: per dataset, the tables' data (as in comparison.json).
        warnings: what the reader must know (runs not evaluated, mixed evaluations allowed...).
        data: the whole comparison.json record (figures, panels, verdicts included).
        out: absolute path of the output folder.
    """

    markdown: str
    files: dict[str, str]
    tables: dict[str, dict]
    warnings: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    out: str = ""

    def markdown_at(self, directory: str) -> str:
        """The Markdown with its image links relative to ``directory`` (for a report written there)."""
        from gan_keras.compare.report import render

        prefix = os.path.relpath(self.out, os.path.abspath(directory)).replace(os.sep, "/")
        return render(self.data, "" if prefix == "." else prefix + "/")


def _dataset_settings(runs) -> dict | None:
    """The evaluation settings of a dataset's runs: the first evaluated run's, with ``mixed``, the
    others' (and their runs), when they differ (``--allow-mixed``), so no text calls them one."""
    found = []   # (settings, [run names])
    for run in runs:
        if run.evaluated:
            settings = run.eval_settings()
            same = next((names for s, names in found if s == settings), None)
            if same is None:
                found.append((settings, [run.name]))
            else:
                same.append(run.name)
    if not found:
        return None
    if len(found) == 1:
        return found[0][0]
    return {**found[0][0], "mixed": [{**s, "runs": names} for s, names in found]}


def _earlier_files(path: str) -> set:
    """The files an earlier comparison in this folder wrote (its comparison.json lists them)."""
    try:
        with open(path) as f:
            names = json.load(f).get("files", {}).values()
    except (OSError, ValueError, AttributeError):
        return set()
    return {n for n in names if isinstance(n, str) and os.path.basename(n) == n}


def _figure_settings(settings: dict | None) -> str:
    """The FID figure's subtitle: the settings as plain text (Markdown in the report), short when mixed."""
    from gan_keras.compare import report

    if not settings:
        return ""
    if settings.get("mixed"):
        return "MIXED evaluation settings: these FIDs are not comparable (comparison.md lists them)"
    return report._settings_text(settings).replace("`", "")


def _check_out(out: str) -> None:
    """The comparison's folder: not a file, and not a run directory or inside one (its files would
    mix with the run's)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise CompareError(f"--out {out} is a file, not a folder: choose another --out")
    folder = out
    while True:
        if rundir.holds_run(folder) or rundir.checkpoint_folder(folder):
            raise CompareError(f"--out {out} is {'inside ' if folder != out else ''}the run directory {folder}: "
                               "choose a folder outside every run")
        parent = os.path.dirname(folder)
        if parent == folder:
            return
        folder = parent


def compare_runs(run_dirs, out, *, eval_dir: str = rundir.EVALUATION, allow_mixed: bool = False, seed: int = 0,
                 panels: bool = True, title: str | None = None) -> ComparisonResult:
    """Compare runs: Markdown tables, overlay figures and checkpoint panels in ``out``.

    Args:
        run_dirs: run directories (``GAN_main.py --out``), in the order to show them.
        out: output folder (created): comparison.md, comparison.json and the PNGs.
        eval_dir: each run's evaluation folder, relative to the run (``GAN_evaluation.py --out``), or
            a path with ``{run}``, the run folder's name (``runs.evaluation_folder``).
        allow_mixed: compare runs of one dataset evaluated differently (backbone, resize, either
            sample size, metrics version): a warning is written, and such runs are never averaged
            together; otherwise that raises MixedEvaluationsError.
        seed: seed of the panels' fixed noise (the same noise for every checkpoint).
        panels: draw one checkpoint panel per run (loads every generator checkpoint).
        title: the document's title.

    Raises CompareError (a GanKerasError) with a one-line message for input that cannot be compared.
    """
    from gan_keras.compare import figures, report, tables, verdicts
    from gan_keras.evaluation.outputs import clean
    from gan_keras.utils import write_json_atomic, write_text_atomic

    runs, warnings = load_runs(list(run_dirs), eval_dir)
    if eval_dir != rundir.EVALUATION and not any(os.path.isdir(r.eval_path) for r in runs):
        raise CompareError(f"no run has an evaluation folder {eval_dir!r} (--eval-dir): "
                           f"{', '.join(r.eval_path for r in runs)} do not exist")
    warnings += check_evaluations(runs, allow_mixed)
    out = os.path.abspath(os.fspath(out))
    _check_out(out)
    os.makedirs(out, exist_ok=True)
    grouped = group_runs(runs, by_evaluation=set(evaluation_differences(runs)))
    by_name = {r.name: r for r in runs}
    for dataset, groups in grouped.items():
        for g in groups:
            seeds = [r.seed for r in g.runs]
            repeated = sorted({s for s in seeds if seeds.count(s) > 1}, key=str)
            if repeated:
                warnings.append(f"{dataset} {g.label}: runs share seed(s) {', '.join(map(str, repeated))}; "
                                "they are still counted as separate runs")

    files: dict[str, str] = {}
    data = {"title": title or f"Comparison of {len(runs)} run(s)", "datasets": list(grouped), "eval_dir": eval_dir,
            "allow_mixed": allow_mixed, "seed": seed, "seed_text": f"noise (seed {seed})",
            "runs": [{"name": r.name, "path": os.path.abspath(r.path), "model": r.model, "dataset": r.dataset,
                      "seed": r.seed, "batch_size": r.batch_size, "epochs": r.planned, "trained": r.trained,
                      "arch": r.arch, "checkpoints": r.checkpoints,
                      "evaluation": r.eval_settings() or None,
                      "evaluation_file": os.path.join(r.eval_path, "evaluation.json") if r.evaluated else None}
                     for r in runs],
            "tables": {}, "settings": {}, "verdicts": {}, "figures": {}, "panels": {}}
    curves = {r.name: figures.RunCurves(r) for r in runs}
    for r in runs:
        if not curves[r.name].log:
            warnings.append(f"run {r.name} has no readable log.csv: no curves for it")
    for dataset, groups in grouped.items():
        members = [r for g in groups for r in g.runs]
        settings = _dataset_settings(members)
        data["settings"][dataset] = settings
        data["tables"][dataset] = tables.dataset_table(dataset, groups)
        data["verdicts"][dataset] = verdicts.check_verdicts(dataset, groups)
        drawn = {"losses": figures.losses_figure(dataset, groups, curves, out),
                 "divergence": figures.divergence_figure(dataset, groups, curves, out),
                 "fid": figures.fid_figure(dataset, groups, out, _figure_settings(settings))}
        data["figures"][dataset] = {k: v for k, v in drawn.items() if v}
        for key, fig in data["figures"][dataset].items():
            files[f"{key}_{dataset}"] = os.path.join(out, fig["file"])
    if panels:
        for r in runs:
            panel = figures.checkpoint_panel(by_name[r.name], out, seed=seed)
            data["panels"][r.name] = panel
            if panel and panel.get("file"):
                files[f"panel_{r.name}"] = os.path.join(out, panel["file"])
            for failure in (panel or {}).get("failed", []):
                warnings.append(f"run {r.name}: the generator of checkpoint {failure['iteration']} does not load "
                                f"({failure['error']})")
    data["warnings"] = warnings
    markdown = report.render(data)
    files["markdown"] = os.path.join(out, "comparison.md")
    files["json"] = os.path.join(out, "comparison.json")
    data["files"] = {k: os.path.basename(v) for k, v in files.items()}
    earlier = _earlier_files(files["json"])
    write_text_atomic(files["markdown"], markdown)
    write_json_atomic(files["json"], clean(data))   # JSON: iteration keys become strings
    for name in earlier - set(data["files"].values()):   # an earlier comparison's figures of runs not compared now
        with contextlib.suppress(OSError):
            os.remove(os.path.join(out, name))
    return ComparisonResult(markdown=markdown, files=files, tables=data["tables"], warnings=warnings, data=data,
                            out=out)
