"""The dataset registry: names, image shapes (and the optional image sizes) and how to get each dataset.

Needs no data. ``image_shape(name, image_size)`` is the one place that decides which image sizes
a dataset offers: its native size, plus ``DatasetInfo.image_sizes`` (32 and 64 for the colour
datasets, whose native size is 64; mnist only has its native 28x28x1).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

from ..errors import ConfigError

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_IDX_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
NLVR_URL = "https://github.com/lil-lab/nlvr"
FLOWERS_URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz"
CELEBA_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"

# The sizes a colour dataset can be loaded at (the side of its square images).
IMAGE_SIZES = (32, 64)


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is and how to get it.

    Attributes:
        name: registry name, as given on the command line.
        image_shape: (H, W, C) of the images ``load_dataset`` returns.
        description: one line about the content.
        how_to_get: the files/folders to place under a data dir, and where to download them.
        needs_files: False for built-in (generated) datasets.
        url: the main download address ("" for built-in sets).
        image_sizes: the sides ``load_dataset(..., image_size=...)`` accepts besides the native one
            (() for mnist: native only).
    """

    name: str
    image_shape: tuple[int, int, int]
    description: str
    how_to_get: str
    needs_files: bool = True
    url: str = ""
    image_sizes: tuple[int, ...] = IMAGE_SIZES


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        image_shape=(28, 28, 1),
        description="MNIST handwritten digits: the 60,000 training images, 28x28 greyscale.",
        how_to_get=(
            "put the Keras file mnist.npz at <data dir>/mnist/mnist.npz (download: "
            f"{MNIST_URL}), or the official IDX file train-images-idx3-ubyte.gz (labels optional) "
            f"in <data dir>/mnist/ (mirror of the official file: {MNIST_IDX_URL}); a mnist.npz in the Keras cache "
            "(~/.keras/datasets/mnist.npz) is used too; with internet access Keras downloads it"
        ),
        url=MNIST_URL,
        image_sizes=(),
    ),
    "nlvr": DatasetInfo(
        name="nlvr",
        image_shape=(64, 64, 3),
        description=(
            "NLVR synthetic images (Suhr et al. 2017): each 400x100 training image is cut at its grey "
            "separator bars into 3 boxes, each resized to 64x64 RGB."
        ),
        how_to_get=(
            "copy the folder nlvr/train/images/ of the NLVR repository (the numbered folders 0..79 "
            "holding train-*.png) to <data dir>/nlvr/train/images/ (download: "
            f"git clone {NLVR_URL}, or its zip)"
        ),
        url=NLVR_URL,
    ),
    "102flowers": DatasetInfo(
        name="102flowers",
        image_shape=(64, 64, 3),
        description="Oxford-102 flowers: 8,189 photos, each resized (squashed) to 64x64 RGB.",
        how_to_get=(
            "extract 102flowers.tgz so that the photos are at <data dir>/102flowers/jpg/image_00001.jpg "
            f"... (download: {FLOWERS_URL})"
        ),
        url=FLOWERS_URL,
    ),
    "shapes": DatasetInfo(
        name="shapes",
        image_shape=(64, 64, 3),
        description=(
            "built-in NLVR-like images: yellow/black/blue circles, squares and triangles on light grey "
            "(RGB 211), 64x64; generated from the seed, 10,000 by default; needs no files."
        ),
        how_to_get="nothing to get: generated on the fly (works offline on any machine)",
        needs_files=False,
    ),
    "celeba": DatasetInfo(
        name="celeba",
        image_shape=(64, 64, 3),
        description=(
            "CelebA aligned faces (Liu et al. 2015; 202,599 images, 178x218): the central square whose "
            "side is the width (178x178, from 20 px below the top) is resized to 64x64 RGB."
        ),
        how_to_get=(
            "download img_align_celeba.zip (\"Align&Cropped Images\", folder Img/ of the CelebA download, "
            "non-commercial research use only) and unzip it so that the faces are at "
            f"<data dir>/celeba/img_align_celeba/000001.jpg ... (CelebA project page: {CELEBA_URL})"
        ),
        url=CELEBA_URL,
    ),
}

# Other spellings accepted by ``canonical_name`` (lower-case keys).
ALIASES = {"flowers": "102flowers", "oxford102": "102flowers", "flowers102": "102flowers",
           "celeb-a": "celeba", "img_align_celeba": "celeba"}


def dataset_names() -> list[str]:
    """The registered dataset names, in a stable order."""
    return list(DATASETS)


def canonical_name(name) -> str:
    """The registry name for ``name`` (case-insensitive, a few aliases); ConfigError if unknown."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        raise ConfigError(
            f"unknown dataset {name!r}; choose one of: {', '.join(dataset_names())}"
        )
    return key


def _size_value(image_size) -> int:
    """``image_size`` as an int (numpy integers accepted); ConfigError for anything else."""
    if isinstance(image_size, bool):
        raise ConfigError(f"image size must be {_choices()}, got {image_size!r}")
    try:
        return operator.index(image_size)
    except TypeError:
        raise ConfigError(f"image size must be {_choices()}, got {image_size!r}") from None


def _choices(joiner: str = " or ") -> str:
    sizes = sorted({size for info in DATASETS.values() for size in info.image_sizes})
    return joiner.join(str(size) for size in sizes)


def image_shape(name, image_size=None) -> tuple[int, int, int]:
    """(H, W, C) of dataset ``name`` as ``load_dataset(name, image_size=image_size)`` returns it.

    ``image_size`` None (or the native side) gives the native shape: (28, 28, 1) for mnist,
    (64, 64, 3) for the others; 32 or 64 give (32, 32, 3) or (64, 64, 3) for the colour datasets.
    Raises ConfigError (one line) for an unknown name or a size the dataset does not offer.
    """
    key = canonical_name(name)
    info = DATASETS[key]
    if image_size is None:
        return info.image_shape
    size = _size_value(image_size)
    height, width, channels = info.image_shape
    if size == height == width:
        return info.image_shape
    if size in info.image_sizes:
        return (size, size, channels)
    native = "x".join(str(d) for d in info.image_shape)
    users = [n for n, other in DATASETS.items() if size in other.image_sizes]
    if users:
        raise ConfigError(f"image size {size} applies to colour datasets ({', '.join(users)}); {key} is {native}")
    if not info.image_sizes:
        raise ConfigError(f"image size {size} is not available: {key} is {native} only "
                          f"(image sizes {_choices(' and ')} apply to the colour datasets)")
    raise ConfigError(f"image size must be {_choices()}, got {size}")
