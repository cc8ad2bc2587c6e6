"""What a model *is*: its networks and how it trains. One ``ModelSpec`` per model module.

The registry (``gan_keras.registry``) maps a command-line name to a spec; the trainer reads
everything model-specific from the spec, so adding a model means one module defining ``SPEC`` plus
one registry line. StudioGAN-style: the hyperparameters' declarations hold the shared defaults
(``gan_keras.hparams``) and each spec states only its published differences in ``defaults``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import keras

from gan_keras.errors import ConfigError
from gan_keras.hparams import COMMON, HParam, Hyperparams, twice_declared

Shape = tuple  # (H, W, C)


def _shape_text(shape) -> str:
    return "x".join(map(str, shape))


@dataclass(frozen=True)
class Networks:
    """One architecture: image shape -> builder, for the generator and the discriminator.

    A generator builder is called as ``builder(frozen_bn=..., latent_dim=...)``, a discriminator
    builder as ``builder(frozen_bn=...)``, each also with the hyperparameters named in
    ``generator_params`` / ``discriminator_params``; both return a ``keras.Model``.
    """

    generators: dict[Shape, Callable[..., keras.Model]]
    discriminators: dict[Shape, Callable[..., keras.Model]]
    source: str = ""   # where the layer tables come from ("Figures 4-4 and 4-21")
    # hyperparameters a discriminator builder also takes, e.g. ("latent_dim",) for an auto-encoder
    # whose code must have z's size
    discriminator_params: tuple[str, ...] = ()
    # hyperparameters a generator builder also takes, e.g. EDGEGAN's ("cft", "feature_diff",
    # "mean_rescaling") for the learned layer in front of the generator
    generator_params: tuple[str, ...] = ()

    def with_latent_front(self, front: Callable[..., tuple[list, int]], params: tuple[str, ...],
                          what: str) -> "Networks":
        """The same networks with layers in front of every generator (a learned latent map).

        ``front(latent_dim, **{p: hp.p for p in params})`` returns ``(layers, width)``: the layers
        that map z (size latent_dim) to a vector of size ``width``, which the original generator is
        built to take. Each generator becomes one flat Sequential: z -> layers -> the generator's
        layers (the original generator itself when ``layers`` is empty). EDGEGAN's CFT and Mean
        Rescaling and DeLiGAN's mixture of Gaussians are such fronts.
        """
        def wrap(build_generator):
            def build(frozen_bn="batch", latent_dim=100, **hp):
                from keras import Sequential

                from gan_keras.models.blocks import latent_input

                layers, width = front(latent_dim, **hp)
                generator = build_generator(frozen_bn=frozen_bn, latent_dim=width)
                if not layers:
                    return generator
                return Sequential([latent_input(latent_dim), *layers, *generator.layers], name="generator")
            return build

        return dataclasses.replace(
            self, generators={shape: wrap(build) for shape, build in self.generators.items()},
            source=f"{self.source} with {what} in front of G", generator_params=self.generator_params + params)


@dataclass(frozen=True)
class ModelSpec:
    """A model's definition.

    Attributes:
        name: the command-line name (GAN, DCGAN, ...).
        description: one line, with the paper and figure it reproduces.
        networks: architecture name -> Networks; the first is the default (``--arch`` picks another).
        training_form: how its losses are written: "stacked" (a loss-table row, trained as
            ``train_on_batch`` on D and on the stacked G->D model, section 3.4.3) or "train_step" (a
            ``keras.Model`` subclass with its own ``train_step``). Independent of ``--engine
            stacked|compiled``, which says how each iteration runs: both forms run on both engines.
        loss: the name of a row of ``gan_keras.training.losses.LOSSES``, or a model's own
            ``AdversarialLoss`` row (the stacked engine reads it; a train step whose adversarial
            loss is a row names it too, e.g. EDGEGAN's "bce").
        train_step: the ``GANTrainStep`` subclass, for the "train_step" form.
        params: hyperparameters only this model reads (beyond the shared ones, its form's engine's
            and its train step's): its networks' or its spec's own; one its train step reads belongs
            in the step's ``PARAMS``, so every model on that step gets it.
        defaults: this model's published differences from the declared defaults.
    """

    name: str
    description: str
    networks: dict[str, Networks]
    training_form: str
    loss: str | object | None = None   # a LOSSES name or an AdversarialLoss
    train_step: type | None = None
    params: tuple[HParam, ...] = ()
    defaults: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.training_form not in ("stacked", "train_step"):
            raise ValueError(f"{self.name}: training_form is 'stacked' or 'train_step', not {self.training_form!r}")
        if (self.training_form == "train_step") != (self.train_step is not None):
            raise ValueError(f"{self.name}: give train_step exactly when training_form is 'train_step'")
        if self.training_form == "stacked" and self.loss is None:
            raise ValueError(f"{self.name}: the stacked form needs a loss (a row of training/losses.py)")

    @property
    def replicable(self) -> bool:
        """Whether ``--strategy`` may split its training over devices: the stacked engine's models
        can; a train step once it says so (``GANTrainStep.REPLICABLE``)."""
        return self.training_form != "train_step" or getattr(self.train_step, "REPLICABLE", False)

    # -- hyperparameters -------------------------------------------------------------------
    def declared_params(self) -> dict[str, HParam]:
        """Every hyperparameter this model reads: shared, its engine's, its train step's, its own."""
        from gan_keras.training.engine import form_params

        declared = {}
        for p in (*COMMON, *form_params(self.training_form), *getattr(self.train_step, "PARAMS", ()), *self.params):
            if declared.setdefault(p.name, p) is not p:
                raise twice_declared(p.name, declared[p.name], f"both read by {self.name}")
        return declared

    def hyperparams(self, **overrides) -> Hyperparams:
        """The declared defaults, then this model's ``defaults``, then ``overrides`` (all checked)."""
        hp = Hyperparams(self.declared_params(), {}, owner=self.name)
        hp = hp.replace(arch=next(iter(self.networks))).replace(**self.defaults).replace(**overrides)
        if hp.arch not in self.networks:
            raise ConfigError(f"{self.name} has no architecture {hp.arch!r} (--arch): choose "
                              f"{', '.join(self.networks)}")
        return hp

    # -- networks --------------------------------------------------------------------------
    def architecture(self, hp: Hyperparams | None = None) -> Networks:
        hp = hp or self.hyperparams()
        return self.networks[hp.arch]

    def check_shape(self, image_shape, hp: Hyperparams | None = None) -> None:
        """ConfigError unless this model has networks for ``image_shape`` (in the chosen architecture)."""
        self._builder("generators", image_shape, hp)
        self._builder("discriminators", image_shape, hp)

    def _builder(self, which, image_shape, hp):
        hp = hp or self.hyperparams()
        table = getattr(self.architecture(hp), which)
        shape = tuple(int(d) for d in image_shape)
        if shape not in table:
            shapes = ", ".join(_shape_text(s) for s in sorted(table))
            others = [a for a, n in self.networks.items() if a != hp.arch and shape in getattr(n, which)]
            ways = [f"--arch {others[0]} has it"] if others else []
            sizes = [str(s[0]) for s in sorted(table) if s[0] == s[1] and s[2] == shape[-1] and s != shape]
            if sizes and shape[-1] == 3:   # a colour dataset can be trained at another size
                ways.append(f"--image-size {'|'.join(sizes)} trains the images at that size")
            hint = "; " + ", or ".join(ways) if ways else ""
            raise ConfigError(f"{self.name} ({hp.arch} architecture) has no {which[:-1]} for images of shape "
                              f"{_shape_text(shape)} (its shapes: {shapes}){hint}")
        return table[shape]

    def build_generator(self, image_shape, hp: Hyperparams | None = None) -> keras.Model:
        hp = hp or self.hyperparams()
        extra = {name: getattr(hp, name) for name in self.architecture(hp).generator_params}
        return self._builder("generators", image_shape, hp)(frozen_bn=hp.get("frozen_bn", "batch"),
                                                            latent_dim=hp.latent_dim, **extra)

    def build_discriminator(self, image_shape, hp: Hyperparams | None = None) -> keras.Model:
        hp = hp or self.hyperparams()
        extra = {name: getattr(hp, name) for name in self.architecture(hp).discriminator_params}
        return self._builder("discriminators", image_shape, hp)(frozen_bn=hp.get("frozen_bn", "batch"), **extra)
