"""One adapter that trains any GAN written as a ``keras.Model`` with its own ``train_step``.

A loss that a stacked ``train_on_batch`` model cannot express (a gradient penalty, an auto-encoder
discriminator with a control variable k_t, ...) is written keras.io-style: subclass
:class:`GANTrainStep`, declare what it logs (``LOG``) and reads (``PARAMS``), and write
``train_step``. :class:`TrainStepEngine` then plugs it into the shared loop: it builds the networks
from the model's spec, compiles the model with two optimizers, feeds it
``real_batches_per_step()`` real batches per iteration stacked into one array, and saves and
restores every variable it lists (the networks, both optimizers, its seed generator, and any state
it adds in ``extra_state_variables``).
"""
from __future__ import annotations

import keras
import numpy as np

from gan_keras import backend
from gan_keras.hparams import make_optimizer
from gan_keras.training import autodiff
from gan_keras.training.augment import diff_augment
from gan_keras.training.base import all_variables, reseed_generators
from gan_keras.training.logspec import LogSpec


class GANTrainStep(keras.Model):
    """Base of a GAN trained by its own ``train_step`` (one call = one iteration of the loop).

    ``train_step(data)`` gets the iteration's real images as one array of shape (k, B, H, W, C),
    k = ``real_batches_per_step()`` (1 unless overridden: WGAN-GP takes one batch per critic
    update), in [-1, 1]. The engine builds the model as ``cls(generator, discriminator, hp)``; an
    ``__init__`` of a subclass takes those and passes them on.

    Subclasses set:
        LOG: the LogSpec of the values ``train_step`` returns (one ``keras.metrics.Mean`` tracker
            is made per declared value; ``self.record(name=value, ...)`` updates them, every one).
        PARAMS: the hyperparameters it reads from ``self.hp`` (HParam declarations; a shared one,
            such as ``hparams.CRITIC_STEPS``, is listed, not declared again).
        DECISION_THRESHOLD: the discriminator output above which an image is "real" (for the
            discriminator's F1), ``d_f1.MIDPOINT`` for a critic, or None when D is no classifier
            (e.g. an auto-encoder).
        REPLICABLE: whether ``--strategy`` may split it over devices (default False): N devices
            must compute what one does. Every random draw of the step must go through ``noise`` or
            ``distribute.replica_slice``, every gradient through ``minimize``, and state may only be
            updated from values of the whole batch (``distribute.replica_mean``: BEGAN's k_t).
            tests/test_mirrored.py checks each cleared step.
    """

    LOG: LogSpec
    PARAMS: tuple = ()
    DECISION_THRESHOLD: float | str | None = None
    REPLICABLE: bool = False

    def __init__(self, generator, discriminator, hp, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.hp = hp
        self.latent_dim = hp.latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {v.name: keras.metrics.Mean(name=v.name) for v in self.LOG.values}

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def noise(self, batch_size):
        """z ~ N(0, 1) or U[-1, 1] (the ``latent`` hyperparameter) from the model's own seed generator
        (saved with every checkpoint)."""
        from gan_keras.training.distribute import replica_slice

        if self.hp.latent == "uniform":
            return replica_slice(lambda n: keras.random.uniform((n, self.latent_dim), -1.0, 1.0,
                                                                seed=self.seed_generator), batch_size)
        return replica_slice(lambda n: keras.random.normal((n, self.latent_dim), seed=self.seed_generator),
                             batch_size)

    def augment(self, images):
        """DiffAugment's T(images) (``--diffaugment``, ``training/augment.py``): call it on every image
        batch on its way into the discriminator, real and fake alike.

        With ``diffaugment`` "none" (the default) it returns ``images`` itself and draws nothing, so
        such a run computes, and draws from ``seed_generator``, exactly what it did before
        DiffAugment existed. Otherwise each call draws new per-image parameters from the model's
        own ``seed_generator``, which every checkpoint saves (so resume stays exact).
        """
        policy = self.hp.get("diffaugment", "none")
        if policy == "none":
            return images
        return diff_augment(images, policy, self.seed_generator)

    def minimize(self, compute, **targets) -> dict:
        """One forward pass and one optimizer step per target: ``compute()`` returns a dict of
        values; each ``loss_name=(model, optimizer)`` steps ``optimizer`` down the gradient of
        ``values[loss_name]`` with respect to ``model``'s trainable weights (only), in the order
        given. Every gradient is taken before any optimizer steps, so several targets update
        simultaneously from one state of the networks. Returns the values."""
        return autodiff.minimize(compute, targets)

    def input_gradient(self, fn, x):
        """d sum(fn(x)) / dx (e.g. a critic's gradient with respect to its input)."""
        return autodiff.input_gradient(fn, x)

    def real_batches_per_step(self) -> int:
        """How many real batches one ``train_step`` consumes (e.g. one per critic update)."""
        return 1

    def record(self, **values) -> dict:
        """Update the trackers of the declared values, every one of them (an undeclared or a missing
        name is an error); return every tracker's result (train_step's return)."""
        self.LOG.check(values)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def sample_grids(self, real) -> dict:
        """Images to save beside the samples, from a fixed real batch: name -> images in [-1, 1]
        (e.g. {"reconstructions": D(real)} for an auto-encoder discriminator). Nothing by default."""
        return {}

    def extra_state_variables(self) -> list:
        """Variables beyond the networks and optimizers that must be restored to resume exactly."""
        state = self.seed_generator.state
        return list(state) if isinstance(state, (list, tuple)) else [state]


class TrainStepEngine:
    """The loop's Engine for any GANTrainStep subclass (the spec's ``train_step``)."""

    PARAMS = ()  # the model class declares its own

    def __init__(self, spec, hp, image_shape):
        self.hp = hp
        self.generator = spec.build_generator(image_shape, hp)
        self.discriminator = spec.build_discriminator(image_shape, hp)
        self.d_optimizer = make_optimizer(hp, "d")
        self.g_optimizer = make_optimizer(hp, "g")
        self.model = spec.train_step(self.generator, self.discriminator, hp)
        self.model.compile(d_optimizer=self.d_optimizer, g_optimizer=self.g_optimizer)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.log_spec = self.model.LOG
        self.decision_threshold = self.model.DECISION_THRESHOLD
        self._check_saved()

    def _check_saved(self):
        """A model's variable that no checkpoint saves would come back from its initial value on
        resume, silently (say an EMA a new train_step keeps): refused when the engine is built."""
        saved = {id(v) for v in TrainStepEngine.state_variables(self) + self.tracker_variables()}  # (before a subclass is built)
        unsaved = [v.path for v in self.model.variables if id(v) not in saved]
        if unsaved:
            raise TypeError(
                f"{type(self.model).__name__} has variables that no checkpoint saves, so a resumed run would "
                f"not continue exactly: {', '.join(unsaved)}; return them from its extra_state_variables() "
                f"(as super().extra_state_variables() + [...])")

    def generate(self, noise):
        return self.generator.predict_on_batch(noise)

    def train_iteration(self, draw_real, rng):
        reals = np.stack([draw_real() for _ in range(self.model.real_batches_per_step())])
        if backend.name() == "jax":
            logs = self._jax_iteration(reals)
        else:
            logs = self.model.train_on_batch(reals, return_dict=True)  # one tracker per declared value
        return {name: float(value) for name, value in logs.items()}

    def _jax_iteration(self, reals):
        """train_on_batch's work on JAX, as one compiled function of every state variable
        (``autodiff.jax_function``)."""
        if not hasattr(self, "_jax_step"):
            self._jax_step = autodiff.jax_function(self._fresh_step, self.state_variables() + self.tracker_variables())
        return self._jax_step(reals)

    def _fresh_step(self, reals):
        """What ``train_on_batch`` does with the stacked real batches: reset the trackers, run the step."""
        for tracker in self.model.metrics:
            tracker.reset_state()
        return self.model.train_step((reals, None, None))

    def tracker_variables(self) -> list:
        """The step's trackers' variables: not saved (reset every iteration), but read and written."""
        return [v for tracker in self.model.metrics for v in tracker.variables]

    def sample_grids(self, real) -> dict:
        return self.model.sample_grids(real)

    def optimizers(self):
        return {"d_optimizer": self.d_optimizer, "g_optimizer": self.g_optimizer}

    def reseed(self, seed: int) -> None:
        """After a NaN rollback: the step's noise (and DiffAugment, epsilon...) on a new stream."""
        reseed_generators(seed, [self.model.seed_generator])

    def state_variables(self):
        return all_variables(self.generator, self.discriminator, self.d_optimizer, self.g_optimizer) + \
            self.model.extra_state_variables()
