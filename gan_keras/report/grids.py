"""Image grids: the 8x8 sample sheets written during training and evaluation."""
from __future__ import annotations

import numpy as np
from PIL import Image

from gan_keras.data.base import to_uint8
from gan_keras.utils import atomic_path


def make_grid(images, rows: int = 8, cols: int = 8, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile float [-1, 1] (or uint8) images (N, H, W, C) into one uint8 (H', W', 3) array.

    Fewer than rows*cols images leave blank cells; grayscale is repeated to RGB.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = to_uint8(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    n, h, w, _ = images.shape
    grid = np.full((rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, 3), pad_value, np.uint8)
    for i in range(min(n, rows * cols)):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y:y + h, x:x + w] = images[i]
    return grid


def save_grid(images, path: str, rows: int = 8, cols: int = 8, scale: int = 1) -> str:
    """Write a grid PNG atomically; ``scale`` enlarges small images (nearest) for viewing."""
    grid = Image.fromarray(make_grid(images, rows, cols))
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        grid.save(tmp, format="PNG")
    return path
