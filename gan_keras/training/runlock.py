"""One training process per run directory: an advisory lock on ``<run>/.lock``.

Two ``GAN_main.py`` processes given the same ``--out`` (or a ``--resume`` of a run that is still
training) would interleave their checkpoints and logs, and the second's ``--force`` would delete
the first's files under it. So the run directory is locked before it is read: the second process
is refused with the first's process id and command, before it writes anything.

Why these choices:

- ``fcntl.flock`` on a file inside the run directory: the kernel drops the lock when the process
  dies however it dies (``kill -9``, a crash, a lost machine), so a stale lock never needs
  cleaning up. Where ``fcntl`` does not exist (Windows) runs are not locked, as before.
- The ``.lock`` file stays after the run (it is hidden, a few bytes): deleting it would let a
  process still holding the old file and a newer process holding a new one both think they
  own the directory. ``is_empty`` and ``--force`` treat a directory holding only it as empty.
- A directory that did not exist is created to hold the lock; if the run is then refused by a
  later check, ``release(failed=True)`` removes it again (and a lock file it created in a folder
  that is refused), so bad input still leaves nothing behind.
- The lock is taken before the directory is checked (``run_setup.existing_run``), so what the
  check saw cannot change before training starts.
"""
from __future__ import annotations

import os
import shutil
import socket

from gan_keras import rundir
from gan_keras.errors import RunDirError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here
    fcntl = None

LOCK_FILE = ".lock"


def is_empty(run_dir: str) -> bool:
    """Whether a directory holds nothing but (possibly) a lock file."""
    return all(name == LOCK_FILE for name in os.listdir(run_dir))


def clear(run_dir: str) -> None:
    """Delete what a run directory holds except its lock file (``--force``), so the lock stays held."""
    for name in os.listdir(run_dir):
        path = os.path.join(run_dir, name)
        if name == LOCK_FILE:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _missing_parents(path: str) -> list:
    """``path`` and each of its ancestors that does not exist yet, innermost first."""
    missing, path = [], os.path.abspath(path)
    while not os.path.exists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


class RunLock:
    """``RunLock(run_dir, command).acquire()`` or a ``RunDirError`` naming the process that holds it."""

    def __init__(self, run_dir: str, command: str = ""):
        self.run_dir, self.command = run_dir, command
        self.path = os.path.join(run_dir, LOCK_FILE)
        self._fd = None
        self._created, self._created_file = [], False

    def acquire(self) -> "RunLock":
        if fcntl is None:
            return self
        if not os.path.isdir(self.run_dir):
            if os.path.exists(self.run_dir):
                raise RunDirError(f"{self.run_dir} exists and is not a directory")
            self._created = _missing_parents(self.run_dir)   # the run folder and any missing above it
            os.makedirs(self.run_dir)
        self._created_file = not os.path.exists(self.path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:   # read-only, another user's lock file: the run's own writes will say more
            return self._unlocked(exc)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise RunDirError(
                f"{self.run_dir} is being written by another training process ({holder}); wait for it "
                f"to finish or stop it, or choose another --out") from None
        except OSError as exc:   # a file system without flock (some network and parallel ones)
            os.close(fd)
            return self._unlocked(exc)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}: {self.command}".encode())
        self._fd = fd
        return self

    def _unlocked(self, exc: OSError) -> "RunLock":
        print(f"warning: could not lock {self.run_dir} ({os.strerror(exc.errno)}): nothing stops another "
              f"process from training it at the same time")
        return self

    def release(self, failed: bool = False) -> None:
        """Unlock; after a refusal (``failed``) of a folder that holds no run, also remove the lock
        file and the folders this lock created (the run's and any parent it had to make), each
        only if it holds nothing else."""
        if failed and not rundir.holds_run(self.run_dir):
            try:
                if self._created_file and self._fd is not None:
                    os.unlink(self.path)
                for folder in self._created:   # innermost first
                    os.rmdir(folder)
            except OSError:   # gone already, or holding something: left as it is
                pass
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, exc_type, *exc):
        self.release(failed=exc_type is not None)
