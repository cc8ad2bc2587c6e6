"""``--engine compiled``: a whole iteration as one compiled TensorFlow function, data on the device.

The reference engines run an iteration as several Keras calls from Python: the stacked engine's
``generator.predict_on_batch`` and two ``train_on_batch`` calls per critic step and one on the stacked
model per iteration, the custom-step
adapter's one ``train_on_batch``; each takes a NumPy batch drawn on the host and returns its logs
to it. The compiled engines do the same arithmetic inside one ``tf.function`` per iteration:

* the training images live on the device as uint8 (``attach_data``); each iteration draws its batch
  indices and noise there, from the engine's own ``keras.random.SeedGenerator`` (saved with every
  checkpoint, so resume stays exact), and converts a batch to [-1, 1] there;
* the stacked engine's iteration is re-expressed step by step (``CompiledStackedEngine``), with the
  same models, losses, order of updates, clipping and BatchNorm behaviour, so that both engines
  compute the same thing. The trainable flag of D, which Keras reads when a function is traced, is
  set in the traced Python code exactly where the stacked engine sets it before each call: D
  learns from its real and fake batches with trainable BatchNorm, and G learns through the
  stacked model with D frozen (and ``frozen_bn`` "batch": batch statistics, moving statistics
  untouched);
* the loss of each update is the compiled model's own ``compute_loss`` (the compiled loss plus
  every regularisation loss the model holds, e.g. DeLiGAN's sigma regulariser), its gradient is
  applied by the same optimizer with ``apply_gradients``, as Keras' ``train_step`` does;
* a custom-step model's ``train_step`` is called unchanged (``CompiledTrainStepEngine``).

``draws`` (the batches and noise one iteration consumes) can also be given from outside
(``run_iteration_with``): the equivalence tests give both engines the same draws and compare the
weights. The logs come back to the host once per call; ``--jit`` compiles the function with XLA.
"""
from __future__ import annotations

import keras
import numpy as np
from gan_keras.backend import tf

from gan_keras.training.base import batch_norm_layers, reseed_generators
from gan_keras.training.stacked import StackedEngine
from gan_keras.training.train_step import TrainStepEngine


class DeviceData:
    """The training images as one uint8 tensor on the device, and seeded batches drawn from it."""

    def __init__(self, images_uint8: np.ndarray, batch_size: int, seed_generator):
        self.images = keras.ops.convert_to_tensor(images_uint8)
        self.n = int(images_uint8.shape[0])
        self.batch_size = int(batch_size)
        self.seed_generator = seed_generator

    def batches(self, count: int):
        """``count`` batches (count, B, H, W, C) of images in [-1, 1]: indices drawn uniformly with
        replacement, as the host loop draws them (``rng.integers(0, n, B)``)."""
        index = keras.random.randint((count, self.batch_size), 0, self.n, seed=self.seed_generator)
        return keras.ops.cast(keras.ops.take(self.images, index, axis=0), "float32") / 127.5 - 1.0


def latent(hp, shape, seed_generator):
    """z of ``shape``: N(0, 1) or U[-1, 1] (the ``latent`` hyperparameter), drawn on the device."""
    if hp.latent == "uniform":
        return keras.random.uniform(shape, -1.0, 1.0, seed=seed_generator)
    return keras.random.normal(shape, seed=seed_generator)


class _Compiled:
    """What both compiled engines share: the device data, the draw seed, the compiled function."""

    def __init__(self, spec, hp, image_shape):
        super().__init__(spec, hp, image_shape)  # the reference engine's networks and optimizers
        # Built inside a strategy's scope (``--strategy mirrored``) the engine runs on its replicas.
        self.strategy = tf.distribute.get_strategy()
        self.replicas = int(self.strategy.num_replicas_in_sync)
        self.jit = bool(hp.get("jit", False))
        if self.replicas > 1:
            self._check_replicable()
        self.draw_seed = keras.random.SeedGenerator(name="draw_seed")  # its initial seed follows the run's
        self.data = None
        self._function = None

    def _check_replicable(self):
        """Refuse what N devices would not compute as one does; prepare the rest (see the subclasses)."""
        from gan_keras.errors import ConfigError

        if self.hp.get("diffaugment", "none") != "none":
            raise ConfigError("--strategy (mirrored or multiworker) with --diffaugment: its per-image draws are not "
                              "split over devices yet; train on one device")
        if self.jit:
            raise ConfigError("--jit with a strategy: XLA cannot reach the draw seed that the replicas share "
                              "across devices (TensorFlow); leave out --jit")
        for layer in batch_norm_layers(self.generator, self.discriminator):
            layer.synchronized = True  # the global batch's statistics, as on one device

    def _run_replicas(self, step, *draws):
        """``step`` on every replica with its share of each draw's batch axis (``axis`` 1 for stacked
        (steps, B, ...) draws); the logs averaged over replicas."""
        share = self.data.batch_size // self.replicas

        def replica(*draws):
            i = tf.distribute.get_replica_context().replica_id_in_sync_group
            part = slice(i * share, (i + 1) * share)
            return step(*[d[:, part] if axis else d[part] for d, axis in zip(draws, self._draw_axes)])

        logs = self.strategy.run(replica, args=draws)
        return {name: self.strategy.reduce("MEAN", value, axis=None) for name, value in logs.items()}

    def attach_data(self, images_uint8: np.ndarray, batch_size: int) -> None:
        """Put the training images on the device; batches are drawn there from now on."""
        if batch_size % self.replicas:
            from gan_keras.errors import ConfigError

            raise ConfigError(f"batch size {batch_size} does not split over {self.replicas} devices: "
                              f"use a multiple of {self.replicas}")
        self.data = DeviceData(images_uint8, batch_size, self.draw_seed)
        self._function = self._many_function = None

    def train_iteration(self, draw_real, rng):
        """One iteration, drawn and computed on the device (``draw_real`` and ``rng`` are unused:
        the host loop's generator is saved but never advanced by this engine)."""
        if self.data is None:
            raise RuntimeError("the compiled engine needs attach_data(images, batch_size) first")
        if self._function is None:
            self._function = tf.function(self._draw_and_run, jit_compile=self.jit, reduce_retracing=True)
        return {name: float(value) for name, value in self._function().items()}

    def train_iterations(self, count: int) -> list[dict]:
        """``count`` iterations in one call: one compiled loop, one transfer of every iteration's logs
        to the host (``--fetch-every``). The loop body is the traced iteration, so the weights after
        it are those of ``count`` single calls (tested)."""
        if self.data is None:
            raise RuntimeError("the compiled engine needs attach_data(images, batch_size) first")
        if count == 1:
            return [self.train_iteration(None, None)]
        if getattr(self, "_many_function", None) is None:
            self._many_function = tf.function(self._many, jit_compile=self.jit, reduce_retracing=True)
        logs = {name: values.numpy() for name, values in self._many_function(tf.constant(count, tf.int32)).items()}
        return [{name: float(values[i]) for name, values in logs.items()} for i in range(count)]

    def _many(self, count):
        names = [value.name for value in self.log_spec.values]

        def body(i, columns):
            logs = self._draw_and_run()
            return i + 1, tuple(c.write(i, tf.cast(logs[n], tf.float32)) for n, c in zip(names, columns))

        columns = tuple(tf.TensorArray(tf.float32, size=count) for _ in names)
        _, columns = tf.while_loop(lambda i, _: i < count, body, (tf.constant(0), columns))
        return {name: column.stack() for name, column in zip(names, columns)}

    def run_iteration_with(self, draws):
        """One iteration on given draws (the tests' way to feed both engines the same numbers)."""
        if getattr(self, "_with_function", None) is None:  # traced once, not on every call
            self._with_function = tf.function(self._iteration, jit_compile=self.jit)
        return {name: float(value) for name, value in self._with_function(*draws).items()}

    def reseed(self, seed: int) -> None:
        """Draw from new streams (the loop's NaN rollback: the restored checkpoint would otherwise
        replay the draws that led to the divergence): the reference engine's, then the device draws'."""
        super().reseed(seed)
        reseed_generators(seed + 100, [self.draw_seed])

    def draw_state_variables(self) -> list:
        state = self.draw_seed.state
        return list(state) if isinstance(state, (list, tuple)) else [state]

    def state_variables(self):
        """The reference engine's state, then the draw seed (so resume stays exact)."""
        return super().state_variables() + self.draw_state_variables()


class CompiledStackedEngine(_Compiled, StackedEngine):
    """The stacked engine's iteration (``training/stacked.py``) as one compiled function."""

    PARAMS = StackedEngine.PARAMS

    _draw_axes = (1, 1, 0)  # reals (steps, B, ...), noises (steps, B, z), g_noise (B, z)

    # Over N devices each replica takes 1/N of every batch; BatchNormalization uses the global
    # batch's statistics (``synchronized``), GANDropout the global batch's mask, and each update's
    # gradient is the all-reduced sum of the replicas' gradients of loss / N (Keras scales a
    # compiled loss under a strategy); so N devices compute what one device computes, up to
    # summation order (tests/test_mirrored.py).

    def generate(self, noise):
        if self.replicas == 1:
            return super().generate(noise)
        return self.generator(noise, training=False).numpy()  # on the mirrored weights

    def host_draws(self, draw_real, rng):
        """The draws of one stacked iteration, in the stacked engine's order: per critic step a real
        batch then the fake batch's noise, then the generator's noise."""
        from gan_keras.hparams import draw_latent

        reals, noises = [], []
        for _ in range(self.hp.critic_steps):
            reals.append(draw_real())
            noises.append(draw_latent(rng, (len(reals[-1]), self.hp.latent_dim), self.hp.latent))
        g_noise = draw_latent(rng, (len(reals[-1]), self.hp.latent_dim), self.hp.latent)
        return np.stack(reals), np.stack(noises), g_noise

    def _draw_and_run(self):
        steps, batch = self.hp.critic_steps, self.data.batch_size
        reals = self.data.batches(steps)
        noises = latent(self.hp, (steps, batch, self.hp.latent_dim), self.draw_seed)
        g_noise = latent(self.hp, (batch, self.hp.latent_dim), self.draw_seed)
        if self.replicas == 1:
            return self._iteration(reals, noises, g_noise)
        # The global draws are made once (above), then each replica takes its slice of every batch.
        return self._run_replicas(self._iteration, reals, noises, g_noise)

    def _update(self, model, optimizer, x, label):
        """What ``model.train_on_batch(x, label)`` does: forward pass in training mode, the compiled
        loss plus the model's regularisation losses, gradients applied to the weights that are
        trainable now (when this is traced). Returns (loss, output)."""
        y = tf.fill((tf.shape(x)[0], 1), tf.constant(label, tf.float32))
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
            scaled = optimizer.scale_loss(loss)
        weights = model.trainable_weights
        optimizer.apply_gradients(zip(tape.gradient(scaled, weights), weights))
        if self.replicas > 1:  # compute_loss returned loss / N for the all-reduce; the log wants the loss
            loss = loss * float(self.replicas)
        return loss, y_pred

    def _iteration(self, reals, noises, g_noise):
        d = self.discriminator
        # 1. D (or the critic) learns from a real and a fake batch, critic_steps times.
        for step in range(self.hp.critic_steps):
            fake = self.generator(noises[step], training=False)   # = generator.predict_on_batch
            d.trainable = True
            real_loss, real_out = self._update(self.d_train, self.d_optimizer, reals[step], self.real_label)
            self.clip_critic()
            fake_loss, fake_out = self._update(self.d_train, self.d_optimizer, fake, self.fake_label)
            self.clip_critic()
        # 2. G learns through the stacked model, with D frozen and "real" labels.
        d.trainable = False
        g_loss, _ = self._update(self.stacked, self.g_optimizer, g_noise, self.real_label)
        d.trainable = True
        # 3. The log: the same values as the stacked engine's, from the last D update.
        logs = {"d_loss": 0.5 * (real_loss + fake_loss), "g_loss": g_loss,
                self.loss.divergence.name: self.loss.estimate(real_loss, fake_loss)}
        if self.loss.accuracy:  # Keras' binary accuracy: output > 0.5 counts as "real"
            logs["d_acc"] = 0.5 * (_accuracy(real_out, self.real_label) + _accuracy(fake_out, self.fake_label))
        return logs



def _accuracy(output, label):
    ops = keras.ops
    return ops.mean(ops.cast(ops.equal(ops.cast(output > 0.5, "float32"), label), "float32"))


class CompiledTrainStepEngine(_Compiled, TrainStepEngine):
    """A custom-step model's ``train_step`` with its real batches drawn on the device."""

    PARAMS = TrainStepEngine.PARAMS

    def host_draws(self, draw_real, rng):
        return (np.stack([draw_real() for _ in range(self.model.real_batches_per_step())]),)

    _draw_axes = (1,)  # reals (steps, B, ...)

    def _check_replicable(self):
        """A train step splits over devices when it says so (``GANTrainStep.REPLICABLE``: its draws
        go through ``replica_slice``, its gradients through ``minimize``)."""
        from gan_keras.errors import ConfigError

        if not getattr(self.model, "REPLICABLE", False):
            raise ConfigError(f"--strategy mirrored: {type(self.model).__name__}'s train_step is not split over "
                              f"devices yet (state updated from each replica's losses); train on one device")
        super()._check_replicable()

    def _draw_and_run(self):
        reals = self.data.batches(self.model.real_batches_per_step())
        if self.replicas == 1:
            return self._iteration(reals)
        return self._run_replicas(self._iteration, reals)

    def _iteration(self, reals):
        return self._fresh_step(reals)  # as train_on_batch does

