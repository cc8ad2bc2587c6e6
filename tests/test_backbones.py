"""Inception backbones: the .pt reader, the Keras port of the FID Inception (checked against
features of the original TorchScript network, tests/fixtures/fid_reference.npz made by
tests/fixtures/make_fid_reference.py), preprocessing, and weight lookup errors."""
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from gan_keras.errors import ConfigError, WeightsError
from gan_keras.metrics import backbones as B
from gan_keras.metrics import fid_inception
from gan_keras.metrics import weights as W
from gan_keras.metrics.torch_reader import load_state_dict, read_torch_file

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "fid_reference.npz")
TOL = 1e-4


@pytest.fixture(scope="module")
def reference():
    return np.load(FIXTURE)


@pytest.fixture(scope="module")
def fid_backbone(fid_weights_path):
    return B.get_backbone("fid", weights=fid_weights_path)


@pytest.fixture
def offline_keras_home(tmp_path, monkeypatch):
    """An empty Keras cache, no $GAN_KERAS_INCEPTION_WEIGHTS, and no network attempts."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(W.WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(W.NO_DOWNLOAD_ENV, raising=False)

    def no_registry(*args, **kwargs):  # a fetch from the package registry fails at once
        raise WeightsError("could not fetch it from the package registry: no network in this test")

    monkeypatch.setattr(W, "fetch_from_registry", no_registry)
    monkeypatch.setattr(W, "_host_reachable", lambda *a, **k: False)  # a download fails at once
    return tmp_path / "keras_home" / "models"


# ------------------------------------------------------------------------------------------
# .pt reader
# ------------------------------------------------------------------------------------------
def test_reader_reads_the_fid_inception_file(fid_weights_path):
    sd, attrs = load_state_dict(fid_weights_path)
    assert len(sd) == 376
    assert sum(v.size for v in sd.values()) == 21_802_784
    assert all(v.dtype == np.float32 for v in sd.values())
    assert sd["net.layers.conv.weight"].shape == (32, 3, 3, 3)
    assert sd["net.layers.mixed_10.tower_2_conv.var"].shape == (192,)
    assert attrs["net.layers.conv"] == {"stride": 2, "padding": 0}
    assert attrs["net.layers.mixed_4.tower.conv_1"] == {"stride": 1, "padding": [0, 3]}
    assert np.all(sd["net.layers.conv.var"] > 0)


def _p(obj):
    """Pickle opcodes of a plain value, without PROTO and STOP."""
    return pickle.dumps(obj, protocol=2)[2:-1]


def _fake_pt(path, tensors):
    """A minimal torch.save-style zip: data.pkl (OrderedDict of tensors) + data/<key> storages.
    Each value is (storage float32 array, offset, size, stride)."""
    od = b"ccollections\nOrderedDict\n)R"
    pk = b"\x80\x02" + od
    with zipfile.ZipFile(path, "w") as zf:
        for i, (name, (storage, offset, size, stride)) in enumerate(tensors.items()):
            zf.writestr(f"archive/data/{i}", np.asarray(storage, "<f4").tobytes())
            pid = b"(" + _p("storage") + b"ctorch\nFloatStorage\n" + _p(str(i)) + _p("cpu") + _p(len(storage)) + b"tQ"
            args = b"(" + pid + _p(offset) + _p(tuple(size)) + _p(tuple(stride)) + b"\x89" + od + b"t"
            pk += _p(name) + b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"Rs"
        zf.writestr("archive/data.pkl", pk + b".")


def test_reader_rebuilds_strided_tensors(tmp_path):
    path = tmp_path / "fake.pt"
    store = np.arange(10, dtype=np.float32)
    _fake_pt(path, {"a": (store, 0, (2, 3), (3, 1)),   # contiguous
                    "b": (store, 1, (3, 2), (1, 3)),   # transposed view with an offset
                    "c": (store, 9, (), ())})          # scalar
    sd, _ = load_state_dict(str(path))
    np.testing.assert_array_equal(sd["a"], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(sd["b"], [[1, 4], [2, 5], [3, 6]])
    assert sd["c"] == 9
    with pytest.raises(WeightsError, match="376"):
        fid_inception.load_fid_weights(str(path))


def test_reader_refuses_foreign_code_and_non_archives(tmp_path):
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("x/data.pkl", b"\x80\x02cos\nsystem\n(Vecho pwned\ntR.")
    with pytest.raises(WeightsError, match="os.system"):
        read_torch_file(str(evil))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip")
    with pytest.raises(WeightsError, match="junk.pt"):
        read_torch_file(str(junk))


# ------------------------------------------------------------------------------------------
# preprocessing
# ------------------------------------------------------------------------------------------
def test_preprocess_fid_range():
    x = np.zeros((1, 299, 299, 3), np.float32)
    x[0, 0, 0] = [-1.0, 0.0, 1.0]
    y = B.preprocess(x, "fid")
    assert y.dtype == np.float32 and y.shape == (1, 299, 299, 3)
    assert y[0, 0, 0].tolist() == [-1.0, -0.00390625, 0.9921875]  # u8 0, 127.5, 255 -> x/128 - 1
    u8 = np.random.default_rng(0).integers(0, 256, (2, 299, 299, 3)).astype(np.float32)
    y = B.preprocess(u8 / 127.5 - 1, "fid")
    assert np.abs(y - (u8 / 128 - 1)).max() <= 1e-6


def test_preprocess_keras_is_identity_on_range():
    x = np.random.default_rng(1).uniform(-1, 1, (2, 299, 299, 3)).astype(np.float32)
    x[0, 0, 0] = [-1.0, 0.0, 1.0]
    np.testing.assert_array_equal(B.preprocess(x, "keras"), x)
    # keras' own preprocess_input maps 8-bit x to x/127.5 - 1, i.e. the same [-1, 1]
    from keras.applications.inception_v3 import preprocess_input

    u8 = np.array([[[[0.0, 127.5, 255.0]]]], np.float32)
    assert np.asarray(preprocess_input(u8.copy())).ravel().tolist() == [-1.0, 0.0, 1.0]


@pytest.mark.parametrize("name", B.BACKBONES)
def test_preprocess_grayscale_and_shape(name):
    g = np.random.default_rng(2).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    y = B.preprocess(g, name)
    assert y.shape == (3, 299, 299, 3)
    np.testing.assert_array_equal(y[..., 0], y[..., 1])
    np.testing.assert_array_equal(y[..., 0], y[..., 2])
    np.testing.assert_array_equal(B.preprocess(g[..., 0], name), y)  # (N, H, W) = grayscale
    assert B.preprocess(np.zeros((1, 64, 40, 3), np.float32), name, resize="nearest").shape == (1, 299, 299, 3)


def _bilinear_half_pixel(img, size):
    """numpy reference: PyTorch F.interpolate(bilinear, align_corners=False) for upsampling."""
    h, w = img.shape[:2]

    def axis(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        src = np.clip(src, 0, None)
        i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    r0, r1, fr = axis(h, size)
    c0, c1, fc = axis(w, size)
    fr, fc = fr[:, None, None], fc[None, :, None]
    top = img[r0][:, c0] * (1 - fc) + img[r0][:, c1] * fc
    bot = img[r1][:, c0] * (1 - fc) + img[r1][:, c1] * fc
    return top * (1 - fr) + bot * fr


def test_resize_is_half_pixel_bilinear():
    img = np.random.default_rng(3).uniform(-1, 1, (7, 5, 3)).astype(np.float64)
    y = B.preprocess(img[None].astype(np.float32), "keras", resize="bilinear")[0]
    assert np.abs(y - _bilinear_half_pixel(img, 299)).max() < 1e-5
    # nearest: every output value is one of the input values
    yn = B.preprocess(img[None].astype(np.float32), "keras", resize="nearest")[0]
    assert set(np.unique(yn[..., 0]).tolist()) <= set(img[..., 0].astype(np.float32).ravel().tolist())


def test_preprocess_rejects_bad_input():
    with pytest.raises(ConfigError):
        B.preprocess(np.zeros((1, 8, 8, 2), np.float32), "fid")
    with pytest.raises(ConfigError):
        B.preprocess(np.zeros((8, 8), np.float32), "fid")
    with pytest.raises(ConfigError):
        B.preprocess(np.zeros((1, 8, 8, 3), np.float32), "inception_v4")
    with pytest.raises(ConfigError):
        B.get_backbone("fid", resize="bicubic")


# ------------------------------------------------------------------------------------------
# the FID Inception against the original TorchScript network
# ------------------------------------------------------------------------------------------
def test_fid_features_match_torch_on_identical_input(fid_backbone, reference, capsys):
    """Images already 299x299: no resize, so this compares the networks alone."""
    bb = fid_backbone
    assert (bb.name, bb.feature_dim, bb.has_classifier, bb.resize) == ("fid", 2048, False, "bilinear")
    x = reference["exact_u8"].astype(np.float32) / 127.5 - 1.0
    f = bb.features(x, batch_size=4, progress=True)  # 6 images: one full and one partial batch
    assert f.dtype == np.float64 and f.shape == (6, 2048)
    diff = np.abs(f - reference["exact_features"]).max()
    assert diff < TOL, diff
    assert "6/6 images" in capsys.readouterr().err


@pytest.mark.parametrize("which", ["full64", "full28", "fullceleba"])
def test_fid_features_match_torch_with_full_preprocessing(fid_backbone, reference, which):
    """64x64 RGB, 28x28 grayscale and 109x89 images resized here vs by torch F.interpolate
    (bilinear, align_corners=False): confirms the resize convention."""
    x = reference[f"{which}_u8"].astype(np.float32) / 127.5 - 1.0
    f, logits = fid_backbone.features_and_logits(x)
    assert logits is None
    diff = np.abs(f - reference[f"{which}_features"]).max()
    assert diff < TOL, diff


def test_fid_description(fid_backbone, fid_weights_path):
    d = fid_backbone.description
    json.dumps(d)
    assert d["name"] == "fid" and d["resize"] == "bilinear"
    assert d["sha256"] == W.FID_WEIGHTS_SHA256 and d["is_reference_file"] is True
    assert "128" in d["input_range"]


# ------------------------------------------------------------------------------------------
# Keras InceptionV3
# ------------------------------------------------------------------------------------------
def test_keras_backbone_random_weights_offline(offline_keras_home):
    with pytest.warns(UserWarning, match="random initialisation"):
        bb = B.get_backbone("keras", weights=None, include_top=True)
    assert bb.name == "keras" and bb.has_classifier and bb.feature_dim == 2048
    x = np.random.default_rng(4).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    f, p = bb.features_and_logits(x, batch_size=2)
    assert f.shape == (3, 2048) and f.dtype == np.float64 and np.all(np.isfinite(f))
    assert p.shape == (3, 1000) and np.allclose(p.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(bb.features(x), f, rtol=1e-4, atol=1e-6)  # batch 50 vs 2
    assert bb.description["weights"] is None
    json.dumps(bb.description)
    assert not os.path.exists(offline_keras_home)  # nothing looked up or downloaded


def test_keras_missing_weights_is_one_actionable_line(offline_keras_home):
    with pytest.raises(WeightsError) as e:
        B.get_backbone("keras")
    msg = str(e.value)
    assert "\n" not in msg
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels.h5" in msg
    assert "9a0d58056eeedaa3f26cb7ebd46da564" in msg
    assert str(offline_keras_home) in msg and "--inception fid" in msg


def test_keras_damaged_cached_weights(offline_keras_home):
    offline_keras_home.mkdir(parents=True)
    (offline_keras_home / W.KERAS_WEIGHTS[False]["file"]).write_bytes(b"damaged")
    with pytest.raises(WeightsError, match="wrong md5"):
        W.find_keras_weights()
    with pytest.raises(WeightsError, match="not found"):
        B.get_backbone("keras", weights=str(offline_keras_home / "nope.h5"))


# ------------------------------------------------------------------------------------------
# FID weights lookup
# ------------------------------------------------------------------------------------------
def test_find_fid_weights_order(offline_keras_home, fid_weights_path, monkeypatch):
    with pytest.raises(WeightsError) as e:
        W.find_fid_weights()
    msg = str(e.value)
    assert "fid-inception-2015-12-05.pt" in msg and W.FID_WEIGHTS_SHA256 in msg
    assert str(offline_keras_home) in msg and "\n" not in msg
    with pytest.raises(WeightsError, match="nowhere.pt"):
        W.find_fid_weights("/nowhere.pt")
    # the Keras cache folder
    offline_keras_home.mkdir(parents=True)
    cached = offline_keras_home / W.FID_WEIGHTS_FILE
    cached.symlink_to(fid_weights_path)
    assert W.find_fid_weights() == str(cached)
    # $GAN_KERAS_INCEPTION_WEIGHTS beats the cache, an explicit path beats both
    monkeypatch.setenv(W.WEIGHTS_ENV, fid_weights_path)
    assert W.find_fid_weights() == os.path.abspath(fid_weights_path)
    assert W.find_fid_weights(str(cached)) == str(cached)
    monkeypatch.setenv(W.WEIGHTS_ENV, "/missing/file.pt")
    with pytest.raises(WeightsError, match=W.WEIGHTS_ENV):
        W.find_fid_weights()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_weights_from_a_file_and_from_the_cache(offline_keras_home, tmp_path, monkeypatch):
    """weights=PATH (legacy .h5 like the official files, here without classifier) and the same
    file found in the Keras cache under its official name (md5 patched to this file's)."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    net = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg")
    path = tmp_path / "user_notop.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, net)
    x = np.random.default_rng(5).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    want = np.asarray(net(B.preprocess(x, "keras"), training=False))
    try:
        bb = B.get_backbone("keras", weights=str(path))
        assert not bb.has_classifier and bb.description["weights"] == "file"
        np.testing.assert_allclose(bb.features(x), want, rtol=1e-4, atol=1e-5)

        offline_keras_home.mkdir(parents=True)
        official = offline_keras_home / W.KERAS_WEIGHTS[False]["file"]
        os.replace(path, official)
        monkeypatch.setitem(W.KERAS_WEIGHTS[False], "md5", W.file_digest(str(official), "md5"))
        assert W.find_keras_weights() == (str(official), False)
        bb = B.get_backbone("keras")
        assert not bb.has_classifier and bb.features_and_logits(x)[1] is None
        assert bb.description["weights"] == "imagenet" and bb.description["file"] == str(official)
        np.testing.assert_allclose(bb.features(x), want, rtol=1e-4, atol=1e-5)
    finally:  # 88 MB: do not leave it in the temporary folder
        for p in (path, offline_keras_home / W.KERAS_WEIGHTS[False]["file"]):
            if os.path.exists(p):
                os.remove(p)
