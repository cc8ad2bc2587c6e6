"""Datasets: MNIST, NLVR box crops, Oxford-102 flowers, CelebA faces, Twemoji, CIFAR-10, the built-in
``shapes`` generator, and any folder of images (``folder:PATH``).

Every loader returns an :class:`ImageDataset` of uint8 images (N, H, W, C); the trainer scales a
batch to [-1, 1] with :func:`to_unit_range`.

Public API::

    DATASETS              name -> DatasetInfo(name, image_shape, description, how_to_get, ...,
                          image_sizes)
    DATA_DIR_ENV          "GAN_KERAS_DATA_DIR"
    IMAGE_SIZES           (32, 64): the image sizes of the colour datasets
    dataset_names()       ["mnist", "nlvr", "102flowers", "shapes", "celeba", "emoji", "cifar10"]
                          (folder:PATH names are not listed)
    is_dataset_name(text) -> bool: a registered name or alias (any case) or folder:PATH with a
                          non-empty PATH; reads nothing (for the CLI's argument check)
    canonical_name(name)  registry name; "folder:" + absolute path (~ expanded, case kept) for
                          folder:PATH; ConfigError (one line) if unknown
    dataset_slug(name)    file-name-safe label: the registry name, or "folder-<base>-<8 hex>"
                          (ImageDataset.name of a folder dataset; fit for run-directory names)
    is_folder_name(name), folder_path(name), FOLDER_PREFIX ("folder:"), FOLDER_IMAGE_SIZES
                          (28, 32, 64), FOLDER_HELP (a line describing the folder:PATH form)
    image_shape(name, image_size=None)
                          (28, 28, 1) for mnist, (32, 32, 3) for cifar10, (64, 64, 3) for the
                          others; image_size 32 or 64 gives (32, 32, 3) or (64, 64, 3) for the
                          colour datasets (nlvr, 102flowers, shapes, celeba, emoji, cifar10);
                          folder:PATH: 64 (default) or 32 -> RGB, 28 -> (28, 28, 1) greyscale; any
                          other size, or 32/64 for mnist, is a ConfigError; needs no data
    resolve_data_dirs(d)  search order: d, $GAN_KERAS_DATA_DIR, <repo>/data, the Keras cache
    load_dataset(name, data_dir=None, cache_dir=None, use_cache=True, progress=True, seed=0,
                 *, limit=None, allow_download=None, image_size=None) -> ImageDataset
                          images of shape image_shape(name, image_size); a size other than the
                          native one is each native image resized with PIL BICUBIC
    load_image_folder(folder, name="images", size=64, ...)
                          older helper: a folder's images *squashed* (not cropped) to size x size

Layouts under a data dir D (see data/README.md): ``D/mnist/mnist.npz`` (or the IDX
``D/mnist/train-images-idx3-ubyte.gz``, or ``D/mnist.npz`` in the Keras cache),
``D/nlvr/train/images/<d>/*.png``, ``D/102flowers/jpg/image_*.jpg``,
``D/celeba/img_align_celeba/000001.jpg`` (central WxW square, e.g. 178x178 from 20 px below the
top, resized to 64x64; see celeba.py), ``D/emoji/img/twitter/64/*.png`` (+ optional
``D/emoji/emoji_manifest.csv`` selecting the files; see emoji.py), ``D/cifar10/cifar-10-batches-py/
data_batch_1..5`` (official python pickles, read with a restricted unpickler; see cifar10.py).
``shapes`` needs nothing. ``folder:PATH``: every png/jpg/jpeg/bmp/gif/webp/tif/tiff/ppm/pgm under PATH
(recursive), the central square of side min(H, W) resized with PIL BICUBIC (see imagefolder.py).

``ImageDataset.info`` records what was done: ``fingerprint`` (a content hash of the returned
arrays, equal iff the arrays are equal, for caching real-image statistics; it differs between
image sizes), counts (nlvr: ``images_read``, ``crops``, ``images_skipped``), the resize method,
``image_size`` and ``image_resize`` (e.g. "resized 64x64 -> 32x32, PIL BICUBIC (antialiased)",
with ``native_fingerprint``), and whether the cache was used. Unusable source images are
skipped, counted in ``ImageDataset.skipped`` and summarised in one ``DatasetWarning``.
"""
from .base import ImageDataset, to_uint8, to_unit_range
from .cache import cache_path_for, content_fingerprint
from .imageio import DatasetWarning
from .loading import OFFLINE_ENV, load_dataset, load_image_folder
from .locate import CACHE_DIR_ENV, DATA_DIR_ENV, keras_datasets_dir, resolve_cache_dir, resolve_data_dirs
from .registry import (DATASETS, FOLDER_HELP, FOLDER_IMAGE_SIZES, FOLDER_PREFIX, IMAGE_SIZES, DatasetInfo,
                       canonical_name, dataset_names, dataset_slug, folder_path, image_shape, is_dataset_name,
                       is_folder_name)
from .shapes import generate_shapes

__all__ = [
    "CACHE_DIR_ENV", "DATASETS", "DATA_DIR_ENV", "DatasetInfo", "DatasetWarning", "FOLDER_HELP", "FOLDER_IMAGE_SIZES",
    "FOLDER_PREFIX", "IMAGE_SIZES", "ImageDataset",
    "OFFLINE_ENV", "cache_path_for", "canonical_name", "content_fingerprint", "dataset_names", "dataset_slug",
    "folder_path", "generate_shapes", "image_shape", "is_dataset_name", "is_folder_name", "keras_datasets_dir",
    "load_dataset", "load_image_folder",
    "resolve_cache_dir", "resolve_data_dirs", "to_uint8", "to_unit_range",
]
