"""The dataset registry: names, image shapes and how to get each dataset. Needs no data."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_IDX_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
NLVR_URL = "https://github.com/lil-lab/nlvr"
FLOWERS_URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz"


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
    """

    name: str
    image_shape: tuple[int, int, int]
    description: str
    how_to_get: str
    needs_files: bool = True
    url: str = ""


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
}

# Other spellings accepted by ``canonical_name`` (lower-case keys).
ALIASES = {"flowers": "102flowers", "oxford102": "102flowers", "flowers102": "102flowers"}


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


def image_shape(name) -> tuple[int, int, int]:
    """(H, W, C) of dataset ``name``: (28, 28, 1) for mnist, (64, 64, 3) for the others."""
    return DATASETS[canonical_name(name)].image_shape
