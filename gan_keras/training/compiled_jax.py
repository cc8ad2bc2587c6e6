"""``--engine compiled`` on Keras's JAX backend: the compiled engines' iteration as one ``jax.jit``.

The iteration is the TensorFlow compiled engines' own code (``training/compiled.py``): the stacked
engine's updates re-expressed step by step (``CompiledStackedEngine._iteration``) or a custom-step
model's ``train_step`` (``CompiledTrainStepEngine``), with batches and noise drawn on the device from
the engine's saved draw seed. Only the driver differs: instead of a ``tf.function``,
``autodiff.jax_function`` traces the iteration once as a pure function of every state variable and
compiles it with XLA (so ``--jit`` changes nothing here), and each update of the stacked form takes
its gradient through ``autodiff.minimize`` (``jax.vjp``) where TensorFlow uses a ``GradientTape``.

The training images are an argument of the compiled function, not a constant baked into it
(XLA would copy a 100 MB dataset into the executable). One device only: ``--strategy`` is
``tf.distribute`` and stays TensorFlow's.
"""
from __future__ import annotations

import keras

from gan_keras.training import autodiff
from gan_keras.training.compiled import CompiledStackedEngine, CompiledTrainStepEngine, DeviceData, _Compiled


class _JaxCompiled:
    """The JAX driver of a compiled engine (first in the MRO, before the TensorFlow one)."""

    def __init__(self, spec, hp, image_shape):
        super(_Compiled, self).__init__(spec, hp, image_shape)  # the reference engine, without tf.distribute
        self.strategy, self.replicas = None, 1
        self.jit = True  # XLA always
        self.draw_seed = keras.random.SeedGenerator(name="draw_seed")
        self.data = None
        self._function = self._with_function = None

    def _traced_variables(self) -> list:
        """Everything the iteration reads or writes: the saved state, and a step's trackers."""
        return self.state_variables() + getattr(self, "tracker_variables", list)()

    def attach_data(self, images_uint8, batch_size: int) -> None:
        self.data = DeviceData(images_uint8, batch_size, self.draw_seed)
        self._function = None

    def _on_images(self, images):
        """One drawn iteration with ``images`` (the compiled function's argument) as the dataset."""
        stored, self.data.images = self.data.images, images
        try:
            return self._draw_and_run()
        finally:
            self.data.images = stored

    def _run(self):
        if self.data is None:
            raise RuntimeError("the compiled engine needs attach_data(images, batch_size) first")
        if self._function is None:
            self._function = autodiff.jax_function(self._on_images, self._traced_variables())
        return self._function(self.data.images)

    def train_iteration(self, draw_real, rng):
        return {name: float(value) for name, value in self._run().items()}

    def train_iterations(self, count: int) -> list[dict]:
        """``count`` iterations, their logs fetched once at the end (JAX dispatches asynchronously,
        so the device never waits for the host in between)."""
        logs = [self._run() for _ in range(count)]
        return [{name: float(value) for name, value in log.items()} for log in logs]

    def run_iteration_with(self, draws):
        if self._with_function is None:
            self._with_function = autodiff.jax_function(self._iteration, self._traced_variables())
        return {name: float(value) for name, value in self._with_function(*draws).items()}


class JaxCompiledStackedEngine(_JaxCompiled, CompiledStackedEngine):
    PARAMS = CompiledStackedEngine.PARAMS

    def _update(self, model, optimizer, x, label):
        """``model.train_on_batch(x, label)``'s work (see ``CompiledStackedEngine._update``): the
        compiled loss plus the model's regularisation losses, one step of the weights trainable now."""
        ops = keras.ops
        y = ops.full((ops.shape(x)[0], 1), label, dtype="float32")

        def loss():
            y_pred = model(x, training=True)
            return {"loss": model.compute_loss(x=x, y=y, y_pred=y_pred, training=True), "y_pred": y_pred}

        values = autodiff.minimize(loss, {"loss": (model, optimizer)})
        return values["loss"], values["y_pred"]


class JaxCompiledTrainStepEngine(_JaxCompiled, CompiledTrainStepEngine):
    PARAMS = CompiledTrainStepEngine.PARAMS
