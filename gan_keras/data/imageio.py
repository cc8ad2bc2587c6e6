"""Decoding untrusted image files into RGB uint8 arrays without ever crashing a load.

``read_rgb`` returns an (H, W, 3) uint8 array or raises ``SkipImage`` with a short reason;
every other exception (PIL's many error types, MemoryError...) is turned into ``SkipImage``
too, so that one bad file is counted and skipped, never fatal. ``skip_on_error`` makes a
per-file worker return (not raise) that ``SkipImage``; ``centre_square_box`` and ``resize_rgb``
do the cropping and PIL BICUBIC resizing; ``downscale_images`` shrinks a whole uint8 array.
``SkipLog`` collects the skips of one load and emits a single warning summary. ``parallel_map`` decodes on a thread pool (PIL
releases the GIL while decoding and resizing) and shows progress on stderr.

Mode handling (odd-but-decodable images are converted, not skipped):

- 1, L, P, RGB, CMYK, YCbCr, LAB, HSV: PIL ``convert("RGB")``.
- anything with transparency (RGBA, LA, PA, RGBa, P or L or RGB with a transparency key):
  ``convert("RGBA")`` then alpha-composited onto the dataset's background colour.
- 16-bit greyscale (I;16*) scaled by 1/257 to 8 bits; 32-bit ``I`` likewise when its values
  exceed 255; float ``F`` multiplied by 255 when its values lie in [0, 1]; all then clipped.

Refused (skipped): empty, truncated or unidentifiable files, more than ``MAX_PIXELS`` pixels
(decompression-bomb guard, checked from the header before decoding), a side shorter than
``min_side`` or an aspect ratio above ``max_aspect`` (e.g. 1x100000), unsupported modes.
"""
from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import warn

MAX_PIXELS = 64_000_000
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
RESAMPLE = Image.Resampling.BICUBIC
RESAMPLE_NAME = "PIL BICUBIC (antialiased when shrinking)"


class DatasetWarning(UserWarning):
    """Some source files of a dataset were skipped (one summary warning per load)."""


class SkipImage(Exception):
    """A source file that cannot be used; the message is the short reason."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "not a recognised image"
    if isinstance(exc, Image.DecompressionBombError):
        return "too many pixels (decompression bomb)"
    if isinstance(exc, MemoryError):
        return "out of memory while decoding"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "truncated" in text.lower():
        return "truncated file"
    return f"{type(exc).__name__}: {text[:80]}" if text else type(exc).__name__


def _composite(im: Image.Image, background) -> Image.Image:
    """RGBA image -> RGB, alpha-composited onto ``background`` (a no-op copy when fully opaque)."""
    if im.getextrema()[3][0] == 255:
        return im.convert("RGB")
    base = Image.new("RGBA", im.size, tuple(int(c) for c in background) + (255,))
    return Image.alpha_composite(base, im).convert("RGB")


def pil_to_rgb(im: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """A loaded PIL image of any sensible mode -> an RGB PIL image (see the module doc)."""
    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im)
        if a.ndim != 2:
            raise SkipImage(f"unsupported mode {mode}")
        a = a.astype(np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        elif mode == "I":
            if a.size and a.max() > 255:
                a = a / 257.0
        else:  # F
            a = np.nan_to_num(a, nan=0.0, posinf=255.0, neginf=0.0)
            if a.size and a.min() >= 0.0 and a.max() <= 1.0:
                a = a * 255.0
        grey = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    try:
        if has_alpha:
            return _composite(im if mode == "RGBA" else im.convert("RGBA"), background)
        return im.copy() if mode == "RGB" else im.convert("RGB")
    except SkipImage:
        raise
    except (ValueError, OSError) as exc:
        raise SkipImage(f"unsupported mode {mode} ({_reason(exc)})") from None


EXIF_ORIENTATION = 0x0112


def read_rgb_image(path: str, background=(255, 255, 255), *, min_side: int = 8, max_aspect: float = 10.0,
                   max_pixels: int = MAX_PIXELS, draft_size=None) -> Image.Image:
    """Decode ``path`` to an RGB PIL image, or raise SkipImage with a short reason.

    ``draft_size`` (w, h): for JPEGs, let libjpeg decode at a reduced scale (1/2, 1/4, 1/8) that
    still gives at least this size, which makes big photos much faster to read.

    An EXIF orientation tag (phone photos) is applied, so the image is the one a viewer shows, not
    its sensor-order pixels lying on their side. (No file of the registered datasets has one.)
    """
    try:
        if os.path.getsize(path) == 0:
            raise SkipImage("empty file")
        with Image.open(path) as im:
            w, h = im.size
            if w <= 0 or h <= 0:
                raise SkipImage(f"bad size {w}x{h}")
            if w * h > max_pixels:
                raise SkipImage(f"too large ({w}x{h} pixels)")
            if min(w, h) < min_side:
                raise SkipImage(f"too small ({w}x{h})")
            if max(w, h) / min(w, h) > max_aspect:
                raise SkipImage(f"absurd aspect ratio ({w}x{h})")
            if draft_size is not None and im.format == "JPEG":
                im.draft("RGB", tuple(draft_size))
            im.load()
            if im.getexif().get(EXIF_ORIENTATION, 1) != 1:
                im = ImageOps.exif_transpose(im)
            rgb = pil_to_rgb(im, background)
            rgb.load()
    except SkipImage:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "skip this file"
        raise SkipImage(_reason(exc)) from None
    if rgb.mode != "RGB" or 0 in rgb.size:
        raise SkipImage(f"could not convert to RGB (got {rgb.mode} {rgb.size})")
    return rgb


def read_rgb(path: str, background=(255, 255, 255), **kwargs) -> np.ndarray:
    """Like ``read_rgb_image`` but returns an (H, W, 3) uint8 array."""
    return np.asarray(read_rgb_image(path, background, **kwargs))


def skip_on_error(worker):
    """Decorate a per-file worker ``path -> result`` so that it returns a SkipImage instead of raising.

    ``SkipImage`` is returned as it is; any other exception becomes ``SkipImage("<Type>: <message>")``,
    so that one bad file never stops a load (``parallel_map`` needs workers that do not raise).
    """
    @functools.wraps(worker)
    def wrapper(*args, **kwargs):
        try:
            return worker(*args, **kwargs)
        except SkipImage as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - never let one file stop the load
            return SkipImage(f"{type(exc).__name__}: {exc}")
    return wrapper


def centre_square_box(width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the central square of a ``width`` x ``height`` image, side min(width, height).

    The offset along the longer side is ``(long - short) // 2`` (e.g. 178x218 -> rows 20..197).
    """
    side = min(int(width), int(height))
    left, top = (int(width) - side) // 2, (int(height) - side) // 2
    return left, top, left + side, top + side


def resize_rgb(image, height: int, width: int, box=None) -> np.ndarray:
    """RGB PIL image or (h, w, 3) uint8 array -> (height, width, 3) uint8 with ``RESAMPLE``.

    ``box`` (x0, y0, x1, y1): resize only that region. It is cropped out first: PIL's own
    ``resize(box=...)`` would let the filter read pixels outside the box (e.g. NLVR's grey bars
    would bleed into the crop's edge). At the same size this is an exact copy.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.ascontiguousarray(image), "RGB")
    if box is not None:
        image = image.crop(tuple(int(v) for v in box))
    if image.size == (width, height):
        return np.array(image)
    return np.asarray(image.resize((width, height), RESAMPLE))


def downscale_images(images: np.ndarray, height: int, width: int, workers: int | None = None) -> np.ndarray:
    """uint8 (N, h, w, C) images (C = 1 or 3) -> (N, height, width, C) uint8, each resized with ``RESAMPLE``.

    Every image is resized on its own by PIL (BICUBIC, antialiased when shrinking), exactly as
    ``Image.fromarray(x).resize((width, height), BICUBIC)``; the work is split over a thread pool.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
        raise ValueError(f"expected uint8 (N, H, W, 1|3) images, got {images.dtype} {images.shape}")
    n, channels = images.shape[0], images.shape[3]
    out = np.empty((n, int(height), int(width), channels), np.uint8)
    mode = "L" if channels == 1 else "RGB"

    def work(start: int) -> None:
        for i in range(start, min(start + 512, n)):
            src = images[i, ..., 0] if channels == 1 else images[i]
            small = Image.fromarray(np.ascontiguousarray(src), mode).resize((int(width), int(height)), RESAMPLE)
            out[i] = np.asarray(small).reshape(out.shape[1:])

    starts = range(0, n, 512)
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers == 1 or n <= 512:
        for start in starts:
            work(start)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gan-keras-resize") as pool:
            list(pool.map(work, starts))
    return out


def list_image_files(folder: str, recursive: bool = False) -> tuple[list[str], int]:
    """Image-like files (by extension, hidden files left out) under ``folder``, sorted, relative.

    Returns (relative paths, number of other files ignored). Symlinks are followed; broken ones
    are listed (and later skipped as unreadable).
    """
    found, ignored = [], 0
    if recursive:
        walker = os.walk(folder, followlinks=True)
    else:
        names = os.listdir(folder)
        walker = [(folder, [], names)]
    seen = {os.path.realpath(folder)}
    for root, dirs, files in walker:
        keep = []
        for d in sorted(dirs):
            real = os.path.realpath(os.path.join(root, d))
            if not d.startswith(".") and real not in seen:  # hidden folders and symlink loops
                seen.add(real)
                keep.append(d)
        dirs[:] = keep
        for name in files:
            full = os.path.join(root, name)
            if name.startswith(".") or not name.lower().endswith(IMAGE_EXTENSIONS):
                ignored += 1
                continue
            if os.path.isdir(full):
                continue
            found.append(os.path.relpath(full, folder))
    found.sort()
    return found, ignored


class SkipLog:
    """Skipped files of one load: counted, and summarised in one warning."""

    def __init__(self, label: str):
        self.label = label
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, reason: str) -> None:
        self.items.append((name, reason))

    def __len__(self) -> int:
        return len(self.items)

    def examples(self, k: int = 5) -> list[str]:
        return [f"{name} ({reason})" for name, reason in self.items[:k]]

    def reasons(self) -> str:
        counts: dict[str, int] = {}
        for _, reason in self.items:
            key = reason.split(" (")[0]
            counts[key] = counts.get(key, 0) + 1
        return ", ".join(f"{n} {key}" for key, n in sorted(counts.items(), key=lambda kv: -kv[1]))

    def warn(self, total: int, extra: str = "") -> None:
        if not self.items:
            return
        emit_skip_warning(self.label, len(self.items), total, self.examples(), f" [{self.reasons()}]{extra}")


def emit_skip_warning(label: str, count: int, total: int, examples: list[str], extra: str = "") -> None:
    more = f"; e.g. {'; '.join(examples)}" if examples else ""
    warn(f"{label}: skipped {count} of {total} source files that could not be used{extra}{more}", DatasetWarning)


class Progress:
    """A small stderr progress line (carriage returns on a terminal, a line per 10% otherwise)."""

    def __init__(self, label: str, total: int, enabled: bool = True, stream=None):
        self.label, self.total, self.enabled = label, max(int(total), 1), bool(enabled)
        self.stream = stream if stream is not None else sys.stderr
        if self.stream is None:  # e.g. pythonw: nowhere to write
            self.enabled = False
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = self.last = time.monotonic()
        self.done, self.next_pct = 0, 10

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.last >= 0.2:
                self.last = now
                self._write(f"\r{self._line(now)}")
        else:
            pct = 100 * self.done // self.total
            if pct >= self.next_pct and self.done < self.total:
                self.next_pct = (pct // 10 + 1) * 10
                self._write(self._line(now) + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # closed or broken stream: progress is optional
            self.enabled = False

    def _line(self, now: float) -> str:
        return f"{self.label}: {self.done}/{self.total} ({100 * self.done // self.total}%) {now - self.start:.1f}s"

    def close(self, note: str = "") -> None:
        if not self.enabled:
            return
        line = self._line(time.monotonic()) + (f" {note}" if note else "")
        self._write(("\r" if self.tty else "") + line + "\n")


def default_workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(8, n))


def parallel_map(fn, items, progress: Progress | None = None, workers: int | None = None):
    """Yield ``fn(item)`` for each item, in order, computed on a thread pool.

    ``progress`` is advanced before each result is yielded, so it reaches N/N even when the
    consumer (e.g. ``zip``) never resumes the generator after the last item.
    ``fn`` must not raise for bad inputs (return a marker instead). Decompression-bomb warnings
    from PIL are silenced while it runs (such files are refused by size and counted as skipped).
    """
    workers = default_workers() if workers is None else max(1, int(workers))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        if workers == 1 or len(items) < 64:
            for item in items:
                result = fn(item)
                if progress is not None:  # before the yield: a consumer may stop after the last item
                    progress.update()
                yield result
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gan-keras-data") as pool:
            for result in pool.map(fn, items, chunksize=1):
                if progress is not None:
                    progress.update()
                yield result
