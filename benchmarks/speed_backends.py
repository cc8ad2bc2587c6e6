"""What ``train_speed.py``'s child processes need from the Keras backend they run on.

TensorFlow (the default) and JAX (``KERAS_BACKEND=jax``, how the stacked engine runs on the GPU
machines lent to this project, which have JAX and no TensorFlow): the versions, devices and thread
settings a report prints, the peak memory, op determinism, and the convolution/matmul peak timed
with the backend's own kernels (so every percentage compares a model with the same library's
convolution on the same device).

On JAX the float32 peak and models run at JAX's default matmul precision, which lets cuDNN and
cuBLAS use TF32 on the GPU (TensorFlow's GPU default does the same); ``JAX_DEFAULT_MATMUL_PRECISION=
highest`` in the environment forces true float32, and the report records the variable.
"""
from __future__ import annotations

import os
import platform
import resource
import time

THREAD_ENV = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS",
              "KMP_AFFINITY", "KMP_BLOCKTIME", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
              "JAX_DEFAULT_MATMUL_PRECISION", "XLA_FLAGS")


def backend() -> str:
    import keras

    return keras.backend.backend()


def environment() -> dict:
    """Versions, threads and devices, as the report prints them."""
    from gan_keras.cli.common import quiet_tensorflow

    quiet_tensorflow()
    import keras
    import numpy as np

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    threads = {"cpu_affinity": affinity, **{k: os.environ[k] for k in THREAD_ENV if k in os.environ}}
    versions = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__}
    if backend() == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
        threads = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                   "inter_op": tf.config.threading.get_inter_op_parallelism_threads(), **threads}
        devices = [d.name for d in tf.config.list_physical_devices()]
    else:
        import jax

        versions["jax"] = jax.__version__
        devices = [f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices()]
    return {"backend": backend(), "versions": versions, "threads": threads, "devices": devices}


def memory() -> dict:
    """The process's peak RSS and, on a GPU, the accelerator's peak (MiB)."""
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    try:
        if backend() == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                out["gpu_peak_mib"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        else:
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            if "peak_bytes_in_use" in stats:
                out["gpu_peak_mib"] = stats["peak_bytes_in_use"] / 2**20
    except (ValueError, RuntimeError, AttributeError):
        pass
    return out


def set_determinism(on: bool) -> bool:
    """As a training run sets it (training/loop.py); False where the backend has no such switch."""
    from gan_keras.backend import enable_determinism

    return True if not on else enable_determinism()


def _operations_tf(conv: dict, n: int):
    import tensorflow as tf

    x = tf.random.normal((conv["batch"], conv["side"], conv["side"], conv["cin"]))
    w = tf.random.normal((conv["kernel"], conv["kernel"], conv["cin"], conv["cout"]))
    dy = tf.random.normal((conv["batch"], conv["side"], conv["side"], conv["cout"]))
    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    ones = [1, 1, 1, 1]
    ops = {
        "conv_forward": lambda: tf.reduce_sum(tf.nn.conv2d(x, w, 1, "SAME")),
        "conv_input_grad": lambda: tf.reduce_sum(tf.raw_ops.Conv2DBackpropInput(
            input_sizes=tf.shape(x), filter=w, out_backprop=dy, strides=ones, padding="SAME")),
        "conv_filter_grad": lambda: tf.reduce_sum(tf.raw_ops.Conv2DBackpropFilter(
            input=x, filter_sizes=tf.shape(w), out_backprop=dy, strides=ones, padding="SAME")),
        "matmul": lambda: tf.reduce_sum(tf.matmul(a, b)),
    }
    return {name: (lambda f=tf.function(fn): float(f().numpy())) for name, fn in ops.items()}


def _operations_jax(conv: dict, n: int):
    import jax
    import jax.numpy as jnp

    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    x = jax.random.normal(keys[0], (conv["batch"], conv["side"], conv["side"], conv["cin"]))
    w = jax.random.normal(keys[1], (conv["kernel"], conv["kernel"], conv["cin"], conv["cout"]))
    dy = jax.random.normal(keys[2], (conv["batch"], conv["side"], conv["side"], conv["cout"]))
    a, b = jax.random.normal(keys[3], (n, n)), jax.random.normal(keys[4], (n, n))

    def conv2d(x, w):
        return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    ops = {
        "conv_forward": lambda x, w, dy: jnp.sum(conv2d(x, w)),
        # the two backward convolutions, each alone: the vjp with respect to one argument
        "conv_input_grad": lambda x, w, dy: jnp.sum(jax.vjp(lambda x: conv2d(x, w), x)[1](dy)[0]),
        "conv_filter_grad": lambda x, w, dy: jnp.sum(jax.vjp(lambda w: conv2d(x, w), w)[1](dy)[0]),
    }
    out = {name: (lambda f=jax.jit(fn): float(f(x, w, dy))) for name, fn in ops.items()}
    matmul = jax.jit(lambda a, b: jnp.sum(a @ b))
    out["matmul"] = lambda: float(matmul(a, b))
    return out


def peak(conv: dict, n: int, calls: int) -> dict:
    """Seconds per call of each peak operation (after one compiling call), and its FLOPs."""
    conv_flops = 2.0 * conv["batch"] * conv["side"] ** 2 * conv["kernel"] ** 2 * conv["cin"] * conv["cout"]
    operations = (_operations_tf if backend() == "tensorflow" else _operations_jax)(conv, n)
    out = {}
    for name, run in operations.items():
        run()   # trace / compile
        times = []
        for _ in range(calls):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        out[name] = {"times": times, "flops": 2.0 * n ** 3 if name == "matmul" else conv_flops}
    return out
