"""Datasets: MNIST, NLVR box crops, Oxford-102 flowers, CelebA faces and the built-in ``shapes`` generator.

Every loader returns an :class:`ImageDataset` of uint8 images (N, H, W, C); the trainer scales a
batch to [-1, 1] with :func:`to_unit_range`.

Public API::

    DATASETS              name -> DatasetInfo(name, image_shape, description, how_to_get, ...,
                          image_sizes)
    DATA_DIR_ENV          "GAN_KERAS_DATA_DIR"
    IMAGE_SIZES           (32, 64): the image sizes of the colour datasets
    dataset_names()       ["mnist", "nlvr", "102flowers", "shapes", "celeba"]
    image_shape(name, image_size=None)
                          (28, 28, 1) for mnist, (64, 64, 3) for the others; image_size 32 or 64
                          gives (32, 32, 3) or (64, 64, 3) for the colour datasets (nlvr,
                          102flowers, shapes, celeba); any other size, or 32/64 for mnist, is a
                          ConfigError; needs no data
    resolve_data_dirs(d)  search order: d, $GAN_KERAS_DATA_DIR, <repo>/data, the Keras cache
    load_dataset(name, data_dir=None, cache_dir=None, use_cache=True, progress=True, seed=0,
                 *, limit=None, allow_download=None, image_size=None) -> ImageDataset
                          images of shape image_shape(name, image_size); image_size=32 is the
                          native 64x64 images downscaled with PIL BICUBIC

Layouts under a data dir D (see data/README.md): ``D/mnist/mnist.npz`` (or the IDX
``D/mnist/train-images-idx3-ubyte.gz``, or ``D/mnist.npz`` in the Keras cache),
``D/nlvr/train/images/<d>/*.png``, ``D/102flowers/jpg/image_*.jpg``,
``D/celeba/img_align_celeba/000001.jpg`` (central WxW square, e.g. 178x178 from 20 px below the
top, resized to 64x64; see celeba.py). ``shapes`` needs nothing.

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
from .registry import DATASETS, IMAGE_SIZES, DatasetInfo, canonical_name, dataset_names, image_shape
from .shapes import generate_shapes

__all__ = [
    "CACHE_DIR_ENV", "DATASETS", "DATA_DIR_ENV", "DatasetInfo", "DatasetWarning", "IMAGE_SIZES", "ImageDataset",
    "OFFLINE_ENV", "cache_path_for", "canonical_name", "content_fingerprint", "dataset_names",
    "generate_shapes", "image_shape", "keras_datasets_dir", "load_dataset", "load_image_folder",
    "resolve_cache_dir", "resolve_data_dirs", "to_uint8", "to_unit_range",
]
