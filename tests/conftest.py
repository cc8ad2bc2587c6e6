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


@pytest.fixture(scope="session")
def shared_data_dir():
    """../shared/data (the official dataset layouts); tests needing it skip where it is absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fid_weights_path():
    if not os.path.isfile(FID_WEIGHTS):
        pytest.skip("../shared/weights/fid-inception-2015-12-05.pt is not present")
    return FID_WEIGHTS


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


def pytest_configure(config):
    # Keras 3.15's TensorFlow backend converts tensors with np.array(x, copy=False) first; under
    # NumPy 2 that emits this DeprecationWarning thousands of times per run. It is Keras's, not ours.
    config.addinivalue_line("filterwarnings",
                            "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
