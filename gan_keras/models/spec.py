"""What a model *is*: its builders and how it trains. One ``ModelSpec`` per model module.

The registry (``gan_keras.registry``) maps a command-line name to a spec; the trainer reads
everything model-specific from the spec, so adding a model means one module defining
``SPEC`` plus one registry line. StudioGAN-style: ``Hyperparams`` holds the shared defaults and
each spec states only its published differences in ``defaults``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import keras

from gan_keras.errors import ConfigError

Shape = tuple  # (H, W, C)


@dataclass
class Hyperparams:
    """Training hyperparameters; REFERENCE.md's conventions are the defaults."""

    latent_dim: int = 100
    optimizer: str = "adam"        # "adam" or "rmsprop", for both D and G
    d_lr: float = 2e-4
    g_lr: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    critic_steps: int = 1          # discriminator updates per iteration
    clip_value: float | None = None  # WGAN weight clipping c
    clip_all_weights: bool = False   # also clip BatchNorm moving statistics (Keras-GAN's behaviour)
    gp_weight: float = 10.0        # WGAN-GP lambda
    frozen_bn: str = "batch"       # frozen D's BatchNorm in the stacked model: "batch" (Keras 2.2) or "moving" (Keras 3)

    def replace(self, **changes) -> "Hyperparams":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown hyperparameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def make_optimizer(hp: Hyperparams, which: str) -> keras.optimizers.Optimizer:
    """A fresh optimizer for "d" or "g" from the hyperparameters."""
    lr = hp.d_lr if which == "d" else hp.g_lr
    if hp.optimizer == "adam":
        return keras.optimizers.Adam(lr, beta_1=hp.beta_1, beta_2=hp.beta_2)
    if hp.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    raise ConfigError(f"unknown optimizer {hp.optimizer!r}: choose adam or rmsprop")


@dataclass(frozen=True)
class ModelSpec:
    """A model's definition.

    Attributes:
        name: the command-line name (GAN, DCGAN, ...).
        description: one line, with the figure of the dissertation it reproduces.
        generators / discriminators: image shape -> builder(frozen_bn, latent_dim) -> keras.Model.
        loss: "bce" (labels real 1 / fake 0) or "wasserstein" (Keras-GAN signs: real -1 / fake +1).
        engine: "stacked" (train_on_batch on D and on the stacked G->D model, section 3.4.3) or
            "wgangp" (a keras.Model subclass with a custom train_step).
        defaults: this model's differences from ``Hyperparams()``.
    """

    name: str
    description: str
    generators: dict[Shape, Callable[..., keras.Model]]
    discriminators: dict[Shape, Callable[..., keras.Model]]
    loss: str
    engine: str
    defaults: dict = field(default_factory=dict)

    @property
    def divergence(self) -> str:
        """What the log's divergence column estimates: "js" or "wasserstein"."""
        return "js" if self.loss == "bce" else "wasserstein"

    def hyperparams(self, **overrides) -> Hyperparams:
        return Hyperparams().replace(**self.defaults).replace(**overrides)

    def supported_shapes(self) -> list[Shape]:
        return sorted(self.generators)

    def check_shape(self, image_shape) -> None:
        """ConfigError unless this model has published networks for ``image_shape``."""
        self._builder(self.generators, image_shape, "generator")
        self._builder(self.discriminators, image_shape, "discriminator")

    def _builder(self, table, image_shape, what):
        shape = tuple(int(d) for d in image_shape)
        if shape not in table:
            shapes = ", ".join("x".join(map(str, s)) for s in self.supported_shapes())
            raise ConfigError(f"{self.name} has no {what} for images of shape {'x'.join(map(str, shape))} "
                              f"(published shapes: {shapes})")
        return table[shape]

    def build_generator(self, image_shape, hp: Hyperparams | None = None) -> keras.Model:
        hp = hp or self.hyperparams()
        return self._builder(self.generators, image_shape, "generator")(
            frozen_bn=hp.frozen_bn, latent_dim=hp.latent_dim)

    def build_discriminator(self, image_shape, hp: Hyperparams | None = None) -> keras.Model:
        hp = hp or self.hyperparams()
        return self._builder(self.discriminators, image_shape, "discriminator")(frozen_bn=hp.frozen_bn)
