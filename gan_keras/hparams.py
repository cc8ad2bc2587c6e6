"""Hyperparameters: each one declared once, next to the code that reads it.

A declaration (``HParam``) holds the name, the default, the help text and the check of one
hyperparameter. The shared ones are below (every model reads them); an engine declares its own in
its module (e.g. weight clipping in ``training/stacked.py``), and a model with its own training step
in its step module (e.g. the gradient penalty in ``training/wgangp.py``). A ``ModelSpec`` collects
the declarations that apply to it; from them

* ``ModelSpec.hyperparams(**overrides)`` builds a :class:`Hyperparams` (the model's published
  differences, then the overrides), refusing a name that does not apply to the model or a value
  that fails its check with one line, and
* the command line makes one flag per declaration (``--gp-weight`` for ``gp_weight``), with the
  models that use it in its help (``gan_keras.cli.train``).

So adding a hyperparameter means adding one ``HParam`` where it is read; nothing else changes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gan_keras.errors import ConfigError

KINDS = ("positive_int", "positive_float", "optional_positive_float", "fraction", "unit_interval", "choice",
         "flag", "subset")


@dataclass(frozen=True)
class HParam:
    """One hyperparameter.

    Attributes:
        name: the Python name (``gp_weight``); the flag is ``--gp-weight``.
        default: the value when neither the model nor the user sets it.
        help: one line for ``-h``.
        kind: how a value is checked: ``positive_int``, ``positive_float``,
            ``optional_positive_float`` (None = off), ``fraction`` ([0, 1): Adam's betas),
            ``unit_interval`` ([0, 1]: BEGAN's k_0), ``choice``, ``flag``, or
            ``subset`` (a comma-separated subset of ``choices``, or "none"; see ``_check_subset``).
        choices: the allowed values of a ``choice`` (empty: the model decides, e.g. ``arch``), or the
            items of a ``subset`` in their canonical order.
    """

    name: str
    default: Any
    help: str
    kind: str
    choices: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"HParam {self.name}: unknown kind {self.kind!r}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str):
        """A command-line string as a checked value (ValueError with a one-line reason)."""
        if self.kind == "positive_int":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"must be a positive integer, got {text!r}") from None
        elif self.kind in ("positive_float", "optional_positive_float", "fraction", "unit_interval"):
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"must be a number, got {text!r}") from None
        else:
            value = text
        try:
            return self.check(value)
        except ConfigError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None

    def check(self, value):
        """``value`` if it is valid for this hyperparameter, else ConfigError naming the flag."""
        def bad(what):
            return ConfigError(f"{self.flag} ({self.name}): must be {what}, got {value!r}")

        kind = self.kind
        if kind == "flag":
            if not isinstance(value, bool):
                raise bad("true or false")
            return value
        if kind == "choice":
            if self.choices and value not in self.choices:
                raise bad("one of " + ", ".join(map(str, self.choices)))
            if not isinstance(value, str):
                raise bad("a name")
            return value
        if kind == "subset":
            return self._check_subset(value)
        if kind == "optional_positive_float" and value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        if kind == "positive_int":
            if int(value) != value or value < 1:
                raise bad("a positive integer")
            return int(value)
        value = float(value)
        if kind == "fraction":
            if not 0.0 <= value < 1.0:
                raise bad("in [0, 1)")
            return value
        if kind == "unit_interval":
            if not 0.0 <= value <= 1.0:
                raise bad("in [0, 1]")
            return value
        if not (0.0 < value < math.inf):
            raise bad("a positive number")
        return value

    def _check_subset(self, value) -> str:
        """A ``subset`` value as its canonical string: the items in ``choices`` order, joined by
        commas ("translation,color" -> "color,translation"); "none" for "none" or nothing. Takes a
        string ("color, cutout", any case) or a list of items; repeats are dropped."""
        allowed = ", ".join(self.choices)

        def bad(what):
            return ConfigError(f"{self.flag} ({self.name}): {what}; choose a comma-separated subset of "
                               f"{allowed}, or none")

        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            items = list(value)
        else:
            raise bad(f"got {value!r}")
        items = [item.strip().lower() for item in items if item.strip()]
        if not items or items == ["none"]:
            return "none"
        for item in items:
            if item not in self.choices:
                raise bad("'none' cannot be combined with other items" if item == "none"
                          else f"unknown item {item!r}")
        return ",".join(c for c in self.choices if c in items)


@dataclass(frozen=True)
class Alias:
    """A flag that sets several hyperparameters at once (``--lr`` sets ``d_lr`` and ``g_lr``)."""

    name: str
    targets: tuple[str, ...]
    help: str


# -- the hyperparameters every model reads ---------------------------------------------------------
# REFERENCE.md's conventions are the defaults; a model states only its published differences.
COMMON = (
    HParam("latent_dim", 100, "size of z", "positive_int"),
    HParam("latent", "normal", "distribution of z: normal N(0, 1) (the dissertation's) or uniform U[-1, 1] "
           "(BEGAN's)", "choice", ("normal", "uniform")),
    HParam("optimizer", "adam", "optimizer of both networks (rmsprop: Keras 2.2's update, epsilon outside the "
           "square root; sgd: plain SGD, for experiments and equivalence tests)",
           "choice", ("adam", "rmsprop", "sgd")),
    HParam("d_lr", 2e-4, "discriminator/critic learning rate", "positive_float"),
    HParam("g_lr", 2e-4, "generator learning rate", "positive_float"),
    HParam("beta_1", 0.5, "Adam beta_1", "fraction"),
    HParam("beta_2", 0.999, "Adam beta_2", "fraction"),
    HParam("optimizer_epsilon", 1e-7, "epsilon of Adam and RMSprop (Keras' and Keras 2.2's 1e-7; seed 001's "
           "BEGAN family: 1e-8)", "positive_float"),
    HParam("arch", "dissertation", "which published networks to build: the dissertation's layer tables, seed "
           "002's (the DCGAN paper's: radford), seed 001's (began, began-cs, began-v3) or seed 003's (seed003); "
           "each model has some of them (another is refused, naming its own)", "choice"),
    # Read by training/augment.py, the stacked engine and every GANTrainStep (its ``augment``).
    HParam("diffaugment", "none", "DiffAugment (Zhao et al. 2020): the same random differentiable augmentation "
           "of every real and fake image D sees, a comma-separated subset of color, translation, cutout "
           "(applied in that order), or none", "subset", ("color", "translation", "cutout")),
    # Read by training/engine.py: how an iteration runs (training/compiled.py). Part of a run's
    # identity: the two engines compute the same iteration, but not bit for bit the same.
    HParam("engine", "stacked", "stacked: the dissertation's Keras train_on_batch calls from Python (the "
           "reference); compiled: a whole iteration as one compiled TensorFlow function with the data on the "
           "device (the same arithmetic, faster)", "choice", ("stacked", "compiled")),
    HParam("jit", False, "compile the compiled engine's iteration with XLA (--engine compiled)", "flag"),
    # Read by training/engine.py (models/upsampled_conv.py): both forms compute the published network.
    HParam("upsampled_conv", "grouped", "how a convolution right after a nearest x2 UpSampling2D is computed: "
           "grouped (the same function on the small map, 2.25x (3x3) to 2.8x (5x5) fewer multiply-adds) or "
           "literal (Conv2D over the upsampled map, as Keras computed it)", "choice", ("grouped", "literal")),
    # Read by training/precision.py: the networks compute in bfloat16 or float16 with float32 weights;
    # their last layers (and so every loss) stay float32; float16 trains with loss scaling.
    HParam("mixed_precision", "off", "mixed precision for GPUs: bf16 or fp16 (with loss scaling) compute, "
           "float32 weights, float32 last layers and losses; off: float32 throughout", "choice",
           ("off", "bf16", "fp16")),
)
ALIASES = (Alias("lr", ("d_lr", "g_lr"), "learning rate of both networks"),)

# Read by the stacked engine and by WGAN-GP's step (declared here once, listed in both PARAMS).
CRITIC_STEPS = HParam("critic_steps", 1, "discriminator updates per iteration", "positive_int")


def declared_where(param: HParam) -> str:
    """Where ``param`` is declared, for an error message: "gan_keras.hparams.CRITIC_STEPS",
    "an entry of gan_keras.training.wgangp.WGANGP.PARAMS", or "its first declaration"."""
    import sys

    for module_name, module in sorted(sys.modules.items()):
        if module_name.startswith("gan_keras") and module is not None:
            for attribute, value in vars(module).items():
                if value is param and attribute.isupper():
                    return f"{module_name}.{attribute}"
                if isinstance(value, type) and value.__module__ == module_name and \
                        any(p is param for p in getattr(value, "PARAMS", ())):
                    return f"an entry of {module_name}.{attribute}.PARAMS"
    return "its first declaration"


def twice_declared(name: str, first: HParam, where: str) -> ValueError:
    """The error for two declarations of one name (the command line has one flag per name)."""
    return ValueError(f"hyperparameter {name} is declared twice ({where}): one flag per name, so a model that "
                      f"reads {name} lists the existing declaration ({declared_where(first)}) in its PARAMS "
                      f"instead of declaring its own")


class Hyperparams:
    """The hyperparameter values of one run: read-only attributes (``hp.d_lr``), one per declaration.

    ``replace(**changes)`` returns a new object; a name that is not declared for this model raises
    ConfigError (``--gp-weight does not apply to DCGAN``) instead of being ignored.
    """

    def __init__(self, declared: dict[str, HParam], values: dict, owner: str = "this model"):
        object.__setattr__(self, "_declared", dict(declared))
        object.__setattr__(self, "_values", {n: values.get(n, p.default) for n, p in declared.items()})
        object.__setattr__(self, "_owner", owner)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self._owner} has no hyperparameter {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError("Hyperparams are read-only: use replace(...)")

    def __eq__(self, other):
        return isinstance(other, Hyperparams) and self._values == other._values

    def __repr__(self):
        return "Hyperparams(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def get(self, name, default=None):
        return self._values.get(name, default)

    def replace(self, **changes) -> "Hyperparams":
        unknown = sorted(set(changes) - set(self._declared))
        if unknown:
            names = ", ".join("--" + n.replace("_", "-") for n in unknown)
            flags = [a.name for a in ALIASES if set(a.targets) <= set(self._declared)] + list(self._declared)
            raise ConfigError(f"{names} does not apply to {self._owner} (its flags: "
                              f"{', '.join('--' + n.replace('_', '-') for n in flags)})")
        checked = {name: self._declared[name].check(value) for name, value in changes.items()}
        return Hyperparams(self._declared, {**self._values, **checked}, self._owner)

    def to_dict(self) -> dict:
        return dict(self._values)


def draw_latent(rng, shape, kind: str = "normal", float64_normal: bool = False):
    """z of ``shape`` from a NumPy generator, float32: N(0, 1) or U[-1, 1] (``kind``, the ``latent``
    hyperparameter). ``float64_normal`` draws the normal in float64 and casts it, as the fixed sample
    noise and the evaluation noise always have (so their streams stay what they were)."""
    import numpy as np

    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    if kind != "normal":
        raise ConfigError(f"unknown latent distribution {kind!r}: choose normal or uniform")
    if float64_normal:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.standard_normal(shape, dtype=np.float32)


def make_optimizer(hp: Hyperparams, which: str):
    """A fresh optimizer for "d" or "g" from the shared hyperparameters.

    ``rmsprop`` is ``training/optimizers.RMSprop``, the Keras 2.2 update (epsilon outside the square
    root) that the dissertation's WGAN trained with, not Keras 3's: see that module."""
    import keras

    from gan_keras.training.optimizers import RMSprop

    lr = hp.d_lr if which == "d" else hp.g_lr
    if hp.optimizer == "adam":
        optimizer = keras.optimizers.Adam(lr, beta_1=hp.beta_1, beta_2=hp.beta_2, epsilon=hp.optimizer_epsilon)
    elif hp.optimizer == "rmsprop":
        optimizer = RMSprop(lr, epsilon=hp.optimizer_epsilon)
    elif hp.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(lr)
    else:
        raise ConfigError(f"unknown optimizer {hp.optimizer!r}: choose adam, rmsprop or sgd")
    if hp.get("mixed_precision") == "fp16":  # float16 gradients underflow without loss scaling
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
