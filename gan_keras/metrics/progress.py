"""A tiny progress line for long feature extractions (stderr, no dependencies).

On a terminal the line is redrawn in place; otherwise (logs, CI) a line is printed at most
every ``interval`` seconds and once at the end, so logs stay short.
"""
from __future__ import annotations

import sys
import time


def _fmt_time(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class Progress:
    """``with Progress(total, "features") as p: ... p.update(n)``."""

    def __init__(self, total: int, label: str, unit: str = "img", stream=None,
                 enabled: bool = True, interval: float | None = None):
        self.total = int(total)
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.5 if self.tty else 15.0)
        self.done = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self._closed = False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    def _line(self) -> str:
        rate = self.rate
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.label}: {self.done}/{self.total} {self.unit} "
                f"({rate:.1f} {self.unit}/s, {_fmt_time(self.elapsed)} elapsed, {_fmt_time(left)} left)")

    def _emit(self, final: bool = False) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + self._line() + ("\n" if final else ""))
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def update(self, n: int) -> None:
        self.done += int(n)
        now = time.perf_counter()
        if now - self._last >= self.interval and self.done < self.total:
            self._last = now
            self._emit()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._emit(final=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        elif self.enabled and self.tty:
            self.stream.write("\n")
        return False
