"""Exceptions that the command-line tools turn into one clear line on stderr.

Every error a user can cause (bad argument, missing or damaged data, missing weights,
a run directory that cannot be used) is raised as a subclass of ``GanKerasError`` with a
message that says what is wrong and what to do. The CLIs catch ``GanKerasError`` and print
``error: <message>`` without a traceback; anything else is a bug and keeps its traceback.
"""


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
