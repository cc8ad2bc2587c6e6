"""``folder:PATH``: any folder of images, centre-cropped to a square and resized.

Files: every non-hidden file under PATH (searched recursively, hidden folders and symlink loops
left out) whose name ends in an image extension (``imageio.IMAGE_EXTENSIONS``: .png, .jpg, .jpeg,
.bmp, .gif, .webp, .tif, .tiff, also .ppm and .pgm), case-insensitive, in sorted relative-path order
(so ``limit=N`` takes the first N); other files are ignored and counted.

**The crop.** From each image of W x H pixels the **central square of side min(H, W)** is cut out
(``imageio.centre_square_box``: offset ``(long - short) // 2`` along the longer side, so a 300x100
image keeps columns 100..199, a 100x300 image rows 100..199), then resized to ``size`` x ``size``
with PIL BICUBIC (antialiased when shrinking; a square already at that size is copied unchanged).
Sizes: 64 (the default) and 32 give RGB (N, s, s, 3); 28 gives **greyscale** (N, 28, 28, 1) for the
28x28 models: the RGB square is turned into luminance with PIL's ``convert("L")``
(L = R * 299/1000 + G * 587/1000 + B * 114/1000, ITU-R 601-2) and then resized.

Robust like the registered folder datasets (``imageio``): transparent pixels (RGBA, LA, palette
with transparency) are composited onto white, greyscale/palette/CMYK/16-bit images are converted
(16-bit scaled by 1/257); empty, truncated, non-image, huge (> 64 megapixels), tiny (side < 8) or
absurdly thin (aspect > 10:1) files are skipped, counted and summarised in one warning. Large JPEGs
are decoded by libjpeg at a reduced scale that keeps the square at least twice the target size.
"""
from __future__ import annotations

import numpy as np

from .imageio import RESAMPLE, centre_square_box, read_rgb_image, resize_rgb, skip_on_error

BACKGROUND = (255, 255, 255)
MAX_ASPECT = 10.0
CROP = "central square of side min(H, W)"
PREPROCESS_VERSION = ("imagefolder-v1: central min(H,W) square, PIL BICUBIC, alpha on white, "
                      "JPEG draft >= 2x size, greyscale = PIL convert('L') before resizing")
LAYOUT = ("image files (.png, .jpg/.jpeg, .bmp, .gif, .webp, .tif/.tiff, .ppm, .pgm) anywhere under the folder "
          "(searched recursively)")


@skip_on_error
def process_file(path: str, size: int = 64, grey: bool = False):
    """((1, size, size, 3 or 1) uint8, resized?) for one file, or a SkipImage instance (never raises).

    ``grey``: luminance (PIL "L") with one channel instead of RGB. ``resized`` is False only when the
    central square already has side ``size``.
    """
    image = read_rgb_image(path, background=BACKGROUND, min_side=8, max_aspect=MAX_ASPECT,
                           draft_size=(2 * size, 2 * size))
    box = centre_square_box(*image.size)
    resized = box[2] - box[0] != size
    if not grey:
        return resize_rgb(image, size, size, box=box)[None], resized
    square = image.crop(box).convert("L")
    if square.size != (size, size):
        square = square.resize((size, size), RESAMPLE)
    return np.asarray(square, dtype=np.uint8)[None, :, :, None], resized
