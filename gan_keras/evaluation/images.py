"""The image files of an evaluated checkpoint: its generated PNGs, their grid, the real sample.

A checkpoint's folder holds the first Generate_sample_number generated images as PNGs
(``generated/00000.png`` = the first noise vector) and a grid of the first ``GRID_MAX`` of them.
``SavedImages`` writes them as ``evaluate_checkpoint`` generates; ``rewrite_saved_images`` writes
them alone, for a checkpoint whose metrics an earlier evaluation in the folder already holds and
that now asks for another number of images (the metrics do not depend on it: see its docstring).
Folders are written under a temporary name and moved into place when complete.
"""
from __future__ import annotations

import math
import os
import shutil

import numpy as np

GRID_MAX = 1024             # at most this many images in the grid PNG (all are saved individually)
GENERATED = "generated"


def checkpoint_dir(out: str, iteration: int) -> str:
    """A checkpoint's folder in an evaluation folder ``out``: named as the run's checkpoint folder."""
    from gan_keras import rundir

    return os.path.join(out, rundir.checkpoint_name(iteration))


def _save_pngs(images_uint8: np.ndarray, folder: str, start: int, digits: int) -> None:
    from PIL import Image

    for i, img in enumerate(images_uint8):
        arr = img[..., 0] if img.shape[-1] == 1 else img
        Image.fromarray(arr).save(os.path.join(folder, f"{start + i:0{digits}d}.png"), format="PNG")


def replace_dir(tmp: str, final: str) -> None:
    """Move a finished folder into place (the old one, if any, is removed first)."""
    if os.path.isdir(final):
        old = final + ".old"
        if os.path.exists(old):
            shutil.rmtree(old)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def save_grid(images_uint8: np.ndarray, path: str) -> dict:
    from gan_keras.report.grids import save_grid as save

    n = min(len(images_uint8), GRID_MAX)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    h = images_uint8.shape[1]
    scale = 2 if h < 48 else 1
    save(images_uint8[:n], path, rows=rows, cols=cols, scale=scale)
    return {"images": n, "rows": rows, "cols": cols, "scale": scale}


def images_match(row: dict, out_dir: str, n: int) -> bool:
    """Whether a checkpoint's folder holds the ``n`` PNGs and the grid that an evaluation with
    Generate_sample_number ``n`` writes, as its row describes them."""
    folder = os.path.join(out_dir, GENERATED)
    if not os.path.isdir(folder) or sum(1 for name in os.listdir(folder) if name.endswith(".png")) != n:
        return False
    grid = os.path.isfile(os.path.join(out_dir, "grid.png"))
    return grid == (n > 0) == ("grid" in row) and (row.get("grid_layout") or {}).get("images", 0) == min(n, GRID_MAX)


class SavedImages:
    """The first ``n`` generated images of a checkpoint as PNGs in ``out_dir/generated`` and the
    first ``GRID_MAX`` of them as ``out_dir/grid.png``: ``add`` each chunk as it is generated (from
    the first), then ``finish``."""

    def __init__(self, out_dir: str, n: int):
        self.out_dir, self.n = out_dir, n
        self.tmp = os.path.join(out_dir, ".tmp-" + GENERATED)
        if os.path.isdir(self.tmp):
            shutil.rmtree(self.tmp)
        os.makedirs(self.tmp)
        self.digits = max(5, len(str(n - 1)))
        self.grid = []

    def add(self, start: int, images_uint8: np.ndarray) -> None:
        if start >= self.n:
            return
        k = min(len(images_uint8), self.n - start)
        _save_pngs(images_uint8[:k], self.tmp, start, self.digits)
        if sum(len(a) for a in self.grid) < GRID_MAX:
            self.grid.append(images_uint8[:min(k, GRID_MAX)])

    def finish(self, out: str) -> dict:
        """Move the PNGs into place and draw the grid (none without images): the row's fields for
        them, paths relative to the evaluation folder ``out``."""
        replace_dir(self.tmp, os.path.join(self.out_dir, GENERATED))
        fields = {"generated_images_dir": os.path.relpath(os.path.join(self.out_dir, GENERATED), out)}
        grid = os.path.join(self.out_dir, "grid.png")
        if self.grid:
            fields["grid"] = os.path.relpath(grid, out)
            fields["grid_layout"] = save_grid(np.concatenate(self.grid), grid)
        elif os.path.exists(grid):   # an earlier evaluation's, with PNGs
            os.remove(grid)
        return fields


def save_real(dataset, indices, out: str) -> str:
    """The real sample as PNGs named by training-set index (folder written under a temporary name)."""
    from PIL import Image

    final = os.path.join(out, "real_sample")
    tmp = os.path.join(out, ".tmp-real_sample")
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    digits = len(str(len(dataset)))
    for i in indices:
        img = dataset.images[i]
        Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(
            os.path.join(tmp, f"train_{int(i):0{digits}d}.png"), format="PNG")
    replace_dir(tmp, final)
    return "real_sample"
