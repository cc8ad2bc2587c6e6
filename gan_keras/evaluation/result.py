"""``EvaluationResult``: what ``evaluate_run`` returns, beside the files it writes.

A small value object so that callers get the numbers directly (``result.fid_by_iteration``)
instead of parsing metrics.csv; its ``rows`` and ``summary`` are exactly evaluation.json's.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field


def model_fid(row: dict | None) -> float | None:
    """The FID of a checkpoint's generator from its row (evaluation.json, metrics table), or None:
    not evaluated, ``failed``, or ``nan``. A ``nan`` row's generator put out NaN or inf; its row
    keeps the FID computed with those values replaced by 0 as a diagnostic, which is not the FID
    of the model, so the summary line, ``fid_by_iteration`` and ``GAN_compare.py`` leave it out
    and ``fid.png`` marks it apart."""
    if not row or row.get("status", "ok") != "ok":
        return None
    value = row.get("fid")
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


@dataclass
class EvaluationResult:
    """What ``evaluate_run`` found, as also written to ``out``.

    Attributes:
        rows: one dict per evaluated checkpoint, oldest first, as in evaluation.json's
            ``checkpoints`` (``iteration``, ``status`` "ok"/"nan"/"failed", ``error``, ``fid``,
            ``kid``, ``kid_std``, ``precision``, ``recall``, ``is``, ``is_std``, ``timings``...;
            values that are not finite are None).
        summary: the whole evaluation.json record.
        out: absolute path of the output folder.
        warnings: the warnings printed on stderr (skipped checkpoints, a changed dataset...).
    """

    rows: list[dict]
    summary: dict
    out: str
    warnings: list[str] = field(default_factory=list)

    @property
    def fid_by_iteration(self) -> dict[int, float | None]:
        """``{iteration: FID}`` (None for a checkpoint without a FID of its model: ``model_fid``)."""
        return {int(r["iteration"]): model_fid(r) for r in self.rows}

    @property
    def failed(self) -> list[dict]:
        """Rows of the checkpoints that could not be evaluated."""
        return [r for r in self.rows if r["status"] == "failed"]

    @property
    def complete(self) -> bool:
        """Whether every chosen checkpoint was evaluated (False after an interruption)."""
        return bool(self.summary.get("complete"))

    @property
    def files(self) -> dict[str, str | None]:
        """Absolute paths of metrics.csv, metrics.md, fid.png (None if not drawn) and evaluation.json."""
        names = self.summary.get("files") or {}
        return {k: os.path.join(self.out, v) if v else None for k, v in names.items()}
