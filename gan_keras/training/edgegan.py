"""EDGEGAN's training step (seed 000, Song & Kim 2023, eq. 3): DCGAN's losses plus an edge loss.

Equation (3) as printed::

    min_G max_D  E_x[ log D(x) + sum (G(z) - x)^2 ] + E_z[ log(1 - D(G(z))) ]

while the text calls the added term "the edge difference values between real and generated images".
We implement the text: the squared difference between the *edge maps* of G(z) and of x
(``edge_loss="edges"``, the default), and offer the printed pixel form (``edge_loss="pixels"``) and
no added term (``"off"``, for the ablation).

Which loss gets the term, and why: the term does not depend on D, so inside ``max_D`` its gradient
with respect to D's weights is zero; D's loss is therefore exactly DCGAN's and the term enters only
G's loss (``min_G``), weighted by ``edge_weight`` (1 as printed). The paper's claim that the term
"slows down the learning speed of the Discriminator" can only hold through G: a G that also matches
edges gives D harder fakes. The term is logged (``edge``) in every form, with weight 0 when off, so
the ablation runs can be compared on it.

Choices eq. (3) leaves open, made here:

* pairing: the i-th generated image is compared with the i-th image of the iteration's real batch
  (both are random draws, so this is a random pairing, as ``G(z) - x`` in one expectation implies);
* size: summed over the pixels of an image (eq. 3's sum), averaged over the batch;
* edge map: the magnitude of the Sobel gradient of the luminance (ITU-R BT.601 weights for colour,
  the image itself for greyscale), with the kernels divided by 8 so that a map value is a
  derivative in image units per pixel (a step of height h gives h / 2 on both sides of it),
  symmetric padding (no false edges at the border), and sqrt(gx^2 + gy^2 + 1e-6) so the gradient
  is finite on flat regions.

The rest is DCGAN's, as the stacked engine trains it, so that EDGEGAN with every technique off is
the DCGAN baseline: BCE with labels 1 (real) and 0 (fake); D's fakes come from G in inference mode
(Keras-GAN's ``generator.predict``); D sees the real and the fake batch in separate calls (its
BatchNorm normalises each batch on its own); G's loss is the non-saturating -log D(G(z)). Unlike the
stacked engine, D makes one Adam step on the mean of its real and fake losses (keras.io's DCGAN),
not two, and G's update calls D in training mode, which also moves D's BatchNorm averages.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from gan_keras.hparams import HParam
from gan_keras.training.logspec import D_ACC, D_LOSS, G_LOSS, LOSSES_PLOT, LogSpec, LogValue, Plot
from gan_keras.training.losses import LOSSES, bce
from gan_keras.training.train_step import GANTrainStep

EDGE_FORMS = ("edges", "pixels", "off")
LUMA = (0.299, 0.587, 0.114)          # ITU-R BT.601
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8.0
EDGE_EPSILON = 1e-6


def luminance(images):
    """(B, H, W, 1): the image itself for one channel, BT.601 luminance for RGB."""
    channels = images.shape[-1]
    if channels == 1:
        return images
    if channels == 3:
        return ops.sum(images * ops.convert_to_tensor(np.array(LUMA, np.float32)), axis=-1, keepdims=True)
    raise ValueError(f"edge maps need 1 or 3 channels, got {channels}")


def sobel_edges(images):
    """(B, H, W): the Sobel gradient magnitude of each image's luminance (see the module docstring)."""
    lum = luminance(ops.convert_to_tensor(images, "float32"))
    padded = ops.pad(lum, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric")
    kernel = np.stack([SOBEL_X, SOBEL_X.T], axis=-1)[:, :, None, :]    # (3, 3, 1, 2): d/dx, d/dy
    gradients = ops.conv(padded, ops.convert_to_tensor(kernel), padding="valid")
    return ops.sqrt(ops.sum(ops.square(gradients), axis=-1) + EDGE_EPSILON)


def edge_distance(fake, real, form="edges"):
    """Eq. (3)'s added term, averaged over the batch: sum over an image's pixels of the squared
    difference of the edge maps (``form="edges"``) or of the pixels themselves (``"pixels"``, the
    printed form)."""
    if form == "pixels":
        return ops.mean(ops.sum(ops.square(fake - real), axis=(1, 2, 3)))
    return ops.mean(ops.sum(ops.square(sobel_edges(fake) - sobel_edges(real)), axis=(1, 2)))


JSD = LOSSES["bce"].divergence


class EdgeGANStep(GANTrainStep):
    PARAMS = (
        HParam("edge_loss", "edges", "EDGEGAN's added term (eq. 3): squared difference of the Sobel edge maps "
               "of G(z) and x (edges), of the images as printed (pixels), or none (off)", "choice", EDGE_FORMS),
        HParam("edge_weight", 1.0, "weight of EDGEGAN's edge term in G's loss (eq. 3: 1)", "positive_float"),
    )
    LOG = LogSpec(
        values=(D_LOSS, D_ACC, G_LOSS, JSD,
                LogValue("edge", "edge", "eq. 3's term, unweighted: sum (E(G(z)) - E(x))^2 of edge maps "
                                         "(--edge-loss pixels: of the pixels)")),
        divergence=JSD.name,
        plots=(LOSSES_PLOT,
               Plot("divergence.png", "divergence", (JSD.name,), "divergence",
                    hlines=LOSSES["bce"].reference_lines),
               Plot("edge_loss.png", "edge term of eq. (3)", ("edge",), "sum of squared differences")),
    )
    DECISION_THRESHOLD = LOSSES["bce"].decision_threshold
    REPLICABLE = True  # draws through noise and GANDropout; no state from one replica's losses

    def train_step(self, data):
        real_batches, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = real_batches[0]
        batch_size = ops.shape(real)[0]
        form = self.hp.edge_loss

        # 1. D learns: real -> 1, G(z) -> 0 (G in inference mode, as generator.predict).
        fake = ops.stop_gradient(self.generator(self.noise(batch_size), training=False))

        def discriminator_loss():
            p_real = self.discriminator(self.augment(real), training=True)
            p_fake = self.discriminator(self.augment(fake), training=True)
            return {"d_loss": 0.5 * (bce(p_real, 1.0) + bce(p_fake, 0.0)), "p_real": p_real, "p_fake": p_fake}

        d = self.minimize(discriminator_loss, d_loss=(self.discriminator, self.d_optimizer))

        # 2. G learns: fool D (non-saturating), plus eq. (3)'s term against the same real batch.
        def generator_loss():
            fake = self.generator(self.noise(batch_size), training=True)
            g_adv = bce(self.discriminator(self.augment(fake), training=True), 1.0)
            edge = edge_distance(fake, real, "pixels" if form == "pixels" else "edges")
            return {"g_loss": g_adv + self.hp.edge_weight * edge if form != "off" else g_adv, "edge": edge}

        g = self.minimize(generator_loss, g_loss=(self.generator, self.g_optimizer))

        # 3. The log.
        d_acc = 0.5 * (ops.mean(ops.cast(d["p_real"] > 0.5, "float32")) +
                       ops.mean(ops.cast(d["p_fake"] <= 0.5, "float32")))
        return self.record(d_loss=d["d_loss"], d_acc=d_acc, g_loss=g["g_loss"], divergence=math.log(2.0) - d["d_loss"],
                           edge=g["edge"])
