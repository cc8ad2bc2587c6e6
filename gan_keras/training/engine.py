"""The interface between the training loop and a way of training a model ("engine").

The loop (``gan_keras.training.loop``) owns everything that is not model arithmetic: data
sampling, the iteration counter, logs, samples, checkpoints, resume and signals. An engine
owns the generator, the discriminator and their optimizers and performs one iteration. The
builders never know which engine trains them, so a faster engine (e.g. one compiled
``train_step`` for the stacked models) can be added later without touching them: register it in
``ENGINES`` and name it in a ModelSpec.
"""
from __future__ import annotations

from typing import Callable, Protocol

import keras
import numpy as np


class Engine(Protocol):
    generator: keras.Model
    discriminator: keras.Model

    def train_iteration(self, draw_real: Callable[[], np.ndarray], rng: np.random.Generator) -> dict:
        """One iteration; ``draw_real()`` returns a fresh float32 batch in [-1, 1].

        Returns the iteration's log values: d_loss, g_loss, divergence, and d_acc where defined.
        """

    def optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """Named optimizers whose state must be saved to resume."""

    def state_variables(self) -> list:
        """Every variable that must be restored to resume exactly (in a fixed order)."""


def build_engine(spec, hp, image_shape) -> Engine:
    from gan_keras.training.stacked import StackedEngine
    from gan_keras.training.wgangp import WGANGPEngine

    engines = {"stacked": StackedEngine, "wgangp": WGANGPEngine}
    return engines[spec.engine](spec, hp, image_shape)


def all_variables(*objects) -> list:
    """Variables of models/optimizers, deduplicated by identity, in a stable order."""
    seen, out = set(), []
    for obj in objects:
        for v in obj.variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out
