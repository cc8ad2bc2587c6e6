"""``shapes``: a built-in generator of NLVR-like images, so that training works offline anywhere.

Each 64x64 RGB image is a light-grey box (RGB 211, NLVR's box background) holding 1 to 8
non-overlapping objects. Every object draws, independently and uniformly, a shape (circle,
square, triangle pointing up), one of NLVR's three colours (yellow 255,255,0; black 0,0,0;
blue 0,153,255) and one of NLVR's three sizes (10, 20, 30 px in a 100 px box, here 6.4, 12.8
and 19.2 px), at a uniform position fully inside the box; an object that overlaps an earlier
one is re-placed (up to 30 tries, then dropped). Shapes are drawn with PIL ImageDraw at 4x
resolution and reduced 4x with a box filter, so edges are antialiased like NLVR crops.

Deterministic: the same (count, seed) gives the same array on every machine, and the first k
images of a larger set equal the k images of a smaller one (one ``numpy`` generator, used in order).
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64
SUPERSAMPLE = 4
DEFAULT_COUNT = 10_000
BACKGROUND = (211, 211, 211)
COLOURS = ((255, 255, 0), (0, 0, 0), (0, 153, 255))  # yellow, black, blue (NLVR's colours)
SHAPES = ("circle", "square", "triangle")
OBJECT_SIZES = (0.10, 0.20, 0.30)  # fraction of the box side, as in NLVR
MAX_OBJECTS = 8
MAX_TRIES = 30
GENERATOR_VERSION = "shapes-v1"


def _draw_one(rng: np.random.Generator, size: int, ss: int) -> Image.Image:
    big = size * ss
    im = Image.new("RGB", (big, big), BACKGROUND)
    draw = ImageDraw.Draw(im)
    placed: list[tuple[float, float, float, float]] = []
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        colour = COLOURS[int(rng.integers(len(COLOURS)))]
        side = OBJECT_SIZES[int(rng.integers(len(OBJECT_SIZES)))] * big
        for _try in range(MAX_TRIES):
            x0, y0 = rng.uniform(0.0, big - side, size=2)
            x1, y1 = x0 + side, y0 + side
            gap = ss  # one output pixel between objects
            if all(x1 + gap <= a or b + gap <= x0 or y1 + gap <= c or d + gap <= y0 for a, c, b, d in placed):
                break
        else:
            continue
        placed.append((x0, y0, x1, y1))
        box = [x0, y0, x1 - 1, y1 - 1]
        if shape == "circle":
            draw.ellipse(box, fill=colour)
        elif shape == "square":
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([((x0 + x1) / 2, y0), (x0, y1 - 1), (x1 - 1, y1 - 1)], fill=colour)
    return im.reduce(ss)


def generate_shapes(count: int = DEFAULT_COUNT, seed: int = 0, size: int = SIZE,
                    supersample: int = SUPERSAMPLE, progress=None) -> np.ndarray:
    """(count, size, size, 3) uint8 NLVR-like images, deterministic for ``seed``.

    ``progress``: an object with ``update(n)`` (e.g. ``imageio.Progress``), called per image.
    """
    count = int(count)
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    rng = np.random.default_rng(int(seed))
    out = np.empty((count, size, size, 3), np.uint8)
    for i in range(count):
        out[i] = np.asarray(_draw_one(rng, size, supersample))
        if progress is not None:
            progress.update()
    return out
