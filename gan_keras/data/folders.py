"""The datasets that are folders of image files: where each one lives, and how it is read and cached.

A ``FolderSpec`` says where a folder dataset lives under a data dir, what its files look like (for
messages), and how its preprocessing is keyed in the cache; ``WORKERS`` holds each registered
dataset's per-file function (path -> crops). ``load_folder`` reads any such folder in parallel,
skipping and counting bad files, and caches the array; ``load_image_folder`` (any folder, like
102flowers) and ``load_image_dir`` (the ``folder:PATH`` datasets) build their spec on the fly.
``loading.load_dataset`` chooses among them.
"""
from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ConfigError, DatasetError
from . import celeba, emoji, flowers, imagefolder, nlvr
from .base import ImageDataset
from .cache import cache_and_record, cache_path_for, content_fingerprint, distinct_count, read_cache, source_key
from .imageio import (RESAMPLE_NAME, Progress, SkipImage, SkipLog, emit_skip_warning, list_image_files,
                      parallel_map)
from .locate import resolve_cache_dir
from .registry import FOLDER_PREFIX, dataset_slug, folder_path


@dataclass(frozen=True)
class FolderSpec:
    """Where a folder dataset lives, what it holds, and what keys its cache."""

    name: str
    subpath: tuple[str, ...]   # the dataset's folder relative to a data dir
    layout: str                # what is expected inside, for messages
    recursive: bool
    per_file: int              # output images per source file
    version: str               # preprocessing version (part of the cache key)
    flag_name: str             # info key counting the worker's boolean flag
    resize: str
    image_shape: tuple[int, int, int] = (64, 64, 3)
    options: tuple[tuple[str, object], ...] = ()  # extra cache-key options (also in the cache file name)
    # (folder, sorted relative files) -> (files to read, facts for info); e.g. emoji's manifest
    select: Callable[[str, list], tuple[list, dict]] | None = None


FOLDERS = {
    "nlvr": FolderSpec(
        name="nlvr", subpath=("nlvr", "train", "images"),
        layout="nlvr/train/images/<d>/train-*.png (400x100 PNGs in numbered subfolders)",
        recursive=True, per_file=3, version=nlvr.PREPROCESS_VERSION, flag_name="bar_fallback",
        resize=f"each 100x100 box -> 64x64, {RESAMPLE_NAME}",
    ),
    "102flowers": FolderSpec(
        name="102flowers", subpath=("102flowers", "jpg"),
        layout="102flowers/jpg/image_00001.jpg ... image_08189.jpg",
        recursive=False, per_file=1, version=flowers.PREPROCESS_VERSION, flag_name="images_resized",
        resize=f"whole image squashed to 64x64, {RESAMPLE_NAME}",
    ),
    "celeba": FolderSpec(
        name="celeba", subpath=("celeba", "img_align_celeba"),
        layout="celeba/img_align_celeba/000001.jpg ... (the aligned faces of img_align_celeba.zip)",
        recursive=False, per_file=1, version=celeba.PREPROCESS_VERSION, flag_name="images_resized",
        resize=f"central WxW square (178x178 from row 20 at 178x218) -> 64x64, {RESAMPLE_NAME}",
    ),
    "emoji": FolderSpec(
        name="emoji", subpath=emoji.SUBPATH,
        layout="emoji/img/twitter/64/<codepoints>.png (the 64x64 PNGs of the npm package emoji-datasource-twitter)",
        recursive=False, per_file=1, version=emoji.PREPROCESS_VERSION, flag_name="images_resized",
        resize=f"{imagefolder.CROP} -> 64x64 (64x64 originals unchanged), {RESAMPLE_NAME}",
        select=emoji.select_files,
    ),
}

# The per-file worker of each folder dataset: path -> ((k, 64, 64, 3) uint8, flag) | SkipImage.
WORKERS = {"nlvr": nlvr.process_file, "102flowers": flowers.process_file, "celeba": celeba.process_file,
           "emoji": emoji.process_file}


def check_limit(limit):
    """``limit`` as given to a loader: None, or a positive integer (ConfigError otherwise)."""
    if limit is None:
        return None
    if isinstance(limit, bool):
        raise ConfigError(f"limit must be a positive integer, got {limit!r}")
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ConfigError(f"limit must be a positive integer, got {limit!r}") from None
    if value < 1 or value != limit:
        raise ConfigError(f"limit must be a positive integer, got {limit!r}")
    return value


def find_folder(spec: FolderSpec, dirs) -> tuple[str, str] | None:
    """(dataset folder, data dir) of the first data dir holding the dataset's folder."""
    for data_dir, _origin in dirs:
        candidates = [os.path.join(data_dir, *spec.subpath)]
        if os.path.basename(os.path.normpath(data_dir)) == spec.subpath[0]:
            # data_dir points at the dataset's own folder (e.g. .../nlvr): accept that too.
            candidates.append(os.path.join(data_dir, *spec.subpath[1:]))
        for folder in candidates:
            if os.path.isdir(folder):
                return folder, data_dir
    return None


def load_folder(spec: FolderSpec, worker, folder: str, data_dir: str, *, cache_dir, use_cache,
                progress, limit, label: str | None = None) -> ImageDataset:
    """Decode every image file of ``folder`` with ``worker`` (path -> (crops, flag) | SkipImage)."""
    start = time.monotonic()
    label = label or spec.name
    try:
        files, ignored = list_image_files(folder, recursive=spec.recursive)
    except OSError as exc:
        raise DatasetError(f"cannot list {folder} ({exc.strerror or exc}); check its permissions") from None
    if not files:
        raise DatasetError(
            f"no image files in {folder} ({ignored} other files ignored); expected {spec.layout}"
        )
    found = len(files)
    selected = {}
    if spec.select is not None:
        files, selected = spec.select(folder, files)
    if limit is not None:
        files = files[:limit]
    options = {"limit": limit, "per_file": spec.per_file, **dict(spec.options)}
    base_info = {
        "data_dir": data_dir, "folder": folder, "preprocessing": spec.version, "resize": spec.resize,
        "files_found": found, "files_used": len(files), "ignored_files": ignored, **selected,
    }

    cache_path = key = None
    if use_cache:
        cache_path = cache_path_for(resolve_cache_dir(cache_dir), spec.name, folder, options)
        key = source_key(spec.version, folder, files, options)
        hit = read_cache(cache_path, key, spec.image_shape)
        if hit is not None:
            images, meta = hit
            info = dict(meta.get("info", {}))
            info.update(base_info, cache="hit", cache_path=cache_path,
                        load_seconds=round(time.monotonic() - start, 3))
            skipped = int(meta.get("skipped", 0))
            if skipped:
                emit_skip_warning(label, skipped, len(files), list(info.get("skipped_examples", [])),
                                  f" [{info.get('skipped_reasons', '')}] (as when the cache was built)")
            return ImageDataset(name=spec.name, images=images, source=folder, skipped=skipped, info=info)

    bar = Progress(f"{label}: reading {folder}", len(files), enabled=progress)
    first = None
    images = None
    count = flags = 0
    log = SkipLog(label)
    paths = [os.path.join(folder, rel) for rel in files]
    for rel, result in zip(files, parallel_map(worker, paths, progress=bar)):
        if isinstance(result, SkipImage):
            log.add(rel, str(result))
            continue
        crops, flag = result
        if images is None:
            first = crops.shape[1:]
            images = np.empty((len(files) * spec.per_file,) + first, np.uint8)
        if crops.shape[1:] != first or count + len(crops) > len(images):
            log.add(rel, f"unexpected output shape {crops.shape}")
            continue
        images[count:count + len(crops)] = crops
        count += len(crops)
        flags += bool(flag)
    bar.close(f"{count} images, {len(log)} skipped")
    if count == 0:
        examples = "; ".join(log.examples(3))
        raise DatasetError(
            f"no usable image in {folder}: all {len(files)} image files were skipped (e.g. {examples}); "
            f"expected {spec.layout}"
        )
    images = images[:count]
    read = len(files) - len(log)
    info = dict(base_info)
    info.update({
        "images_read": read, "images_skipped": len(log), spec.flag_name: flags,
        "skipped_examples": log.examples(), "skipped_reasons": log.reasons(), "count": count,
        "fingerprint": content_fingerprint(spec.name, images), "distinct_images": distinct_count(images),
    })
    if spec.per_file > 1:
        info["crops"] = count
    log.warn(len(files))
    cache_and_record(info, images, use_cache=use_cache, path=cache_path, key=key, count=count, skipped=len(log))
    info["load_seconds"] = round(time.monotonic() - start, 3)
    return ImageDataset(name=spec.name, images=images, source=folder, skipped=len(log), info=info)


def load_image_folder(folder, name: str = "images", size: int = 64, *, recursive: bool = True,
                      cache_dir=None, use_cache=True, progress=True, limit=None) -> ImageDataset:
    """Any folder of images, each squashed to ``size`` x ``size`` RGB like 102flowers (see flowers.py).

    Robust in the same way as the registered datasets (bad files skipped and counted, cached:
    one cache file per folder, size and limit).
    """
    folder = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(folder):
        raise DatasetError(f"image folder {folder} does not exist")
    spec = FolderSpec(
        name=name, subpath=(os.path.basename(folder),), layout="image files (.png, .jpg, ...)",
        recursive=recursive, per_file=1, version=f"{flowers.PREPROCESS_VERSION} size={size}",
        flag_name="images_resized", resize=f"whole image squashed to {size}x{size}, {RESAMPLE_NAME}",
        image_shape=(int(size), int(size), 3), options=(("size", int(size)),),
    )
    worker = functools.partial(flowers.process_file, size=int(size))
    return load_folder(spec, worker, folder, os.path.dirname(folder), cache_dir=cache_dir,
                       use_cache=use_cache, progress=progress, limit=check_limit(limit))


def load_image_dir(key: str, shape, cache_dir, use_cache, progress, limit) -> ImageDataset:
    """``folder:PATH``: every image under PATH, central square of side min(H, W) -> ``shape``."""
    folder = folder_path(key)
    try:
        exists, is_dir = os.path.exists(folder), os.path.isdir(folder)
    except (OSError, ValueError):
        exists = is_dir = False
    if not is_dir:
        what = "is not a folder" if exists else "does not exist"
        raise DatasetError(f"image folder {folder} {what} (dataset {FOLDER_PREFIX}PATH); give a folder of images")
    size, channels = int(shape[0]), int(shape[2])
    mode = "L" if channels == 1 else "RGB"
    spec = FolderSpec(
        name=dataset_slug(key), subpath=(os.path.basename(folder),), layout=imagefolder.LAYOUT,
        recursive=True, per_file=1, version=f"{imagefolder.PREPROCESS_VERSION} size={size} mode={mode} exif-orientation",
        flag_name="images_resized",
        resize=f"{imagefolder.CROP} -> {size}x{size} {'greyscale (luminance)' if mode == 'L' else 'RGB'}, "
               f"{RESAMPLE_NAME}",
        image_shape=tuple(int(d) for d in shape), options=(("size", size), ("mode", mode)),
    )
    worker = functools.partial(imagefolder.process_file, size=size, grey=mode == "L")
    dataset = load_folder(spec, worker, folder, os.path.dirname(folder), cache_dir=cache_dir,
                          use_cache=use_cache, progress=progress, limit=limit, label=key)
    dataset.info.update(dataset=key, crop=imagefolder.CROP, mode=mode)
    return dataset
