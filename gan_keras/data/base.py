"""The in-memory form of every dataset: uint8 images plus how to turn a batch into [-1, 1].

Images are kept as uint8 (N, H, W, C) so that large sets (27,594 NLVR crops are 1.3 GB as
float32) fit comfortably; a training batch is converted to float32 in [-1, 1] when drawn.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def to_unit_range(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1], the scaling every model in the project expects."""
    return images_uint8.astype(np.float32) / 127.5 - 1.0


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> uint8 [0, 255] (rounded, clipped): for PNGs and grids."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


@dataclass
class ImageDataset:
    """A loaded dataset.

    Attributes:
        name: the dataset's registry name ("mnist", "nlvr", ...).
        images: uint8 array (N, H, W, C).
        source: where it was read from (a path, "keras-download" or "built-in").
        skipped: how many source files were unreadable and skipped.
        info: free-form facts worth recording in a run's config (e.g. crop counts).
    """

    name: str
    images: np.ndarray
    source: str = ""
    skipped: int = 0
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.images.shape[1:])

    def batch(self, indices) -> np.ndarray:
        """float32 [-1, 1] images at ``indices``."""
        return to_unit_range(self.images[indices])
