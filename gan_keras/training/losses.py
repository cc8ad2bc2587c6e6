"""Losses and the divergence estimates the dissertation plots."""
from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="gan_keras")
def wasserstein_loss(y_true, y_pred):
    """Equation (3-1): mean(y_true * y_pred), with Keras-GAN's labels real -1 / fake +1.

    Minimising it over a real batch pushes the critic's output up, over a fake batch down;
    the generator, trained through the stacked model with "real" labels, pushes f(G(z)) up.
    """
    return ops.mean(y_true * y_pred)


def js_divergence_estimate(d_loss: float) -> float:
    """JSD estimate from the discriminator's mean BCE over its real and fake batch.

    At the optimal discriminator V(D*, G) = -2 log 2 + 2 JSD and V = -2 * d_loss, so
    JSD ~= log 2 - d_loss (REFERENCE.md).
    """
    return math.log(2.0) - d_loss


def wasserstein_estimate(critic_real_mean: float, critic_fake_mean: float) -> float:
    """E[f(x)] - E[f(G(z))]: the critic's estimate of the Wasserstein distance."""
    return critic_real_mean - critic_fake_mean
