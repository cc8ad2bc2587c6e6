"""The files an evaluation leaves behind: ``metrics.csv``, ``metrics.md``, ``fid.png``, ``evaluation.json``.

Kept apart from the pipeline so that the formats (column names, table layout, JSON keys) live in
one place and can be read and changed without touching the computation. The pipeline rewrites all
four after every checkpoint, each atomically, so an interrupted evaluation still leaves whole,
readable files describing the checkpoints done so far.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from datetime import datetime, timezone

import numpy as np


def now() -> str:
    """UTC time stamp of the JSON record (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def json_float(x):
    """A float for JSON: NaN and infinities become None (JSON has no such numbers)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _fmt(x, digits=4):
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"


def _pm(mean, std, digits=2, scale=1.0):
    if mean is None:
        return "n/a"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}" if std is not None else f"{mean * scale:.{digits}f}"


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


CSV_COLUMNS = ["iteration", "fid", "kid", "kid_std", "precision", "recall", "is", "is_std", "status", "error"]


def write_tables(rows, out: str, summary: dict) -> None:
    """``metrics.csv`` (one row per checkpoint, full precision) and ``metrics.md`` (like Table 4-5)."""
    from gan_keras.utils import write_text_atomic

    s = summary
    whole = kid_subsets_are_the_sample(s)   # then the KID std is 0 up to rounding, and says nothing
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([_csv_cell(None if whole and c == "kid_std" else r.get(c)) for c in CSV_COLUMNS])
    write_text_atomic(os.path.join(out, "metrics.csv"), buf.getvalue())

    n_real = s['real_images']['n']
    every = n_real >= (s['real_images'].get('dataset_size') or math.inf)   # the whole training set
    sample = (f"seeded random sample, seed {s['seed']}" if n_real >= s['fid_sample_number'] and not every else
              "all of them" + ("" if n_real >= s['fid_sample_number'] else ": the training set has no more"))
    lines = [
        f"# Evaluation of {s['run'].get('model') or '?'} on {s['run']['dataset']}",
        "",
        f"{s['fid_sample_number']} generated vs {n_real} real training images "
        f"({sample}); backbone `{s['backbone']['name']}` "
        f"({s['backbone']['description'].get('network', '')}), {s['backbone']['resize']} resize to 299x299.",
        "",
        *[line for note in s.get("notes") or () for line in (f"Note: {note}.", "")],
        *([] if s.get("complete", True) else
          ["**Not finished**: the evaluation was interrupted or is still running; the same command continues it.", ""]),
        "| iteration | FID | KID (x10^3) | precision | recall | IS | status |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        status = r["status"] if not r.get("error") else f"{r['status']}: {r['error']}"
        kid_std = None if whole else r.get("kid_std")   # a std over identical subsets says nothing
        lines.append(f"| {r['iteration']} | {_fmt(r.get('fid'), 2)} | {_pm(r.get('kid'), kid_std, 2, 1e3)} | "
                     f"{_fmt(r.get('precision'), 3)} | {_fmt(r.get('recall'), 3)} | "
                     f"{_pm(r.get('is'), r.get('is_std'), 2)} | {status.replace('|', '/')} |")
    lines += ["", "FID: lower is better (dissertation eq. 2-15). KID: unbiased MMD^2, cubic kernel, mean ± std over "
              f"{s['settings']['kid_subsets']} subsets of {s['settings']['kid_subset_size']}"
              + (" (every subset is the whole sample, so no std is shown)" if whole else "") + ". Precision/recall: "
              f"Kynkaanniemi et al. 2019, k = {s['settings']['pr_k']}. IS: {s['settings']['is_splits']} splits"
              + ("" if s["backbone"]["has_classifier"] else " (n/a: this backbone has no ImageNet classifier)") + ".",
              "Compare FIDs only at equal sample sizes and with the same backbone.", ""]
    write_text_atomic(os.path.join(out, "metrics.md"), "\n".join(lines))


def kid_subsets_are_the_sample(summary: dict) -> bool:
    """Whether every KID subset is the whole sample (small samples): its std is then 0 and meaningless."""
    s = summary
    return s["settings"]["kid_subset_size"] >= min(s["fid_sample_number"], s["real_images"]["n"])


def write_plot(rows, out: str, summary: dict) -> str | None:
    """``fid.png``: FID (and KID) against iterations; None when no checkpoint has a FID yet. A
    checkpoint whose images held NaN or inf is a red cross beside the curve (``model_fid``)."""
    from gan_keras.evaluation.result import model_fid
    from gan_keras.report.eval_plots import plot_fid

    ok = [r for r in rows if model_fid(r) is not None]
    diverged = [r for r in rows if r.get("status") == "nan" and isinstance(r.get("fid"), (int, float))
                and math.isfinite(r["fid"])]
    if not ok and not diverged:   # no figure rather than an earlier evaluation's
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(out, "fid.png"))
        return None
    s = summary
    title = (f"{s['run'].get('model') or '?'} on {s['run']['dataset']}: FID vs iterations\n"
             f"{s['fid_sample_number']} generated vs {s['real_images']['n']} real, backbone {s['backbone']['name']}, "
             f"{s['backbone']['resize']} resize")
    kid = [r.get("kid") if r.get("kid") is not None else math.nan for r in ok]
    kid_std = None if kid_subsets_are_the_sample(s) else \
        [r.get("kid_std") if r.get("kid_std") is not None else 0.0 for r in ok]
    return plot_fid([r["iteration"] for r in ok], [r["fid"] for r in ok], os.path.join(out, "fid.png"), title,
                    kid=kid, kid_std=kid_std,
                    diverged=([r["iteration"] for r in diverged], [r["fid"] for r in diverged]))


def clean(obj):
    """JSON-safe: NaN/inf -> None, numpy -> Python."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return json_float(obj)
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    return obj


def write_outputs(rows, out: str, summary: dict, complete: bool) -> dict:
    """All four files from the rows so far; returns the JSON-safe record written to evaluation.json.

    ``summary`` is updated in place (``checkpoints``, ``complete``, ``finished``, ``files``).
    """
    from gan_keras.utils import write_json_atomic

    summary["checkpoints"] = rows
    summary["complete"] = complete
    summary["finished"] = now() if complete else None
    write_tables(rows, out, summary)
    plot = write_plot(rows, out, summary)
    summary["files"] = {"table_csv": "metrics.csv", "table_md": "metrics.md", "fid_plot": "fid.png" if plot else None,
                        "json": "evaluation.json"}
    record = clean(summary)
    write_json_atomic(os.path.join(out, "evaluation.json"), record)
    return record


