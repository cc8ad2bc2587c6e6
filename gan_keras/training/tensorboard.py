"""A run's ``tensorboard/`` folder: every logged value at every iteration, and a 4x4 grid of the
fixed-noise samples at every sample iteration, for ``tensorboard --logdir gan_models``.

The events are written with the ``tensorboard`` package's own event-file writer (the one
PyTorch's ``SummaryWriter`` uses), not ``tf.summary``: one event per iteration holds all its
values. ``tf.summary`` costs an eager op per value: 1.2 ms per iteration, 7 % of a compiled GAN
iteration on MNIST (``GAN_main.py GAN mnist 3000 64 3000 3000 --engine compiled --limit 5000``,
2 CPU cores, log.csv's seconds, two runs each: 52.5 and 51.5 s with it, 49.7 and 47.3 s with
``--no-tensorboard``); this writer costs nothing measurable there (47.9 and 48.6 s against 47.9
and 50.0 s). It also works on every backend (JAX's included), wherever ``tensorboard`` is
installed.

A resumed run repeats the iterations after its resume point, which the interrupted session may
already have written. TensorBoard would then show two values at those steps (it drops such
"orphaned" events only after a session-start record, and its faster Rust loader not even then),
so :meth:`TensorBoardLog.open` first removes every event after the resume point from the folder's
event files, as ``log.csv`` is cut back to it (``runlog.LogWriter``): TensorBoard, like the log,
then holds each iteration once. (A TensorBoard already running keeps what it read before: restart
it to see the cut.) Events are flushed at every checkpoint and resume point (``flush``), so none
written before one is lost to a kill.
"""
from __future__ import annotations

import io
import os
import struct
import time

import numpy as np

from gan_keras.utils import atomic_path

EVENTS = "tfevents"   # what TensorBoard looks for in an event file's name
FLUSH_SECONDS = 30    # the writer's own flush, between checkpoints


class TensorBoardLog:
    """Writes one run's TensorBoard events; make it with :meth:`open`."""

    def __init__(self, folder: str):
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.folder = folder
        self.writer = EventFileWriter(folder, max_queue_size=1000, flush_secs=FLUSH_SECONDS)
        self._event, self._summary = Event, Summary   # (imported once: scalars() runs every iteration)

    @classmethod
    def open(cls, folder: str, keep_until: int) -> TensorBoardLog | None:
        """The log of a run that starts after iteration ``keep_until`` (0 for a new run): events
        of later iterations already in ``folder`` are removed first. None, with a warning, where
        the ``tensorboard`` package is not installed."""
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            print("warning: the tensorboard package is not installed: no TensorBoard logs "
                  "(pip install tensorboard, or pass --no-tensorboard)")
            return None
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if EVENTS in name:
                    keep_events_until(os.path.join(folder, name), keep_until)
        return cls(folder)

    def _write(self, iteration: int, values: list) -> None:
        self.writer.add_event(self._event(wall_time=time.time(), step=iteration, summary=self._summary(value=values)))

    def scalars(self, iteration: int, logs: dict) -> None:
        self._write(iteration, [self._summary.Value(tag=name, simple_value=float(value)) for name, value in logs.items()])

    def images(self, iteration: int, images: np.ndarray, name: str = "samples", count: int = 16) -> None:
        """The first ``count`` of a batch in [-1, 1] as one square grid (PNG), flushed at once (a
        person is watching)."""
        from PIL import Image

        from gan_keras.report.grids import make_grid

        side = int(np.ceil(np.sqrt(min(count, len(images)))))
        grid = make_grid(images[:count], rows=side, cols=side)
        png = io.BytesIO()
        Image.fromarray(grid).save(png, format="PNG")
        self._write(iteration, [self._summary.Value(tag=name, image=self._summary.Image(
            height=grid.shape[0], width=grid.shape[1], colorspace=3, encoded_image_string=png.getvalue()))])
        self.flush()

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def keep_events_until(path: str, iteration: int) -> int:
    """Remove from the event file ``path`` every value logged after ``iteration``; returns how many.

    The file is rewritten (atomically) only when it holds such a value, and removed when no value
    is left in it. A record cut short by a killed process ends the reading: it is dropped with the
    events after ``iteration``, or, when the file has none, left as it is (TensorBoard skips it).
    The records kept are copied byte for byte. (Read here, not with ``tf.data.TFRecordDataset``: a
    40,000-iteration run's file, 16 MB, took 20 s that way, 0.9 s here.)
    """
    from tensorboard.compat.proto.event_pb2 import Event

    with open(path, "rb") as f:
        data = f.read()
    kept, dropped, values_kept = [], 0, False
    for start, end, payload in _records(data):
        event = Event.FromString(payload)
        if event.HasField("summary") and event.step > iteration:
            dropped += 1
        else:
            kept.append(data[start:end])
            values_kept = values_kept or event.HasField("summary")
    if not dropped:
        return 0
    if not values_kept:
        os.remove(path)
        return dropped
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"".join(kept))
    return dropped


def _records(data: bytes):
    """(start, end, payload) of each whole record of a TFRecord file (the format of event files):
    its payload's length (uint64, little-endian), that length's masked CRC-32C (uint32), the
    payload, the payload's masked CRC-32C (as tensorboard's own writer computes it). Reading stops
    at the first record whose length's CRC is wrong or which the data cuts short (a partial last
    record)."""
    from tensorboard.summary.writer.record_writer import masked_crc32c

    start = 0
    while start + 12 <= len(data):
        header = data[start:start + 8]
        length, = struct.unpack("<Q", header)
        end = start + 12 + length + 4
        if struct.unpack_from("<I", data, start + 8)[0] != masked_crc32c(header) or end > len(data):
            return
        yield start, end, data[start + 12:start + 12 + length]
        start = end

