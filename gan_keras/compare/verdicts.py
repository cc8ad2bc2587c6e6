"""The dissertation's conclusions per dataset beside what the given runs show, whichever way it goes.

Each verdict of ``dissertation.VERDICTS`` is checked on the runs' FIDs, as mean over seeds:

* ``best`` / ``worst``: the model with the lowest / highest mean FID among the dissertation's
  models given, at one iteration that every compared model has (the dissertation's last when all
  have it, else the latest common one). With fewer than four models it is said to be partial;
  when the spreads (min-max over seeds) of the first two overlap, that is said too. Models with
  equal means are "tied" (the claimed model among them) or the claim disagrees (it is not).
* ``worsens``: the model's mean FID at its last evaluated checkpoint is above its first.

A verdict whose model (or a rival) was not run or not evaluated is "not enough runs", never a guess.
One read from runs short of the dissertation's experiment (fewer iterations than its tables, a
model missing from a ranking, another batch size or architecture, any difference that
``tables.setting_notes`` names: backbone, sample sizes, dataset size, hyperparameters; FIDs of
only some of a group's seeds) keeps its status and is marked indicative only, with the reasons
(``indicative``). A ranking of FIDs computed differently (``--allow-mixed``) is no ranking: "not
enough runs" (a group's own runs are always evaluated alike: ``runs.group_runs``). Of several groups of a model that are its
experiment, the one with the fewest such differences is read.
"""
from __future__ import annotations

import json

from gan_keras.compare import dissertation as diss
from gan_keras.compare.runs import Group
from gan_keras.compare.tables import group_iterations, group_stat, setting_notes

AGREES, DISAGREES, TIED, NOT_ENOUGH = "agrees", "disagrees", "tied", "not enough runs"


def _candidates(groups: list[Group]) -> tuple[dict[str, Group], dict[str, list[str]], set[str]]:
    """One evaluated group per dissertation model: the one matching its experiment when there is one.
    Also, per model, what the reader must know about that choice, and the models whose group is
    not the experiment."""
    chosen, notes, off = {}, {}, set()
    for model in diss.MODELS:
        mine = [g for g in groups if g.model == model and group_iterations(g)]
        if not mine:
            continue
        first = mine[0].runs[0]
        matching = [g for g in mine if diss.mismatch(model, g.dataset, g.runs[0].batch_size, g.runs[0].arch) is None]
        matching.sort(key=lambda g: len(setting_notes(g)))   # the closest to the experiment (stable: else as given)
        pick = (matching or mine)[0]
        chosen[model] = pick
        if len(mine) > 1:
            notes.setdefault(model, []).append(f"{pick.label} used of {len(mine)} {diss.display(model)} settings")
        if not matching:
            off.add(model)
            why = diss.mismatch(model, pick.dataset, first.batch_size, first.arch)
            notes.setdefault(model, []).append(f"{pick.label} is not the dissertation's experiment ({why})")
    return chosen, notes, off


def _common_iteration(groups: list[Group], dataset: str) -> int | None:
    common = set.intersection(*(set(group_iterations(g)) for g in groups)) if groups else set()
    if not common:
        return None
    experiment = diss.EXPERIMENTS.get(dataset)
    if experiment and experiment.iterations in common:
        return experiment.iterations
    return max(common)


def _rank(verdict, chosen: dict[str, Group]) -> dict:
    if verdict.model not in chosen:
        return {"status": NOT_ENOUGH, "ours": f"no evaluated {diss.display(verdict.model)} run"}
    if len(chosen) < 2:
        return {"status": NOT_ENOUGH, "ours": f"only {diss.display(verdict.model)} was evaluated: nothing to rank"}
    groups = list(chosen.values())
    if len({json.dumps(r.eval_settings(), sort_keys=True) for g in groups for r in g.runs if r.evaluated}) > 1:
        return {"status": NOT_ENOUGH, "ours": "their FIDs were computed differently (--allow-mixed): not ranked"}
    it = _common_iteration(groups, verdict.dataset)
    if it is None:
        return {"status": NOT_ENOUGH, "ours": "no iteration evaluated in every model's runs"}
    stats = sorted(((group_stat(g, it), g) for g in groups), key=lambda sg: sg[0].mean,
                   reverse=verdict.kind == "worst")
    top_stat, top = stats[0]
    second_stat, second = stats[1]
    word = "lowest" if verdict.kind == "best" else "highest"
    text = (f"at {it:,} iterations, {top.label} has the {word} mean FID, {top_stat.text()}; "
            f"next {second.label}, {second_stat.text()}")
    if top_stat.n > 1 or second_stat.n > 1:
        if top_stat.min <= second_stat.max and second_stat.min <= top_stat.max:
            text += " (their ranges over seeds overlap)"
    # Equal means (the dissertation's own whole-number FIDs tie: Table 4-2, WGAN and WGAN-GP 6 at
    # 30,000) rank no model above the other: the claimed model among them is "tied", not a pick by order.
    tied = [g for st, g in stats if st.mean == top_stat.mean]
    if len(tied) > 1:
        text += f" (a tie: {', '.join(g.label for g in tied)})"
    missing = [diss.display(m) for m in diss.MODELS if m not in chosen]
    if missing:
        text += f"; partial: {', '.join(missing)} not evaluated"
    status = (TIED if len(tied) > 1 else AGREES) if any(g.model == verdict.model for g in tied) else DISAGREES
    return {"status": status, "ours": text, "iteration": it}


def _worsens(verdict, chosen: dict[str, Group]) -> dict:
    group = chosen.get(verdict.model)
    if group is None:
        return {"status": NOT_ENOUGH, "ours": f"no evaluated {diss.display(verdict.model)} run"}
    its = group_iterations(group)
    if len(its) < 2:
        return {"status": NOT_ENOUGH, "ours": f"{group.label}: only one evaluated checkpoint"}
    first, last = group_stat(group, its[0]), group_stat(group, its[-1])
    text = f"{group.label}: mean FID {first.text()} at {its[0]:,} -> {last.text()} at {its[-1]:,}"
    return {"status": AGREES if last.mean > first.mean else DISAGREES, "ours": text,
            "iterations": [its[0], its[-1]]}


def _indicative(verdict, result: dict, chosen: dict[str, Group], about: list[str], off: set[str]) -> list[str]:
    """Why a verdict read from these runs is short of the dissertation's experiment (none: it is not)."""
    if result["status"] == NOT_ENOUGH:
        return []
    reasons = []
    experiment = diss.EXPERIMENTS.get(verdict.dataset)
    last = result.get("iteration") or max(result.get("iterations") or [0])
    if experiment and last < experiment.iterations:
        reasons.append(f"read at {last:,} of the dissertation's {experiment.iterations:,} iterations")
    if verdict.kind != "worsens" and any(m not in chosen for m in diss.MODELS):
        reasons.append(f"{len(chosen)} of its {len(diss.MODELS)} models")
    if off & set(about):
        reasons.append("not the dissertation's settings")
    # how the experiment's settings differ (backbone, sample sizes, dataset size, hyperparameters);
    # the iterations trained are said above, at the iteration read
    differ = dict.fromkeys(f"{chosen[m].label}: {note}" for m in about if m in chosen and m not in off
                           for note in setting_notes(chosen[m]) if not note.startswith("trained "))
    reasons += differ
    its = [result["iteration"]] if "iteration" in result else result.get("iterations") or []
    short = [f"{chosen[m].label} at {it:,}: {stat.text()}" for m in about if m in chosen for it in its
             if (stat := group_stat(chosen[m], it)) is not None and stat.runs > stat.n]
    if short:
        reasons.append("FIDs of only some seeds (" + "; ".join(short) + ")")
    return reasons


def check_verdicts(dataset: str, groups: list[Group]) -> list[dict]:
    """The dissertation's verdicts on ``dataset`` with what these runs show (JSON-ready dicts); none
    when no run is one of its four models (your own model's runs: nothing to check). A run of one
    of them that is not evaluated yet keeps the verdicts, each saying "not enough runs"."""
    if not any(g.model in diss.MODELS for g in groups):
        return []
    chosen, notes, off = _candidates(groups)
    out = []
    for verdict in diss.verdicts_for(dataset):
        if verdict.kind == "worsens":
            result, about = _worsens(verdict, chosen), [verdict.model]
        else:
            result, about = _rank(verdict, chosen), list(chosen)
        out.append({"dataset": dataset, "kind": verdict.kind, "model": verdict.model, "claim": verdict.claim,
                    "quote": verdict.quote, "source": verdict.source, **result,
                    "notes": [n for m in about for n in notes.get(m, [])],
                    "indicative": _indicative(verdict, result, chosen, about, off)})
    return out


def markdown_verdicts(verdicts: list[dict]) -> list[str]:
    if not verdicts:
        return []
    lines = ["| dataset | the dissertation says | source | our runs show | verdict |",
             "| --- | --- | --- | --- | --- |"]
    for v in verdicts:
        ours = v["ours"] + ("" if not v["notes"] else " (" + "; ".join(v["notes"]) + ")")
        status = f"**{v['status']}**" + (f" (indicative only: {'; '.join(v['indicative'])})"
                                         if v.get("indicative") else "")
        lines.append(f"| {v['dataset']} | {v['claim']}: \"{v['quote']}\" | {v['source']} | "
                     f"{ours.replace('|', '/')} | {status} |")
    return lines
