"""Where datasets and the preprocessing cache live.

Data dirs are searched in this order (the first one holding the dataset wins):

1. the ``data_dir`` argument (``--data-dir`` on the command line),
2. ``$GAN_KERAS_DATA_DIR`` (several dirs may be joined with ``os.pathsep``),
3. ``<repo>/data``,
4. the Keras cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``).

When a ``data_dir`` argument is given but lacks the dataset, the later dirs are still searched
(and, for MNIST, a Keras download tried); ``loading`` then emits one ``DatasetWarning`` naming
that data_dir and where the dataset was found instead.

The cache of preprocessed arrays is ``cache_dir`` if given, else ``$GAN_KERAS_CACHE_DIR``, else
``<repo>/data/cache``.
"""
from __future__ import annotations

import os

DATA_DIR_ENV = "GAN_KERAS_DATA_DIR"
CACHE_DIR_ENV = "GAN_KERAS_CACHE_DIR"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO_DATA_DIR = os.path.join(REPO_ROOT, "data")


def keras_datasets_dir() -> str:
    """The folder where Keras caches downloaded datasets ($KERAS_HOME/datasets or ~/.keras/datasets)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(os.path.abspath(os.path.expanduser(home)), "datasets")


def data_dirs_with_origin(data_dir=None) -> list[tuple[str, str]]:
    """(absolute dir, where it came from) in search order, duplicates removed; dirs need not exist."""
    found: list[tuple[str, str]] = []
    if data_dir is not None and str(data_dir) != "":
        found.append((os.fspath(data_dir), "data_dir argument"))
    for part in os.environ.get(DATA_DIR_ENV, "").split(os.pathsep):
        if part.strip():
            found.append((part.strip(), f"${DATA_DIR_ENV}"))
    found.append((REPO_DATA_DIR, "the repository's data/"))
    found.append((keras_datasets_dir(), "the Keras cache"))
    out, seen = [], set()
    for path, origin in found:
        path = os.path.abspath(os.path.expanduser(path))
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        out.append((path, origin))
    return out


def resolve_data_dirs(data_dir=None) -> list[str]:
    """The data dirs to search, in order: ``data_dir``, $GAN_KERAS_DATA_DIR, <repo>/data, Keras cache."""
    return [path for path, _ in data_dirs_with_origin(data_dir)]


def describe_dirs(dirs: list[tuple[str, str]]) -> str:
    """'/a (data_dir argument), /b (the Keras cache)' for error messages."""
    return ", ".join(f"{path} ({origin}{'' if os.path.isdir(path) else ', absent'})" for path, origin in dirs)


def resolve_cache_dir(cache_dir=None) -> str:
    """The cache folder: ``cache_dir``, else $GAN_KERAS_CACHE_DIR, else <repo>/data/cache."""
    if cache_dir is not None and str(cache_dir) != "":
        path = os.fspath(cache_dir)
    else:
        path = os.environ.get(CACHE_DIR_ENV, "").strip() or os.path.join(REPO_DATA_DIR, "cache")
    return os.path.abspath(os.path.expanduser(path))
