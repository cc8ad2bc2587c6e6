"""Small helpers shared by training, evaluation and benchmarks: atomic file writes, the machine, the code revision."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile


def fsync_dir(path: str) -> None:
    """Flush a directory entry (after a rename) where the OS allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path next to ``path``; on success fsync it and rename it into place.

    On any error the temporary file is removed and ``path`` is left untouched, so readers
    never see a half-written file (the rename is atomic on POSIX file systems).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; the result is an ordinary file
        os.replace(tmp, path)
        fsync_dir(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_text_atomic(path: str, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)


def write_json_atomic(path: str, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def save_keyed_npz(path: str, arrays: dict, meta: dict) -> None:
    """Write arrays plus a JSON ``meta`` (whose ``key`` names what they were computed from) atomically.

    Used by the caches (dataset images, real-image features); the file gets the permissions of any
    file the user writes (``atomic_path``).
    """
    import numpy as np

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays, meta=np.array(json.dumps(meta, sort_keys=True, default=str)))


def load_keyed_npz(path: str, key: str) -> tuple[dict, dict] | None:
    """(arrays, meta) of a file written by save_keyed_npz, or None when absent or made for another key.

    A damaged file raises (any exception): callers decide whether to rebuild it. The file is
    opened here, not by ``np.load(path)``, which leaks its handle (a ResourceWarning) when the
    file is not a valid zip: NpzFile's constructor raises before it owns the handle.
    """
    import numpy as np

    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"][()]))
        if meta.get("key") != key:
            return None
        return {name: f[name] for name in f.files if name != "meta"}, meta


def mem_available() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def machine() -> dict:
    """The machine a run or benchmark ran on: host, CPU model, instruction-set extensions that
    change results and speed (oneDNN picks kernels by them: AVX2, AVX-512), platform. Linux reads
    /proc/cpuinfo; elsewhere the CPU fields are "?"."""
    import platform
    import socket

    model, flags = "?", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "?":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = value.split()
    except OSError:
        pass
    return {"host": socket.gethostname(), "model": model, "cpus": os.cpu_count(), "avx2": "avx2" in flags,
            "avx512": sorted(f for f in flags if f.startswith("avx512")), "platform": platform.platform()}


def code_revision() -> str | None:
    """The git revision of the gan_keras checkout this runs from (+ "-dirty" when it has
    uncommitted changes), or None outside a git checkout."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "")
