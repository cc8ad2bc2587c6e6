"""The dissertation's training (section 3.4.3): ``train_on_batch`` on D, then on the stacked model.

One iteration:
  for each of ``critic_steps`` discriminator updates (the model's default: 5 for WGAN, else 1):
      D.train_on_batch(real batch, real labels); D.train_on_batch(G(z), fake labels)
      (WGAN) clip the critic's weights to [-c, c] after each of these updates
  stacked.train_on_batch(z, real labels) with D frozen, so only G learns.

Everything that depends on the loss (the Keras loss, the labels, accuracy, the divergence estimate)
comes from the model's row of the loss table (``training/losses.py``), so one engine trains every
model declared ``training_form="stacked"`` (GAN, DCGAN, WGAN, LSGAN, MLPGAN, DELIGAN, ...).

Keras 3 reads ``trainable`` when a train function is *traced* (the first call, and again for
every new batch shape), not at compile time. Written in the dissertation's order (freeze D once,
before building the stacked model), D's own train function is traced while D is frozen and D
silently never learns. So D's flag is set right before every call: True for D's own updates,
False for the stacked update. Tests check the weights, for several batch sizes in one run.

DiffAugment (``--diffaugment``, ``training/augment.py``): D then learns through ``d_train``, a
model ``DiffAugment layer -> D``, in its own updates, and the stacked model is G -> DiffAugment ->
D; one layer (one seed generator) serves both. The trainable toggle still acts on D itself:
``d_train``'s trainable variables are D's, read when its train function is traced, and the layer
has none. The saved and probed discriminator stays the plain D. Without DiffAugment ``d_train``
is D itself and nothing (graph, state variables, random streams) differs from before.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from gan_keras.hparams import CRITIC_STEPS, HParam, draw_latent, make_optimizer
from gan_keras.training.augment import DiffAugment
from gan_keras.training.base import all_variables, reseed_generators
from gan_keras.training.logspec import D_ACC, D_LOSS, G_LOSS, LOSSES_PLOT, LogSpec, Plot
from gan_keras.training.losses import check_output_activation, get_loss


class StackedEngine:
    PARAMS = (
        CRITIC_STEPS,
        HParam("clip_value", None, "weight clipping c: every critic weight into [-c, c] after each critic "
               "update (WGAN)", "optional_positive_float"),
        HParam("clip_all_weights", False, "also clip BatchNorm moving statistics (Keras-GAN's behaviour)", "flag"),
        HParam("frozen_bn", "batch", "frozen D's BatchNorm inside the stacked model: batch statistics as in "
               "Keras 2.2 (batch) or moving statistics as in Keras 3 (moving)", "choice", ("batch", "moving")),
    )

    def __init__(self, spec, hp, image_shape):
        self.hp = hp
        self.loss = get_loss(spec.loss)
        self.real_label, self.fake_label = self.loss.real_label, self.loss.fake_label
        self.decision_threshold = self.loss.decision_threshold
        self.log_spec = LogSpec(
            values=(D_LOSS, *((D_ACC,) if self.loss.accuracy else ()), G_LOSS, self.loss.divergence),
            divergence=self.loss.divergence.name,
            plots=(LOSSES_PLOT, Plot("divergence.png", "divergence", (self.loss.divergence.name,), "divergence",
                                     hlines=self.loss.reference_lines)),
        )

        self.generator = spec.build_generator(image_shape, hp)
        self.discriminator = spec.build_discriminator(image_shape, hp)
        check_output_activation(self.discriminator, self.loss, spec.name)
        self.d_optimizer = make_optimizer(hp, "d")
        self.g_optimizer = make_optimizer(hp, "g")
        # DiffAugment: D's own updates go through d_train = (augment -> D); without it d_train is D.
        # float32 under --mixed-precision, as the custom steps' augment (augment.py).
        self.augmenter = DiffAugment(hp.diffaugment, name="diffaugment", dtype="float32") \
            if hp.diffaugment != "none" else None
        self.d_train = self.discriminator
        if self.augmenter is not None:
            images = keras.Input(shape=tuple(image_shape), name="images")
            self.d_train = keras.Model(images, self.discriminator(self.augmenter(images)), name="d_train")
        d_compile = dict(loss=self.loss.keras_loss, optimizer=self.d_optimizer,
                         metrics=["accuracy"] if self.loss.accuracy else None)
        self.discriminator.compile(**d_compile)  # as always (the saved D is the same file either way)
        if self.d_train is not self.discriminator:
            self.d_train.compile(**d_compile)    # the same optimizer: it updates D's variables

        self.discriminator.trainable = False
        z = keras.Input(shape=(hp.latent_dim,), name="z")
        fake = self.generator(z)
        if self.augmenter is not None:
            fake = self.augmenter(fake)
        self.stacked = keras.Model(z, self.discriminator(fake), name="stacked")
        self.stacked.compile(loss=self.loss.keras_loss, optimizer=self.g_optimizer)
        self.discriminator.trainable = True

        # Optimizer slots are created now (not lazily) so a checkpoint can be restored into them.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

        if hp.clip_value is not None:
            self._clipped = self.discriminator.weights if hp.clip_all_weights else self.discriminator.trainable_weights
        else:
            self._clipped = []

    # -- one iteration -------------------------------------------------------------------
    def generate(self, noise: np.ndarray) -> np.ndarray:
        """G(z) in inference mode, as Keras-GAN's ``generator.predict`` did, without its
        per-call data-adapter overhead."""
        return self.generator.predict_on_batch(noise)

    def _labels(self, value, n):
        return np.full((n, 1), value, dtype=np.float32)

    def train_iteration(self, draw_real, rng):
        # 1. D (or the critic) learns from a real and a fake batch, critic_steps times.
        for _ in range(self.hp.critic_steps):
            real = draw_real()
            n = len(real)
            fake = self.generate(draw_latent(rng, (n, self.hp.latent_dim), self.hp.latent))
            self.discriminator.trainable = True
            d_real = self.d_train.train_on_batch(real, self._labels(self.real_label, n), return_dict=True)
            self.clip_critic()
            d_fake = self.d_train.train_on_batch(fake, self._labels(self.fake_label, n), return_dict=True)
            self.clip_critic()

        # 2. G learns through the stacked model, with D frozen and "real" labels.
        self.discriminator.trainable = False
        noise = draw_latent(rng, (n, self.hp.latent_dim), self.hp.latent)
        g_loss = self.stacked.train_on_batch(noise, self._labels(self.real_label, n), return_dict=True)["loss"]
        self.discriminator.trainable = True

        # 3. The log: the last D update's losses and what they estimate.
        real_loss, fake_loss = float(d_real["loss"]), float(d_fake["loss"])
        logs = {"d_loss": 0.5 * (real_loss + fake_loss), "g_loss": float(g_loss),
                self.loss.divergence.name: self.loss.estimate(real_loss, fake_loss)}
        if self.loss.accuracy:
            logs["d_acc"] = 0.5 * (float(d_real["accuracy"]) + float(d_fake["accuracy"]))
        return logs

    def clip_critic(self):
        """WGAN weight clipping (3.1.3): every critic weight into [-c, c] after each update.

        By default only the trainable weights (the critic's parameters, which the Lipschitz
        argument is about). ``clip_all_weights`` also clips BatchNorm's moving statistics, as
        Keras-GAN's ``get_weights()`` loop did; that squeezes the moving variance to <= c and
        changes the critic's inference-mode output, which the "moving" frozen_bn mode uses.
        """
        c = self.hp.clip_value
        for v in self._clipped:
            v.assign(ops.clip(v, -c, c))

    # -- checkpointing ---------------------------------------------------------------------
    def optimizers(self):
        return {"d_optimizer": self.d_optimizer, "g_optimizer": self.g_optimizer}

    def reseed(self, seed: int) -> None:
        """After a NaN rollback: DiffAugment's draws on a new stream (the loop reseeds batches and noise)."""
        if self.augmenter is not None:
            reseed_generators(seed, [self.augmenter.seed_generator])

    def state_variables(self):
        variables = all_variables(self.generator, self.discriminator, self.d_optimizer, self.g_optimizer)
        if self.augmenter is not None:  # DiffAugment's seed state, so resume is exact (only when on)
            variables.append(self.augmenter.seed_generator.state)
        return variables
