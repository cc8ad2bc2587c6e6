"""The dataset cache (reuse, rebuilds, damage, one per size), progress lines, and where the warnings point."""
import os
import time
import warnings

import numpy as np
import pytest

from gan_keras.data import DATA_DIR_ENV, DatasetWarning, load_dataset, load_image_folder
from gan_keras.data import mnist as mnist_mod
from gan_keras.errors import DatasetError

from data_helpers import bmp_folder, cifar_dir, flowers_dir, save_image, solid

pytestmark = pytest.mark.usefixtures("isolated_data_dirs")   # conftest.py: no test sees your own data


# ----------------------------------------------------------------------------- cache

def test_cache_reused_then_rebuilt_when_a_source_changes(tmp_path):
    folder = flowers_dir(tmp_path / "d", [(i * 10, 100, 50) for i in range(12)])
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
    save_image(path, solid((250, 1, 1), (80, 60)))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    third = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(cache), progress=False)
    assert third.info["cache"] == "built" and third.info["fingerprint"] != first.info["fingerprint"]
    np.testing.assert_array_equal(third.images[2, 0, 0], [250, 1, 1])
    assert len(os.listdir(cache)) == 1  # rebuilt in place, no stale copies left behind
    # A new file also invalidates it.
    save_image(os.path.join(folder, "image_00099.png"), solid((0, 0, 0)))
    fourth = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(cache), progress=False)
    assert fourth.info["cache"] == "built" and len(fourth) == 13
    # use_cache=False neither reads nor writes.
    off = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c2"),
                       use_cache=False, progress=False)
    assert off.info["cache"] == "off" and not os.path.exists(tmp_path / "c2")


def test_cache_keeps_skip_counts(tmp_path):
    folder = flowers_dir(tmp_path, [(1, 1, 1), (2, 2, 2)])
    open(os.path.join(folder, "image_00009.jpg"), "wb").close()
    with pytest.warns(DatasetWarning):
        first = load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    with pytest.warns(DatasetWarning, match=r"skipped 1 of 3 .*1 empty file.*image_00009.jpg"):
        second = load_dataset("102flowers", data_dir=str(tmp_path), progress=False)
    assert second.info["cache"] == "hit" and second.skipped == first.skipped == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_shape"])
def test_corrupt_cache_is_rebuilt(tmp_path, damage):
    flowers_dir(tmp_path / "d", [(i, i, i) for i in range(5)])
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
    flowers_dir(tmp_path / "d", [(7, 7, 7)])
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache dir should be")
    with pytest.warns(DatasetWarning, match="could not write dataset cache"):
        ds = load_dataset("102flowers", data_dir=str(tmp_path / "d"), cache_dir=str(blocker / "cache"),
                          progress=False)
    assert len(ds) == 1 and ds.info["cache"] == "write-failed"


def test_progress_ends_at_n_of_n(tmp_path, capsys):
    """The last progress line says N/N (100%), also when the consumer is zip() (which never
    resumes the generator after the last item) and on the thread-pool path (>= 64 items)."""
    import io

    from gan_keras.data.imageio import Progress, parallel_map

    folder = bmp_folder(tmp_path / "imgs", [(i * 40, 0, 0) for i in range(6)])
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
    folder = bmp_folder(tmp_path / "imgs", [(9, 9, 9), (200, 10, 10)])
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
    folder = bmp_folder(tmp_path / "d" / "102flowers" / "jpg", [(10, 10, 10), (20, 20, 20)])
    kw = dict(data_dir=str(tmp_path / "d"), cache_dir=str(tmp_path / "c"), progress=False)
    assert load_dataset("102flowers", **kw).info["cache"] == "built"
    path = os.path.join(folder, "image_00002.bmp")
    before = os.stat(path)
    save_image(path, solid((250, 1, 1), (12, 10)), format="BMP")
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
    folder = bmp_folder(tmp_path / "imgs", [(1, 2, 3)])
    assert load_image_folder(folder, size=32, cache_dir=str(cache), progress=False).info["cache"] == "built"
    assert not old.exists() and young.exists() and other.exists()


def test_damaged_npz_files_do_not_leak_file_handles(tmp_path):
    import gc

    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip file")
    folder = bmp_folder(tmp_path / "imgs", [(1, 2, 3)])
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
    cifar_dir(tmp_path / "elsewhere")   # 5 batches of 4 images
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


def test_dataset_warnings_name_the_callers_line_fresh_and_from_the_cache(tmp_path):
    """A warning points at the line that called load_dataset, not into the library, whichever path
    raised it (gan_keras.errors.warn): the files read, or the cache that recorded the skips."""
    folder = tmp_path / "102flowers" / "jpg"
    folder.mkdir(parents=True)
    save_image(str(folder / "image_00001.jpg"), solid((10, 200, 30)))
    (folder / "image_00002.jpg").write_bytes(b"")
    for cached in (False, True):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            load_dataset("102flowers", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), progress=False)
        ours = [w for w in rec if issubclass(w.category, DatasetWarning)]
        assert len(ours) == 1 and ("as when the cache was built" in str(ours[0].message)) == cached
        assert ours[0].filename == __file__, (cached, ours[0].filename, ours[0].lineno)
