"""MNIST training digits from a local ``mnist.npz`` (Keras layout) or the official IDX files.

Looked for in each data dir D, in this order (the first data dir holding any of them wins):

1. ``D/mnist/mnist.npz``: keys x_train (60000, 28, 28) uint8, y_train, x_test, y_test; read with
   numpy (``keras.datasets.mnist.load_data(path=...)`` would check the official file's hash and
   download again, which fails offline and rejects byte-different copies of the same arrays);
2. ``D/mnist/train-images-idx3-ubyte.gz`` (also unpacked, and the ``train-images.idx3-ubyte``
   spelling): the official IDX file, parsed here (magic number 2051, uint8 type, 3 dimensions,
   28x28, payload size checked against the header); a labels file next to it is checked for a
   matching count when present but is not needed;
3. ``D/mnist.npz`` (the Keras cache layout, ``~/.keras/datasets/mnist.npz``).

Only the 60,000 training images are returned, as (N, 28, 28, 1) uint8. A damaged file raises
DatasetError (it is not silently passed over for another copy).
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from ..errors import DatasetError

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
TRAIN_IMAGE_NAMES = ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte",
                     "train-images.idx3-ubyte.gz", "train-images.idx3-ubyte")
TRAIN_LABEL_NAMES = ("train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte",
                     "train-labels.idx1-ubyte.gz", "train-labels.idx1-ubyte")


def find_local(data_dir: str) -> tuple[str, str] | None:
    """(kind, path) of the first MNIST copy in ``data_dir`` ("npz" or "idx"), or None."""
    sub = os.path.join(data_dir, "mnist")
    if os.path.basename(os.path.normpath(data_dir)) == "mnist":
        bases = [sub, data_dir]
    else:
        bases = [sub]
    for base in bases:
        npz = os.path.join(base, "mnist.npz")
        if os.path.isfile(npz):
            return "npz", npz
        for name in TRAIN_IMAGE_NAMES:
            path = os.path.join(base, name)
            if os.path.isfile(path):
                return "idx", path
    npz = os.path.join(data_dir, "mnist.npz")
    if os.path.isfile(npz):
        return "npz", npz
    return None


def _check_images(x, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28) or x.shape[0] == 0:
        raise DatasetError(
            f"{where}: x_train should be uint8 (N, 28, 28), found {x.dtype} {x.shape}; "
            "replace the file with the official one"
        )
    return x


def read_npz(path: str) -> np.ndarray:
    """x_train of a Keras-layout mnist.npz as (N, 28, 28) uint8; DatasetError if damaged."""
    try:
        # The file is opened here: np.load(path) leaks its handle when the zip is damaged.
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as f:
            if "x_train" not in f.files:
                raise DatasetError(
                    f"{path} has no 'x_train' array (found: {', '.join(f.files) or 'nothing'}); "
                    "it is not the Keras mnist.npz"
                )
            x = f["x_train"]
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - BadZipFile, ValueError, EOFError, zlib.error...
        raise DatasetError(
            f"{path} is damaged or not a numpy .npz ({type(exc).__name__}: {exc}); "
            "delete it and download mnist.npz again"
        ) from None
    return np.ascontiguousarray(_check_images(x, path))


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{path} cannot be read ({type(exc).__name__}: {exc}); download it again"
        ) from None


def parse_idx(data: bytes, path: str, magic: int) -> np.ndarray:
    """Decode an IDX file's bytes (uint8 payload), checking magic number and sizes."""
    if len(data) < 4:
        raise DatasetError(f"{path} is too short to be an IDX file ({len(data)} bytes); download it again")
    got_magic = struct.unpack(">I", data[:4])[0]
    if got_magic != magic:
        raise DatasetError(
            f"{path}: IDX magic number {got_magic}, expected {magic}; it is not the right MNIST file "
            "or it is damaged"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header; download it again")
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != expected:
        raise DatasetError(
            f"{path}: the header announces {'x'.join(map(str, dims))} = {expected} bytes of data "
            f"but the file holds {len(data) - header}; it is truncated or damaged, download it again"
        )
    return np.frombuffer(data, np.uint8, count=expected, offset=header).reshape(dims)


def read_idx_images(path: str) -> np.ndarray:
    """The training images of an IDX file as (N, 28, 28) uint8; DatasetError if damaged."""
    x = parse_idx(_read_bytes(path), path, IMAGE_MAGIC)
    x = _check_images(x, path)
    folder = os.path.dirname(path)
    for name in TRAIN_LABEL_NAMES:
        label_path = os.path.join(folder, name)
        if os.path.isfile(label_path):
            y = parse_idx(_read_bytes(label_path), label_path, LABEL_MAGIC)
            if y.shape[0] != x.shape[0]:
                raise DatasetError(
                    f"{label_path} has {y.shape[0]} labels but {path} has {x.shape[0]} images; "
                    "the two files do not belong together"
                )
            break
    return x.copy()


def read_local(kind: str, path: str) -> np.ndarray:
    """(N, 28, 28, 1) uint8 from a local copy found by ``find_local``."""
    x = read_npz(path) if kind == "npz" else read_idx_images(path)
    return x[..., None]


def download() -> np.ndarray:
    """``keras.datasets.mnist.load_data()`` (downloads into the Keras cache); raises on failure."""
    import keras  # deferred: importing keras/TensorFlow is slow and only needed here

    (x_train, _), _ = keras.datasets.mnist.load_data()
    return np.ascontiguousarray(_check_images(x_train, "Keras download"))[..., None]
