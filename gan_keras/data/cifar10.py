"""CIFAR-10, python version: the 50,000 training images of ``cifar-10-batches-py``, 32x32 RGB.

Layout: ``<data dir>/cifar10/cifar-10-batches-py/data_batch_1`` ... ``data_batch_5`` (what
``tar xzf cifar-10-python.tar.gz -C <data dir>/cifar10`` unpacks, from
https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz); ``<data dir>/cifar-10-batches-py/`` (the
Keras cache layout) and a data dir that is ``cifar10/`` or ``cifar-10-batches-py/`` itself work too.
``test_batch`` and ``batches.meta`` are not needed.

Each batch is a pickled dict (Python 2 cPickle, protocol 2) with bytes keys: ``b"data"``, a
(10000, 3072) uint8 array whose rows are one image each, **channel planes in the order R, G, B**
(1024 values each, every plane row by row: value ``c * 1024 + r * 32 + x`` is channel c of pixel
(row r, column x)); ``b"labels"``, 10000 ints 0..9; ``b"batch_label"`` and ``b"filenames"``. Rows are
turned into (N, 32, 32, 3) with ``reshape(N, 3, 32, 32).transpose(0, 2, 3, 1)``. The images are
returned in file order, data_batch_1 first, so ``limit=1000`` gives the first 1,000 training images
(the first 1,000 rows of data_batch_1, seed 000's subset); only the batches needed are read.

**Pickle safety.** Unpickling can run arbitrary code (any global a pickle names can be called),
so only the official files should be given. Batches are read with ``RestrictedUnpickler``, which
resolves only the globals an official batch needs (numpy's ``_reconstruct`` under its old and new
module names, ``numpy.ndarray``, ``numpy.dtype``; ``_codecs.encode`` for latin-1 only, which Python 3
writes for bytes in protocol 2; a few inert builtin types) and refuses every other global (e.g.
``os.system``) *before* anything is called; a file that is not a dict with the right keys, dtypes and
shapes is refused too. Either way: DatasetError naming the file.
"""
from __future__ import annotations

import builtins
import codecs
import io
import os
import pickle

import numpy as np

from ..errors import DatasetError

try:  # numpy >= 2 (numpy.core is a deprecated alias there)
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct

FOLDER = "cifar-10-batches-py"
BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
SIDE = 32
ROW_LENGTH = 3 * SIDE * SIDE
MAX_BATCH_BYTES = 256 * 1024 * 1024  # official batches are 31 MB
PREPROCESS_VERSION = "cifar10-v1: data_batch_1..5 rows (R, G, B planes) -> (N, 32, 32, 3) uint8, file order"


class ForbiddenGlobal(pickle.UnpicklingError):
    """The pickle names a global that a CIFAR-10 batch does not need (refused, nothing called)."""


def _latin1_encode(text, encoding="latin1"):
    """``_codecs.encode`` as protocol-2 pickles of bytes use it: str -> bytes, latin-1 only."""
    if not isinstance(text, str) or codecs.lookup(encoding).name != "iso8859-1":
        raise ForbiddenGlobal(f"_codecs.encode is allowed only for latin-1 text, got {type(text).__name__}, "
                              f"{encoding!r}")
    return text.encode("latin1")


_INERT_BUILTINS = ("bytes", "bytearray", "list", "tuple", "dict", "set", "frozenset", "int", "float", "complex",
                   "str", "bool")
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,   # what the official (Python 2) files name
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # what numpy >= 2 writes
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    **{(module, name): getattr(builtins, name) for module in ("builtins", "__builtin__") for name in _INERT_BUILTINS},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only ``ALLOWED_GLOBALS`` (and raises ForbiddenGlobal for the rest)."""

    def find_class(self, module, name):
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise ForbiddenGlobal(f"{module}.{name}")
        return found


def restricted_load(data: bytes):
    """Unpickle ``data`` like ``pickle.loads(data, encoding="bytes")`` but with ``RestrictedUnpickler``."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()


def _key(k) -> str:
    return k.decode("latin1") if isinstance(k, bytes) else k if isinstance(k, str) else repr(k)


def read_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 32, 32, 3) uint8, labels (N,) int64) of one batch file; DatasetError (one line)
    if it cannot be read, names a forbidden global, or is not a CIFAR-10 batch."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BATCH_BYTES:
            raise DatasetError(f"{path} is {size:,} bytes, too large for a CIFAR-10 batch (31 MB); "
                               "use the official cifar-10-python.tar.gz")
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise DatasetError(f"cannot read the CIFAR-10 batch {path} ({exc.strerror or exc})") from None
    try:
        obj = restricted_load(data)
    except ForbiddenGlobal as exc:
        raise DatasetError(f"refused {path}: the pickle refers to {exc}, which a CIFAR-10 batch never does "
                           "(pickles can run code; only the official cifar-10-python.tar.gz files are read)") from None
    except Exception as exc:  # noqa: BLE001 - truncated, not a pickle, wrong state: all mean "damaged"
        text = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        raise DatasetError(f"{path} is not a readable CIFAR-10 python batch ({reason}); unpack "
                           "cifar-10-python.tar.gz again") from None
    return _check_batch(obj, path)


def _check_batch(obj, path: str) -> tuple[np.ndarray, np.ndarray]:
    expected = "a dict with b'data' (N, 3072) uint8 and b'labels' (N ints 0..9)"
    if not isinstance(obj, dict):
        raise DatasetError(f"{path} is not a CIFAR-10 batch: expected {expected}, got {type(obj).__name__}")
    entries = {_key(k): v for k, v in obj.items()}
    missing = [k for k in ("data", "labels") if k not in entries]
    if missing:
        found = ", ".join(sorted(entries)[:8]) or "none"
        raise DatasetError(f"{path} is not a CIFAR-10 batch: no {' or '.join(missing)} key (keys: {found}); "
                           f"expected {expected}")
    data, labels = entries["data"], entries["labels"]
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != ROW_LENGTH or data.shape[0] == 0):
        what = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"{path} is not a CIFAR-10 batch: data is {what}; expected {expected}")
    try:
        labels = np.asarray(labels)
        ok = labels.ndim == 1 and labels.dtype.kind in "iu" and len(labels) == len(data)
        ok = ok and bool(((labels >= 0) & (labels <= 9)).all())
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise DatasetError(f"{path} is not a CIFAR-10 batch: labels do not match data {data.shape}; "
                           f"expected {expected}")
    images = np.ascontiguousarray(data.reshape(len(data), 3, SIDE, SIDE).transpose(0, 2, 3, 1))
    return images, labels.astype(np.int64)


def find_folder(data_dir: str) -> str | None:
    """The ``cifar-10-batches-py`` folder of ``data_dir`` holding data_batch_1, or None."""
    candidates = [os.path.join(data_dir, "cifar10", FOLDER), os.path.join(data_dir, FOLDER)]
    if os.path.basename(os.path.normpath(data_dir)) == FOLDER:
        candidates.append(data_dir)
    for folder in candidates:
        if os.path.isfile(os.path.join(folder, BATCHES[0])):
            return folder
    return None


def load(folder: str, limit: int | None = None) -> tuple[np.ndarray, dict]:
    """The training images of ``folder`` in file order (only the batches ``limit`` needs are read),
    with facts for ``ImageDataset.info``. DatasetError if a needed batch is missing or damaged."""
    parts, used, per_batch = [], [], []
    total = 0
    for name in BATCHES:
        if limit is not None and total >= limit:
            break
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            have = [b for b in BATCHES if os.path.isfile(os.path.join(folder, b))]
            raise DatasetError(f"CIFAR-10 in {folder} is incomplete: {name} is missing (found {', '.join(have)}); "
                               "unpack cifar-10-python.tar.gz again, or pass a smaller limit")
        images, _labels = read_batch(path)
        if limit is not None:
            images = images[:limit - total]
        parts.append(images)
        used.append(name)
        per_batch.append(len(images))
        total += len(images)
    images = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return images, {"batches": used, "images_per_batch": per_batch, "layout": "rows of R, G, B planes (CHW)"}
