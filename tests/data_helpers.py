"""Files for the dataset tests (tests/test_data*.py): solid images, dataset layouts, NLVR-like
pictures, a decompression-bomb header, CIFAR-10 batches in the official pickle format."""
import os
import pickle
import struct
import zlib

import numpy as np
from PIL import Image


def save_image(path, image, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, **kw)
    return path


def solid(colour, size=(80, 60), mode="RGB"):
    return Image.new(mode, size, colour)


def flowers_dir(root, colours, size=(80, 60)):
    folder = os.path.join(root, "102flowers", "jpg")
    for i, colour in enumerate(colours):
        save_image(os.path.join(folder, f"image_{i + 1:05d}.png"), solid(colour, size))
    return folder


def nlvr_image(segments, height=100, markers=None):
    """An RGBA NLVR-like image: ``segments`` is a list of ("bar"|"box", width) left to right."""
    width = sum(w for _, w in segments)
    a = np.full((height, width, 4), 255, np.uint8)
    a[..., :3] = 128
    x, box = 0, 0
    for kind, w in segments:
        if kind == "box":
            a[:, x:x + w, :3] = 211
            colour = (markers or [(255, 255, 0), (0, 0, 0), (0, 153, 255)])[box % 3]
            c = x + w // 2
            a[height // 2 - 10:height // 2 + 10, c - 10:c + 10, :3] = colour
            box += 1
        x += w
    return Image.fromarray(a, "RGBA")


OFFICIAL = [("box", 100), ("bar", 50), ("box", 100), ("bar", 50), ("box", 100)]


def png_header_only(path, width, height):
    """A PNG whose header announces ``width`` x ``height`` (a decompression-bomb stand-in)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def bmp_folder(root, colours, size=(12, 10)):
    """Uncompressed BMPs: a file's byte size depends only on its dimensions, not its pixels."""
    os.makedirs(root, exist_ok=True)
    for i, colour in enumerate(colours):
        save_image(os.path.join(root, f"image_{i + 1:05d}.bmp"), solid(colour, size))
    return str(root)


def cifar_rows(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def write_cifar_batch(path, data, labels=None, official_names=True, **extra):
    """A batch in the official format: pickle protocol 2, bytes keys, numpy.core.multiarray."""
    labels = list(range(len(data))) if labels is None else labels
    obj = {b"batch_label": b"training batch", b"labels": [int(v) % 10 for v in labels], b"data": data,
           b"filenames": [f"img_{i}.png".encode() for i in range(len(data))], **extra}
    blob = pickle.dumps(obj, protocol=2)
    if official_names:
        blob = blob.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)


def cifar_dir(root, per_batch=4, batches=5):
    folder = root / "cifar10" / "cifar-10-batches-py"
    rows = [cifar_rows(per_batch, seed) for seed in range(batches)]
    for i, data in enumerate(rows):
        write_cifar_batch(str(folder / f"data_batch_{i + 1}"), data, official_names=i % 2 == 0)
    return folder, np.concatenate(rows)
