"""``--strategy mirrored|multiworker``: TensorFlow's ``MirroredStrategy`` over the machine's
devices, and ``MultiWorkerMirroredStrategy`` over several machines (or processes).

The compiled engine (``training/compiled.py``) is built inside the strategy's scope, so every
variable is mirrored, and runs each iteration on every replica with 1/N of each batch; Keras'
optimizers all-reduce the gradients. Over all visible GPUs; on a machine without GPUs,
``GAN_KERAS_LOGICAL_CPUS=N`` splits the CPU into N logical devices, which shows correctness (the
tests compare it with one device), not speed.

``multiworker`` reads the cluster from ``TF_CONFIG`` (TensorFlow's own variable: every worker's
``host:port`` and this process's ``task``); every worker runs the same command. Gradients and
synchronized BatchNorm statistics are all-reduced over all workers' replicas. Only the chief (task
``chief``, or ``worker`` 0 when the cluster has no chief) writes the run directory; the others
write to a scratch folder that is removed at the end (``scratch_dir``), so their saves cost the
same time and the workers stay in step. To resume, every worker must see the chief's run
directory (a shared filesystem): each reads its checkpoint there.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile

from gan_keras import backend
from gan_keras.errors import ConfigError

STRATEGIES = ("none", "mirrored", "multiworker")


_MIRRORED = {}  # device names -> the process's MirroredStrategy over them (see make_strategy)


def make_strategy(name: str | None):
    """None for "none", else a ``tf.distribute`` strategy. Call it before TensorFlow has run
    anything (logical devices and collective ops can only be configured then).

    A later run in the same process (a notebook, a script calling ``main`` twice) gets the same
    ``MirroredStrategy`` back: a second one over the same devices numbers its collective ops from
    the start again, and they collide with the first's ("Shape mismatch in the collective instance").
    """
    if name in (None, "none"):
        return None
    if name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {name!r}: choose {', '.join(STRATEGIES)}")
    backend.require_tensorflow(f"--strategy {name}")
    import tensorflow as tf

    if name == "multiworker":
        cluster_config()  # a clear error for a missing or malformed TF_CONFIG
        return tf.distribute.MultiWorkerMirroredStrategy()

    logical = int(os.environ.get("GAN_KERAS_LOGICAL_CPUS", "0") or 0)
    if tf.config.list_physical_devices("GPU") or logical < 2:
        return _mirrored(tf, None)
    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = tf.config.get_logical_device_configuration(cpu)
    if not configured or len(configured) != logical:
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical)
        except RuntimeError:
            raise ConfigError("GAN_KERAS_LOGICAL_CPUS: TensorFlow was already running; set it before the "
                              "first training run of the process") from None
    return _mirrored(tf, [d.name for d in tf.config.list_logical_devices("CPU")])


def _mirrored(tf, devices):
    key = tuple(devices) if devices else None
    if key not in _MIRRORED:
        _MIRRORED[key] = tf.distribute.MirroredStrategy(devices)
    return _MIRRORED[key]


def replicas_in_scope() -> int:
    """How many replicas the strategy in whose scope this is called trains (an engine is built in
    ``--strategy``'s scope), so that a step can refuse what does not split before a run starts;
    1 outside one, or off TensorFlow."""
    if not backend.is_tensorflow():
        return 1
    import tensorflow as tf

    return int(tf.distribute.get_strategy().num_replicas_in_sync)


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


def replica_mean(value):
    """The mean of ``value`` over the replicas (all-reduced), where it is called: ``value`` itself
    outside a strategy. For state every replica must update alike from the global batch's values
    (BEGAN's k_t from L(x) and L(G(z)), each replica's being the mean over its part of the batch)."""
    index, count = replica_share()
    if count == 1:
        return value
    import tensorflow as tf

    return tf.distribute.get_replica_context().all_reduce("SUM", value) / float(count)


def scope(strategy):
    """The strategy's scope, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def cluster_config() -> dict:
    """``TF_CONFIG`` as a dict, checked: a cluster with workers and this process's task in it."""
    text = os.environ.get("TF_CONFIG", "")
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    if not text:
        raise ConfigError(f"--strategy multiworker reads the cluster from TF_CONFIG, which is not set; e.g. {example} "
                          "(index 1 on the second machine)")
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        members = cluster[task["type"]]
        if not isinstance(members, list) or not 0 <= int(task["index"]) < len(members):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"TF_CONFIG is not a cluster with this process's task in it: {text[:200]!r}; "
                          f"e.g. {example}") from None
    return config


def is_chief(strategy) -> bool:
    """Whether this process writes the run directory: always, except for a multi-worker strategy's
    non-chief workers."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    config = cluster_config()
    task = config["task"]
    if "chief" in config["cluster"]:
        return task["type"] == "chief"
    return task["type"] == "worker" and int(task["index"]) == 0


def scratch_dir(run_dir: str) -> str:
    """Where a non-chief worker writes what the chief writes to ``run_dir`` (removed at the end)."""
    task = cluster_config()["task"]
    return tempfile.mkdtemp(prefix=f"{os.path.basename(os.path.normpath(run_dir))}.{task['type']}{task['index']}.")
