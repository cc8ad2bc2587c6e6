"""``report``: human error rates from the answers, as in the dissertation's 4.x.5 comparisons.

Scoring (the dissertation reports one percentage per model and does not say how it counts; its
values, e.g. 44.44 % = 16/36 and 72.22 % = 26/36, are all multiples of 1/36, which fits 18 people
x 1 question x 2 picks as well as 36 people x 1 question):

    a question's answer is two picked images; a pick is *wrong* when the picked image is real.
    human error rate of a model = wrong picks / all picks of its questions (2 per answer)

This is the issue's "share of wrong picks". It lies in [0, 1]; picking at random gives 50 %, so
a model at 50 % fools people completely, and 0 % means every generated image was spotted. An
answer has 0, 1 or 2 wrong picks. The 95 % Wilson interval is computed over picks as if they
were independent, and they are not: the two picks of one answer come from one judgement (under
random guessing they are negatively correlated, which makes the interval too wide near 50 %; a
person who sometimes tells the images apart and sometimes guesses makes them positively
correlated, which makes it too narrow), and with more than one question per model the answers of
one participant are correlated too (too narrow). Read it as approximate. The per-answer counts
(``answers_by_wrong_picks``: answers with 0, 1, 2 wrong picks) and the share of answers with both
picks right are written too, for anyone who prefers to count per answer.

Only answers to questions that were shown to their participant count (the server refuses the
others; a row without ``shown_at``, which an older server could store, is skipped and counted in
``unshown_answers``). And only the answers of participants who answered every question, as the
dissertation counted submitted forms: the consent page lets a participant stop at any time (its
Appendix A promises the right to withdraw), and the questions come in one order, so counting those
who stopped would give the early questions' models more answers than the later ones. Their answers
are counted in ``partial_answers``; ``include_partial`` (``report --include-partial``) scores them too.
"""
from __future__ import annotations

import json
import math
import os
import statistics
import sys
from datetime import datetime

from gan_keras.compare.dissertation import published_human_error
from gan_keras.errors import ConfigError
from gan_keras.questionnaire import DATABASE, FORMAT, KEY, PUBLIC

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes in n trials (None when n = 0)."""
    if n <= 0:
        return None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def wrong_picks(generated, picks) -> int:
    """How many of the picked positions hold a real image (0, 1 or 2)."""
    return sum(1 for p in set(picks) if p not in set(generated))


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def compute_report(folder: str, include_partial: bool = False) -> dict:
    """Everything the report shows, from key.json and answers.sqlite (read only); the answers of
    participants who did not answer every question only with ``include_partial``."""
    from gan_keras.questionnaire.store import Store

    folder = os.path.abspath(folder)
    try:
        with open(os.path.join(folder, KEY)) as f:
            key = json.load(f)
        with open(os.path.join(folder, PUBLIC)) as f:
            public = json.load(f)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder} is not a questionnaire built by 'build' ({exc})") from None
    if key.get("format") != FORMAT or key.get("id") != public.get("id"):
        raise ConfigError(f"{os.path.join(folder, KEY)} does not belong to {os.path.join(folder, PUBLIC)}")
    store = Store(os.path.join(folder, DATABASE), key["id"], create=False)
    answers = store.all_answers()
    order = [q["id"] for q in public["questions"]]
    per_q = {qid: {"question": qid, "number": i + 1, "model": key["questions"][qid]["model"], "answers": 0,
                   "wrong_picks": 0, "all_right": 0, "seconds": []} for i, qid in enumerate(order)}
    valid = []  # (answer, wrong picks) of every answer to a known question that was shown
    unshown = 0
    for a in answers:
        if a["question"] not in per_q:  # never, through the server (it validates ids); counted only
            continue
        if not a["shown_at"]:  # never shown to this participant: an older server accepted such answers
            unshown += 1
            continue
        valid.append((a, wrong_picks(key["questions"][a["question"]]["generated"], (a["pick1"], a["pick2"]))))
    answered: dict = {}
    for a, _ in valid:
        answered.setdefault(a["participant"], set()).add(a["question"])
    complete = {p for p, done in answered.items() if len(done) == len(order)}
    scored = valid if include_partial else [(a, w) for a, w in valid if a["participant"] in complete]
    for a, w in scored:
        q = per_q[a["question"]]
        q["answers"] += 1
        q["wrong_picks"] += w
        q["all_right"] += w == 0
        if a["answered_at"]:
            q["seconds"].append((datetime.fromisoformat(a["answered_at"])
                                 - datetime.fromisoformat(a["shown_at"])).total_seconds())
    questions = []
    for qid in order:
        q = per_q[qid]
        secs = q.pop("seconds")
        picks = 2 * q["answers"]
        q.update(picks=picks, error_rate=q["wrong_picks"] / picks if picks else None,
                 all_right_share=q["all_right"] / q["answers"] if q["answers"] else None,
                 median_seconds=statistics.median(secs) if secs else None)
        questions.append(q)
    models = []
    for m in key["models"]:
        mine = [(a, w) for a, w in scored if per_q[a["question"]]["model"] == m["label"]]
        n_answers = len(mine)
        wrong = sum(w for _, w in mine)
        picks = 2 * n_answers
        interval = wilson(wrong, picks)
        published = published_human_error(m.get("model"), m.get("dataset"))
        models.append({
            "model": m["label"], "architecture": m.get("model"), "dataset": m.get("dataset"),
            "run_dir": m.get("run_dir"), "checkpoint": m.get("checkpoint"),
            "questions": sum(1 for q in questions if q["model"] == m["label"]),
            "participants": len({a["participant"] for a, _ in mine}),
            "answers": n_answers, "picks": picks, "wrong_picks": wrong,
            "error_rate": wrong / picks if picks else None,
            "wilson95": list(interval) if interval else None,
            "answers_by_wrong_picks": {str(k): sum(1 for _, w in mine if w == k) for k in (0, 1, 2)},
            "all_right_share": sum(1 for _, w in mine if w == 0) / n_answers if n_answers else None,
            "dissertation_error_rate": published[0] if published else None,
            "dissertation_source": published[1] if published else None})
    return {"format": FORMAT, "questionnaire": key["id"], "folder": folder,
            "participants_consented": store.participants(), "participants_answering": len(answered),
            "participants_complete": len(complete), "include_partial": include_partial,
            "participants_counted": len({a["participant"] for a, _ in scored}),
            "answers": len(scored), "partial_answers": len(valid) - len(scored),
            "ignored_answers": len(answers) - len(valid), "unshown_answers": unshown,
            "scoring": "a pick is wrong when the picked image is real; human error rate = wrong picks / all picks "
                       "(2 per answer); 95 % Wilson score interval over picks; chance level 50 %",
            "models": models, "questions": questions}


def _cell(value) -> str:
    """A value for a Markdown table cell: a "|" would end the cell, a line break the row."""
    return " ".join(str(value).split()).replace("|", "\\|")


def render_markdown(rep: dict) -> str:
    models = rep["models"]
    partial = rep["participants_answering"] - rep["participants_complete"]
    counted = (f"every answer counted, those of the {partial} who stopped part-way included (--include-partial)"
               if rep.get("include_partial") else
               "counted: the answers of those who completed it, as the dissertation counted submitted forms"
               + (f"; {rep['partial_answers']} answer(s) of the {partial} who stopped part-way left out "
                  "(report --include-partial counts them)" if partial else ""))
    lines = ["# Human evaluation", "",
             f"Questionnaire `{rep['questionnaire']}`: {rep['participants_answering']} participant(s) answered "
             f"({rep['participants_complete']} completed all {len(rep['questions'])} questions; "
             f"{rep['participants_consented']} consented); {counted}. {rep['answers']} answers.", "",
             "| Human error rate | dataset | checkpoint | participants | answers | wrong picks / picks "
             "| error rate | 95 % Wilson interval | dissertation |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in models:
        ci = m["wilson95"]
        published = m.get("dissertation_error_rate")
        dissertation = "–" if published is None else f"{_pct(published)} ({m['dissertation_source']})"
        lines.append(f"| {_cell(m['model'])} | {_cell(m['dataset'])} | {_cell(m['checkpoint'])} "
                     f"| {m['participants']} | {m['answers']} "
                     f"| {m['wrong_picks']} / {m['picks']} | {_pct(m['error_rate'])} "
                     f"| {'n/a' if ci is None else f'{_pct(ci[0])} – {_pct(ci[1])}'} | {dissertation} |")
    if len(models) > 1 and all(m["error_rate"] is not None for m in models):
        names = ", ".join(m["model"] for m in models[:-1]) + f" and {models[-1]['model']}"
        rates = ", ".join(_pct(m["error_rate"]) for m in models[:-1]) + f" and {_pct(models[-1]['error_rate'])}"
        lines += ["", f"In the subjective evaluation, {names} got error rates of {rates} respectively on the "
                      "human judgment."]
    if any(m.get("dissertation_error_rate") is not None for m in models):
        lines += ["", "The dissertation's column is its own result for that model and dataset (its models at their "
                      "last checkpoint, one questionnaire per dataset): a different set of images and people, so "
                      "compare the order of the models more than the values."]
    lines += ["", "Scoring: " + rep["scoring"] + ". The interval treats the picks as independent, and they are "
              "not: the two picks of one answer are correlated (negatively under random guessing, which makes it "
              "too wide near 50 %, but it can go either way), and with more than one question per model the "
              "answers of one participant are correlated (which makes it too narrow). Read it as approximate; "
              "`answers_by_wrong_picks` in report.json gives the per-answer counts."]
    if rep.get("ignored_answers"):
        unshown = rep.get("unshown_answers", 0)
        lines += ["", f"Not counted: {rep['ignored_answers']} stored answer(s), {unshown} of them to a question "
                      f"never shown to that participant and {rep['ignored_answers'] - unshown} to a question "
                      "this build does not have."]
    lines += ["", "## Questions (difficulty)", "",
              "| question | model | answers | wrong picks / picks | error rate | both picks right | median seconds |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for q in rep["questions"]:
        secs = "n/a" if q["median_seconds"] is None else f"{q['median_seconds']:.1f}"
        lines.append(f"| {_cell(q['question'])} | {_cell(q['model'])} | {q['answers']} "
                     f"| {q['wrong_picks']} / {q['picks']} "
                     f"| {_pct(q['error_rate'])} | {_pct(q['all_right_share'])} | {secs} |")
    lines += ["", "![human error rates](report.png)", ""]
    return "\n".join(lines)


def plot_report(rep: dict, path: str) -> None:
    """Bar chart of the error rates with Wilson error bars and the 50 % chance line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = rep["models"]
    fig, ax = plt.subplots(figsize=(max(4.8, 1.3 * len(models) + 2), 3.6))
    xs = range(len(models))
    rates = [100 * (m["error_rate"] or 0) for m in models]
    lo = [r - 100 * m["wilson95"][0] if m["wilson95"] else 0 for r, m in zip(rates, models)]
    hi = [100 * m["wilson95"][1] - r if m["wilson95"] else 0 for r, m in zip(rates, models)]
    ax.bar(xs, rates, color="#4c72b0", yerr=[lo, hi], capsize=6)
    for x, r, m in zip(xs, rates, models):
        label = "n/a" if m["error_rate"] is None else f"{r:.2f} %\n{m['wrong_picks']}/{m['picks']}"
        top = r + hi[x] if m["error_rate"] is not None else 0  # above the error bar, not on it
        ax.text(x, top + 1, label, ha="center", va="bottom", fontsize=8)
    ax.axhline(50, color="grey", linestyle="--", linewidth=1)
    # the label of the chance line sits right of the last bar, in a margin kept free for it
    ax.set_xlim(-0.6, len(models) - 0.4 + 0.7)
    ax.text(len(models) - 0.45, 51, "chance\n(50 %)", color="grey", fontsize=7, va="bottom", ha="left")
    ax.set_xticks(list(xs), [m["model"] for m in models])
    ax.set_ylim(0, 122)  # room for the two-line value labels above 100 %
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("human error rate (%)\nhigher: fakes taken for real more often")
    ax.set_title(f"Human error rate, 95 % Wilson intervals ({rep['participants_counted']} participants)",
                 fontsize=9)
    fig.tight_layout()
    from gan_keras.report.plots import save_figure

    save_figure(fig, path)


def write_report(folder: str, out: str | None = None, log=None, include_partial: bool = False) -> dict:
    """Write report.md, report.json and report.png to ``out`` (default: the questionnaire folder)."""
    from gan_keras.utils import write_json_atomic, write_text_atomic

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    rep = compute_report(folder, include_partial)
    out = os.path.abspath(out or folder)
    os.makedirs(out, exist_ok=True)
    write_json_atomic(os.path.join(out, "report.json"), rep)
    write_text_atomic(os.path.join(out, "report.md"), render_markdown(rep))
    plot_report(rep, os.path.join(out, "report.png"))
    for m in rep["models"]:
        log(f"{m['model']}: {_pct(m['error_rate'])} human error rate ({m['wrong_picks']}/{m['picks']} picks)")
    log(f"wrote {os.path.join(out, 'report.md')}, report.json, report.png")
    return rep
