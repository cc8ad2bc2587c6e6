"""folder:PATH (any image folder), the emoji set and CIFAR-10: names, loading, caching, refusals."""
import os
import pickle
import shutil
import struct

import numpy as np
import pytest
from PIL import Image

from gan_keras.data import (
    DATASETS, FOLDER_HELP, DatasetWarning, canonical_name, dataset_names, dataset_slug, image_shape,
    is_dataset_name, load_dataset,
)
from gan_keras.data import cifar10 as cifar10_mod
from gan_keras.errors import ConfigError, DatasetError

from data_helpers import cifar_dir, cifar_rows, save_image, solid, write_cifar_batch

pytestmark = pytest.mark.usefixtures("isolated_data_dirs")   # conftest.py: no test sees your own data



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
    save_image(str(d / "a_wide.png"), Image.fromarray(a))
    t = np.zeros((60, 20, 3), np.uint8)
    t[:] = (255, 0, 255)                    # tall image: magenta top and bottom bands ...
    t[20:40] = (0, 255, 0)                  # ... around the green central 20x20 square
    save_image(str(d / "sub" / "b_tall.png"), Image.fromarray(t))
    save_image(str(d / "sub" / "deeper" / "c_grey.png"), solid(100, (40, 50), mode="L"))
    save_image(str(d / "d_16bit.png"), Image.fromarray(np.full((40, 40), 200 * 257, np.uint16)))  # I;16
    save_image(str(d / "e_clear.png"), solid((0, 0, 0, 0), (48, 48), mode="RGBA"))              # transparent
    save_image(str(d / "f.bmp"), solid((1, 2, 3), (64, 64)))
    save_image(str(d / "g.gif"), solid((0, 0, 255), (32, 32)).convert("P"))
    save_image(str(d / "h.webp"), solid((10, 200, 30), (64, 80)), lossless=True)
    save_image(str(d / "i.TIFF"), solid((7, 8, 9), (70, 64)))
    buf = root / "tmp.png"
    solid((5, 5, 5), (64, 64)).save(buf)
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
        save_image(str(d / f"{i}.png"), solid((i * 50, 0, 0), (20, 20)))
    cache = str(tmp_path / "c")
    first = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    second = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    assert (first.info["cache"], second.info["cache"]) == ("built", "hit") and len(second) == 3
    save_image(str(d / "new" / "9.png"), solid((0, 0, 250), (20, 20)))
    third = load_dataset(f"folder:{d}", cache_dir=cache, progress=False)
    assert third.info["cache"] == "built" and len(third) == 4 and (third.images[3] == (0, 0, 250)).all()
    assert third.info["fingerprint"] != first.info["fingerprint"] and len(os.listdir(cache)) == 1
    assert (first.info["distinct_images"], second.info["distinct_images"]) == (3, 3)   # kept with the cache
    shutil.copy(d / "0.png", d / "copy_of_0.png")
    assert load_dataset(f"folder:{d}", cache_dir=cache, progress=False).info["distinct_images"] == 4   # of 5


def test_folder_relative_home_missing_and_all_bad(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    save_image(str(tmp_path / "rel" / "x.png"), solid((9, 9, 9), (16, 16)))
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
    save_image(str(bad / "c.png"), solid((1, 1, 1), (4, 4)))   # too small
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
        save_image(str(png / name), solid(colour + (255,), (64, 64), mode="RGBA"))
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


def test_cifar10_channel_order_limit_and_cache(tmp_path):
    folder, rows = cifar_dir(tmp_path)
    rows[0, :] = 0
    rows[0, 0 * 1024 + 3 * 32 + 5] = 10     # R of the pixel at row 3, column 5
    rows[0, 1 * 1024 + 3 * 32 + 5] = 20     # G
    rows[0, 2 * 1024 + 3 * 32 + 5] = 30     # B
    write_cifar_batch(str(folder / "data_batch_1"), rows[:4])
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

    write_cifar_batch(batch, cifar_rows(2, 0)[:, :3000])
    refused(r"not a CIFAR-10 batch: data is uint8 \(2, 3000\)")
    write_cifar_batch(batch, cifar_rows(2, 0).astype(np.int16))
    refused("data is int16")
    write_cifar_batch(batch, cifar_rows(2, 0), labels=[1])
    refused("labels do not match")
    with open(batch, "wb") as f:
        pickle.dump({b"labels": [1]}, f, protocol=2)
    refused("no data key")
    with open(batch, "wb") as f:
        pickle.dump([1, 2, 3], f, protocol=2)
    refused("got list")
    write_cifar_batch(batch, cifar_rows(2, 0))
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
    rows = cifar_rows(3, 7)
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
