"""The datasets package: registry, data-dir search, the loaders on real and synthetic data, robustness.

The cache, progress and warnings: test_data_cache.py; folder:PATH, emoji and CIFAR-10: test_data_folders.py."""
import gzip
import os
import shutil
import struct
import warnings

import numpy as np
import pytest
from PIL import Image

from gan_keras.data import (
    DATA_DIR_ENV, DATASETS, DatasetWarning, content_fingerprint, dataset_names, generate_shapes, image_shape,
    load_dataset, load_image_folder, resolve_data_dirs,
)
from gan_keras.data import celeba as celeba_mod, mnist as mnist_mod, nlvr as nlvr_mod
from gan_keras.data.imageio import read_rgb
from gan_keras.errors import ConfigError, DatasetError

from data_helpers import OFFICIAL, flowers_dir, nlvr_image, png_header_only, save_image, solid

pytestmark = pytest.mark.usefixtures("isolated_data_dirs")   # conftest.py: no test sees your own data


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
    flowers_dir(arg, [(10, 10, 10)])
    flowers_dir(env, [(20, 20, 20)])
    flowers_dir(repo, [(30, 30, 30)])
    flowers_dir(keras_dir, [(40, 40, 40)])
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
    img = nlvr_image(shifted)
    boxes, fallback = nlvr_mod.find_boxes(np.asarray(img.convert("RGB")))
    assert boxes == [(7, 107), (138, 234), (296, 400)] and not fallback
    d = tmp_path / "nlvr" / "train" / "images" / "0"
    save_image(str(d / "train-1-0-0.png"), img)
    save_image(str(d / "train-1-0-1.png"), nlvr_image(OFFICIAL))
    ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert len(ds) == 6 and ds.skipped == 0
    centres = ds.images[:3, 32, 32]
    np.testing.assert_array_equal(centres, [[255, 255, 0], [0, 0, 0], [0, 153, 255]])


def test_nlvr_fallback_and_unfindable_bars(tmp_path):
    a = np.asarray(nlvr_image(OFFICIAL)).copy()
    a[40:45, 120:125, :3] = 0  # a stray blot inside the first bar: detection fails, geometry holds
    d = tmp_path / "nlvr" / "train" / "images" / "0"
    save_image(str(d / "a.png"), Image.fromarray(a, "RGBA"))
    noise = np.random.default_rng(0).integers(0, 256, (100, 400, 3), dtype=np.uint8)
    save_image(str(d / "b.png"), Image.fromarray(noise))                      # no bars at all
    save_image(str(d / "c.png"), nlvr_image([("box", 100), ("bar", 50), ("box", 100)]))  # only 2 boxes
    save_image(str(d / "d.png"), solid((1, 2, 3), (100000, 1)))               # absurd size
    with pytest.warns(DatasetWarning, match="skipped 3 of 4") as rec:
        ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert len([w for w in rec if issubclass(w.category, DatasetWarning)]) == 1
    assert len(ds) == 3 and ds.skipped == 3
    assert ds.info["bar_fallback"] == 1 and ds.info["images_skipped"] == 3
    assert "separator bars not found" in " ".join(ds.info["skipped_examples"])


def test_real_nlvr_cache_is_fast(nlvr_subset, tmp_path):
    import time
    cache = str(tmp_path / "c")
    first = load_dataset("nlvr", data_dir=str(nlvr_subset), cache_dir=cache, progress=False)
    t = time.monotonic()
    second = load_dataset("nlvr", data_dir=str(nlvr_subset), cache_dir=cache, progress=False)
    assert time.monotonic() - t < 5.0
    assert second.info["cache"] == "hit" and second.info["crops"] == 72
    np.testing.assert_array_equal(first.images, second.images)


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
    save_image(str(folder / "image_00001.jpg"), Image.fromarray(rng.integers(0, 256, (500, 667, 3), dtype=np.uint8)),
          quality=90)
    save_image(str(folder / "image_00002.jpg"), solid((200, 40, 90), (320, 240)), quality=95)
    ds = load_dataset("102flowers", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert ds.images.shape == (2, 64, 64, 3) and ds.info["images_resized"] == 2
    assert np.abs(ds.images[1].astype(int) - [200, 40, 90]).max() <= 3


def test_hostile_files_are_skipped_counted_and_warned_once(tmp_path):
    folder = tmp_path / "102flowers" / "jpg"
    folder.mkdir(parents=True)
    good = save_image(str(folder / "image_00001.jpg"), solid((10, 200, 30)), quality=95)
    # Odd but decodable: converted to RGB, not skipped.
    save_image(str(folder / "image_00002.png"), Image.fromarray(np.full((64, 64), 128 * 257, np.uint16)))  # 16-bit
    pal = solid((0, 0, 255)).convert("P", palette=Image.Palette.ADAPTIVE)
    save_image(str(folder / "image_00003.png"), pal, transparency=0)                                     # palette
    save_image(str(folder / "image_00004.png"), solid((90, 255), mode="LA"))                           # LA
    save_image(str(folder / "image_00005.jpg"), solid((0, 0, 0, 0), mode="CMYK"))                      # CMYK
    save_image(str(folder / "image_00006.png"), solid(1, mode="1"))                                    # 1-bit
    save_image(str(folder / "image_00007.tif"), Image.fromarray(np.full((40, 40), 0.5, np.float32)))     # float
    # Unusable: skipped.
    (folder / "image_00010.jpg").write_bytes(b"")                                                  # empty
    data = open(good, "rb").read()
    (folder / "image_00011.jpg").write_bytes(data[: len(data) // 2])                               # truncated
    png = save_image(str(tmp_path / "x.png"), Image.fromarray(np.random.default_rng(0).integers(
        0, 256, (64, 64, 3), dtype=np.uint8)))
    (folder / "image_00012.png").write_bytes(open(png, "rb").read()[:-300])                        # truncated png
    (folder / "image_00013.png").write_text("this is not an image\n")                              # text
    save_image(str(folder / "image_00014.png"), solid((5, 5, 5), (1, 100000)))                         # absurd size
    png_header_only(str(folder / "image_00015.png"), 50000, 50000)                                # bomb
    png_header_only(str(folder / "image_00016.png"), 9000, 9000)                                  # big, > MAX_PIXELS
    png_header_only(str(folder / "image_00018.png"), 10000, 10000)                                # PIL would warn
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
    save_image(str(d / "train-1-0-0.png"), nlvr_image(OFFICIAL))
    os.symlink(str(tmp_path / "nlvr" / "train" / "images"), d / "loop")
    (d / "._train-1-0-0.png").write_bytes(b"\0\5 macOS resource fork")
    ds = load_dataset("nlvr", data_dir=str(tmp_path), use_cache=False, progress=False)
    assert len(ds) == 3 and ds.skipped == 0 and ds.info["ignored_files"] == 1


def test_data_dir_may_point_at_the_dataset_folder(tmp_path):
    flowers_dir(tmp_path, [(1, 2, 3)])
    ds = load_dataset("102flowers", data_dir=str(tmp_path / "102flowers"), use_cache=False, progress=False)
    assert len(ds) == 1


def test_load_image_folder(tmp_path):
    d = tmp_path / "emoji" / "sub"
    save_image(str(d / "a.png"), solid((255, 0, 0, 0), (72, 72), mode="RGBA"))
    save_image(str(d / "b.png"), solid((0, 255, 0), (40, 40)))
    ds = load_image_folder(tmp_path / "emoji", name="emoji", size=32, cache_dir=str(tmp_path / "c"), progress=False)
    assert ds.images.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(ds.images[0, 0, 0], [255, 255, 255])


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
    path = save_image(str(folder / f"000001.{fmt}"), Image.fromarray(_celeba_face(width, height)), **kw)
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
        save_image(str(tmp_path / "celeba" / f"{i:06d}.jpg"), solid((9, 9, 9), (20, 20)))
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
    save_image(str(tmp_path / "celeba" / "img_align_celeba" / "000001.png"), Image.fromarray(_celeba_face(89, 109)))
    ds = load_dataset("celeba", data_dir=str(tmp_path), use_cache=False, progress=False, image_size=32)
    assert ds.images.shape == (1, 32, 32, 3) and (ds.images == [0, 255, 0]).all()
    save_image(str(tmp_path / "nlvr" / "train" / "images" / "0" / "train-1-0-0.png"), nlvr_image(OFFICIAL))
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
