"""WGAN-GP's training step (keras.io style): the critic learns with a gradient penalty.

The gradient penalty needs the critic's gradient with respect to its *input*, which a stacked
``train_on_batch`` model cannot express, so WGAN-GP has its own ``train_step`` (trained by the
shared ``TrainStepEngine``). One ``train_step`` is one iteration: ``critic_steps`` critic updates,
each on its own real batch (the batches arrive stacked as (critic_steps, B, H, W, C)), then one
generator update. Losses follow Keras-GAN's signs: critic loss = E[f(G(z))] - E[f(x)] + lambda * GP,
generator loss = -E[f(G(z))].

G runs in training mode in the critic updates too (batch statistics), and its BatchNorm moving
statistics are updated there as well as in G's update: 1 + critic_steps times per iteration. So
did Keras-GAN's ``wgan_gp.py`` under Keras 2.2: G was frozen while the critic model was built,
but Keras 2.2 collects a model's BatchNorm updates when its train function is first made, on the
first ``train_on_batch``, by which time G was trainable again. Only inference-mode outputs (the
samples, the FID) read the moving statistics.

With DiffAugment (``--diffaugment``) the critic sees only T(x) and T(G(z)) (``self.augment``, new
draws for each batch): its scores, the gradient penalty on interpolates eps T(x) + (1 - eps) T(G(z))
(the critic's inputs, where its Lipschitz constraint matters) and G's loss -E[f(T(G(z)))].

``--critic-call joint`` scores the real and the fake batch in one critic call of 2B images instead
of two calls of B (Keras-GAN's critic model made one call per input). For a critic without layers
that mix the images of a batch (WGAN-GP's has none: no BatchNorm) it is the same update in
distribution, with the same arithmetic in bigger kernels (1.06x faster in bf16 and 1.04x in float32
on an H100, benchmarks/results/gpu_jax_40k). Not in its numbers: the critic's Dropout draws one mask
for the 2B images instead of one per batch (each image still gets its own), which shifts the seed
stream, and sums run in another order. So the default stays ``separate``, the published form, and
earlier runs resume bit-identically. Only BatchNorm is detected and refused; a critic with another
layer that mixes a batch's images (a minibatch statistic) needs ``separate``.
"""
from __future__ import annotations

import keras
from keras import ops

from gan_keras.errors import ConfigError
from gan_keras.hparams import CRITIC_STEPS, HParam
from gan_keras.training.autodiff import input_gradient
from gan_keras.training.base import batch_norm_layers
from gan_keras.training.d_f1 import MIDPOINT
from gan_keras.training.distribute import replica_slice
from gan_keras.training.logspec import D_LOSS, G_LOSS, LOSSES_PLOT, LogSpec, LogValue, Plot
from gan_keras.training.train_step import GANTrainStep

GP_FORMS = ("two-sided", "one-sided")
CRITIC_CALLS = ("separate", "joint")


def gradient_penalty(critic, real, fake, epsilon, form="two-sided"):
    """The penalty on x_hat = eps * real + (1 - eps) * fake, averaged over images.

    ``form``: "two-sided" (Gulrajani et al., Keras-GAN, the default): (||grad f(x_hat)||_2 - 1)^2;
    "one-sided" (equation 2-13 as the dissertation prints it): max(0, ||grad f(x_hat)||_2 - 1).
    ``epsilon`` has shape (B, 1, 1, 1): one uniform weight per image.
    """
    real, fake, epsilon = (ops.convert_to_tensor(t, "float32") for t in (real, fake, epsilon))
    interpolated = epsilon * real + (1.0 - epsilon) * fake
    grads = input_gradient(lambda x: critic(x, training=True), interpolated)
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=tuple(range(1, len(grads.shape)))) + 1e-12)
    if form == "one-sided":
        return ops.mean(ops.relu(norms - 1.0))
    return ops.mean(ops.square(norms - 1.0))


class WGANGP(GANTrainStep):
    PARAMS = (
        CRITIC_STEPS,
        HParam("gp_weight", 10.0, "gradient penalty lambda", "positive_float"),
        HParam("gp_form", "two-sided", "gradient penalty: two-sided (||g||-1)^2 as Gulrajani et al. and "
               "Keras-GAN, or one-sided max(0, ||g||-1) as printed in equation 2-13", "choice", GP_FORMS),
        HParam("critic_call", "separate", "the critic scores the real and the fake batch in two calls (separate, "
               "as Keras-GAN) or in one call of both (joint: the same update in distribution, bigger kernels; "
               "not with BatchNorm)",
               "choice", CRITIC_CALLS),
    )
    LOG = LogSpec(
        values=(D_LOSS, G_LOSS,
                LogValue("divergence", "W", "Wasserstein estimate E[f(x)] - E[f(G(z))]"),
                LogValue("gp", "GP", "gradient penalty (before lambda)", progress=False)),
        divergence="divergence",
        plots=(LOSSES_PLOT, Plot("divergence.png", "divergence", ("divergence",), "divergence"),
               Plot("gradient_penalty.png", "gradient penalty", ("gp",), "penalty")),
    )
    DECISION_THRESHOLD = MIDPOINT  # a critic's scores have no fixed zero (training/d_f1.py)
    REPLICABLE = True  # draws through noise / replica_slice (epsilon); tests/test_mirrored.py

    def __init__(self, generator, discriminator, hp, **kwargs):
        super().__init__(generator, discriminator, hp, **kwargs)
        mixing = [layer.name for layer in batch_norm_layers(discriminator)]
        if hp.critic_call == "joint" and mixing:
            raise ConfigError(f"--critic-call joint needs a critic whose images do not meet in a batch "
                              f"statistic, and this one has BatchNorm ({', '.join(mixing)}): use "
                              f"--critic-call separate")

    def real_batches_per_step(self):
        return self.hp.critic_steps

    def critic_scores(self, seen_real, seen_fake):
        """The critic's mean score of the real and of the fake batch (``critic_call``: two calls or one)."""
        if self.hp.critic_call == "joint":
            scores = self.discriminator(ops.concatenate([seen_real, seen_fake], axis=0), training=True)
            n = ops.shape(seen_real)[0]
            return ops.mean(scores[:n]), ops.mean(scores[n:])
        return (ops.mean(self.discriminator(seen_real, training=True)),
                ops.mean(self.discriminator(seen_fake, training=True)))

    def train_step(self, data):
        real_batches, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        # 1. critic_steps critic updates, each on its own real batch and fresh noise and epsilon.
        for step in range(self.hp.critic_steps):
            real = real_batches[step]
            batch_size = ops.shape(real)[0]
            epsilon = replica_slice(lambda n: keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator),
                                    batch_size)

            def critic_loss():
                fake = self.generator(self.noise(batch_size), training=True)
                seen_real, seen_fake = self.augment(real), self.augment(fake)  # DiffAugment (or themselves)
                real_score, fake_score = self.critic_scores(seen_real, seen_fake)
                gp = gradient_penalty(self.discriminator, seen_real, seen_fake, epsilon, self.hp.gp_form)
                return {"d_loss": fake_score - real_score + self.hp.gp_weight * gp,
                        "divergence": real_score - fake_score, "gp": gp}

            critic = self.minimize(critic_loss, d_loss=(self.discriminator, self.d_optimizer))

        # 2. One generator update: push the critic's score of G(z) up.
        def generator_loss():
            fake = self.augment(self.generator(self.noise(batch_size), training=True))
            return {"g_loss": -ops.mean(self.discriminator(fake, training=True))}

        generator = self.minimize(generator_loss, g_loss=(self.generator, self.g_optimizer))

        # 3. The last critic update's values.
        return self.record(d_loss=critic["d_loss"], g_loss=generator["g_loss"], divergence=critic["divergence"],
                           gp=critic["gp"])
