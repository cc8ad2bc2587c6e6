"""The engines, by a ``ModelSpec``'s ``training_form`` ("stacked" or "train_step"), and what each reads.

* ``stacked``: the dissertation's ``train_on_batch`` training (section 3.4.3), for any row of the
  loss table (``training/stacked.py``).
* ``train_step``: one adapter for every ``keras.Model`` subclass with its own ``train_step``
  (``training/train_step.py``); the model class is the spec's ``train_step``.

A new engine is one module with a class following ``base.Engine`` and a ``PARAMS`` tuple of the
hyperparameters it reads, plus one line in ``ENGINES``; its ``--engine compiled`` form, if it has
one, is a line in ``COMPILED`` (and in ``_compiled_engines`` for JAX).
"""
from __future__ import annotations

from gan_keras import backend
from gan_keras.models.upsampled_conv import set_literal
from gan_keras.training.base import Engine
from gan_keras.training.compiled import CompiledStackedEngine, CompiledTrainStepEngine
from gan_keras.training.precision import building_policy, float32_outputs
from gan_keras.training.stacked import StackedEngine
from gan_keras.training.train_step import TrainStepEngine

# The engine of each training form (``ModelSpec.training_form``), as ``--engine stacked`` runs it.
ENGINES = {
    "stacked": StackedEngine,
    "train_step": TrainStepEngine,
}
# ``--engine compiled``: the same iteration as one compiled function (training/compiled.py).
COMPILED = {
    "stacked": CompiledStackedEngine,
    "train_step": CompiledTrainStepEngine,
}


def _compiled_engines() -> dict:
    """``COMPILED``, or its JAX drivers on Keras's JAX backend (training/compiled_jax.py)."""
    if backend.name() == "jax":
        from gan_keras.training.compiled_jax import JaxCompiledStackedEngine, JaxCompiledTrainStepEngine

        return {"stacked": JaxCompiledStackedEngine, "train_step": JaxCompiledTrainStepEngine}
    return COMPILED


def form_params(training_form: str) -> tuple:
    """The hyperparameters that the engine of ``training_form`` reads (declared in its module)."""
    try:
        return ENGINES[training_form].PARAMS
    except KeyError:
        raise ValueError(f"unknown training form {training_form!r}: choose {', '.join(ENGINES)}") from None


def build_engine(spec, hp, image_shape) -> Engine:
    """The engine that trains ``spec`` with hyperparameters ``hp`` on images of ``image_shape``."""
    compiled = hp.get("engine", "stacked") == "compiled"
    if hp.get("jit", False) and not compiled:
        from gan_keras.errors import ConfigError

        raise ConfigError("--jit applies to --engine compiled")
    if compiled and backend.name() != "jax":
        backend.require_tensorflow("--engine compiled")  # a tf.function, or jax.jit on JAX
    if spec.training_form != "stacked" and backend.name() not in ("tensorflow", "jax"):
        backend.require_tensorflow(f"{spec.name}'s own train step")  # autodiff.py: TensorFlow or JAX
    mode = hp.get("mixed_precision", "off")
    with building_policy(mode):
        engine = (_compiled_engines() if compiled else ENGINES)[spec.training_form](spec, hp, image_shape)
    if mode != "off":
        float32_outputs(engine.generator)
        float32_outputs(engine.discriminator)
    if hp.get("upsampled_conv", "grouped") == "literal":
        for network in (engine.generator, engine.discriminator):
            set_literal(network)
    return engine
