"""Datasets: MNIST, NLVR box crops, Oxford-102 flowers and the built-in ``shapes`` generator.

Every loader returns an :class:`ImageDataset` of uint8 images (N, H, W, C); the trainer scales a
batch to [-1, 1] with :func:`to_unit_range`.

Public API::

    DATASETS              name -> DatasetInfo(name, image_shape, description, how_to_get, ...)
    DATA_DIR_ENV          "GAN_KERAS_DATA_DIR"
    dataset_names()       ["mnist", "nlvr", "102flowers", "shapes"]
    image_shape(name)     (28, 28, 1) for mnist, (64, 64, 3) for the others; needs no data
    resolve_data_dirs(d)  search order: d, $GAN_KERAS_DATA_DIR, <repo>/data, the Keras cache
    load_dataset(name, data_dir=None, cache_dir=None, use_cache=True, progress=True, seed=0,
                 *, limit=None, allow_download=None) -> ImageDataset

Layouts under a data dir D (see data/README.md): ``D/mnist/mnist.npz`` (or the IDX
``D/mnist/train-images-idx3-ubyte.gz``, or ``D/mnist.npz`` in the Keras cache),
``D/nlvr/train/images/<d>/*.png``, ``D/102flowers/jpg/image_*.jpg``. ``shapes`` needs nothing.

``ImageDataset.info`` records what was done: ``fingerprint`` (a content hash, equal iff the
arrays are equal, for caching real-image statistics), counts (nlvr: ``images_read``, ``crops``,
``images_skipped``), the resize method, and whether the cache was used. Unusable source
images are skipped, counted in ``ImageDataset.skipped`` and summarised in one
``DatasetWarning``.
"""
from .base import ImageDataset, to_uint8, to_unit_range
from .cache import cache_path_for, content_fingerprint
from .imageio import DatasetWarning
from .loading import OFFLINE_ENV, load_dataset, load_image_folder
from .locate import CACHE_DIR_ENV, DATA_DIR_ENV, keras_datasets_dir, resolve_cache_dir, resolve_data_dirs
from .registry import DATASETS, DatasetInfo, canonical_name, dataset_names, image_shape
from .shapes import generate_shapes

__all__ = [
    "CACHE_DIR_ENV", "DATASETS", "DATA_DIR_ENV", "DatasetInfo", "DatasetWarning", "ImageDataset",
    "OFFLINE_ENV", "cache_path_for", "canonical_name", "content_fingerprint", "dataset_names",
    "generate_shapes", "image_shape", "keras_datasets_dir", "load_dataset", "load_image_folder",
    "resolve_cache_dir", "resolve_data_dirs", "to_uint8", "to_unit_range",
]
