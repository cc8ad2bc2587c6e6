"""The FID tables of a comparison, as data and as Markdown (the dissertation's Tables 4-1 to 4-6).

Per dataset there are three tables:

* FID per model per checkpoint: over the seeds of an experiment, mean ± std (sample std, n - 1),
  min-max and n. One seed's luck is not a result, so the spread is always shown;
* against the dissertation: at each iteration the dissertation reports, its value beside our mean
  and the difference (ours - dissertation), with every way in which our setting differs from its
  own written next to it (backbone, sample size, iterations, dataset size, hyperparameters);
* each run: its own FIDs, so that nothing hides behind a mean.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from gan_keras.compare import dissertation as diss
from gan_keras.compare.runs import Group, Run

NOT_EVALUATED = "not evaluated"


@dataclass(frozen=True)
class Stat:
    """Mean and spread of one checkpoint's FIDs over seeds (std is None below two values).

    ``runs``: the group's evaluated runs, when more than the ``n`` values (a seed that diverged, a
    checkpoint not evaluated): the text then says "n=1 of 3" and ``missing`` why, e.g. (("nan",
    2),), so that a mean over the seeds that survived is never read as one over all of them.
    """

    n: int
    mean: float
    std: float | None
    min: float
    max: float
    runs: int = 0
    missing: tuple = ()

    def text(self, digits: int = 2) -> str:
        count = f"n={self.n}"
        if self.runs > self.n:
            count += f" of {self.runs}" + "".join(f", {k} {why}" for why, k in self.missing)
        if self.n == 1:
            return f"{self.mean:.{digits}f}" + (f" ({count})" if self.runs > 1 else "")
        return (f"{self.mean:.{digits}f} ± {self.std:.{digits}f} "
                f"({self.min:.{digits}f}–{self.max:.{digits}f}, {count})")


def aggregate(values) -> Stat | None:
    """Stat of the finite values (None and NaN are left out); None when there is none."""
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not kept:
        return None
    n = len(kept)
    mean = sum(kept) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in kept) / (n - 1)) if n > 1 else None
    return Stat(n, mean, std, min(kept), max(kept))


def group_stat(group: Group, iteration: int) -> Stat | None:
    """The FIDs of the group's evaluated runs at ``iteration``, with the count of those that have
    none there and why (their row's status: "nan", "failed"; or "not evaluated there")."""
    evaluated = [run for run in group.runs if run.evaluated]
    stat = aggregate(run.fid(iteration) for run in evaluated)
    if stat is None or stat.n == len(evaluated):
        return stat
    why = [_no_fid(run.rows.get(iteration)) for run in evaluated if run.fid(iteration) is None]
    return replace(stat, runs=len(evaluated), missing=tuple((w, why.count(w)) for w in dict.fromkeys(why)))


def _no_fid(row: dict | None) -> str:
    if row is None:
        return "not evaluated there"
    return row["status"] if row.get("status") not in (None, "ok") else "no finite FID"


def group_iterations(group: Group) -> list[int]:
    """Iterations at which at least one run of the group has a FID."""
    return sorted({it for run in group.runs for it, v in run.fid_by_iteration.items() if v is not None})


def _non_default_hyperparams(run: Run) -> list[str]:
    """``name value (default d)`` for every hyperparameter that differs from the model's defaults."""
    try:
        from gan_keras.registry import get_model

        defaults = get_model(run.model).hyperparams().to_dict()
    except Exception:  # noqa: BLE001 - a model this version does not know: nothing to compare with
        return []
    return [f"{k} {v} (default {defaults.get(k)})" for k, v in sorted(run.hyperparams.items())
            if k in defaults and defaults[k] != v]


def setting_notes(group: Group) -> list[str]:
    """How a group that is one of the dissertation's experiments still differs from it."""
    experiment = diss.EXPERIMENTS[group.dataset]
    notes = []
    settings = {}
    for run in group.runs:
        for key, value in run.eval_settings().items():
            settings.setdefault(key, set()).add(value)
    backbones = settings.get("backbone", set())
    if backbones and backbones != {diss.BACKBONE}:
        notes.append(f"backbone {'/'.join(sorted(map(str, backbones)))}, not the dissertation's {diss.BACKBONE_TEXT}")
    numbers = settings.get("fid_sample_number", set())
    if numbers and numbers != {diss.FID_SAMPLE_NUMBER}:
        notes.append(f"{'/'.join(f'{n:,}' for n in sorted(numbers))} generated images, not "
                     f"{diss.FID_SAMPLE_NUMBER:,}")
    if notes:
        notes[-1] += ": the values are not directly comparable"
    trained = sorted({run.trained for run in group.runs if run.trained})
    if trained and max(trained) < experiment.iterations:
        notes.append(f"trained {'/'.join(f'{e:,}' for e in trained)} iterations, the dissertation "
                     f"{experiment.iterations:,}")
    sizes = sorted({run.config.get("dataset_size") for run in group.runs if run.config.get("dataset_size")})
    if sizes and sizes != [experiment.dataset_size]:
        notes.append(f"{'/'.join(f'{s:,}' for s in sizes)} training images, the dissertation "
                     f"{experiment.dataset_size:,}")
    changed = sorted({h for run in group.runs for h in _non_default_hyperparams(run)})
    if changed:
        notes.append("hyperparameters changed: " + ", ".join(changed))
    return notes


def dataset_table(dataset: str, groups: list[Group]) -> dict:
    """Everything the dataset's tables show, as JSON-ready data."""
    iterations = sorted({it for g in groups for it in group_iterations(g)})
    experiment = diss.EXPERIMENTS.get(dataset)
    out_groups = []
    for g in groups:
        evaluated = [r for r in g.runs if r.evaluated]
        entry = {"label": g.label, "model": g.model, "runs": [r.name for r in g.runs],
                 "seeds": [r.seed for r in g.runs], "evaluated_runs": [r.name for r in evaluated],
                 "fid": {it: (asdict(s) if (s := group_stat(g, it)) else None) for it in iterations}}
        first = g.runs[0]
        why_not = diss.mismatch(g.model, dataset, first.batch_size, first.arch)
        entry["dissertation"] = {"matches": why_not is None, "why_not": why_not}
        if why_not is None:
            reference = diss.reference_fid(dataset, g.model)
            rows = []
            for it, value in sorted(reference.items()):
                stat = group_stat(g, it)
                rows.append({"iteration": it, "ours": asdict(stat) if stat else None, "dissertation": value,
                             "difference": (stat.mean - value) if stat else None})
            entry["dissertation"].update(table=diss.TABLE_OF[(dataset, g.model)], rows=rows,
                                         notes=setting_notes(g))
        out_groups.append(entry)
    runs = []
    for g in groups:
        for r in g.runs:
            rows = r.rows
            runs.append({"name": r.name, "group": g.label, "seed": r.seed, "evaluated": r.evaluated,
                         "fid": {it: r.fid(it) for it in iterations},
                         "status": {it: rows[it].get("status") for it in iterations if it in rows}})
    return {"dataset": dataset, "iterations": iterations,
            "experiment": None if experiment is None else {
                "section": experiment.section, "title": experiment.title, "batch_size": experiment.batch_size,
                "iterations": experiment.iterations, "tables": experiment.tables},
            "groups": out_groups, "runs": runs}


def _stat_cell(stat: dict | None, evaluated: bool) -> str:
    if not evaluated:
        return NOT_EVALUATED
    return Stat(**stat).text() if stat else "—"


def _run_cell(value, status, evaluated: bool) -> str:
    if not evaluated:
        return NOT_EVALUATED
    if value is not None:
        return f"{value:.2f}"
    return status if status and status != "ok" else "—"


def _row(cells) -> str:
    return "| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |"


def markdown_fid(table: dict) -> list[str]:
    """FID per model (mean ± std over seeds) per checkpoint, like Tables 4-1 to 4-6."""
    its = table["iterations"]
    lines = [_row(["model", "runs (seeds)"] + [f"{it:,}" for it in its]),
             _row(["---", "---"] + ["---:"] * len(its))]
    for g in table["groups"]:
        seeds = ", ".join(str(s) for s in g["seeds"])
        evaluated = bool(g["evaluated_runs"])
        lines.append(_row([g["label"], f"{len(g['runs'])} ({seeds})"]
                          + [_stat_cell(g["fid"][it], evaluated) for it in its]))
    return lines


def markdown_runs(table: dict) -> list[str]:
    """One row per run: every seed's own FIDs."""
    its = table["iterations"]
    lines = [_row(["run", "model", "seed"] + [f"{it:,}" for it in its]),
             _row(["---", "---", "---:"] + ["---:"] * len(its))]
    for r in table["runs"]:
        lines.append(_row([r["name"], r["group"], r["seed"]]
                          + [_run_cell(r["fid"][it], r["status"].get(it), r["evaluated"]) for it in its]))
    return lines


def markdown_dissertation(table: dict) -> list[str]:
    """Our mean beside the dissertation's value at each iteration it reports, with the difference."""
    matched = [g for g in table["groups"] if g["dissertation"]["matches"]]
    lines = []
    if matched:
        lines += [_row(["model", "iteration", "ours", "dissertation", "ours − dissertation", "source", "differences"]),
                  _row(["---", "---:", "---:", "---:", "---:", "---", "---"])]
        for g in matched:
            d = g["dissertation"]
            notes = "; ".join(d["notes"]) or "none recorded"
            evaluated = bool(g["evaluated_runs"])
            for row in d["rows"]:
                ours = _stat_cell(row["ours"], evaluated) if evaluated else NOT_EVALUATED
                if evaluated and row["ours"] is None:
                    ours = "no checkpoint"
                diff = "—" if row["difference"] is None else f"{row['difference']:+.2f}"
                lines.append(_row([g["label"], f"{row['iteration']:,}", ours, row["dissertation"], diff,
                                   d["table"], notes]))
    others = [g for g in table["groups"] if not g["dissertation"]["matches"]]
    if others:
        lines += ([""] if lines else []) + ["Not one of the dissertation's experiments: " + "; ".join(
            f"{g['label']} ({g['dissertation']['why_not']})" for g in others) + "."]
    return lines
