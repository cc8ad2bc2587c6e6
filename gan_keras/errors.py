"""Exceptions that the command-line tools turn into one clear line on stderr.

Every error a user can cause (bad argument, missing or damaged data, missing weights,
a run directory that cannot be used) is raised as a subclass of ``GanKerasError`` with a
message that says what is wrong and what to do. The CLIs catch ``GanKerasError`` and print
``error: <message>`` without a traceback; anything else is a bug and keeps its traceback.

Warnings go through :func:`warn`, which names the user's line, not ours.
"""
import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside ``gan_keras``: the user's line (or
    the command-line script's). A fixed ``stacklevel`` points into the library whenever the path to
    the warning changes (a dataset served from its cache warns from another depth than one read
    from its files)."""
    frame, level = sys._getframe(1), 2   # stacklevel 2: warn's caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


class GanKerasError(Exception):
    """Base class of all user-facing errors."""


class ConfigError(GanKerasError):
    """Bad arguments or an impossible configuration (unknown model, bad sizes...)."""


class DatasetError(GanKerasError):
    """A dataset is missing, empty or unusable."""


class WeightsError(GanKerasError):
    """Pretrained weights (e.g. an Inception network) are missing or do not match."""


class RunDirError(GanKerasError):
    """A run directory is missing, incomplete, or holds a different run."""


class CheckpointError(GanKerasError):
    """A checkpoint cannot be written or read."""


class TrainingDiverged(GanKerasError):
    """A loss became NaN or infinite."""
