"""CelebA (aligned and cropped faces): a central square crop of each image, resized to 64x64 RGB.

Files: ``<data dir>/celeba/img_align_celeba/000001.jpg`` ... ``202599.jpg``, the folder inside the
official ``img_align_celeba.zip`` ("Align&Cropped Images" on the CelebA project page,
https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html). Every non-hidden file with an image
extension in ``img_align_celeba/`` is read, sorted by name (so ``limit=N`` uses ``000001.jpg`` to
the N-th file); other files are ignored.

**The crop.** Official images are 178 wide x 218 high. From each image the central square whose
side is the image's width is cut out: rows ``(H - W) // 2`` to ``(H - W) // 2 + W``, all columns,
i.e. **178x178 starting 20 px from the top** at the official size (the 20-px bands at the top and
the bottom are dropped), and **89x89 starting 10 px from the top** in the reduced 89x109 copy in
``shared/data/celeba``. (In general the side is min(W, H) and the square is centred along the
longer side, so an unusual landscape image is cut left and right instead.) The square is then
resized to 64x64 with PIL BICUBIC (antialiased when shrinking).

This equals what the reference pipeline does (seed 002: the PyTorch DCGAN tutorial's
``transforms.Resize(64)`` then ``transforms.CenterCrop(64)``), up to resampling: Resize(64)
scales the short side, the width, to 64 (178x218 -> 64x78) and CenterCrop(64) keeps the central
64 rows, i.e. the same central W x W square. The only differences are the filter (torchvision's
default bilinear on the whole image versus PIL BICUBIC on the square) and rounding (its crop
starts at row 7 of 78, 19.6 px of the original, instead of 20).

Robustness as for the other folder datasets (``imageio``): damaged or unreadable files are
skipped and counted; transparent pixels are composited onto white, other modes converted to
RGB. Large JPEGs are decoded by libjpeg at a reduced DCT scale that keeps the square at least
128x128 (official 178x218 images are decoded at full size).
"""
from __future__ import annotations

from .imageio import centre_square_box, read_rgb_image, resize_rgb, skip_on_error

IMAGE_SIZE = 64
BACKGROUND = (255, 255, 255)
MAX_ASPECT = 4.0
PREPROCESS_VERSION = "celeba-v1: central WxW square (rows (H-W)//2..), PIL BICUBIC to 64x64, JPEG draft >= 128px"


@skip_on_error
def process_file(path: str, size: int = IMAGE_SIZE):
    """((1, size, size, 3) uint8, resized?) for one file, or a SkipImage instance (never raises).

    ``resized`` is False only when the central square is already ``size`` x ``size``.
    """
    image = read_rgb_image(path, background=BACKGROUND, min_side=8, max_aspect=MAX_ASPECT,
                           draft_size=(2 * size, 2 * size))
    box = centre_square_box(*image.size)
    resized = box[2] - box[0] != size
    return resize_rgb(image, size, size, box=box)[None], resized
