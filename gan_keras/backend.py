"""Which Keras backend runs, and the parts of the library that need TensorFlow.

The dissertation's own training, the ``stacked`` engine (``train_on_batch`` on the stacked
generator-discriminator model), is plain Keras 3 and runs on any backend, and the custom train
steps (WGAN-GP, the BEGAN family, EDGEGAN) take their gradients through ``training/autodiff.py``,
which has a TensorFlow and a JAX form, and ``--engine compiled`` has a JAX driver
(``training/compiled_jax.py``). So ``KERAS_BACKEND=jax`` trains every model where JAX is
installed and TensorFlow is not, which is how this project trains on the GPU machines it is lent
(they have JAX and no TensorFlow; see README "Speed"). These parts are TensorFlow code and say so
when asked for on another backend (``require_tensorflow``):

* ``--strategy mirrored|multiworker``: ``tf.distribute``;
* the custom train steps and ``--engine compiled`` on a backend other than TensorFlow and JAX;
* op determinism (a run's default; ``--no-determinism`` turns it off; skipped, with a note, elsewhere).

``tf`` below is TensorFlow imported on first use, so modules that hold TensorFlow code can be
imported (and their models listed) on a backend without it.
"""
from __future__ import annotations

import contextlib
import importlib
import os

from gan_keras.errors import ConfigError


def name() -> str:
    """The Keras backend of this process: "tensorflow", "jax", "torch" or "numpy"."""
    import keras

    return keras.backend.backend()


def is_tensorflow() -> bool:
    return name() == "tensorflow"


def require_tensorflow(what: str) -> None:
    """Raise a ConfigError naming ``what`` unless Keras runs on TensorFlow."""
    if not is_tensorflow():
        raise ConfigError(f"{what} is TensorFlow code and this process runs Keras on {name()!r} "
                          f"(KERAS_BACKEND={os.environ.get('KERAS_BACKEND', '')!r}): use KERAS_BACKEND=tensorflow, "
                          "or the stacked engine with a model that has a stacked form")


def gpu_count() -> int:
    """How many GPUs this backend sees (TensorFlow: physical GPUs; JAX: devices on a "gpu"
    platform); 0 on any other backend, and where asking fails (it only informs and advises)."""
    try:
        if is_tensorflow():
            return len(tf.config.list_physical_devices("GPU"))
        if name() == "jax":
            import jax

            return sum(d.platform == "gpu" for d in jax.devices())
    except Exception:  # noqa: BLE001 - a banner must never stop a run
        return 0
    return 0


def where_it_runs(gpus: int) -> str:
    """For a run's first lines, given ``gpu_count()``: "Keras on tensorflow, the CPU" or "Keras on
    jax, 1 GPU". A GPU machine whose framework build has no CUDA trains on the CPU, silently but
    for this line."""
    return f"Keras on {name()}, " + (f"{gpus} GPU{'s' if gpus > 1 else ''}" if gpus else "the CPU")


class _TensorFlowOnFirstUse:
    """``tensorflow``, imported when an attribute is first read (``tf.GradientTape``...)."""

    def __getattr__(self, attribute):
        return getattr(importlib.import_module("tensorflow"), attribute)


tf = _TensorFlowOnFirstUse()


def disable_graph_optimizer() -> bool:
    """Turn TensorFlow's graph optimizer (Grappler) off, for every training run (deterministic or
    not); False where the backend has none.

    With Grappler on, a compiled ``train_on_batch`` sometimes computed its forward pass with a weight
    that the same step's optimizer had already updated: in about one fresh process in six (11 of 70), a tiny
    WGAN critic's first step reported a loss of -0.2824 where its weights give -0.2466, exactly the
    loss with its last Dense kernel updated and the rest not (tests/test_update_rules.py; never
    seen with Grappler off, 16 of 16). Gradients and logs from such a step are wrong. Grappler also
    rewrites one train function differently in different processes, which makes runs differ in
    their last bits (benchmarks/results/seed001/README.md). On the CPU it costs no measurable speed.
    """
    if not is_tensorflow():
        return False
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    return True


def _custom_gradient_registry() -> dict | None:
    """TensorFlow's process-wide table of gradient functions (op type -> function), or None where
    Keras does not run on TensorFlow or TensorFlow no longer keeps it where 2.21 does."""
    if not is_tensorflow():
        return None
    from tensorflow.python.framework import ops

    table = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return table if isinstance(table, dict) else None


@contextlib.contextmanager
def traced_gradients_released():
    """On leaving, drop the ``tf.custom_gradient`` functions that tracing registered inside, so that
    a finished run's models, weights and optimizer slots can be freed (every training run does this,
    ``Trainer.run``).

    Why: Keras's TensorFlow optimizer sums the gradients over replicas before every update, even
    with no strategy (the default replica context), and TensorFlow wraps that sum in a
    ``tf.custom_gradient``. Each trace registers its gradient function under a new name
    ("CustomGradient-N") in a table that lives as long as the process and is never emptied, and the
    function holds the traced graph, whose captures hold every variable of the step. So every run
    kept its weights and optimizer state until the process ended: +326 MB per WGAN-GP run at
    28x28, +68 MB per DCGAN run (+7 and +2 MB with this; benchmarks/memory_per_run.py), with
    ``keras.backend.clear_session()`` and ``gc.collect()`` no help. A notebook that tries ten settings, or the test
    suite (whose workers grew to 12 GB; one was killed for memory), ran out of memory. Functions
    traced inside still run afterwards; only a new gradient taken *through* one of them (a traced
    step called under another ``GradientTape``) would miss its entry, and nothing here does that.
    A no-op on other backends.
    """
    table = _custom_gradient_registry()
    before = set(table) if table is not None else set()
    try:
        yield
    finally:
        if table is not None:
            for op_type in [k for k in table if k.startswith("CustomGradient-") and k not in before]:
                del table[op_type]


def enable_determinism() -> bool:
    """What a deterministic run (the default; ``--no-determinism`` skips it) sets: TensorFlow op
    determinism, and Grappler off (``disable_graph_optimizer``, which every run sets anyway);
    False where the backend has no such switch (only TensorFlow has one). Benchmarks that time or
    compare deterministic runs call this, so they run what a training run runs.
    """
    if not is_tensorflow():
        return False
    tf.config.experimental.enable_op_determinism()
    disable_graph_optimizer()
    return True
