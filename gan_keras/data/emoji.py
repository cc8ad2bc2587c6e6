"""Emoji: the Twemoji graphics at 64x64 of the npm package ``emoji-datasource-twitter`` (16.0.0).

Layout under a data dir D (as in ``shared/data/emoji``)::

    D/emoji/img/twitter/64/<codepoints>.png   the package's folder img/twitter/64/, names unchanged
    D/emoji/emoji_manifest.csv                optional: which files to use (column ``file``,
                                              e.g. ``img/twitter/64/1f600.png``)

``shared/data/emoji`` holds the 845 base emoji (no skin-tone variants) of the categories Smileys &
Emotion (169), People & Body (386), Animals & Nature (159) and Food & Drink (131), all listed in its
``emoji_manifest.csv``; 824 are RGBA and 21 palette images with transparency. With a manifest,
only the files it lists are read (sorted by name), so a copy of the whole package folder gives the
same 845 images; a listed file that is missing is skipped and counted like a damaged one. Without
a manifest every PNG of the folder is used.

Preprocessing: the folder reader of ``imagefolder`` (central square of side min(H, W), resized to
64x64 with PIL BICUBIC; the 64x64 originals are used unchanged), transparent pixels composited on
white. License: the graphics are CC-BY 4.0 (Twitter, Inc. and other contributors): attribution is
required.
"""
from __future__ import annotations

import csv
import os

from ..errors import DatasetError
from . import imagefolder
from .imageio import SkipImage, skip_on_error

SUBPATH = ("emoji", "img", "twitter", "64")
MANIFEST = "emoji_manifest.csv"
MANIFEST_PREFIX = "img/twitter/64/"
IMAGE_SIZE = 64
PREPROCESS_VERSION = f"emoji-v1 ({imagefolder.PREPROCESS_VERSION}), 64x64"


def manifest_path(folder: str) -> str:
    """``<emoji>/emoji_manifest.csv`` for the image folder ``<emoji>/img/twitter/64``."""
    return os.path.normpath(os.path.join(folder, os.pardir, os.pardir, os.pardir, MANIFEST))


def select_files(folder: str, files: list[str]) -> tuple[list[str], dict]:
    """The files to read (relative to ``folder``) and facts for ``info``: the manifest's files when
    a manifest exists (listed-but-missing ones included, to be skipped and counted), else ``files``."""
    path = manifest_path(folder)
    if not os.path.isfile(path):
        return files, {"manifest": None}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "file" not in reader.fieldnames:
                raise ValueError(f"no 'file' column (columns: {', '.join(reader.fieldnames or []) or 'none'})")
            listed = [row["file"].strip() for row in reader if (row.get("file") or "").strip()]
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"cannot read the emoji manifest {path} ({reason}); fix or delete it "
                           "(without it every PNG of the folder is used)") from None
    chosen = sorted({name[len(MANIFEST_PREFIX):] for name in listed
                     if name.startswith(MANIFEST_PREFIX) and "/" not in name[len(MANIFEST_PREFIX):]})
    if not chosen:
        raise DatasetError(f"the emoji manifest {path} lists no file under {MANIFEST_PREFIX}; fix or delete it")
    present = set(files)
    return chosen, {"manifest": path, "manifest_rows": len(listed),
                    "manifest_missing": sum(name not in present for name in chosen),
                    "not_in_manifest": len(present.difference(chosen))}


@skip_on_error
def process_file(path: str, size: int = IMAGE_SIZE):
    """((1, size, size, 3) uint8, resized?) for one PNG, or a SkipImage instance (never raises)."""
    if not os.path.lexists(path):
        raise SkipImage(f"missing (listed in {MANIFEST})")
    return imagefolder.process_file(path, size=size)
