"""NLVR: cut each 400x100 training image into its three boxes at the grey separator bars.

An official NLVR image (``nlvr/train/images/<d>/train-<n>-<m>-<k>.png``, 400x100 RGBA, opaque)
holds three 100x100 boxes (background RGB 211) at x in [0,100), [150,250), [300,400), separated
by two bars of uniform grey RGB 128 at x in [100,150) and [250,300).

Cutting (``find_boxes``):

1. Bar columns are columns whose every pixel is RGB (128, 128, 128) (within +-2 per channel),
   over the full height. The boxes are the runs of non-bar columns. This finds the boxes
   wherever they are (shifted, other widths); it is not a fixed offset.
2. Sanity check: there must be exactly 3 such runs and each must be roughly square (width
   between 0.8 and 1.25 times the image height), as in the official geometry.
3. Fallback: if that fails but the image has the official proportions (width = 4 x height) and
   the two expected bar regions are at least 95% bar-grey (e.g. a stray pixel in a bar), the
   official geometry is used (counted in ``info["bar_fallback"]``).
4. Otherwise the image is skipped and counted (reason "separator bars not found").

Each box is resized from 100x100 to 64x64 with PIL BICUBIC (antialiased when shrinking: the
kernel is widened by the scale factor). Images are converted to RGB (transparent pixels, of
which the official images have none, are composited onto the box grey 211).
"""
from __future__ import annotations

import numpy as np

from PIL import Image

from .imageio import SkipImage, read_rgb_image, resize_rgb, skip_on_error

BAR_RGB = 128
BOX_RGB = (211, 211, 211)
BAR_TOLERANCE = 2
CROP_SIZE = 64
PREPROCESS_VERSION = "nlvr-v1: bars RGB128 +-2 full height, 3 near-square boxes, PIL BICUBIC to 64x64"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs of True in a 1-D bool array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def bar_columns(rgb: np.ndarray, tolerance: int = BAR_TOLERANCE) -> np.ndarray:
    """Per column: is every pixel of it separator-bar grey? (column min and max within the tolerance)"""
    lo = rgb.min(axis=0)
    hi = rgb.max(axis=0)
    return ((lo >= BAR_RGB - tolerance) & (hi <= BAR_RGB + tolerance)).all(axis=1)


def find_boxes(rgb: np.ndarray, tolerance: int = BAR_TOLERANCE) -> tuple[list[tuple[int, int]], bool] | None:
    """The three boxes' column ranges [(x0, x1)] * 3 and whether the fallback was used; None if not found."""
    height, width = rgb.shape[:2]
    boxes = _runs(~bar_columns(rgb, tolerance))
    if len(boxes) == 3 and all(0.8 * height <= b - a <= 1.25 * height for a, b in boxes):
        return boxes, False
    # Fallback: the official proportions, with bars that are at least mostly grey.
    if width == 4 * height and height >= 8:
        h = height
        bars = [(h, h + h // 2), (2 * h + h // 2, 3 * h)]
        grey = lambda a, b: (np.abs(rgb[:, a:b].astype(np.int16) - BAR_RGB) <= tolerance).all(axis=2).mean()  # noqa: E731
        if all(grey(a, b) >= 0.95 for a, b in bars):
            return [(0, h), (h + h // 2, 2 * h + h // 2), (3 * h, 4 * h)], True
    return None


def crop_image(image, size: int = CROP_SIZE) -> tuple[np.ndarray, bool]:
    """(3, size, size, 3) uint8 crops of one decoded NLVR image (RGB PIL image or array), and
    whether the fallback geometry was used. Raises SkipImage when the bars are not found."""
    rgb = np.asarray(image)
    found = find_boxes(rgb)
    if found is None:
        raise SkipImage("separator bars not found")
    boxes, fallback = found
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image), "RGB")
    height = rgb.shape[0]
    crops = np.stack([resize_rgb(image, size, size, box=(a, 0, b, height)) for a, b in boxes])
    return crops, fallback


@skip_on_error
def process_file(path: str):
    """(crops, fallback) for one file, or a SkipImage instance (never raises for bad files)."""
    image = read_rgb_image(path, background=BOX_RGB, min_side=8, max_aspect=16.0)
    return crop_image(image)
