"""What a run records and says when a loss becomes non-finite (``--on-nan stop|rollback``).

The loop (``loop.py``) decides whether it can roll back; this module keeps the run's record of
every divergence, ``divergence.json``, and words the error that stops a run, with advice that fits
the case: rolling back helps only if there is a checkpoint and rollbacks are left.
"""
from __future__ import annotations

import json
import math
import os

from gan_keras.utils import write_json_atomic

RECORD = "divergence.json"


def bad_values(logs: dict) -> str:
    """The non-finite values of one iteration's logs, e.g. ``d_loss=nan, g_loss=inf``."""
    return ", ".join(f"{k}={v}" for k, v in logs.items() if not math.isfinite(v))


def earlier(run_dir: str) -> list:
    """The record's earlier divergences (each one rolled back), oldest first; [] without a record."""
    try:
        with open(os.path.join(run_dir, RECORD)) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        return []
    if not isinstance(previous, dict):
        return []
    before = previous.get("earlier")
    return [*(before if isinstance(before, list) else []), {k: v for k, v in previous.items() if k != "earlier"}]


def new_record(run_dir: str, iteration: int, logs: dict, last_checkpoint: str, action: str) -> dict:
    """This divergence, with the run's earlier ones under "earlier"."""
    return {"status": "diverged", "iteration": iteration, "losses": {k: str(v) for k, v in logs.items()},
            "last_good_checkpoint": last_checkpoint, "action": action, "earlier": earlier(run_dir)}


def write(run_dir: str, record: dict) -> None:
    write_json_atomic(os.path.join(run_dir, RECORD), record)


def stop_message(iteration: int, logs: dict, *, run_dir: str, on_nan: str, has_checkpoints: bool,
                 last_checkpoint: str, rollbacks: int, max_rollbacks: int, resume_command: str) -> str:
    """Why the run stopped where it did, and what to do next."""
    why = "" if on_nan == "stop" else \
        (" (no checkpoint to roll back to)" if not has_checkpoints else
         f" ({rollbacks} rollbacks already)" if rollbacks >= max_rollbacks else
         " (no checkpoint could be loaded)")
    if has_checkpoints and rollbacks < max_rollbacks:
        advice = f"to roll back and continue with a new seed: {resume_command} --on-nan rollback"
    elif has_checkpoints:   # a resume replays the run to the same place, its rollbacks counted
        advice = (f"it diverged again after {rollbacks} rollbacks, so rolling back again will not help: start "
                  f"it again (--force) with a smaller learning rate (--lr) or another --seed")
    else:   # nothing to roll back to: rolling back cannot help
        advice = ("nothing to roll back to: start it again (--force) with a smaller learning rate (--lr) or "
                  "another --seed, or save checkpoints more often")
    return (f"training diverged at iteration {iteration} ({bad_values(logs)}){why}; the last good checkpoint is "
            f"{last_checkpoint} in {run_dir}; {advice}")
