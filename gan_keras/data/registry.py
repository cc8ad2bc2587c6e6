"""The dataset registry: names, image shapes (and the optional image sizes) and how to get each dataset.

Needs no data. ``image_shape(name, image_size)`` is the one place that decides which image sizes
a dataset offers: its native size, plus ``DatasetInfo.image_sizes`` (32 and 64 for the colour
datasets, whose native size is 64 (cifar10: 32); mnist only has its native 28x28x1).

Besides the registered names, ``folder:PATH`` names any folder of images (see ``FOLDER_HELP``):
it is not listed by ``dataset_names()``, but ``canonical_name``, ``image_shape`` and
``is_dataset_name`` accept it, all without touching the folder. Its sizes are 64 (default) and 32
(RGB) and 28 (greyscale, (28, 28, 1), for the 28x28 models).
"""
from __future__ import annotations

import hashlib
import operator
import os
import re
from dataclasses import dataclass

from ..errors import ConfigError

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_IDX_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
NLVR_URL = "https://github.com/lil-lab/nlvr"
FLOWERS_URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz"
CELEBA_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
EMOJI_URL = "https://www.npmjs.com/package/emoji-datasource-twitter"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"

# The sizes a colour dataset can be loaded at (the side of its square images).
IMAGE_SIZES = (32, 64)

# ``folder:PATH``: any folder of images.
FOLDER_PREFIX = "folder:"
FOLDER_DEFAULT_SIZE = 64
FOLDER_IMAGE_SIZES = (28, 32, 64)  # 28: greyscale (28, 28, 1); 32 and 64: RGB
FOLDER_HELP = (
    "folder:PATH (any folder of images: every png, jpg/jpeg, bmp, gif, webp, tif/tiff, ppm or pgm under PATH, "
    "searched recursively; the central square of side min(H, W) resized to 64x64 RGB (PIL BICUBIC), "
    "or 32x32 RGB, or 28x28 greyscale for the 28x28 models, with image size 32 or 28)"
)


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is and how to get it.

    Attributes:
        name: registry name, as given on the command line.
        image_shape: (H, W, C) of the images ``load_dataset`` returns.
        description: one line about the content.
        how_to_get: the files/folders to place under a data dir, and where to download them.
        needs_files: False for built-in (generated) datasets.
        image_sizes: the sides ``load_dataset(..., image_size=...)`` accepts (the colour datasets'
            native side among them; () for mnist: native only).
    """

    name: str
    image_shape: tuple[int, int, int]
    description: str
    how_to_get: str
    needs_files: bool = True
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
    ),
    "102flowers": DatasetInfo(
        name="102flowers",
        image_shape=(64, 64, 3),
        description="Oxford-102 flowers: 8,189 photos, each resized (squashed) to 64x64 RGB.",
        how_to_get=(
            "extract 102flowers.tgz so that the photos are at <data dir>/102flowers/jpg/image_00001.jpg "
            f"... (download: {FLOWERS_URL})"
        ),
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
    ),
    "emoji": DatasetInfo(
        name="emoji",
        image_shape=(64, 64, 3),
        description=(
            "Twemoji graphics at 64x64 (npm package emoji-datasource-twitter 16.0.0, CC-BY 4.0): the 845 "
            "base emoji of Smileys & Emotion, People & Body, Animals & Nature and Food & Drink listed in "
            "emoji_manifest.csv, transparent pixels composited on white."
        ),
        how_to_get=(
            "get the npm package emoji-datasource-twitter 16.0.0 (npm pack emoji-datasource-twitter@16.0.0; "
            f"{EMOJI_URL}) and copy its folder img/twitter/64/ to <data dir>/emoji/img/twitter/64/ "
            "(e.g. <data dir>/emoji/img/twitter/64/1f600.png); with <data dir>/emoji/emoji_manifest.csv "
            "(column file = img/twitter/64/<name>.png) only the files it lists are used (the 845-image "
            "subset of shared/data/emoji), otherwise every PNG of the folder"
        ),
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        image_shape=(32, 32, 3),
        description=(
            "CIFAR-10 (Krizhevsky 2009): the 50,000 training images of the python version, 32x32 RGB "
            "(image size 64 upsamples them with PIL BICUBIC)."
        ),
        how_to_get=(
            f"download cifar-10-python.tar.gz ({CIFAR10_URL}) and unpack it with "
            "tar xzf cifar-10-python.tar.gz -C <data dir>/cifar10 so that the batches are at "
            "<data dir>/cifar10/cifar-10-batches-py/data_batch_1 ... data_batch_5 (the Keras cache "
            "layout ~/.keras/datasets/cifar-10-batches-py/ works too)"
        ),
    ),
}

# Other spellings accepted by ``canonical_name`` (lower-case keys).
ALIASES = {"flowers": "102flowers", "oxford102": "102flowers", "flowers102": "102flowers",
           "celeb-a": "celeba", "img_align_celeba": "celeba",
           "twemoji": "emoji", "cifar-10": "cifar10", "cifar_10": "cifar10"}


def dataset_names() -> list[str]:
    """The registered dataset names, in a stable order (``folder:PATH`` names are not listed)."""
    return list(DATASETS)


def is_folder_name(name) -> bool:
    """True for a ``folder:PATH`` name (the prefix is case-insensitive; the path may be empty here)."""
    return isinstance(name, str) and name.strip()[:len(FOLDER_PREFIX)].lower() == FOLDER_PREFIX


def folder_path(name) -> str:
    """The absolute folder of a ``folder:PATH`` name: ``~`` expanded, relative paths taken from the
    current directory, case kept. Does not look at the folder. ConfigError if ``name`` is not of that
    form or has no path."""
    if not is_folder_name(name):
        raise ConfigError(f"{name!r} is not a folder dataset; write {FOLDER_PREFIX}PATH")
    path = name.strip()[len(FOLDER_PREFIX):].strip()
    if not path:
        raise ConfigError(f"{name!r} has no path; write {FOLDER_PREFIX}PATH, e.g. {FOLDER_PREFIX}~/pictures")
    if "\0" in path:
        raise ConfigError(f"{FOLDER_PREFIX}PATH contains a NUL character: {name!r}")
    return os.path.abspath(os.path.expanduser(path))


def is_dataset_name(text) -> bool:
    """True when ``text`` names a dataset: a registered name or alias (any case) or ``folder:PATH``
    with a non-empty PATH. Needs no data: a folder that does not exist is reported by ``load_dataset``
    (DatasetError), not here. For argparse: ``type=`` a function that raises on False."""
    if not isinstance(text, str):
        return False
    if is_folder_name(text):
        return bool(text.strip()[len(FOLDER_PREFIX):].strip()) and "\0" not in text
    key = text.strip().lower()
    return ALIASES.get(key, key) in DATASETS


def canonical_name(name) -> str:
    """The registry name for ``name`` (case-insensitive, a few aliases); ConfigError if unknown.

    ``folder:PATH`` gives ``"folder:" + folder_path(name)`` (absolute, ``~`` expanded, the path's case
    kept), so that a run records where its images came from whatever the current directory.
    """
    if is_folder_name(name):
        return FOLDER_PREFIX + folder_path(name)
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        raise ConfigError(
            f"unknown dataset {name!r}; choose one of: {', '.join(dataset_names())}, or {FOLDER_PREFIX}PATH "
            "for any folder of images"
        )
    return key


def dataset_slug(name) -> str:
    """A file-name-safe label of dataset ``name``: the registry name itself, or for ``folder:PATH``
    ``folder-<folder's base name, sanitised>-<8 hex of its absolute path>`` (used as
    ``ImageDataset.name``, in cache file names and fingerprints; safe for a run directory name)."""
    key = canonical_name(name)
    if not is_folder_name(key):
        return key
    path = key[len(FOLDER_PREFIX):]
    base = os.path.basename(path.rstrip("/\\")) or "root"
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("._-")[:40] or "root"
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"folder-{base}-{digest}"


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
    (32, 32, 3) for cifar10, (64, 64, 3) for the others; 32 or 64 give (32, 32, 3) or (64, 64, 3) for the colour datasets.
    Raises ConfigError (one line) for an unknown name or a size the dataset does not offer.

    ``folder:PATH`` (the folder is not read): None or 64 gives (64, 64, 3), 32 gives (32, 32, 3) and
    28 gives (28, 28, 1) (greyscale); other sizes are a ConfigError.
    """
    key = canonical_name(name)
    if is_folder_name(key):
        return _folder_shape(key, image_size)
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


def _folder_shape(key: str, image_size) -> tuple[int, int, int]:
    choices = ", ".join(str(v) for v in FOLDER_IMAGE_SIZES[:-1]) + f" or {FOLDER_IMAGE_SIZES[-1]}"
    if image_size is None:
        size = FOLDER_DEFAULT_SIZE
    else:
        try:
            size = None if isinstance(image_size, bool) else operator.index(image_size)
        except TypeError:
            size = None
        if size not in FOLDER_IMAGE_SIZES:
            raise ConfigError(f"image size of an image folder must be {choices} (28: greyscale), got "
                              f"{image_size!r} for {key}")
    return (size, size, 1) if size == 28 else (size, size, 3)
