"""The interface between the training loop and a way of training a model ("engine").

The loop (``gan_keras.training.loop``) owns everything that is not model arithmetic: data
sampling, the iteration counter, logs, samples, checkpoints, resume and signals. An engine owns the
generator, the discriminator and their optimizers, performs one iteration, and declares what it
logs. The builders never know which engine trains them. The engines are registered in
``gan_keras.training.engine``.
"""
from __future__ import annotations

from typing import Callable, Protocol

import keras
import numpy as np

from gan_keras.training.logspec import LogSpec


class Engine(Protocol):
    generator: keras.Model
    discriminator: keras.Model
    log_spec: LogSpec                  # what train_iteration returns, and how to show it
    decision_threshold: float | str | None  # D's output above which an image is "real" (d_f1); None: no classifier

    def train_iteration(self, draw_real: Callable[[], np.ndarray], rng: np.random.Generator) -> dict:
        """One iteration; ``draw_real()`` returns a fresh float32 batch in [-1, 1].

        Returns exactly the values declared in ``log_spec`` (floats).
        """

    def generate(self, noise: np.ndarray) -> np.ndarray:
        """G(z) in inference mode."""

    def optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """Named optimizers whose state must be saved to resume."""

    def state_variables(self) -> list:
        """Every variable that must be restored to resume exactly (in a fixed order)."""

    # Optional, each used by the loop when an engine has it:
    # - ``sample_grids(real) -> {name: images}``, images to save beside the samples from a fixed
    #   real batch (an auto-encoder discriminator's reconstructions): samples/<name>/iter_*.png;
    # - ``attach_data(images_uint8, batch_size)``: the engine draws its own batches (on the device);
    # - ``train_iterations(k) -> [logs] * k``: several iterations per call (``--fetch-every``);
    # - ``reseed(seed)``: new streams for the engine's own draws (noise, DiffAugment, batches) after a
    #   NaN rollback, whose restored checkpoint would otherwise replay the draws that diverged.


def all_variables(*objects) -> list:
    """Variables of models/optimizers, deduplicated by identity, in a stable order."""
    seen, out = set(), []
    for obj in objects:
        for v in obj.variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out


def batch_norm_layers(*models) -> list:
    """Every BatchNormalization layer of ``models``, nested ones included (the layers whose output
    depends on the other images of a batch)."""
    return [layer for model in models for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.BatchNormalization)]


def layer_seed_generators(*models) -> list:
    """The ``keras.random.SeedGenerator``s of every layer of ``models`` (Dropout, a latent mixture's
    draw, a VAE's sampling...), in a stable order."""
    return [g for model in models for layer in model._flatten_layers() for g in layer._seed_generators]


def reseed_generators(seed: int, generators) -> None:
    """Start each ``keras.random.SeedGenerator`` on a new stream of its own (``seed``, ``seed + 1``, ...)."""
    for offset, generator in enumerate(generators):
        for state in (generator.state if isinstance(generator.state, (list, tuple)) else [generator.state]):
            state.assign(np.array([(seed + offset) % 2**31, 0], dtype=str(state.dtype)))
