"""Oxford-102 flowers (and any folder of photos): each image squashed to 64x64 RGB.

Files: ``<data dir>/102flowers/jpg/image_00001.jpg`` ... (the folder of the official
``102flowers.tgz``); every non-hidden file in ``jpg/`` with an image extension is read (sorted by
name), other files are ignored.

Preprocessing: the **whole** image is resized to 64x64 **without keeping the aspect ratio**
(squashed, not cropped), with PIL BICUBIC, which is antialiased when shrinking. This matches the
reduced 64x64 copy in ``shared/data/102flowers`` (whose images were squashed the same way by its
makers), so a full-resolution download and that copy give the same kind of images; 64x64 inputs
are used unchanged. Large JPEGs are first decoded by libjpeg at a reduced DCT scale (1/2, 1/4 or
1/8, never below 128x128 pixels, i.e. at least twice the target size) to save time. Transparent
pixels (PNG, GIF) are composited onto white; greyscale, palette, CMYK and 16-bit images are
converted to RGB.
"""
from __future__ import annotations

from .imageio import read_rgb_image, resize_rgb, skip_on_error

IMAGE_SIZE = 64
BACKGROUND = (255, 255, 255)
MAX_ASPECT = 10.0
PREPROCESS_VERSION = "folder-v1: whole image squashed to 64x64, PIL BICUBIC, JPEG draft >= 128px, alpha on white"


@skip_on_error
def process_file(path: str, size: int = IMAGE_SIZE):
    """((1, size, size, 3) uint8, resized?) for one file, or a SkipImage instance (never raises)."""
    image = read_rgb_image(path, background=BACKGROUND, min_side=8, max_aspect=MAX_ASPECT,
                           draft_size=(2 * size, 2 * size))
    resized = image.size != (size, size)
    return resize_rgb(image, size, size)[None], resized
