"""Cache of preprocessed uint8 arrays, so that the second load of a file dataset is fast.

One cache file per (dataset, source folder, options): ``<cache dir>/<name>-<12 hex>.npz``, an
uncompressed npz with ``images`` (uint8 N,H,W,C) and ``meta`` (a JSON string). ``meta["key"]``
is a hash of the preprocessing version, the Pillow version, the options and the sorted list of
(relative path, size, mtime_ns, ctime_ns) of every source file (one ``os.stat`` each); a cache
whose key differs from the current one is stale and rebuilt in place. The ctime (inode change
time) is there because size and mtime alone miss a file replaced by another of the same size
whose mtime was restored (``cp -p``, ``rsync -t``, ``os.utime``): any write, utime, chmod or
rename sets the ctime to now, and users cannot set it back. Unreadable or inconsistent cache
files are ignored (and replaced). Files are written atomically (temporary file + rename); a
write also removes the ``.tmp-*.npz`` files that an interrupted write (kill -9, power loss) left
in the cache folder, once they are over an hour old (a younger one may be another process's
write in progress).
"""
from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np
import PIL

from ..errors import warn
from ..utils import load_keyed_npz, save_keyed_npz
from .imageio import DatasetWarning


def content_fingerprint(name: str, images: np.ndarray) -> str:
    """'<name>-<N>x<H>x<W>x<C>-<16 hex of sha256 of the pixels>': equal iff the arrays are equal."""
    digest = hashlib.sha256()
    digest.update(str(images.shape).encode())
    digest.update(memoryview(np.ascontiguousarray(images)).cast("B"))
    return f"{name}-{'x'.join(str(d) for d in images.shape)}-{digest.hexdigest()[:16]}"


def distinct_count(images: np.ndarray) -> int:
    """How many of the images differ, pixel for pixel (NLVR's boxes come in 6 orders of one
    example, so most of its crops repeat; a folder may hold one file twice)."""
    return len({hashlib.blake2b(memoryview(np.ascontiguousarray(image)).cast("B"), digest_size=16).digest()
                for image in images})


def source_key(version: str, folder: str, rel_paths: list[str], options: dict) -> str:
    """Hash of everything the preprocessed array depends on (file list, sizes, mtimes, ctimes, versions)."""
    h = hashlib.sha256()
    h.update(json.dumps({"version": version, "pillow": PIL.__version__, "options": options},
                        sort_keys=True).encode())
    for rel in rel_paths:
        try:
            st = os.stat(os.path.join(folder, rel))
            entry = f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n"
        except OSError:
            entry = f"{rel}\0missing\n"
        h.update(entry.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def cache_path_for(cache_dir: str, name: str, folder: str, options: dict) -> str:
    """The cache file used for dataset ``name`` read from ``folder`` with ``options``."""
    ident = json.dumps({"folder": os.path.realpath(folder), "options": options}, sort_keys=True)
    return os.path.join(cache_dir, f"{name}-{hashlib.sha256(ident.encode()).hexdigest()[:12]}.npz")


def read_cache(path: str, key: str, image_shape) -> tuple[np.ndarray, dict] | None:
    """(images, meta) from a valid, current cache file; None if absent, stale or damaged."""
    try:
        found = load_keyed_npz(path, key)
        if found is None:
            return None
        arrays, meta = found
        images = arrays["images"]
        if (images.dtype != np.uint8 or images.ndim != 4
                or tuple(images.shape[1:]) != tuple(image_shape)
                or images.shape[0] != meta.get("count") or images.shape[0] == 0):
            raise ValueError(f"unexpected array {images.dtype} {images.shape}")
        return images, meta
    except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, whatever the damage
        warn(f"ignoring damaged dataset cache {path} ({type(exc).__name__}: {exc}); rebuilding it",
             DatasetWarning)
        return None


STALE_TMP_SECONDS = 3600


def remove_stale_temporaries(folder: str, max_age: float = STALE_TMP_SECONDS) -> list[str]:
    """Delete the ``.tmp-*.npz`` files in ``folder`` (not below) not modified for ``max_age`` seconds.

    They are what ``save_keyed_npz`` leaves when its process is killed mid-write; a younger one
    may be another process's write in progress, so it is left alone. Returns the paths removed;
    never raises (tidying is optional).
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not (entry.name.startswith(".tmp-") and entry.name.endswith(".npz")):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > max_age:
                os.remove(entry.path)
                removed.append(entry.path)
        except OSError:  # gone already (another process tidied it), or not ours to remove
            continue
    return removed


def cache_and_record(info: dict, images: np.ndarray, *, use_cache: bool, path: str, key: str, count: int,
                     skipped: int) -> None:
    """Write a freshly loaded dataset's cache when caching is on, and record in ``info`` (which the
    cache keeps too) what became of it: ``cache`` "built", "write-failed" or "off", and its path."""
    if not use_cache:
        info["cache"] = "off"
        return
    meta = {"key": key, "count": count, "skipped": skipped, "info": info}
    info["cache"] = "built" if write_cache(path, images, meta) else "write-failed"
    info["cache_path"] = path


def write_cache(path: str, images: np.ndarray, meta: dict) -> bool:
    """Write the cache atomically; on failure (read-only dir, full disk) warn and return False.

    Stale temporaries of interrupted writes in the same folder are removed first.
    """
    remove_stale_temporaries(os.path.dirname(os.path.abspath(path)))
    try:
        save_keyed_npz(path, {"images": images}, meta)
        return True
    except Exception as exc:  # noqa: BLE001 - caching is an optimisation, never fatal
        warn(f"could not write dataset cache {path} ({type(exc).__name__}: {exc}); "
             "the next load will preprocess again", DatasetWarning)
        return False
