"""The datasets package: registry, data-dir search, loaders on real and synthetic data, robustness, cache."""
import gzip
import os
import pickle
import shutil
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from gan_keras.data import (
    DATA_DIR_ENV, DATASETS, DatasetWarning, content_fingerprint, dataset_names, generate_shapes, image_shape,
    load_dataset, load_image_folder, resolve_data_dirs,
)
from gan_keras.data import celeba as celeba_mod, locate, mnist as mnist_mod, nlvr as nlvr_mod
from gan_keras.data.imageio import read_rgb
from gan_keras.errors import ConfigError, DatasetError


# ----------------------------------------------------------------------------- helpers

@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """No test sees the developer's own data: repo data/ and the Keras cache point into tmp_path."""
    monkeypatch.setattr(locate, "REPO_DATA_DIR", str(tmp_path / "_repo_data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "_keras_home"))
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("GAN_KERAS_CACHE_DIR", str(tmp_path / "_cache"))
    monkeypatch.setenv("GAN_KERAS_OFFLINE", "1")


def _save(path, image, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, **kw)
    return path


def _solid(colour, size=(80, 60), mode="RGB"):
    return Image.new(mode, size, colour)


def _flowers_dir(root, colours, size=(80, 60)):
    folder = os.path.join(root, "102flowers", "jpg")
    for i, colour in enumerate(colours):
        _save(os.path.join(folder, f"image_{i + 1:05d}.png"), _solid(colour, size))
    return folder


def _nlvr_image(segments, height=100, markers=None):
    """An RGBA NLVR-like image: ``segments`` is a list of ("bar"|"box", width) left to right."""
    width = sum(w for _, w in segments)
    a = np.full((height, width, 4), 255, np.uint8)
    a[..., :3] = 128
    x, box = 0, 0
    for kind, w in segments:
        if kind == "box":
            a[:, x:x + w, :3] = 211
            colour = (markers or [(255, 255, 0), (0, 0, 0), (0, 153, 255)])[box % 3]
            c = x + w // 2
            a[height // 2 - 10:height // 2 + 10, c - 10:c + 10, :3] = colour
            box += 1
        x += w
    return Image.fromarray(a, "RGBA")


OFFICIAL = [("box", 100), ("bar", 50), ("box", 100), ("bar", 50), ("box", 100)]


def _png_header_only(path, width, height):
    """A PNG whose header announces ``width`` x ``height`` (a decompression-bomb stand-in)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


# ----------------------------------------------------------------------------- registry

def test_registry_names_shapes_and_help():
    assert dataset_names() == ["mnist", "nlvr", "102flowers", "shapes", "celeba", "emoji", "cifar10"]
    assert image_shape("mnist") == (28, 28, 1)
    for name in ("nlvr", "102flowers", "shapes", "celeba"):
        assert image_shape(name) == (64, 64, 3)
    assert image_shape("MNIST") == (28, 28, 1)
    assert "mnist.npz" in DATASETS["mnist"].how_to_get
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in DATASETS["mnist"].how_to_get
    assert "https://github.com/lil-lab/nlvr" in DATASETS["nlvr"].how_to_get
    assert "102flowers.tgz" in DATASETS["102flowers"].how_to_get
    assert not DATASETS["shapes"].needs_files
    celeba_help = DATASETS["celeba"].how_to_get
    assert "img_align_celeba.zip" in celeba_help and "Align&Cropped Images" in celeba_help
    assert "mmlab.ie.cuhk.edu.hk/projects/CelebA.html" in celeba_help
    assert "celeba/img_align_celeba/000001.jpg" in celeba_help


def test_unknown_name_lists_choices():
    with pytest.raises(ConfigError) as err:
        load_dataset("cifar")
    for name in dataset_names():
        assert name in str(err.value)
    with pytest.raises(ConfigError):
        image_shape("nope")


# ----------------------------------------------------------------------------- search order

def test_resolve_data_dirs_order(tmp_path, monkeypatch):
    env_a, env_b = tmp_path / "env_a", tmp_path / "env_b"
    monkeypatch.setenv(DATA_DIR_ENV, f"{env_a}{os.pathsep}{env_b}")
    dirs = resolve_data_dirs(str(tmp_path / "arg"))
    assert dirs == [str(tmp_path / "arg"), str(env_a), str(env_b), str(tmp_path / "_repo_data"),
                    str(tmp_path / "_keras_home" / "datasets")]
    monkeypatch.delenv(DATA_DIR_ENV)
    assert resolve_data_dirs() == [str(tmp_path / "_repo_data"), str(tmp_path / "_keras_home" / "datasets")]


def test_search_order_first_dir_with_the_dataset_wins(tmp_path, monkeypatch):
    arg, env, repo = tmp_path / "arg", tmp_path / "env", tmp_path / "_repo_data"
    keras_dir = tmp_path / "_keras_home" / "datasets"
    _flowers_dir(arg, [(10, 10, 10)])
    _flowers_dir(env, [(20, 20, 20)])
    _flowers_dir(repo, [(30, 30, 30)])
    _flowers_dir(keras_dir, [(40, 40, 40)])
    monkeypatch.setenv(DATA_DIR_ENV, str(env))

    def value(**kw):
        ds = load_dataset("102flowers", use_cache=False, progress=False, **kw)
        return int(ds.images[0, 32, 32, 0])

    assert value(data_dir=str(arg)) == 10
    assert value() == 20
    monkeypatch.delenv(DATA_DIR_ENV)
    assert value() == 30
    shutil.rmtree(repo)
    assert value() == 40
    (arg / "empty").mkdir()
    with pytest.warns(DatasetWarning, match=r"102flowers: not found in the data_dir .*empty.*Keras cache"):
        assert value(data_dir=str(arg / "empty")) == 40  # falls through to the later dirs, with a warning


def test_missing_dataset_message_names_paths_and_url(tmp_path):
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    with pytest.raises(DatasetError) as err:
        load_dataset("nlvr", data_dir=str(empty), progress=False)
    msg = str(err.value)
    assert "nlvr/train/images" in msg and str(empty) in msg and "https://github.com/lil-lab/nlvr" in msg
    assert "\n" not in msg
    with pytest.raises(DatasetError) as err:
        load_dataset("102flowers", data_dir=str(empty), progress=False)
    assert "102flowers/jpg" in str(err.value) and "102flowers.tgz" in str(err.value)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", data_dir=str(empty), progress=False)
    msg = str(err.value)
    assert "mnist/mnist.npz" in msg and str(empty) in msg
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in msg


def test_nonexistent_data_dir_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("102flowers", data_dir=str(tmp_path / "typo"))


def test_failed_mnist_download_is_a_dataset_error(tmp_path, monkeypatch):
    def no_network():
        raise OSError("URL fetch failure: no network")
    monkeypatch.setattr(mnist_mod, "download", no_network)
    with pytest.raises(DatasetError, match="download failed.*no network"):
        load_dataset("mnist", data_dir=str(tmp_path), allow_download=True)


# ----------------------------------------------------------------------------- mnist

@pytest.fixture(scope="module")
def real_mnist(shared_data_dir):
    return load_dataset("mnist", data_dir=shared_data_dir, progress=False)


def test_mnist_real_npz(real_mnist, shared_data_dir):
    ds = real_mnist
    assert ds.images.shape == (60000, 28, 28, 1) and ds.images.dtype == np.uint8
    assert ds.image_shape == (28, 28, 1) and ds.skipped == 0
    assert ds.source.endswith(os.path.join("mnist", "mnist.npz"))
    assert ds.info["fingerprint"].startswith("mnist-60000x28x28x1-")
    with np.load(os.path.join(shared_data_dir, "mnist", "mnist.npz")) as f:
        np.testing.assert_array_equal(ds.images[..., 0], f["x_train"])


def test_mnist_idx_equals_npz(real_mnist, shared_data_dir, tmp_path):
    d = tmp_path / "idx" / "mnist"
    d.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        os.symlink(os.path.join(shared_data_dir, "mnist", name), d / name)
    ds = load_dataset("mnist", data_dir=str(tmp_path / "idx"))
    assert ds.info["format"] == "idx"
    np.testing.assert_array_equal(ds.images, real_mnist.images)
    assert ds.info["fingerprint"] == real_mnist.info["fingerprint"]


def test_mnist_npz_in_keras_cache(real_mnist, shared_data_dir, tmp_path):
    keras_dir = tmp_path / "_keras_home" / "datasets"
    keras_dir.mkdir(parents=True)
    os.symlink(os.path.join(shared_data_dir, "mnist", "mnist.npz"), keras_dir / "mnist.npz")
    ds = load_dataset("mnist")
    assert ds.source == str(keras_dir / "mnist.npz")
    assert ds.info["fingerprint"] == real_mnist.info["fingerprint"]


def _idx_bytes(images, magic=2051):
    return struct.pack(">IIII", magic, *images.shape) + images.tobytes()


def test_mnist_small_idx_and_npz_synthetic(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    d = tmp_path / "a" / "mnist"
    d.mkdir(parents=True)
    (d / "train-images-idx3-ubyte").write_bytes(_idx_bytes(x))  # unpacked variant
    ds = load_dataset("mnist", data_dir=str(tmp_path / "a"))
    np.testing.assert_array_equal(ds.images[..., 0], x)
    d2 = tmp_path / "b" / "mnist"
    d2.mkdir(parents=True)
    np.savez(d2 / "mnist.npz", x_train=x, y_train=np.zeros(7, np.uint8))
    np.testing.assert_array_equal(load_dataset("mnist", data_dir=str(tmp_path / "b")).images[..., 0], x)
    assert len(load_dataset("mnist", data_dir=str(tmp_path / "b"), limit=3)) == 3


@pytest.mark.parametrize("damage", ["garbage_npz", "npz_without_x_train", "npz_wrong_shape", "idx_truncated",
                                    "idx_bad_magic", "idx_bad_gzip", "idx_label_count"])
def test_mnist_corrupt_files_raise_dataset_error(tmp_path, damage):
    d = tmp_path / "mnist"
    d.mkdir()
    x = np.zeros((5, 28, 28), np.uint8)
    if damage == "garbage_npz":
        (d / "mnist.npz").write_bytes(b"PK\x03\x04 this is not really a zip file")
    elif damage == "npz_without_x_train":
        np.savez(d / "mnist.npz", y_train=np.zeros(3))
    elif damage == "npz_wrong_shape":
        np.savez(d / "mnist.npz", x_train=np.zeros((5, 32, 32), np.float32))
    elif damage == "idx_truncated":
        (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(x)[:-100]))
    elif damage == "idx_bad_magic":
        (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(x, magic=2049)))
    elif damage == "idx_bad_gzip":
        (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(x))[:40])
    elif damage == "idx_label_count":
        (d / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(x)))
        (d / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(struct.pack(">II", 2049, 4) + bytes(4)))
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", data_dir=str(tmp_path))
    assert str(d) in str(err.value)


# ----------------------------------------------------------------------------- nlvr

@pytest.fixture(scope="module")
def nlvr_subset(shared_data_dir, tmp_path_factory):
    """A data dir holding symlinks to 24 real NLVR images (two numbered folders)."""
    root = tmp_path_factory.mktemp("nlvr_subset")
    src = os.path.join(shared_data_dir, "nlvr", "train", "images")
    for d in ("0", "7"):
        names = sorted(os.listdir(os.path.join(src, d)))[:12]
        os.makedirs(root / "nlvr" / "train" / "images" / d)
        for name in names:
            os.symlink(os.path.join(src, d, name), root / "nlvr" / "train" / "images" / d / name)
    return root


def test_nlvr_real_geometry(nlvr_subset):
    folder = nlvr_subset / "nlvr" / "train" / "images" / "0"
    path = str(folder / sorted(os.listdir(folder))[0])
    rgb = read_rgb(path)
    assert rgb.shape == (100, 400, 3)
    boxes, fallback = nlvr_mod.find_boxes(rgb)
    assert boxes == [(0, 100), (150, 250), (300, 400)] and not fallback


def test_nlvr_real_crops(nlvr_subset, tmp_path):
    ds = load_dataset("nlvr", data_dir=str(nlvr_subset), cache_dir=str(tmp_path / "c"), progress=False)
    assert ds.images.shape == (72, 64, 64, 3) and ds.images.dtype == np.uint8
    assert ds.info["images_read"] == 24 and ds.info["crops"] == 72 and ds.info["images_skipped"] == 0
    assert ds.skipped == 0 and ds.info["bar_fallback"] == 0
    # an NLVR example's boxes come in 6 orders (files -img0 .. -img5): most crops repeat, and the count says so
    distinct = len({crop.tobytes() for crop in ds.images})
    assert ds.info["distinct_images"] == distinct and distinct < 72
    for crop in ds.images:
        # The box, not the bar: light grey background dominates and no column is bar grey.
        assert (crop == 211).all(axis=2).mean() > 0.3
        assert not (np.abs(crop.astype(int) - 128) <= 2).all(axis=2).all(axis=0).any()
    # The first crop is the first box resized (PIL BICUBIC).
    folder = nlvr_subset / "nlvr" / "train" / "images" / "0"
    first = Image.open(folder / sorted(os.listdir(folder))[0]).convert("RGB")
    expected = np.asarray(first.crop((0, 0, 100, 100)).resize((64, 64), Image.Resampling.BICUBIC))
    np.testing.assert_array_equal(ds.images[0], expected)


def test_nlvr_bars_found_when_boxes_shift(tmp_path):
    shifted = [("bar", 7), ("box", 100), ("bar", 31), ("box", 96), ("bar", 62), ("box", 104), ("bar", 3)]
    img = _nlvr_image(shifted)
    boxes, fallback = nlvr_mod.find_boxes(np.asarray(img.convert("RGB")))
    assert boxes == [(7, 107), (138, 234), (296, 400)] and not fallback
    d = tmp_path / "nlvr" / "train" / "images" / "0"
    _save(str(d / "train-1-0-0.png"), img)
    _save(str(d / "train-1-0-1.png"), _nlvr_image(OFFICIAL))
    ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert len(ds) == 6 and ds.skipped == 0
    centres = ds.images[:3, 32, 32]
    np.testing.assert_array_equal(centres, [[255, 255, 0], [0, 0, 0], [0, 153, 255]])


def test_nlvr_fallback_and_unfindable_bars(tmp_path):
    a = np.asarray(_nlvr_image(OFFICIAL)).copy()
    a[40:45, 120:125, :3] = 0  # a stray blot inside the first bar: detection fails, geometry holds
    d = tmp_path / "nlvr" / "train" / "images" / "0"
    _save(str(d / "a.png"), Image.fromarray(a, "RGBA"))
    noise = np.random.default_rng(0).integers(0, 256, (100, 400, 3), dtype=np.uint8)
    _save(str(d / "b.png"), Image.fromarray(noise))                      # no bars at all
    _save(str(d / "c.png"), _nlvr_image([("box", 100), ("bar", 50), ("box", 100)]))  # only 2 boxes
    _save(str(d / "d.png"), _solid((1, 2, 3), (100000, 1)))               # absurd size
    with pytest.warns(DatasetWarning, match="skipped 3 of 4") as rec:
        ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert len([w for w in rec if issubclass(w.category, DatasetWarning)]) == 1
    assert len(ds) == 3 and ds.skipped == 3
    assert ds.info["bar_fallback"] == 1 and ds.info["images_skipped"] == 3
    assert "separator bars not found" in " ".join(ds.info["skipped_examples"])


# ----------------------------------------------------------------------------- flowers

def test_flowers_real_subset(shared_data_dir, tmp_path):
    src = os.path.join(shared_data_dir, "102flowers", "jpg")
    dst = tmp_path / "102flowers" / "jpg"
    dst.mkdir(parents=True)
    names = sorted(os.listdir(src))[:30]
    for name in names:
        os.symlink(os.path.join(src, name), dst / name)
    ds = load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    assert ds.images.shape == (30, 64, 64, 3) and ds.images.dtype == np.uint8 and ds.skipped == 0
    np.testing.assert_array_equal(ds.images[0], np.asarray(Image.open(os.path.join(src, names[0])).convert("RGB")))
    assert ds.info["images_resized"] == 0


def test_flowers_resizes_larger_images(tmp_path):
    folder = tmp_path / "102flowers" / "jpg"
    rng = np.random.default_rng(1)
    _save(str(folder / "image_00001.jpg"), Image.fromarray(rng.integers(0, 256, (500, 667, 3), dtype=np.uint8)),
          quality=90)
    _save(str(folder / "image_00002.jpg"), _solid((200, 40, 90), (320, 240)), quality=95)
    ds = load_dataset("102flowers", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert ds.images.shape == (2, 64, 64, 3) and ds.info["images_resized"] == 2
    assert np.abs(ds.images[1].astype(int) - [200, 40, 90]).max() <= 3


def test_hostile_files_are_skipped_counted_and_warned_once(tmp_path):
    folder = tmp_path / "102flowers" / "jpg"
    folder.mkdir(parents=True)
    good = _save(str(folder / "image_00001.jpg"), _solid((10, 200, 30)), quality=95)
    # Odd but decodable: converted to RGB, not skipped.
    _save(str(folder / "image_00002.png"), Image.fromarray(np.full((64, 64), 128 * 257, np.uint16)))  # 16-bit
    pal = _solid((0, 0, 255)).convert("P", palette=Image.Palette.ADAPTIVE)
    _save(str(folder / "image_00003.png"), pal, transparency=0)                                     # palette
    _save(str(folder / "image_00004.png"), _solid((90, 255), mode="LA"))                           # LA
    _save(str(folder / "image_00005.jpg"), _solid((0, 0, 0, 0), mode="CMYK"))                      # CMYK
    _save(str(folder / "image_00006.png"), _solid(1, mode="1"))                                    # 1-bit
    _save(str(folder / "image_00007.tif"), Image.fromarray(np.full((40, 40), 0.5, np.float32)))     # float
    # Unusable: skipped.
    (folder / "image_00010.jpg").write_bytes(b"")                                                  # empty
    data = open(good, "rb").read()
    (folder / "image_00011.jpg").write_bytes(data[: len(data) // 2])                               # truncated
    png = _save(str(tmp_path / "x.png"), Image.fromarray(np.random.default_rng(0).integers(
        0, 256, (64, 64, 3), dtype=np.uint8)))
    (folder / "image_00012.png").write_bytes(open(png, "rb").read()[:-300])                        # truncated png
    (folder / "image_00013.png").write_text("this is not an image\n")                              # text
    _save(str(folder / "image_00014.png"), _solid((5, 5, 5), (1, 100000)))                         # absurd size
    _png_header_only(str(folder / "image_00015.png"), 50000, 50000)                                # bomb
    _png_header_only(str(folder / "image_00016.png"), 9000, 9000)                                  # big, > MAX_PIXELS
    _png_header_only(str(folder / "image_00018.png"), 10000, 10000)                                # PIL would warn
    os.symlink(str(tmp_path / "does-not-exist.jpg"), folder / "image_00017.jpg")                   # broken link
    (folder / "notes.txt").write_text("ignored")
    (folder / ".DS_Store").write_bytes(b"\0\0")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        ds = load_dataset("102flowers", data_dir=str(tmp_path), use_cache=False, progress=False)
    ours = [w for w in rec if issubclass(w.category, DatasetWarning)]
    assert len(ours) == 1 and "skipped 9 of 16" in str(ours[0].message)
    assert [w for w in rec if not issubclass(w.category, DatasetWarning)] == []
    assert ds.skipped == 9 and len(ds) == 7 and ds.info["ignored_files"] == 2
    px = ds.images[:, 32, 32]
    assert np.abs(px[0].astype(int) - [10, 200, 30]).max() <= 3
    np.testing.assert_array_equal(px[1], [128, 128, 128])          # 16-bit scaled, not clipped
    np.testing.assert_array_equal(px[2], [255, 255, 255])          # transparent palette -> white
    np.testing.assert_array_equal(px[3], [90, 90, 90])             # LA, opaque
    assert px[4].min() >= 250                                      # CMYK 0,0,0,0 is white
    np.testing.assert_array_equal(px[5], [255, 255, 255])          # 1-bit
    np.testing.assert_array_equal(px[6], [128, 128, 128])          # float in [0, 1]


def test_dataset_warnings_name_the_callers_line_fresh_and_from_the_cache(tmp_path):
    """A warning points at the line that called load_dataset, not into the library, whichever path
    raised it (gan_keras.errors.warn): the files read, or the cache that recorded the skips."""
    folder = tmp_path / "102flowers" / "jpg"
    folder.mkdir(parents=True)
    _save(str(folder / "image_00001.jpg"), _solid((10, 200, 30)))
    (folder / "image_00002.jpg").write_bytes(b"")
    for cached in (False, True):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            load_dataset("102flowers", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), progress=False)
        ours = [w for w in rec if issubclass(w.category, DatasetWarning)]
        assert len(ours) == 1 and ("as when the cache was built" in str(ours[0].message)) == cached
        assert ours[0].filename == __file__, (cached, ours[0].filename, ours[0].lineno)


def test_empty_folder_and_all_bad_folder(tmp_path):
    folder = tmp_path / "102flowers" / "jpg"
    folder.mkdir(parents=True)
    with pytest.raises(DatasetError, match="no image files"):
        load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    (folder / "image_00001.jpg").write_bytes(b"")
    (folder / "image_00002.jpg").write_text("nope")
    with pytest.raises(DatasetError, match="no usable image"):
        load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    nl = tmp_path / "n" / "nlvr" / "train" / "images"
    nl.mkdir(parents=True)
    with pytest.raises(DatasetError, match="no image files"):
        load_dataset("nlvr", data_dir=str(tmp_path / "n"), progress=False)


def test_nlvr_symlink_loop_and_hidden_files(tmp_path):
    d = tmp_path / "nlvr" / "train" / "images" / "0"
    _save(str(d / "train-1-0-0.png"), _nlvr_image(OFFICIAL))
    os.symlink(str(tmp_path / "nlvr" / "train" / "images"), d / "loop")
    (d / "._train-1-0-0.png").write_bytes(b"\0\5 macOS resource fork")
    ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert len(ds) == 3 and ds.skipped == 0 and ds.info["ignored_files"] == 1


def test_data_dir_may_point_at_the_dataset_folder(tmp_path):
    _flowers_dir(tmp_path, [(1, 2, 3)])
    ds = load_dataset("102flowers", data_dir=str(tmp_path / "102flowers"), use_cache=False, progress=False)
    assert len(ds) == 1


def test_load_image_folder(tmp_path):
    d = tmp_path / "emoji" / "sub"
    _save(str(d / "a.png"), _solid((255, 0, 0, 0), (72, 72), mode="RGBA"))
    _save(str(d / "b.png"), _solid((0, 255, 0), (40, 40)))
    ds = load_image_folder(tmp_path / "emoji", name="emoji", size=32, cache_dir=str(tmp_path / "c"), progress=False)
    assert ds.images.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(ds.images[0, 0, 0], [255, 255, 255])


# ----------------------------------------------------------------------------- cache

def test_cache_reused_then_rebuilt_when_a_source_changes(tmp_path):
    folder = _flowers_dir(tmp_path / "d", [(i * 10, 100, 50) for i in range(12)])
    cache = tmp_path / "cache"
    first = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(cache), progress=False)
    assert first.info["cache"] == "built" and os.path.isfile(first.info["cache_path"])
    assert os.path.dirname(first.info["cache_path"]) == str(cache)
    second = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(cache), progress=False)
    assert second.info["cache"] == "hit"
    np.testing.assert_array_equal(first.images, second.images)
    assert second.info["fingerprint"] == first.info["fingerprint"] and second.info["images_read"] == 12
    # Change one source image: the cache is stale and rebuilt.
    path = os.path.join(folder, "image_00003.png")
    _save(path, _solid((250, 1, 1), (80, 60)))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    third = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(cache), progress=False)
    assert third.info["cache"] == "built" and third.info["fingerprint"] != first.info["fingerprint"]
    np.testing.assert_array_equal(third.images[2, 0, 0], [250, 1, 1])
    assert len(os.listdir(cache)) == 1  # rebuilt in place, no stale copies left behind
    # A new file also invalidates it.
    _save(os.path.join(folder, "image_00099.png"), _solid((0, 0, 0)))
    fourth = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(cache), progress=False)
    assert fourth.info["cache"] == "built" and len(fourth) == 13
    # use_cache=False neither reads nor writes.
    off = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c2"),
                       use_cache=False, progress=False)
    assert off.info["cache"] == "off" and not os.path.exists(tmp_path / "c2")


def test_cache_keeps_skip_counts(tmp_path):
    folder = _flowers_dir(tmp_path, [(1, 1, 1), (2, 2, 2)])
    open(os.path.join(folder, "image_00009.jpg"), "wb").close()
    with pytest.warns(DatasetWarning):
        first = load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    with pytest.warns(DatasetWarning, match=r"skipped 1 of 3 .*1 empty file.*image_00009.jpg"):
        second = load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    assert second.info["cache"] == "hit" and second.skipped == first.skipped == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_shape"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    _flowers_dir(tmp_path / "d", [(i, i, i) for i in range(5)])
    first = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c"), progress=False)
    path = first.info["cache_path"]
    if damage == "garbage":
        open(path, "wb").write(b"definitely not a zip")
    elif damage == "truncated":
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) // 2])
    else:
        np.savez(path, images=np.zeros((5, 8, 8, 3), np.uint8), meta=np.array('{"key": "x"}'))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        again = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c"),
                             progress=False)
    assert again.info["cache"] == "built"
    np.testing.assert_array_equal(again.images, first.images)
    hit = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c"), progress=False)
    assert hit.info["cache"] == "hit"


def test_unwritable_cache_only_warns(tmp_path):
    _flowers_dir(tmp_path / "d", [(7, 7, 7)])
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache dir should be")
    with pytest.warns(DatasetWarning, match="could not write dataset cache"):
        ds = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(blocker / "cache"),
                          progress=False)
    assert len(ds) == 1 and ds.info["cache"] == "write-failed"


def test_real_nlvr_cache_is_fast(nlvr_subset, tmp_path):
    import time
    cache = str(tmp_path / "c")
    first = load_dataset("nlvr", data_dir=str(nlvr_subset), cache_dir=cache, progress=False)
    t = time.monotonic()
    second = load_dataset("nlvr", data_dir=str(nlvr_subset), cache_dir=cache, progress=False)
    assert time.monotonic() - t < 5.0
    assert second.info["cache"] == "hit" and second.info["crops"] == 72
    np.testing.assert_array_equal(first.images, second.images)


# ----------------------------------------------------------------------------- shapes

def test_shapes_deterministic_and_seeded():
    a = generate_shapes(40, seed=1)
    b = generate_shapes(40, seed=1)
    c = generate_shapes(40, seed=2)
    assert a.shape == (40, 64, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(generate_shapes(10, seed=1), a[:10])  # prefix-stable
    # Light-grey background dominates; the pure colours are NLVR's.
    assert (a == 211).all(axis=3).mean() > 0.5
    colours = {tuple(p) for p in a.reshape(-1, 3)}
    assert {(255, 255, 0), (0, 0, 0), (0, 153, 255)} & colours


def test_shapes_via_load_dataset():
    ds = load_dataset("shapes", seed=3, limit=64, progress=False)
    assert ds.images.shape == (64, 64, 64, 3) and ds.source == "built-in"
    assert ds.info["seed"] == 3 and ds.info["fingerprint"].startswith("shapes-64x64x64x3-")
    again = load_dataset("shapes", seed=3, limit=64, progress=False)
    assert again.info["fingerprint"] == ds.info["fingerprint"]
    for bad in (0, -5, 2.5, "ten", True):
        with pytest.raises(ConfigError):
            load_dataset("shapes", limit=bad)


# ----------------------------------------------------------------------------- celeba

def _celeba_face(width, height):
    """A CelebA-sized RGB array: green centre square (side = width), red band above it, blue band below."""
    top = (height - width) // 2
    a = np.empty((height, width, 3), np.uint8)
    a[:] = (0, 255, 0)
    a[:top] = (255, 0, 0)
    a[top + width:] = (0, 0, 255)
    return a


def _celeba_reference(path):
    """The documented preprocessing written out by hand: rows (H-W)//2 .. +W, then PIL BICUBIC to 64x64."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    top = (h - w) // 2
    return np.asarray(im.crop((0, top, w, top + w)).resize((64, 64), Image.Resampling.BICUBIC))


def test_celeba_real_first_files(shared_data_dir, tmp_path):
    src = os.path.join(shared_data_dir, "celeba", "img_align_celeba")
    ds = load_dataset("celeba", data_dir=shared_data_dir, limit=40, cache_dir=str(tmp_path / "c"), progress=False)
    assert ds.images.shape == (40, 64, 64, 3) and ds.images.dtype == np.uint8 and ds.skipped == 0
    assert ds.source == src and ds.info["fingerprint"].startswith("celeba-40x64x64x3-")
    assert ds.info["files_found"] == 5000 and ds.info["files_used"] == 40
    assert ds.info["images_read"] == 40 and ds.info["images_skipped"] == 0 and ds.info["images_resized"] == 40
    assert ds.info["image_size"] == 64 and ds.info["cache"] == "built"
    # The first 40 files, in order, each cropped to rows 10..98 of the 89x109 copy and resized.
    assert Image.open(os.path.join(src, "000001.jpg")).size == (89, 109)
    for i in (0, 17, 39):
        np.testing.assert_array_equal(ds.images[i], _celeba_reference(os.path.join(src, f"{i + 1:06d}.jpg")))
    # Not the squashed whole image (the flowers preprocessing).
    squashed = np.asarray(Image.open(os.path.join(src, "000001.jpg")).convert("RGB").resize(
        (64, 64), Image.Resampling.BICUBIC))
    assert np.abs(squashed.astype(int) - ds.images[0]).mean() > 5


@pytest.mark.parametrize("size", [(89, 109), (178, 218)], ids=["reduced", "official"])
@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_celeba_crop_removes_top_and_bottom_bands(tmp_path, size, fmt):
    width, height = size
    folder = tmp_path / "celeba" / "img_align_celeba"
    kw = {"quality": 95, "subsampling": 0} if fmt == "jpg" else {}
    path = _save(str(folder / f"000001.{fmt}"), Image.fromarray(_celeba_face(width, height)), **kw)
    ds = load_dataset("celeba", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert ds.images.shape == (1, 64, 64, 3)
    img = ds.images[0].astype(int)
    tolerance = 0 if fmt == "png" else 8  # JPEG (4:4:4, q95) noise; a crop 1 px off leaks far more
    assert np.abs(img - [0, 255, 0]).max() <= tolerance            # only the centre colour...
    assert not ((img[..., 0] > 64) & (img[..., 1] < 192)).any()    # ...no red band
    assert not ((img[..., 2] > 64) & (img[..., 1] < 192)).any()    # ...no blue band
    # The same crop in the worker, with the geometry spelt out.
    left, top, right, bottom = celeba_mod.centre_square_box(width, height)
    assert (left, top, right - left, bottom - top) == (0, (height - width) // 2, width, width)
    np.testing.assert_array_equal(ds.images[0], _celeba_reference(path))


def test_celeba_damaged_files_are_skipped_and_counted(shared_data_dir, tmp_path):
    src = os.path.join(shared_data_dir, "celeba", "img_align_celeba")
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in (1, 2, 3):
        os.symlink(os.path.join(src, f"{i:06d}.jpg"), folder / f"{i:06d}.jpg")
    data = open(os.path.join(src, "000004.jpg"), "rb").read()
    (folder / "000004.jpg").write_bytes(data[: len(data) // 2])       # truncated
    (folder / "000005.jpg").write_bytes(b"")                          # empty
    (folder / "000006.jpg").write_text("<html>quota exceeded</html>")  # a failed download
    (folder / "list_attr_celeba.txt").write_text("ignored")
    with pytest.warns(DatasetWarning, match="celeba: skipped 3 of 6") as rec:
        ds = load_dataset("celeba", data_dir=str(tmp_path), progress=False, cache_dir=str(tmp_path / "c"))
    assert len([w for w in rec if issubclass(w.category, DatasetWarning)]) == 1
    assert len(ds) == 3 and ds.skipped == 3 and ds.info["images_skipped"] == 3 and ds.info["images_read"] == 3
    assert ds.info["ignored_files"] == 1
    assert "000004.jpg (truncated file)" in ds.info["skipped_examples"]
    np.testing.assert_array_equal(ds.images[2], _celeba_reference(os.path.join(src, "000003.jpg")))
    with pytest.warns(DatasetWarning, match="skipped 3 of 6"):  # the cache keeps the counts
        again = load_dataset("celeba", data_dir=str(tmp_path), progress=False, cache_dir=str(tmp_path / "c"))
    assert again.info["cache"] == "hit" and again.skipped == 3


def test_celeba_missing_names_the_folder_and_download(tmp_path):
    (tmp_path / "celeba").mkdir()  # the dataset folder without img_align_celeba/
    with pytest.raises(DatasetError) as err:
        load_dataset("celeba", data_dir=str(tmp_path), progress=False)
    msg = str(err.value)
    assert "celeba/img_align_celeba/" in msg and str(tmp_path) in msg and "\n" not in msg
    assert "img_align_celeba.zip" in msg and "mmlab.ie.cuhk.edu.hk/projects/CelebA.html" in msg
    assert f"{tmp_path / 'celeba'}/ exists but holds nothing instead" in msg
    for i in range(7):   # the images one folder too high: the error says what the folder holds
        _save(str(tmp_path / "celeba" / f"{i:06d}.jpg"), _solid((9, 9, 9), (20, 20)))
    with pytest.raises(DatasetError, match=r"celeba/ exists but holds 000000.jpg, 000001.jpg, 000002.jpg, "
                                           r"000003.jpg, 000004.jpg and 2 more instead\. To get it"):
        load_dataset("celeba", data_dir=str(tmp_path), progress=False)
    (tmp_path / "celeba" / "img_align_celeba").mkdir()
    with pytest.raises(DatasetError, match="no image files.*img_align_celeba"):
        load_dataset("celeba", data_dir=str(tmp_path), progress=False)


# ----------------------------------------------------------------------------- image sizes

def _bicubic_32(images):
    return np.stack([np.asarray(Image.fromarray(x).resize((32, 32), Image.Resampling.BICUBIC)) for x in images])


def test_image_size_32_shapes_is_bicubic_of_64():
    native = load_dataset("shapes", seed=5, limit=24, progress=False)
    small = load_dataset("shapes", seed=5, limit=24, progress=False, image_size=32)
    same = load_dataset("shapes", seed=5, limit=24, progress=False, image_size=64)
    assert small.images.shape == (24, 32, 32, 3) and small.images.dtype == np.uint8
    assert small.image_shape == image_shape("shapes", 32) == (32, 32, 3)
    np.testing.assert_array_equal(small.images, _bicubic_32(native.images))
    assert small.info["image_size"] == 32
    assert small.info["image_resize"] == "resized 64x64 -> 32x32, PIL BICUBIC (antialiased)"
    assert small.info["fingerprint"] == content_fingerprint("shapes", small.images)
    assert small.info["fingerprint"].startswith("shapes-24x32x32x3-")
    assert small.info["native_fingerprint"] == native.info["fingerprint"] != small.info["fingerprint"]
    # 64 is the native size: the very same images and fingerprint.
    np.testing.assert_array_equal(same.images, native.images)
    assert same.info["fingerprint"] == native.info["fingerprint"] and same.info["image_size"] == 64


def test_image_size_32_flowers_real_and_cached(shared_data_dir, tmp_path):
    src = os.path.join(shared_data_dir, "102flowers", "jpg")
    dst = tmp_path / "102flowers" / "jpg"
    dst.mkdir(parents=True)
    for name in sorted(os.listdir(src))[:16]:
        os.symlink(os.path.join(src, name), dst / name)
    cache = str(tmp_path / "c")
    native = load_dataset("102flowers", data_dir=str(tmp_path), cache_dir=cache, progress=False)
    small = load_dataset("102flowers", data_dir=str(tmp_path), cache_dir=cache, progress=False, image_size=32)
    assert small.images.shape == (16, 32, 32, 3) and small.info["cache"] == "hit"
    assert small.info["resize_cache"] == "built" and small.info["images_read"] == 16
    np.testing.assert_array_equal(small.images, _bicubic_32(native.images))
    again = load_dataset("102flowers", data_dir=str(tmp_path), cache_dir=cache, progress=False, image_size=32)
    assert again.info["resize_cache"] == "hit" and again.info["fingerprint"] == small.info["fingerprint"]
    np.testing.assert_array_equal(again.images, small.images)
    off = load_dataset("102flowers", data_dir=str(tmp_path), use_cache=False, progress=False, image_size=32)
    assert off.info["resize_cache"] == "off" and off.info["fingerprint"] == small.info["fingerprint"]
    assert small.info["fingerprint"] != native.info["fingerprint"]


def test_image_size_celeba_and_nlvr(tmp_path):
    _save(str(tmp_path / "celeba" / "img_align_celeba" / "000001.png"), Image.fromarray(_celeba_face(89, 109)))
    ds = load_dataset("celeba", data_dir=str(tmp_path), use_cache=False, progress=False, image_size=32)
    assert ds.images.shape == (1, 32, 32, 3) and (ds.images == [0, 255, 0]).all()
    _save(str(tmp_path / "nlvr" / "train" / "images" / "0" / "train-1-0-0.png"), _nlvr_image(OFFICIAL))
    ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False, image_size=32)
    assert ds.images.shape == (3, 32, 32, 3) and ds.info["crops"] == 3
    np.testing.assert_array_equal(ds.images[:, 16, 16], [[255, 255, 0], [0, 0, 0], [0, 153, 255]])


def test_image_size_shapes_and_errors(tmp_path):
    assert image_shape("celeba", 32) == (32, 32, 3) and image_shape("celeba", 64) == (64, 64, 3)
    assert image_shape("102flowers", 32) == image_shape("nlvr", 32) == image_shape("shapes", 32) == (32, 32, 3)
    assert image_shape("celeba") == image_shape("celeba", None) == (64, 64, 3)
    assert image_shape("mnist", None) == image_shape("mnist", 28) == (28, 28, 1)
    assert image_shape("shapes", np.int64(32)) == (32, 32, 3)
    for size in (32, 64):
        with pytest.raises(ConfigError) as err:
            image_shape("mnist", size)
        assert str(err.value) == (f"image size {size} applies to colour datasets (nlvr, 102flowers, shapes, "
                                  "celeba, emoji, cifar10); mnist is 28x28x1")
    with pytest.raises(ConfigError, match="^image size must be 32 or 64, got 48$"):
        image_shape("celeba", 48)
    with pytest.raises(ConfigError, match="^image size must be 32 or 64, got 28$"):
        image_shape("shapes", 28)
    with pytest.raises(ConfigError, match="image size 48 is not available: mnist is 28x28x1 only"):
        image_shape("mnist", 48)
    for bad in (0, -32, 128, 32.0, "32", True, [32]):
        with pytest.raises(ConfigError, match="^image size must be 32 or 64, got "):
            image_shape("nlvr", bad)
    # load_dataset checks the size before it reads anything (here: a data dir that does not exist).
    x = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    (tmp_path / "mnist").mkdir()
    np.savez(tmp_path / "mnist" / "mnist.npz", x_train=x)
    with pytest.raises(ConfigError, match="applies to colour datasets.*mnist is 28x28x1"):
        load_dataset("mnist", data_dir=str(tmp_path), image_size=32)
    with pytest.raises(ConfigError, match="got 48"):
        load_dataset("102flowers", data_dir=str(tmp_path / "typo"), image_size=48)
    ds = load_dataset("mnist", data_dir=str(tmp_path), image_size=28)
    assert ds.images.shape == (3, 28, 28, 1) and ds.info["image_size"] == 28


# ----------------------------------------------------------------------------- folder:PATH, emoji, cifar10

from gan_keras.data import (  # noqa: E402 - appended section
    FOLDER_HELP, canonical_name, dataset_slug, is_dataset_name,
)
from gan_keras.data import cifar10 as cifar10_mod  # noqa: E402


def _one_line(exc_info):
    text = str(exc_info.value)
    assert "\n" not in text and text.strip() == text and text
    return text


def test_folder_names_need_no_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert canonical_name("folder:My Pics") == "folder:" + str(tmp_path / "My Pics")  # relative, case kept
    assert canonical_name("  FOLDER:~/Emoji/") == "folder:" + str(tmp_path / "home" / "Emoji")
    assert canonical_name("folder:/Abs/Path") == "folder:/Abs/Path"
    # image_shape never reads the folder (none of these exist).
    assert image_shape("folder:nowhere") == image_shape("folder:nowhere", 64) == (64, 64, 3)
    assert image_shape("folder:nowhere", 32) == (32, 32, 3)
    assert image_shape("folder:nowhere", np.int64(28)) == (28, 28, 1)
    for bad in (48, 16, 0, True, "64", 64.0):
        with pytest.raises(ConfigError, match="must be 28, 32 or 64") as err:
            image_shape("folder:nowhere", bad)
        _one_line(err)
    with pytest.raises(ConfigError, match="has no path"):
        image_shape("folder:  ")
    assert "folder:" not in " ".join(dataset_names()) and "emoji" in dataset_names()
    assert [is_dataset_name(t) for t in ("mnist", "MNIST", " flowers", "CIFAR-10", "emoji", "folder:x",
                                         "Folder:~/a b", "/some/path")] == [True] * 7 + [False]
    assert not any(is_dataset_name(t) for t in ("cifar", "", "folder:", "folder:   ", None, 3, "folder:a\0b"))
    with pytest.raises(ConfigError) as err:
        canonical_name("nope")
    assert "folder:PATH" in _one_line(err) and "folder:PATH" in FOLDER_HELP and "min(H, W)" in FOLDER_HELP
    slug = dataset_slug("folder:/data/My Photos!")
    assert slug.startswith("folder-My_Photos-") and len(slug) == len("folder-My_Photos-") + 8
    assert dataset_slug("folder:/other/My Photos!") != slug and dataset_slug("Flowers") == "102flowers"


def _mixed_folder(root):
    """A folder of odd images; returns {relative name: expected RGB of the whole 64x64 result}."""
    d = root / "pics"
    a = np.zeros((30, 90, 3), np.uint8)
    a[:, :, 2] = 255                        # wide image: blue side bands ...
    a[:, 30:60] = (255, 0, 0)               # ... around the red central 30x30 square
    _save(str(d / "a_wide.png"), Image.fromarray(a))
    t = np.zeros((60, 20, 3), np.uint8)
    t[:] = (255, 0, 255)                    # tall image: magenta top and bottom bands ...
    t[20:40] = (0, 255, 0)                  # ... around the green central 20x20 square
    _save(str(d / "sub" / "b_tall.png"), Image.fromarray(t))
    _save(str(d / "sub" / "deeper" / "c_grey.png"), _solid(100, (40, 50), mode="L"))
    _save(str(d / "d_16bit.png"), Image.fromarray(np.full((40, 40), 200 * 257, np.uint16)))  # I;16
    _save(str(d / "e_clear.png"), _solid((0, 0, 0, 0), (48, 48), mode="RGBA"))              # transparent
    _save(str(d / "f.bmp"), _solid((1, 2, 3), (64, 64)))
    _save(str(d / "g.gif"), _solid((0, 0, 255), (32, 32)).convert("P"))
    _save(str(d / "h.webp"), _solid((10, 200, 30), (64, 80)), lossless=True)
    _save(str(d / "i.TIFF"), _solid((7, 8, 9), (70, 64)))
    buf = root / "tmp.png"
    _solid((5, 5, 5), (64, 64)).save(buf)
    (d / "j_corrupt.png").write_bytes(buf.read_bytes()[:60])   # truncated
    (d / "k_fake.jpg").write_text("not a jpeg")
    (d / "notes.txt").write_text("ignored")
    return d, {"a_wide.png": (255, 0, 0), "d_16bit.png": (200, 200, 200), "e_clear.png": (255, 255, 255),
               "f.bmp": (1, 2, 3), "g.gif": (0, 0, 255), "h.webp": (10, 200, 30), "i.TIFF": (7, 8, 9),
               os.path.join("sub", "b_tall.png"): (0, 255, 0),
               os.path.join("sub", "deeper", "c_grey.png"): (100, 100, 100)}


def test_folder_loader_crops_converts_and_skips(tmp_path):
    d, expected = _mixed_folder(tmp_path)
    with pytest.warns(DatasetWarning, match=r"skipped 2 of 11 .*j_corrupt\.png.*k_fake\.jpg") as record:
        ds = load_dataset(f"folder:{d}", cache_dir=str(tmp_path / "c"), progress=False)
    assert len([w for w in record if issubclass(w.category, DatasetWarning)]) == 1
    assert ds.images.shape == (9, 64, 64, 3) and ds.images.dtype == np.uint8 and ds.skipped == 2
    assert ds.name == dataset_slug(f"folder:{d}") and ds.info["dataset"] == f"folder:{d}"
    assert ds.info["images_skipped"] == 2 and ds.info["ignored_files"] == 1 and ds.info["files_found"] == 11
    assert ds.info["crop"] == "central square of side min(H, W)" and ds.info["image_size"] == 64
    assert "not a recognised image" in ds.info["skipped_reasons"]
    for i, name in enumerate(sorted(expected)):   # sorted relative paths = the order of the images
        assert (ds.images[i] == expected[name]).all(), name   # e.g. no blue band left of the wide image


def test_folder_loader_sizes_greyscale_and_cache(tmp_path):
    d, expected = _mixed_folder(tmp_path)
    cache = str(tmp_path / "c")
    with pytest.warns(DatasetWarning):
        grey = load_dataset(f"folder:{d}", cache_dir=cache, progress=False, image_size=28)
    assert grey.images.shape == (9, 28, 28, 1) and grey.info["mode"] == "L"
    for i, name in enumerate(sorted(expected)):
        lum = Image.new("RGB", (1, 1), expected[name]).convert("L").getpixel((0, 0))
        assert (grey.images[i] == lum).all(), name
    assert grey.images[sorted(expected).index("a_wide.png"), 0, 0, 0] == 76   # red's luminance, not blue's (29)
    small = load_dataset(f"folder:{d}", cache_dir=cache, progress=False, image_size=32, limit=4)  # no bad file
    assert small.images.shape == (4, 32, 32, 3) and small.info["mode"] == "RGB" and small.skipped == 0
    with pytest.warns(DatasetWarning):
        rgb = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    assert rgb.images.shape == (9, 64, 64, 3) and rgb.info["cache"] == "built"
    # Every (size, mode, limit) has its own cache file and key: the 28x28 cache survived the others.
    with pytest.warns(DatasetWarning, match="as when the cache was built"):
        again = load_dataset(f"folder:{d}", cache_dir=cache, progress=False, image_size=28)
    assert again.info["cache"] == "hit" and again.skipped == 2
    np.testing.assert_array_equal(again.images, grey.images)
    assert len({grey.info["cache_path"], small.info["cache_path"], rgb.info["cache_path"]}) == 3
    assert len(os.listdir(cache)) == 3


def test_folder_cache_rebuilt_after_adding_a_file(tmp_path):
    d = tmp_path / "imgs"
    for i in range(3):
        _save(str(d / f"{i}.png"), _solid((i * 50, 0, 0), (20, 20)))
    cache = str(tmp_path / "c")
    first = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    second = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    assert (first.info["cache"], second.info["cache"]) == ("built", "hit") and len(second) == 3
    _save(str(d / "new" / "9.png"), _solid((0, 0, 250), (20, 20)))
    third = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    assert third.info["cache"] == "built" and len(third) == 4 and (third.images[3] == (0, 0, 250)).all()
    assert third.info["fingerprint"] != first.info["fingerprint"] and len(os.listdir(cache)) == 1
    assert (first.info["distinct_images"], second.info["distinct_images"]) == (3, 3)   # kept with the cache
    shutil.copy(d / "0.png", d / "copy_of_0.png")
    assert load_dataset(f"folder:{d}", cache_dir=cache, progress=False).info["distinct_images"] == 4   # of 5


def test_folder_relative_home_missing_and_all_bad(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    _save(str(tmp_path / "rel" / "x.png"), _solid((9, 9, 9), (16, 16)))
    assert len(load_dataset("folder:rel", use_cache=False, progress=False)) == 1
    assert len(load_dataset("folder:~/rel", use_cache=False, progress=False)) == 1
    with pytest.raises(DatasetError) as err:
        load_dataset("folder:missing/dir", progress=False)
    assert _one_line(err).startswith(f"image folder {tmp_path / 'missing' / 'dir'} does not exist")
    with pytest.raises(DatasetError, match="is not a folder") as err:
        load_dataset("folder:rel/x.png", progress=False)
    _one_line(err)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"")
    (bad / "b.jpg").write_text("nope")
    _save(str(bad / "c.png"), _solid((1, 1, 1), (4, 4)))   # too small
    with pytest.raises(DatasetError) as err:
        load_dataset("folder:bad", progress=False)
    text = _one_line(err)
    assert text.startswith(f"no usable image in {bad}: all 3 image files were skipped") and "empty file" in text
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(DatasetError, match=f"no image files in {tmp_path / 'empty'} .1 other files ignored") as err:
        load_dataset("folder:empty", progress=False)
    _one_line(err)


def test_emoji_manifest_selects_files(tmp_path):
    png = tmp_path / "emoji" / "img" / "twitter" / "64"
    for name, colour in (("1f600.png", (255, 0, 0)), ("1f601.png", (0, 255, 0)), ("1f3fb.png", (0, 0, 255))):
        _save(str(png / name), _solid(colour + (255,), (64, 64), mode="RGBA"))
    (tmp_path / "emoji" / "emoji_manifest.csv").write_text(
        "file,unified,short_name\nimg/twitter/64/1f601.png,1F601,grin\nimg/twitter/64/1f600.png,1F600,grinning\n"
        "img/twitter/64/1f602.png,1F602,joy\n")
    with pytest.warns(DatasetWarning, match=r"skipped 1 of 3 .*1f602\.png \(missing \(listed in emoji_manifest"):
        ds = load_dataset("emoji", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert ds.images.shape == (2, 64, 64, 3) and ds.info["not_in_manifest"] == 1 and ds.info["manifest_missing"] == 1
    assert (ds.images[0] == (255, 0, 0)).all() and (ds.images[1] == (0, 255, 0)).all()
    (tmp_path / "emoji" / "emoji_manifest.csv").write_text("name\nx\n")
    with pytest.raises(DatasetError, match="cannot read the emoji manifest .*no 'file' column") as err:
        load_dataset("emoji", data_dir=str(tmp_path), use_cache=False, progress=False)
    _one_line(err)
    os.remove(tmp_path / "emoji" / "emoji_manifest.csv")
    assert len(load_dataset("emoji", data_dir=str(tmp_path), use_cache=False, progress=False)) == 3


def test_emoji_real(shared_data_dir, tmp_path):
    ds = load_dataset("emoji", data_dir=shared_data_dir, cache_dir=str(tmp_path / "c"), progress=False)
    assert ds.images.shape == (845, 64, 64, 3) and ds.skipped == 0 and ds.info["images_resized"] == 0
    assert ds.info["manifest_rows"] == 845 and ds.info["folder"].endswith(os.path.join("emoji", "img", "twitter", "64"))
    k = sorted(os.listdir(ds.info["folder"])).index("1f600.png")   # images come in sorted file order
    first = np.asarray(Image.open(os.path.join(ds.info["folder"], "1f600.png")).convert("RGBA"))
    assert first[0, 0, 3] == 0 and (ds.images[k, 0, 0] == 255).all()   # transparent corner -> white
    opaque = first[..., 3] == 255
    np.testing.assert_array_equal(ds.images[k][opaque], first[..., :3][opaque])
    small = load_dataset("emoji", data_dir=shared_data_dir, cache_dir=str(tmp_path / "c"), progress=False,
                         image_size=32)
    assert small.images.shape == (845, 32, 32, 3) and small.info["cache"] == "hit"
    assert image_shape("emoji") == (64, 64, 3) and "emoji-datasource-twitter" in DATASETS["emoji"].how_to_get


def _cifar_rows(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def _write_cifar_batch(path, data, labels=None, official_names=True, **extra):
    """A batch in the official format: pickle protocol 2, bytes keys, numpy.core.multiarray."""
    labels = list(range(len(data))) if labels is None else labels
    obj = {b"batch_label": b"training batch", b"labels": [int(v) % 10 for v in labels], b"data": data,
           b"filenames": [f"img_{i}.png".encode() for i in range(len(data))], **extra}
    blob = pickle.dumps(obj, protocol=2)
    if official_names:
        blob = blob.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)


def _cifar_dir(root, per_batch=4, batches=5):
    folder = root / "cifar10" / "cifar-10-batches-py"
    rows = [_cifar_rows(per_batch, seed) for seed in range(batches)]
    for i, data in enumerate(rows):
        _write_cifar_batch(str(folder / f"data_batch_{i + 1}"), data, official_names=i % 2 == 0)
    return folder, np.concatenate(rows)


def test_cifar10_channel_order_limit_and_cache(tmp_path):
    folder, rows = _cifar_dir(tmp_path)
    rows[0, :] = 0
    rows[0, 0 * 1024 + 3 * 32 + 5] = 10     # R of the pixel at row 3, column 5
    rows[0, 1 * 1024 + 3 * 32 + 5] = 20     # G
    rows[0, 2 * 1024 + 3 * 32 + 5] = 30     # B
    _write_cifar_batch(str(folder / "data_batch_1"), rows[:4])
    assert b"cnumpy.core.multiarray\n_reconstruct" in (folder / "data_batch_1").read_bytes()
    cache = str(tmp_path / "c")
    ds = load_dataset("cifar10", data_dir=str(tmp_path), cache_dir=cache, progress=False)
    assert ds.images.shape == (20, 32, 32, 3) and ds.images.dtype == np.uint8 and ds.info["cache"] == "built"
    np.testing.assert_array_equal(ds.images[0, 3, 5], [10, 20, 30])
    assert ds.images[0].sum() == 60
    n, r, c = 13, 31, 7   # any pixel: channel k at k * 1024 + r * 32 + c
    np.testing.assert_array_equal(ds.images[n, r, c], [rows[n, k * 1024 + r * 32 + c] for k in range(3)])
    assert ds.info["batches"] == [f"data_batch_{i}" for i in range(1, 6)] and image_shape("cifar10") == (32, 32, 3)
    assert load_dataset("cifar10", data_dir=str(tmp_path), cache_dir=cache, progress=False).info["cache"] == "hit"
    part = load_dataset("cifar10", data_dir=str(tmp_path), cache_dir=cache, progress=False, limit=6)
    np.testing.assert_array_equal(part.images, ds.images[:6])
    assert part.info["batches"] == ["data_batch_1", "data_batch_2"] and part.info["images_per_batch"] == [4, 2]
    big = load_dataset("cifar10", data_dir=str(tmp_path), use_cache=False, progress=False, image_size=64, limit=2)
    assert big.images.shape == (2, 64, 64, 3) and big.info["image_resize"] == "upsampled 32x32 -> 64x64, PIL BICUBIC"
    np.testing.assert_array_equal(
        big.images[1], np.asarray(Image.fromarray(ds.images[1]).resize((64, 64), Image.Resampling.BICUBIC)))
    # The Keras cache layout, and only the batches a limit needs.
    keras = tmp_path / "k" / "cifar-10-batches-py"
    (keras / "none").mkdir(parents=True)
    shutil.copy(folder / "data_batch_1", keras / "data_batch_1")
    assert len(load_dataset("cifar10", data_dir=str(tmp_path / "k"), use_cache=False, limit=3, progress=False)) == 3
    with pytest.raises(DatasetError, match="incomplete: data_batch_2 is missing") as err:
        load_dataset("cifar10", data_dir=str(tmp_path / "k"), use_cache=False, progress=False)
    _one_line(err)
    with pytest.raises(DatasetError, match="dataset 'cifar10' not found.*cifar-10-python.tar.gz") as err:
        load_dataset("cifar10", data_dir=str(tmp_path / "k" / "cifar-10-batches-py" / "none"), progress=False)
    _one_line(err)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar10_refuses_malformed_and_malicious_pickles(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    batch = str(folder / "data_batch_1")

    def refused(match):
        with pytest.raises(DatasetError, match=match) as err:
            load_dataset("cifar10", data_dir=str(tmp_path), use_cache=False, progress=False, limit=1)
        return _one_line(err)

    _write_cifar_batch(batch, _cifar_rows(2, 0)[:, :3000])
    refused(r"not a CIFAR-10 batch: data is uint8 \(2, 3000\)")
    _write_cifar_batch(batch, _cifar_rows(2, 0).astype(np.int16))
    refused("data is int16")
    _write_cifar_batch(batch, _cifar_rows(2, 0), labels=[1])
    refused("labels do not match")
    with open(batch, "wb") as f:
        pickle.dump({b"labels": [1]}, f, protocol=2)
    refused("no data key")
    with open(batch, "wb") as f:
        pickle.dump([1, 2, 3], f, protocol=2)
    refused("got list")
    _write_cifar_batch(batch, _cifar_rows(2, 0))
    blob = open(batch, "rb").read()
    with open(batch, "wb") as f:
        f.write(blob[: len(blob) // 2])
    refused("not a readable CIFAR-10 python batch")
    # A global the batch format never needs (os.system) is refused before anything is called.
    marker = tmp_path / "pwned"
    for payload in (_Evil(marker), {b"data": _Evil(marker), b"labels": [0]}):
        with open(batch, "wb") as f:
            pickle.dump(payload, f, protocol=2)
        text = refused(r"refused .*data_batch_1: the pickle refers to (posix|nt|os)\.system")
        assert "official" in text and not marker.exists()
    for name in (b"cbuiltins\neval\n", b"cbuiltins\ngetattr\n", b"c__builtin__\n__import__\n"):
        with pytest.raises(cifar10_mod.ForbiddenGlobal):
            cifar10_mod.restricted_load(b"\x80\x02" + name + b"X\x01\x00\x00\x001\x85R.")
    with pytest.raises(cifar10_mod.ForbiddenGlobal):   # _codecs.encode: latin-1 only
        cifar10_mod.restricted_load(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R.")
    assert cifar10_mod.restricted_load(pickle.dumps({b"k": b"\xff\x00"}, protocol=2)) == {b"k": b"\xff\x00"}
    assert not marker.exists()


def _py2_cifar_batch(data, labels):
    """The opcodes Python 2's cPickle (protocol 2) writes for an official batch: str keys and the
    pixel bytes as BINSTRING (bytes under encoding="bytes"), numpy.core.multiarray._reconstruct."""
    def sbs(b):
        return b"U" + bytes([len(b)]) + b

    def k(v):
        return b"K" + bytes([v])
    arr = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + k(0) + b"\x85" + sbs(b"b") + b"\x87R"
           + b"(" + k(1) + b"M" + struct.pack("<H", len(data)) + b"M" + struct.pack("<H", 3072) + b"\x86"
           + b"cnumpy\ndtype\n" + sbs(b"u1") + k(0) + k(1) + b"\x87R"
           + b"(" + k(3) + sbs(b"|") + b"NNNJ" + struct.pack("<i", -1) + b"J" + struct.pack("<i", -1) + k(0) + b"tb"
           + b"\x89T" + struct.pack("<I", data.size) + data.tobytes() + b"tb")
    return (b"\x80\x02}(" + sbs(b"batch_label") + sbs(b"training batch 1 of 5") + sbs(b"labels")
            + b"](" + b"".join(k(v) for v in labels) + b"e" + sbs(b"data") + arr + b"u.")


def test_cifar10_reads_python2_style_pickle(tmp_path):
    rows = _cifar_rows(3, 7)
    blob = _py2_cifar_batch(rows, [3, 1, 4])
    assert pickle.loads(blob, encoding="bytes")[b"labels"] == [3, 1, 4]   # the helper writes a valid pickle
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "data_batch_1").write_bytes(blob)
    images, labels = cifar10_mod.read_batch(str(folder / "data_batch_1"))
    np.testing.assert_array_equal(labels, [3, 1, 4])
    np.testing.assert_array_equal(images[2, 0, 1], rows[2, [1, 1025, 2049]])
    ds = load_dataset("cifar10", data_dir=str(tmp_path), use_cache=False, progress=False, limit=2)
    np.testing.assert_array_equal(ds.images, images[:2])


def test_a_photo_with_an_exif_orientation_is_read_upright(tmp_path):
    """A phone photo stored on its side with Orientation 6 ("rotate 90 degrees clockwise to view") is
    read as a viewer shows it: tall, with the stored top-left pixel at the top right."""
    from gan_keras.data.imageio import EXIF_ORIENTATION, read_rgb_image

    pixels = np.zeros((40, 60, 3), np.uint8)   # stored 60 wide x 40 high
    pixels[:10, :10] = (250, 0, 0)             # a red block at the stored top left
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[EXIF_ORIENTATION] = 6
    image.save(tmp_path / "side.png", exif=exif.tobytes())
    Image.fromarray(pixels).save(tmp_path / "plain.png")
    upright = np.asarray(read_rgb_image(str(tmp_path / "side.png")))
    assert upright.shape == (60, 40, 3)
    assert tuple(upright[0, -1]) == (250, 0, 0) and tuple(upright[-1, 0]) == (0, 0, 0)
    assert np.asarray(read_rgb_image(str(tmp_path / "plain.png"))).shape == (40, 60, 3)   # no tag: as stored


# ----------------------------------------------------------------------------- review fixes

def _bmp_folder(root, colours, size=(12, 10)):
    """Uncompressed BMPs: a file's byte size depends only on its dimensions, not its pixels."""
    os.makedirs(root, exist_ok=True)
    for i, colour in enumerate(colours):
        _save(os.path.join(root, f"image_{i + 1:05d}.bmp"), _solid(colour, size))
    return str(root)


def test_progress_ends_at_n_of_n(tmp_path, capsys):
    """The last progress line says N/N (100%), also when the consumer is zip() (which never
    resumes the generator after the last item) and on the thread-pool path (>= 64 items)."""
    import io

    from gan_keras.data.imageio import Progress, parallel_map

    folder = _bmp_folder(tmp_path / "imgs", [(i * 40, 0, 0) for i in range(6)])
    load_image_folder(folder, size=32, use_cache=False, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert "6/6 (100%)" in lines[-1], lines
    for n, workers in ((5, 1), (70, 2)):
        stream = io.StringIO()
        bar = Progress("x", n, stream=stream)
        items = list(range(n))
        assert [r for _, r in zip(items, parallel_map(lambda v: v * 2, items, progress=bar, workers=workers))] \
            == [2 * v for v in items]
        bar.close()
        assert f"x: {n}/{n} (100%)" in stream.getvalue().strip().splitlines()[-1]


def test_load_image_folder_has_one_cache_per_size(tmp_path):
    folder = _bmp_folder(tmp_path / "imgs", [(9, 9, 9), (200, 10, 10)])
    cache = str(tmp_path / "c")

    def status(size):
        ds = load_image_folder(folder, size=size, cache_dir=cache, progress=False)
        assert ds.images.shape == (2, size, size, 3)
        return ds.info["cache"], ds.info["cache_path"]

    (s64, p64), (s32, p32) = status(64), status(32)
    assert (s64, s32) == ("built", "built") and p64 != p32
    assert status(64) == ("hit", p64) and status(32) == ("hit", p32)


def test_cache_rebuilt_when_a_file_is_replaced_with_same_size_and_mtime(tmp_path):
    """size + mtime do not change when a file is replaced by another of the same size and its
    mtime restored (cp -p, rsync -t); the ctime does, so the cache is rebuilt."""
    folder = _bmp_folder(tmp_path / "d" / "102flowers" / "jpg", [(10, 10, 10), (20, 20, 20)])
    kw = dict(data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c"), progress=False)
    assert load_dataset("102flowers", **kw).info["cache"] == "built"
    path = os.path.join(folder, "image_00002.bmp")
    before = os.stat(path)
    _save(path, _solid((250, 1, 1), (12, 10)), format="BMP")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    while os.stat(path).st_ctime_ns == before.st_ctime_ns:  # a coarse clock: wait for the next tick
        time.sleep(0.01)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    again = load_dataset("102flowers", **kw)
    assert again.info["cache"] == "built"
    np.testing.assert_array_equal(again.images[1, 0, 0], [250, 1, 1])
    assert load_dataset("102flowers", **kw).info["cache"] == "hit"


def test_cache_write_removes_stale_temporaries(tmp_path):
    cache = tmp_path / "c"
    cache.mkdir()
    old, young, other = cache / ".tmp-dead.npz", cache / ".tmp-writing.npz", cache / "keep-me.npz"
    for p in (old, young, other):
        p.write_bytes(b"partial")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    folder = _bmp_folder(tmp_path / "imgs", [(1, 2, 3)])
    assert load_image_folder(folder, size=32, cache_dir=str(cache), progress=False).info["cache"] == "built"
    assert not old.exists() and young.exists() and other.exists()


def test_damaged_npz_files_do_not_leak_file_handles(tmp_path):
    import gc

    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip file")
    folder = _bmp_folder(tmp_path / "imgs", [(1, 2, 3)])
    cache = str(tmp_path / "c")
    first = load_image_folder(folder, size=32, cache_dir=cache, progress=False)
    with open(first.info["cache_path"], "wb") as f:
        f.write(b"PK\x03\x04 a damaged cache file")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with pytest.raises(DatasetError, match="damaged"):
            load_dataset("mnist", data_dir=str(tmp_path))
        assert load_image_folder(folder, size=32, cache_dir=cache, progress=False).info["cache"] == "built"
        gc.collect()
    assert [str(w.message) for w in rec if issubclass(w.category, ResourceWarning)] == []
    assert any("ignoring damaged dataset cache" in str(w.message) for w in rec)


def test_a_data_dir_without_the_dataset_warns_where_it_was_found(tmp_path, monkeypatch, shared_data_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(DATA_DIR_ENV, shared_data_dir)
    with pytest.warns(DatasetWarning) as rec:
        ds = load_dataset("emoji", data_dir=str(empty), use_cache=False, progress=False, limit=3)
    assert len(ds) == 3 and ds.info["data_dir"] == os.path.abspath(shared_data_dir)
    msgs = [str(w.message) for w in rec if issubclass(w.category, DatasetWarning)]
    assert len(msgs) == 1 and str(empty) in msgs[0] and os.path.abspath(shared_data_dir) in msgs[0]
    assert f"${DATA_DIR_ENV}" in msgs[0]
    # MNIST too (a small synthetic copy in the Keras cache); no warning when data_dir holds it.
    monkeypatch.delenv(DATA_DIR_ENV)
    keras_dir = tmp_path / "_keras_home" / "datasets"
    keras_dir.mkdir(parents=True)
    np.savez(keras_dir / "mnist.npz", x_train=np.zeros((3, 28, 28), np.uint8))
    with pytest.warns(DatasetWarning, match=r"mnist: not found in the data_dir .*empty.*the Keras cache"):
        assert len(load_dataset("mnist", data_dir=str(empty))) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)
        assert len(load_dataset("mnist", data_dir=str(keras_dir))) == 3
        assert len(load_dataset("mnist")) == 3  # no data_dir given: nothing to warn about
    # ... and a Keras download in its place (no copy anywhere), and CIFAR-10 from $GAN_KERAS_DATA_DIR.
    os.remove(keras_dir / "mnist.npz")
    monkeypatch.setattr(mnist_mod, "download", lambda: np.zeros((2, 28, 28, 1), np.uint8))
    with pytest.warns(DatasetWarning, match=r"mnist: not found in the data_dir .*empty.*a Keras download"):
        assert len(load_dataset("mnist", data_dir=str(empty), allow_download=True)) == 2
    _cifar_dir(tmp_path / "elsewhere")   # 5 batches of 4 images
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    with pytest.warns(DatasetWarning, match=r"cifar10: not found in the data_dir .*empty.*elsewhere"):
        assert len(load_dataset("cifar10", data_dir=str(empty), use_cache=False, progress=False)) == 20


def test_a_limit_above_the_datasets_size_uses_all_of_it_and_says_so(image_folder, shared_data_dir, tmp_path):
    with pytest.warns(DatasetWarning, match=r"the limit 20 is more than its 12 source images; all 12 are used"):
        assert len(load_dataset(image_folder, limit=20, cache_dir=str(tmp_path), progress=False)) == 12
    with pytest.warns(DatasetWarning, match="more than its 60000 source images"):
        load_dataset("mnist", data_dir=shared_data_dir, limit=70000, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a limit the dataset has, or the built-in shapes: no warning
        assert len(load_dataset(image_folder, limit=12, cache_dir=str(tmp_path), progress=False)) == 12
        assert len(load_dataset("shapes", limit=70, progress=False)) == 70
