"""``load_dataset``: find a dataset in the data dirs, preprocess it (with a cache), return uint8.

Every registered dataset is first loaded at its native size (64x64 for the colour datasets, 32x32
for cifar10; cached for the folder datasets and cifar10); another ``image_size`` is then made by
``_apply_image_size``, the one place where whole arrays are resized to another size (PIL BICUBIC,
cached next to the native cache). ``folder:PATH`` datasets are the exception: each source image is
cropped and resized straight to the size asked for (see imagefolder.py), cached per size and mode.
The folder datasets are read by ``folders.py``; MNIST, cifar10 and shapes here.
"""
from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import PIL

from ..errors import ConfigError, DatasetError, warn
from . import cifar10, mnist, shapes
from .base import ImageDataset
from .cache import cache_and_record, cache_path_for, content_fingerprint, read_cache, source_key, write_cache
from .folders import FOLDERS, WORKERS, check_limit, find_folder, load_folder, load_image_dir, load_image_folder
from .imageio import DatasetWarning, Progress, downscale_images
from .locate import DATA_DIR_ENV, data_dirs_with_origin, describe_dirs, resolve_cache_dir
from .registry import DATASETS, canonical_name, image_shape, is_folder_name

__all__ = ["OFFLINE_ENV", "load_dataset", "load_image_folder"]

OFFLINE_ENV = "GAN_KERAS_OFFLINE"


RESIZE_VERSION = "size-v1: each native uint8 image resized with PIL BICUBIC (antialiased)"


def _dirs(data_dir):
    if data_dir is not None and str(data_dir) != "" and not os.path.isdir(os.fspath(data_dir)):
        raise DatasetError(
            f"data dir {os.fspath(data_dir)} does not exist or is not a folder; pass the folder that "
            "contains mnist/, nlvr/, 102flowers/, celeba/, emoji/ or cifar10/"
        )
    return data_dirs_with_origin(data_dir)


def _warn_if_fallback(name: str, dirs, used: str) -> None:
    """One DatasetWarning when an explicit data_dir lacked ``name`` and ``used`` supplied it instead.

    The search order is kept (a data_dir without the dataset is not an error), but a typo in
    --data-dir should not go unnoticed when another copy is picked up silently.
    """
    if not dirs or dirs[0][1] != "data_dir argument" or used == dirs[0][0]:
        return
    origins = dict(dirs)
    where = f"{used} ({origins[used]})" if used in origins else used
    warn(f"{name}: not found in the data_dir {dirs[0][0]} (--data-dir); using {where} instead", DatasetWarning)


def _missing(name: str, expected: str, dirs, extra: str = "") -> DatasetError:
    info = DATASETS[name]
    return DatasetError(
        f"dataset {name!r} not found: expected {expected} under one of the data dirs searched: "
        f"{describe_dirs(dirs)}{extra}{_mislaid(name, dirs)}. To get it: {info.how_to_get}. Then pass --data-dir "
        f"(data_dir) or set ${DATA_DIR_ENV} to the folder that contains it"
    )


def _mislaid(name: str, dirs) -> str:
    """What a data dir holds where the dataset's folder is, but not in its layout (images one folder
    too high, say): "; <dir>/nlvr/ exists but holds 0/, 1/, ... instead", or ""."""
    for data_dir, _origin in dirs:
        folder = os.path.join(data_dir, name)
        if os.path.isdir(folder):
            try:
                entries = sorted(os.listdir(folder))
            except OSError:
                continue
            shown = ", ".join(e + ("/" if os.path.isdir(os.path.join(folder, e)) else "") for e in entries[:5])
            more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            return f"; {folder}/ exists but holds {shown or 'nothing'}{more} instead"
    return ""


def _load_mnist(dirs, limit, allow_download: bool) -> ImageDataset:
    for data_dir, _origin in dirs:
        if not os.path.isdir(data_dir):
            continue
        found = mnist.find_local(data_dir)
        if found is not None:
            kind, path = found
            images = mnist.read_local(kind, path)
            source, fmt = path, kind
            _warn_if_fallback("mnist", dirs, data_dir)
            break
    else:
        expected = ("mnist/mnist.npz or mnist/train-images-idx3-ubyte.gz (or mnist.npz in the Keras cache)")
        if not allow_download:
            raise _missing("mnist", expected, dirs, f" (downloading is off: ${OFFLINE_ENV} or allow_download=False)")
        try:
            images = mnist.download()
        except Exception as exc:  # noqa: BLE001 - no internet, proxy, HTTP error, bad hash...
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise _missing("mnist", expected, dirs, f"; the Keras download failed too ({reason})") from None
        source, fmt, data_dir = "keras-download", "keras-download", ""
        _warn_if_fallback("mnist", dirs, "a Keras download into the Keras cache")
    if limit is not None:
        images = np.ascontiguousarray(images[:limit])
    info = {"data_dir": data_dir, "file": source, "format": fmt, "split": "train", "count": len(images),
            "fingerprint": content_fingerprint("mnist", images), "cache": "off"}
    return ImageDataset(name="mnist", images=images, source=source, skipped=0, info=info)


def _load_shapes(limit, seed, progress) -> ImageDataset:
    count = shapes.DEFAULT_COUNT if limit is None else limit
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"seed must be an integer, got {seed!r}") from None
    start = time.monotonic()
    bar = Progress(f"shapes: generating (seed {seed})", count, enabled=progress and count >= 2000)
    images = shapes.generate_shapes(count, seed=seed, progress=bar)
    bar.close()
    info = {"seed": seed, "count": count, "generator": shapes.GENERATOR_VERSION,
            "fingerprint": content_fingerprint("shapes", images), "cache": "off",
            "load_seconds": round(time.monotonic() - start, 3)}
    return ImageDataset(name="shapes", images=images, source="built-in", skipped=0, info=info)


def load_dataset(name, data_dir=None, cache_dir=None, use_cache=True, progress=True, seed=0, *,
                 limit=None, allow_download=None, image_size=None) -> ImageDataset:
    """Load dataset ``name`` as uint8 (N, H, W, C) images (see ``gan_keras.data`` for the details).

    Args:
        name: "mnist", "nlvr", "102flowers", "shapes", "celeba", "emoji" or "cifar10" (or an alias),
            or ``folder:PATH`` for every image under the folder PATH (relative to the current
            directory, or absolute; ``~`` expanded); ConfigError otherwise.
        data_dir: searched first; then $GAN_KERAS_DATA_DIR, <repo>/data, the Keras cache (not used
            by ``folder:PATH``). When it lacks the dataset and a later place supplies it, one
            DatasetWarning names both.
        cache_dir: where preprocessed nlvr/102flowers/celeba/emoji/cifar10/folder arrays are cached
            (default $GAN_KERAS_CACHE_DIR or <repo>/data/cache).
        use_cache: read and write that cache.
        progress: show progress on stderr while decoding.
        seed: the generator seed of "shapes" (file datasets are returned in sorted file order).
        limit: use only the first ``limit`` source images (sorted file order; nlvr gives 3 crops
            per image, so limit=3102 gives the dissertation's 9,306 crops; cifar10: the first
            ``limit`` training images, data_batch_1 first); for "shapes" the number of images to
            generate (default 10,000).
        allow_download: mnist only: try Keras' download when no local copy exists (default: yes,
            unless $GAN_KERAS_OFFLINE is set to 1).
        image_size: None (or the native side) for the native images; 32 or 64 for the colour
            datasets: a size other than the native one resizes each native image with PIL BICUBIC
            (64 -> 32 downscales; cifar10's 32 -> 64 upsamples). ``folder:PATH``: 64 (default), 32,
            or 28 for greyscale (N, 28, 28, 1). See ``image_shape(name, image_size)``; mnist has
            only its native 28.

    Raises:
        ConfigError: unknown name, bad limit/seed, an image size the dataset does not offer.
        DatasetError: dataset (or folder) missing, damaged, or without a single usable image.
    """
    key = canonical_name(name)
    limit = check_limit(limit)
    shape = image_shape(key, image_size)  # checked before anything is read
    if is_folder_name(key):
        dataset = load_image_dir(key, shape, cache_dir, use_cache, progress, limit)
    else:
        dataset = _load_native(key, data_dir, cache_dir, use_cache, progress, seed, limit, allow_download)
    _warn_if_limit_exceeds(key, limit, dataset)
    return _apply_image_size(dataset, shape, use_cache=use_cache)


def _warn_if_limit_exceeds(key, limit, dataset) -> None:
    """A limit above what the dataset has is not an error (all of it is used), but a user who
    asked for 5,000 images should learn that training saw fewer."""
    used = dataset.info.get("files_used", dataset.info.get("count"))   # source images (nlvr: before cropping)
    if limit is None or key == "shapes" or used is None or used >= limit:
        return
    warn(f"{key}: the limit {limit} is more than its {used} source images; all {used} are used", DatasetWarning)


def _load_native(key, data_dir, cache_dir, use_cache, progress, seed, limit, allow_download) -> ImageDataset:
    if key == "shapes":
        return _load_shapes(limit, seed, progress)
    dirs = _dirs(data_dir)
    if key == "mnist":
        if allow_download is None:
            allow_download = os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("1", "true", "yes")
        return _load_mnist(dirs, limit, bool(allow_download))
    if key == "cifar10":
        return _load_cifar10(dirs, cache_dir, use_cache, limit)
    spec = FOLDERS[key]
    found = find_folder(spec, dirs)
    if found is None:
        raise _missing(key, f"the folder {'/'.join(spec.subpath)}/ ({spec.layout})", dirs)
    folder, where = found
    _warn_if_fallback(key, dirs, where)
    return load_folder(spec, WORKERS[key], folder, where, cache_dir=cache_dir, use_cache=use_cache,
                       progress=progress, limit=limit)


def _load_cifar10(dirs, cache_dir, use_cache, limit) -> ImageDataset:
    """The CIFAR-10 training images (see cifar10.py), cached like the folder datasets."""
    start = time.monotonic()
    for data_dir, _origin in dirs:
        folder = cifar10.find_folder(data_dir) if os.path.isdir(data_dir) else None
        if folder is not None:
            break
    else:
        raise _missing("cifar10", f"cifar10/{cifar10.FOLDER}/data_batch_1 ... data_batch_5 (or "
                       f"{cifar10.FOLDER}/ as Keras unpacks it)", dirs)
    _warn_if_fallback("cifar10", dirs, data_dir)
    present = [b for b in cifar10.BATCHES if os.path.isfile(os.path.join(folder, b))]
    options = {"limit": limit}
    base_info = {"data_dir": data_dir, "folder": folder, "preprocessing": cifar10.PREPROCESS_VERSION,
                 "split": "train", "resize": "none (native 32x32)"}
    cache_path = key = None
    if use_cache:
        cache_path = cache_path_for(resolve_cache_dir(cache_dir), "cifar10", folder, options)
        key = source_key(cifar10.PREPROCESS_VERSION, folder, present, options)
        hit = read_cache(cache_path, key, DATASETS["cifar10"].image_shape)
        if hit is not None:
            images, meta = hit
            info = dict(meta.get("info", {}))
            info.update(base_info, cache="hit", cache_path=cache_path, load_seconds=round(time.monotonic() - start, 3))
            return ImageDataset(name="cifar10", images=images, source=folder, skipped=0, info=info)
    images, facts = cifar10.load(folder, limit)
    info = dict(base_info, **facts)
    info.update(count=len(images), fingerprint=content_fingerprint("cifar10", images))
    cache_and_record(info, images, use_cache=use_cache, path=cache_path, key=key, count=len(images), skipped=0)
    info["load_seconds"] = round(time.monotonic() - start, 3)
    return ImageDataset(name="cifar10", images=images, source=folder, skipped=0, info=info)


def _apply_image_size(dataset: ImageDataset, shape, *, use_cache: bool) -> ImageDataset:
    """``dataset`` at ``shape`` (H, W, C): unchanged when it is the native shape, else each image resized.

    Records ``info["image_size"]`` (the side returned), ``info["image_resize"]`` (what was done) and,
    when resized, ``info["native_fingerprint"]``; ``info["fingerprint"]`` is always of the returned
    arrays. The resized array of a cached folder dataset is cached too, next to the native cache
    (``<native cache>-<H>px.npz``, keyed by the native fingerprint), in ``info["resize_cache"]``.
    """
    shape = tuple(int(d) for d in shape)
    height, width = dataset.image_shape[:2]
    info = dict(dataset.info)
    if shape == dataset.image_shape:
        info.update(image_size=height, image_resize=f"none (native {height}x{width})")
        return ImageDataset(name=dataset.name, images=dataset.images, source=dataset.source,
                            skipped=dataset.skipped, info=info)
    if shape[2] != dataset.image_shape[2]:
        raise ConfigError(f"cannot turn {dataset.name}'s {dataset.image_shape} images into {shape}")
    native_fp = info.get("fingerprint") or content_fingerprint(dataset.name, dataset.images)
    if shape[0] < height:
        what = f"resized {height}x{width} -> {shape[0]}x{shape[1]}, PIL BICUBIC (antialiased)"
    else:
        what = f"upsampled {height}x{width} -> {shape[0]}x{shape[1]}, PIL BICUBIC"
    start = time.monotonic()
    images = None
    status, cache_path, key = "off", None, None
    native_cache = info.get("cache_path")
    if use_cache and native_cache and info.get("cache") in ("hit", "built") and native_cache.endswith(".npz"):
        cache_path = f"{native_cache[:-4]}-{shape[0]}px.npz"
        key = hashlib.sha256(f"{RESIZE_VERSION}|{PIL.__version__}|{native_fp}|{shape}".encode()).hexdigest()
        hit = read_cache(cache_path, key, shape)
        if hit is not None:
            images, status = hit[0], "hit"
    if images is None:
        images = downscale_images(dataset.images, shape[0], shape[1])
        if cache_path is not None:
            meta = {"key": key, "count": len(images), "native_fingerprint": native_fp}
            status = "built" if write_cache(cache_path, images, meta) else "write-failed"
    info.update(image_size=shape[0], image_resize=what, native_fingerprint=native_fp,
                fingerprint=content_fingerprint(dataset.name, images), resize_cache=status,
                resize_seconds=round(time.monotonic() - start, 3))
    if cache_path is not None:
        info["resize_cache_path"] = cache_path
    return ImageDataset(name=dataset.name, images=images, source=dataset.source, skipped=dataset.skipped,
                        info=info)
