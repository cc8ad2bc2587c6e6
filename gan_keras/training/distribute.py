"""``--strategy mirrored``: TensorFlow's ``MirroredStrategy`` over the machine's devices.

The compiled engine (``training/compiled.py``) is built inside the strategy's scope, so every
variable is mirrored, and runs each iteration on every replica with 1/N of each batch; Keras'
optimizers all-reduce the gradients. Over all visible GPUs; on a machine without GPUs,
``GAN_KERAS_LOGICAL_CPUS=N`` splits the CPU into N logical devices, which shows correctness (the
tests compare it with one device), not speed.
"""
from __future__ import annotations

import contextlib
import os

from gan_keras import backend
from gan_keras.errors import ConfigError

STRATEGIES = ("none", "mirrored")


def make_strategy(name: str | None):
    """None for "none", else a ``tf.distribute.MirroredStrategy``. Call it before TensorFlow has
    run anything (logical devices can only be made then)."""
    if name in (None, "none"):
        return None
    if name != "mirrored":
        raise ConfigError(f"unknown strategy {name!r}: choose {', '.join(STRATEGIES)}")
    backend.require_tensorflow("--strategy mirrored")
    import tensorflow as tf

    logical = int(os.environ.get("GAN_KERAS_LOGICAL_CPUS", "0") or 0)
    if tf.config.list_physical_devices("GPU") or logical < 2:
        return tf.distribute.MirroredStrategy()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical)
    except RuntimeError:
        raise ConfigError("GAN_KERAS_LOGICAL_CPUS: TensorFlow was already running; set it before the "
                          "first training run of the process") from None
    return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])


def replica_share():
    """(this replica's index, number of replicas) where it is called: (0, 1) outside a strategy."""
    if not backend.is_tensorflow():
        return 0, 1
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def replica_slice(draw, batch_size: int):
    """``draw(n)`` for the global batch, cut to this replica's ``batch_size`` rows.

    Every replica holds the same seed state and makes the same global draw, so the replicas' rows
    together are exactly what one device draws for the whole batch. Outside a strategy (or with
    one replica) it is ``draw(batch_size)`` itself, so a one-device run is unchanged bit for bit.
    """
    index, count = replica_share()
    if count == 1:
        return draw(batch_size)
    return draw(batch_size * count)[index * batch_size:(index + 1) * batch_size]


def scope(strategy):
    """The strategy's scope, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()
