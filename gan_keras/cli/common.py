"""What both command-line tools share: one-line errors, quiet start-up, positive integers."""
from __future__ import annotations

import argparse
import math
import os
import sys
import warnings


def quiet_tensorflow():
    """Keep TensorFlow's C++ start-up messages off stderr, so errors stay one line.

    TensorFlow 2.21 prints absl log lines (oneDNN, CUDA probing) while it loads and initialises
    its devices, whatever TF_CPP_MIN_LOG_LEVEL says; stderr's file descriptor is pointed at
    /dev/null for exactly that part. Set GAN_KERAS_TF_LOGS=1 to see them.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    if os.environ.get("GAN_KERAS_TF_LOGS") == "1" or "tensorflow" in sys.modules:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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
    return _number(text, int, lambda v: v >= 0, "a non-negative integer")


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: 0 < v < math.inf, "a positive number")


def fail(prog: str, message: str, code: int = 1) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    return code
