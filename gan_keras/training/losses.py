"""The adversarial losses as a table, read by the stacked engine.

Each row says everything the dissertation's ``train_on_batch`` training needs to know about a loss:
the Keras loss that D and the stacked model compile with, the labels of real and fake batches, what
D's mean loss estimates (the "divergence" the dissertation plots), whether accuracy means anything,
the output activation D must have, and D's decision threshold (used by the discriminator's F1).

=============  ==========================  ==============  ======================================
row            loss(y, D(x))               labels r / f    divergence estimated by d_loss
=============  ==========================  ==============  ======================================
bce            binary cross-entropy        1 / 0           JSD = log 2 - d_loss
wasserstein    mean(y * D(x))  (eq. 3-1)   -1 / +1         W = E[f(x)] - E[f(G(z))]
least_squares  mean((y - D(x))^2)          1 / 0           triangular discrimination = 2 - 8 d_loss
=============  ==========================  ==============  ======================================

d_loss is D's mean loss over its real and its fake batch. The closed forms come from the optimal
discriminator: for BCE, V(D*, G) = -2 log 2 + 2 JSD; for least squares with targets 1/0,
D*(x) = p/(p+q) and d_loss* = (1/2) integral pq/(p+q) = 1/4 - Delta/8 with Delta the triangular
discrimination integral (p-q)^2/(p+q), in [0, 2] (0 iff p = q).

A new loss that several models share is one more row; a loss only one model uses can stay in that
model's module: its ``ModelSpec(loss=AdversarialLoss(...))`` takes the row itself. Either way the
stacked engine trains G with the row's Keras loss against ``real_label`` (the non-saturating form:
G's loss is D's loss on its fakes labelled real); a G loss of another form needs a train step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import keras
from keras import ops

from gan_keras.errors import ConfigError

from gan_keras.training.d_f1 import MIDPOINT
from gan_keras.training.logspec import LogValue


@keras.saving.register_keras_serializable(package="gan_keras")
def wasserstein_loss(y_true, y_pred):
    """Equation (3-1): mean(y_true * y_pred), with Keras-GAN's labels real -1 / fake +1.

    Minimising it over a real batch pushes the critic's output up, over a fake batch down;
    the generator, trained through the stacked model with "real" labels, pushes f(G(z)) up.

    Returned per image (Keras then takes the batch mean, as Keras-GAN's K.mean did): Keras
    divides a per-image loss by the *global* batch size under a distribution strategy, but
    leaves a scalar as it is, so a scalar here made each of N replicas' gradients a full
    batch's and N devices stepped N times as far as one.
    """
    return ops.mean(y_true * y_pred, axis=-1)


def bce(probabilities, label: float):
    """Mean binary cross-entropy of D's probabilities against one label, as the ``bce`` row's Keras
    loss computes it (its clipping included): for a train step written with the ``bce`` row."""
    return ops.mean(keras.losses.binary_crossentropy(ops.full_like(probabilities, label), probabilities))


def js_divergence_estimate(d_loss: float) -> float:
    """JSD estimate from the discriminator's mean BCE over its real and fake batch.

    At the optimal discriminator V(D*, G) = -2 log 2 + 2 JSD and V = -2 * d_loss, so
    JSD ~= log 2 - d_loss (the project's reference numbers, ``shared/spec/REFERENCE.md``).
    """
    return math.log(2.0) - d_loss


def wasserstein_estimate(critic_real_mean: float, critic_fake_mean: float) -> float:
    """E[f(x)] - E[f(G(z))]: the critic's estimate of the Wasserstein distance."""
    return critic_real_mean - critic_fake_mean


def triangular_estimate(d_loss: float) -> float:
    """Triangular discrimination integral (p-q)^2/(p+q) from an LSGAN D's mean MSE (targets 1 / 0).

    At the optimal D, d_loss = 1/4 - Delta/8, so Delta ~= 2 - 8 d_loss: 0 when D cannot tell real
    from fake (it outputs 1/2 everywhere), 2 when it separates them perfectly.
    """
    return 2.0 - 8.0 * d_loss


@dataclass(frozen=True)
class AdversarialLoss:
    """One row of the table.

    Attributes:
        keras_loss: what D and the stacked model are compiled with.
        real_label / fake_label: the targets of real and fake batches (G trains with real_label).
        accuracy: D outputs a probability, so its accuracy is logged (``d_acc``).
        output_activation: the activation D's last layer must have.
        decision_threshold: D's output above which an image is called real (F1, precision, recall):
            the midpoint of the two targets in D's output space (0.5 for 1/0 targets), or
            ``d_f1.MIDPOINT`` for the Wasserstein critic, whose loss ignores a constant added to its
            output (halfway between the classified batches' mean scores; training/d_f1.py).
        divergence: how the log's ``divergence`` column is described.
        estimate: (mean D loss on the real batch, on the fake batch) -> the divergence estimate.
        reference_lines: (y, label) drawn on the divergence plot.
    """

    name: str
    keras_loss: str | Callable
    real_label: float
    fake_label: float
    accuracy: bool
    output_activation: str
    decision_threshold: float | str
    divergence: LogValue
    estimate: Callable[[float, float], float]
    reference_lines: tuple = ()


LOSSES: dict[str, AdversarialLoss] = {
    "bce": AdversarialLoss(
        name="bce", keras_loss="binary_crossentropy", real_label=1.0, fake_label=0.0, accuracy=True,
        output_activation="sigmoid", decision_threshold=0.5,
        divergence=LogValue("divergence", "JSD", "JS divergence estimate (log 2 - D loss, a lower bound)"),
        estimate=lambda real, fake: js_divergence_estimate(0.5 * (real + fake)),
        reference_lines=((math.log(2.0), "log 2 (maximum)"), (0.0, "0 (P = Q, for the optimal D)")),
    ),
    "wasserstein": AdversarialLoss(
        # Keras-GAN signs: loss on a real batch = -E[f(x)], on a fake batch = E[f(G(z))].
        name="wasserstein", keras_loss=wasserstein_loss, real_label=-1.0, fake_label=1.0, accuracy=False,
        output_activation="linear", decision_threshold=MIDPOINT,
        divergence=LogValue("divergence", "W", "Wasserstein estimate E[f(x)] - E[f(G(z))]"),
        estimate=lambda real, fake: wasserstein_estimate(-real, fake),
    ),
    "least_squares": AdversarialLoss(
        # Mao et al. (2016) with a = 0, b = c = 1, as seed 002. Keras' MSE has no 1/2 factor: d_loss,
        # the mean of the real and the fake batch's MSE, is Mao's V_D with its 1/2s, and g_loss is
        # 2 V_G. The factor only scales G's gradients, which Adam undoes up to its epsilon.
        name="least_squares", keras_loss="mean_squared_error", real_label=1.0, fake_label=0.0, accuracy=False,
        output_activation="linear", decision_threshold=0.5,
        divergence=LogValue("divergence", "TD", "triangular discrimination estimate (2 - 8 D loss, a lower bound)"),
        estimate=lambda real, fake: triangular_estimate(0.5 * (real + fake)),
        reference_lines=((2.0, "2 (maximum)"), (0.0, "0 (P = Q, for the optimal D)")),
    ),
}


def output_activation(model) -> str | None:
    """The activation of ``model``'s last layer that has one (a Dense, a convolution, an
    Activation; inside nested models and wrappers such as ``keras.layers.SpectralNormalization``
    too), by name: "sigmoid", "linear", ...; None if no layer has one."""
    for layer in reversed(model.layers):
        while isinstance(layer, keras.layers.Wrapper):  # SpectralNormalization(Dense(1, "sigmoid"))
            layer = layer.layer
        if isinstance(layer, keras.Model):
            found = output_activation(layer)
        else:
            found = getattr(getattr(layer, "activation", None), "__name__", None)
        if found is not None:
            return found
    return None


def check_output_activation(discriminator, loss: AdversarialLoss, model_name: str) -> None:
    """ConfigError unless D ends in the activation the loss row needs: a sigmoid D under the
    least-squares loss (or a linear one under BCE) builds and trains, silently another model."""
    found = output_activation(discriminator)
    if found is not None and found != loss.output_activation:
        raise ConfigError(f"{model_name}: its discriminator ends in a {found} activation, but the "
                          f"{loss.name} loss needs {loss.output_activation} (losses.py)")


def get_loss(name: str | AdversarialLoss) -> AdversarialLoss:
    """A row of the table by name, or a model's own row (``ModelSpec.loss``) as it is."""
    if isinstance(name, AdversarialLoss):
        return name
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}: the table has {', '.join(LOSSES)}") from None
