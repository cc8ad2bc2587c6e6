"""A run's ``tensorboard/`` folder: the logged values every iteration and the sample grid's first
16 images, for ``tensorboard --logdir gan_models``.

A resumed run repeats the iterations after its resume point, which the interrupted session may
already have written. TensorBoard would then show two values at those steps (it drops such
"orphaned" events only for a session-start record, which ``tf.summary`` cannot write, and its
faster Rust loader not even then), so :meth:`TensorBoardLog.open` first removes every event after
the resume point from the folder's event files, as ``log.csv`` is cut back to it
(``runlog.LogWriter``): TensorBoard, like the log, then holds each iteration once. (A TensorBoard
already running keeps what it read before: restart it to see the cut.)

``tf.summary`` is TensorFlow's: on another backend (and without the ``tensorboard`` package, which
TensorFlow no longer installs) there are no TensorBoard logs, with a note saying so.
"""
from __future__ import annotations

import os

import numpy as np

from gan_keras import backend
from gan_keras.utils import atomic_path

EVENTS = "tfevents"   # what TensorBoard looks for in an event file's name


class TensorBoardLog:
    """Writes one run's TensorBoard events; make it with :meth:`open`."""

    def __init__(self, folder: str):
        import tensorflow as tf

        self.folder = folder
        self.writer = tf.summary.create_file_writer(folder)

    @classmethod
    def open(cls, folder: str, keep_until: int) -> TensorBoardLog | None:
        """The log of a run that starts after iteration ``keep_until`` (0 for a new run): events
        of later iterations already in ``folder`` are removed first. None, with a note, where
        ``tf.summary`` cannot be used."""
        if not backend.is_tensorflow():
            print(f"note: no TensorBoard logs on the {backend.name()} backend (they are tf.summary)")
            return None
        try:
            import tensorboard  # noqa: F401  (tf.summary needs it; TensorFlow no longer installs it)
        except ImportError:
            print("warning: the tensorboard package is not installed: no TensorBoard logs "
                  "(pip install tensorboard, or pass --no-tensorboard)")
            return None
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if EVENTS in name:
                    keep_events_until(os.path.join(folder, name), keep_until)
        return cls(folder)

    def scalars(self, iteration: int, logs: dict) -> None:
        import tensorflow as tf

        with self.writer.as_default(step=iteration):
            for name, value in logs.items():
                tf.summary.scalar(name, value)

    def images(self, iteration: int, images: np.ndarray, name: str = "samples", count: int = 16) -> None:
        """The first ``count`` of a batch in [-1, 1], flushed at once (a person is watching)."""
        import tensorflow as tf

        with self.writer.as_default(step=iteration):
            tf.summary.image(name, ((images[:count] + 1.0) / 2.0).clip(0, 1), max_outputs=count)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def keep_events_until(path: str, iteration: int) -> int:
    """Remove from the event file ``path`` every value logged after ``iteration``; returns how many.

    The file is rewritten (atomically) only when it holds such a value, and removed when no value
    is left in it. A record cut short by a killed process ends the reading: it is dropped with the
    events after ``iteration``, or, when the file has none, left as it is (TensorBoard skips it).
    """
    import tensorflow as tf
    from tensorboard.compat.proto.event_pb2 import Event

    kept, dropped = [], 0
    try:
        for record in tf.data.TFRecordDataset(path):
            event = Event.FromString(record.numpy())
            if event.HasField("summary") and event.step > iteration:
                dropped += 1
            else:
                kept.append((event, record.numpy()))
    except tf.errors.DataLossError:   # a partial last record
        pass
    if not dropped:
        return 0
    if not any(event.HasField("summary") for event, _ in kept):
        os.remove(path)
        return dropped
    with atomic_path(path) as tmp:
        with tf.io.TFRecordWriter(tmp) as writer:
            for _, record in kept:
                writer.write(record)
    return dropped
