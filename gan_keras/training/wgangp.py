"""WGAN-GP as a ``keras.Model`` with a custom ``train_step`` (keras.io style).

The gradient penalty needs the critic's gradient with respect to its *input*, which a stacked
``train_on_batch`` model cannot express, so WGAN-GP trains through this model instead.
One ``train_step`` is one iteration: ``critic_steps`` critic updates, each on its own real batch
(the batches arrive stacked as (critic_steps, B, H, W, C)), then one generator update.
Losses follow Keras-GAN's signs: critic loss = E[f(G(z))] - E[f(x)] + lambda * GP,
generator loss = -E[f(G(z))].
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from gan_keras.models.spec import make_optimizer
from gan_keras.training.engine import all_variables


def gradient_penalty(critic, real, fake, epsilon):
    """mean over images of (||grad_x f(x_hat)||_2 - 1)^2 with x_hat = eps*real + (1-eps)*fake.

    ``epsilon`` has shape (B, 1, 1, 1): one uniform weight per image (equation 2-13).
    """
    real, fake, epsilon = (tf.convert_to_tensor(t, tf.float32) for t in (real, fake, epsilon))
    interpolated = epsilon * real + (1.0 - epsilon) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated, training=True)
    grads = tape.gradient(scores, interpolated)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, len(grads.shape)))) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


class WGANGP(keras.Model):
    def __init__(self, generator, critic, latent_dim=100, critic_steps=5, gp_weight=10.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.latent_dim = latent_dim
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.gp_tracker = keras.metrics.Mean(name="gp")
        self.wasserstein_tracker = keras.metrics.Mean(name="wasserstein")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.gp_tracker, self.wasserstein_tracker]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def _noise(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def train_step(self, data):
        real_batches, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        for step in range(self.critic_steps):
            real = real_batches[step]
            batch_size = tf.shape(real)[0]
            epsilon = keras.random.uniform((batch_size, 1, 1, 1), seed=self.seed_generator)
            with tf.GradientTape() as tape:
                fake = self.generator(self._noise(batch_size), training=True)
                real_score = tf.reduce_mean(self.critic(real, training=True))
                fake_score = tf.reduce_mean(self.critic(fake, training=True))
                gp = gradient_penalty(self.critic, real, fake, epsilon)
                d_loss = fake_score - real_score + self.gp_weight * gp
            grads = tape.gradient(d_loss, self.critic.trainable_variables)
            self.d_optimizer.apply(grads, self.critic.trainable_variables)

        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(self.critic(self.generator(self._noise(batch_size), training=True), training=True))
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply(grads, self.generator.trainable_variables)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.gp_tracker.update_state(gp)
        self.wasserstein_tracker.update_state(real_score - fake_score)
        return {m.name: m.result() for m in self.metrics}


class WGANGPEngine:
    """Adapts the WGANGP model to the training loop's Engine interface."""

    def __init__(self, spec, hp, image_shape):
        self.hp = hp
        self.generator = spec.build_generator(image_shape, hp)
        self.discriminator = spec.build_discriminator(image_shape, hp)
        self.d_optimizer = make_optimizer(hp, "d")
        self.g_optimizer = make_optimizer(hp, "g")
        self.model = WGANGP(self.generator, self.discriminator, hp.latent_dim, hp.critic_steps, hp.gp_weight)
        self.model.compile(d_optimizer=self.d_optimizer, g_optimizer=self.g_optimizer)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def generate(self, noise):
        return self.generator.predict_on_batch(noise)

    def train_iteration(self, draw_real, rng):
        reals = np.stack([draw_real() for _ in range(self.hp.critic_steps)])
        logs = self.model.train_on_batch(reals, return_dict=True)
        return {"d_loss": float(logs["d_loss"]), "g_loss": float(logs["g_loss"]),
                "divergence": float(logs["wasserstein"]), "gp": float(logs["gp"])}

    def optimizers(self):
        return {"d_optimizer": self.d_optimizer, "g_optimizer": self.g_optimizer}

    def state_variables(self):
        return all_variables(self.generator, self.discriminator, self.d_optimizer, self.g_optimizer) + \
            list(self.model.seed_generator.state if isinstance(self.model.seed_generator.state, list)
                 else [self.model.seed_generator.state])
