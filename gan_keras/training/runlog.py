"""What a run writes while it trains: log.csv, the means its progress lines show, and the handling
of Ctrl-C / SIGTERM.

``LogWriter`` writes exactly the columns it is given (the loop takes them from the engine's
declared ``LogSpec``); a row with any other key raises instead of losing the value.
"""
from __future__ import annotations

import csv
import io
import os
import signal

from gan_keras import rundir
from gan_keras.training.logspec import UndeclaredLogValue
from gan_keras.utils import write_text_atomic


class LogWriter:
    """log.csv: one row per iteration, flushed as written; a kill -9 loses at most a partial
    last line, which readers skip and resume rewrites."""

    def __init__(self, path: str, columns: list[str]):
        self.path, self.columns = path, columns
        self.file = None

    def open(self, keep_until: int | None, backup: str | None = None):
        """Open for appending. ``keep_until``: first keep only the rows up to that iteration (a
        resume); None: a new run, so the file starts again from its header.

        When the log does not hold every row 1..keep_until (deleted, truncated, overwritten with
        garbage), the rows are taken from ``backup``, the copy saved in the checkpoint.
        """
        def rows_of(path):
            return [r for r in rundir.read_log_rows(path)[1] if int(r["iteration"]) <= keep_until]

        rows = []
        if keep_until is not None:
            rows = rows_of(self.path)
            if backup is not None and not rundir.log_is_whole(rows, keep_until):
                saved = rows_of(backup)
                if len(saved) > len(rows):
                    print(f"warning: {self.path} was damaged or incomplete ({len(rows)} of {keep_until} rows); "
                          f"restored {len(saved)} rows from the checkpoint's copy")
                    rows = saved
        buf = io.StringIO()
        writer = csv.DictWriter(buf, self.columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.path, buf.getvalue())
        self.file = open(self.path, "a", newline="")
        self.writer = csv.DictWriter(self.file, self.columns, extrasaction="ignore", lineterminator="\n")

    def write(self, row: dict):
        unknown = sorted(set(row) - set(self.columns))
        if unknown:
            raise UndeclaredLogValue(f"log.csv has no column for {', '.join(unknown)} (columns: {', '.join(self.columns)})")
        self.writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        self.file.flush()

    def sync(self):
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self):
        if self.file:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = None


class IntervalMeans:
    """The mean of each logged value over the iterations since the last progress line: one
    iteration's GAN losses are too noisy to read (log.csv keeps every iteration's values)."""

    def __init__(self):
        self.sums, self.counts = {}, {}

    def add(self, logs: dict) -> None:
        for name, value in logs.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
            self.counts[name] = self.counts.get(name, 0) + 1

    def pop(self) -> dict:
        means = {name: total / self.counts[name] for name, total in self.sums.items()}
        self.sums, self.counts = {}, {}
        return means


class StopRequest:
    """SIGINT/SIGTERM: finish the iteration, save a resume point, exit. A second signal stops at once.

    One inside another (``GAN_main.py`` holds one from its start, the loop its own) continues the
    outer one's request: a signal received while the run was starting stops it after its first
    iteration, with a resume point.
    """

    def __init__(self, starting: bool = False, chunk: int = 1):
        self.signal_name = None
        self._previous = {}
        # (with --fetch-every K the engine runs up to K iterations per call: the stop waits for them)
        now = "this iteration" if chunk <= 1 else f"the iterations under way (up to {chunk}, --fetch-every)"
        self._then = ("the run stops after its first iteration, with a resume point" if starting else
                      f"finishing {now}, then saving a resume point")

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. inside a test runner thread)
                continue
            outer = getattr(self._previous[sig], "__self__", None)
            if isinstance(outer, StopRequest) and self.signal_name is None:
                self.signal_name = outer.signal_name
        return self

    def _handle(self, signum, frame):
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name
        print(f"\n{self.signal_name} received: {self._then} (send it again to stop at once)", flush=True)

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
