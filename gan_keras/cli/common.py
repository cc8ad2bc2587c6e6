"""What the command-line tools share: one-line errors, quiet start-up, positive integers."""
from __future__ import annotations

import argparse
import math
import sys
import warnings


def quiet_tensorflow():
    """One-line warnings; TensorFlow itself was imported quietly by ``import gan_keras``."""
    from gan_keras._quiet_tf import import_tensorflow_quietly

    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    import_tensorflow_quietly()


def held_signal_pending() -> bool:
    """Whether a SIGINT/SIGTERM that ``GAN_main.py`` holds has arrived (it is still held)."""
    import signal

    return hasattr(signal, "sigpending") and bool(signal.sigpending() & {signal.SIGINT, signal.SIGTERM})


def release_held_signals():
    """Stop holding the SIGINT/SIGTERM that ``GAN_main.py`` held while TensorFlow was imported (a
    KeyboardInterrupt raised then can be lost in a garbage-collector callback). Called once a
    ``StopRequest`` handles them; one that arrived meanwhile is delivered to it here."""
    import signal

    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2), never the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def _number(text: str, cast, ok, what: str):
    """argparse type: ``cast(text)`` that satisfies ``ok``, else one clear message."""
    try:
        value = cast(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def non_negative_float(text: str) -> float:
    return _number(text, float, lambda v: math.isfinite(v) and v >= 0, "a number >= 0")


def seed_int(text: str) -> int:
    """A random seed: what numpy, TensorFlow and Keras all accept (0 .. 2**32 - 1)."""
    return _number(text, int, lambda v: 0 <= v < 2**32, "an integer from 0 to 4294967295")


def existing_dir(text: str) -> str:
    """A folder that exists: an explicit --data-dir that is wrong must not fall back silently."""
    import os

    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder" if os.path.exists(text)
                                         else f"{text!r} does not exist")
    return text


def os_error_line(exc: OSError) -> str:
    """An OSError as one line: what failed, on which path."""
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < math.inf, "a positive number")


def fail(prog: str, message: str, code: int = 1) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return code
