"""BEGAN v3's networks (seed 001, Park, Huh, Kim 2020): a VAE discriminator and its generator.

A RECONSTRUCTION (REFERENCE.md), not a published table: seed 001 describes the networks in prose
and gives only the total. The shared pieces and the parameter-count overview of all three seed-001
networks are in ``began_blocks.py`` and ``began_networks.py``.
"""
from __future__ import annotations

import keras
from keras import Sequential, initializers, layers, ops

from gan_keras.models.began_blocks import LATENT_DIM, V3_FILTERS, V3_HIDDEN, _chain, _stages, conv_block, upsample
from gan_keras.models.blocks import LEAKY_SLOPE, RandomLayer, image_input, latent_input


@keras.saving.register_keras_serializable(package="gan_keras")
class Reparameterize(RandomLayer):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I): the VAE's sample (BEGAN v3's D).

    Called as ``Reparameterize()([mean, log_var], training=...)``.

    * ``training=True``: a fresh eps per call, drawn from the layer's own
      ``keras.random.SeedGenerator``. The generator is created in ``__init__``, so its state is a
      variable of the layer and of any model holding it (``model.variables``; not a weight, so it is
      not counted by ``count_params``): a checkpoint of the model's variables restores the noise
      stream exactly, and a ``.keras`` file stores it too (``blocks.RandomLayer``).
    * ``training=False`` or ``None`` (``model(x)``, ``predict``): returns ``mean`` unchanged, the
      usual deterministic VAE inference (reconstructions and evaluation do not depend on noise).

    ``seed``: the generator's seed; None draws one from Keras' global seed
    (``keras.utils.set_random_seed`` makes it reproducible).
    """

    def call(self, inputs, training=None):
        mean, log_var = inputs
        if not training:
            return mean
        from gan_keras.training.distribute import replica_slice

        # Over several devices, each replica's rows of the one-device draw (blocks.GANDropout's rule).
        eps = replica_slice(lambda n: keras.random.normal((n, *mean.shape[1:]), dtype=mean.dtype,
                                                          seed=self.seed_generator), ops.shape(mean)[0])
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


# -- BEGAN v3 (n = 64, LeakyReLU 0.2, 3x3 and 4x4 convs, VAE discriminator) --------------------------
def _v3_width(stage: int, n: int = V3_FILTERS) -> int:
    """Stage s (0 = full size) is n * (s + 1) wide: 64, 128, 192, 256 at 64, 32, 16, 8."""
    return n * (stage + 1)


def _v3_encoder_convs(stages: int) -> list:
    """conv3 C->w0; per stage s = 1..S: conv4 w(s-1)->w(s), conv3 s2 w(s)->w(s); then conv4 w(S)->w(S)."""
    stack = conv_block(_v3_width(0), 3, activation="leaky_relu", name="enc_conv0")
    for s in range(1, stages + 1):
        stack += conv_block(_v3_width(s), 4, activation="leaky_relu", name=f"enc_block{s}_conv4")
        stack += conv_block(_v3_width(s), 3, strides=2, activation="leaky_relu", name=f"enc_block{s}_down")
    stack += conv_block(_v3_width(stages), 4, activation="leaky_relu", name="enc_out_conv4")
    return stack + [layers.Flatten(name="enc_flatten"),
                    layers.Dense(V3_HIDDEN, name="enc_hidden"), layers.LeakyReLU(LEAKY_SLOPE, name="enc_hidden_lrelu")]


def _v3_decoder(prefix: str, stages: int, side: int, channels: int, output_name: str | None = None) -> list:
    """Dense z -> side*side*w(S) (linear); conv3 w(S)->w(S); per stage s = S..1: up, conv3 w(s)->w(s-1);
    conv1 w0 -> C, linear."""
    top = _v3_width(stages)
    stack = [layers.Dense(side * side * top, name=f"{prefix}_dense"),
             layers.Reshape((side, side, top), name=f"{prefix}_reshape")]
    stack += conv_block(top, 3, activation="leaky_relu", name=f"{prefix}_conv0")
    for s in range(stages, 0, -1):
        stack.append(upsample(name=f"{prefix}_block{s}_up"))
        stack += conv_block(_v3_width(s - 1), 3, activation="leaky_relu", name=f"{prefix}_block{s}_conv3",
                            after_upsampling=True)
    return stack + conv_block(channels, 1, activation=None, name=output_name or f"{prefix}_out")


def _moment_halves_init():
    # The table's single Dense 128 -> 2*64 is written as its two halves (same parameters, same
    # function); this gives each half the Glorot-uniform limit of the whole layer, sqrt(6 / (128 + 128)).
    return initializers.VarianceScaling(scale=(V3_HIDDEN + LATENT_DIM) / (V3_HIDDEN + 2 * LATENT_DIM),
                                        mode="fan_avg", distribution="uniform")


def began_v3_generator(frozen_bn="batch", latent_dim=LATENT_DIM, image_shape=(64, 64, 3)):
    """BEGAN v3's generator: the decoder's shape from z. A RECONSTRUCTION (REFERENCE.md), not a
    published table: seed 001 gives prose and the total 10,331,144 only.

    64x64x3: **2,392,899** parameters (REFERENCE.md): Dense 64 -> 8*8*256, linear (1,064,960);
    conv3 256->256 (590,080), up; conv3 256->192 (442,560), up; conv3 192->128 (221,312), up;
    conv3 128->64 (73,792); conv1 64->3, linear (195). LeakyReLU(0.2) after every hidden conv.

    28x28x1 (derived, one fewer stage, 7 -> 14 -> 28, so the top width is 192): **1,238,657** =
    Dense 64 -> 7*7*192 (611,520); conv3 192->192 (331,968), up; conv3 192->128 (221,312), up;
    conv3 128->64 (73,792); conv1 64->1 (65).

    Open choices: LeakyReLU(0.2) itself (seed 001 changes the activation "of the encoder and
    decoder", D's VAE, from ELU and says nothing of G; G takes the decoder's shape and so its
    activation, where BEGAN-CS's G keeps ELU); the output conv is linear, as in BEGAN/BEGAN-CS
    (seed 001 names no output activation), and so is the Dense from z (as in BEGAN).
    ``frozen_bn`` is unused (no BatchNorm).
    """
    stages, side = _stages(image_shape)
    return Sequential([latent_input(latent_dim), *_v3_decoder("gen", stages, side, image_shape[2])],
                      name="generator")


def began_v3_discriminator(frozen_bn="batch", image_shape=(64, 64, 3), code_dim=LATENT_DIM, seed=None):
    """BEGAN v3's VAE discriminator. Outputs ``[reconstruction, mean, log_var]``.

    A RECONSTRUCTION, not a published table: seed 001 describes the network in prose only (n = 64,
    LeakyReLU(0.2), 1x1 to 4x4 convs, stride-2 downsampling with linearly growing filters, 8x8 at
    the encoder's end, N_h = 128, N_z = 64, nearest upsampling). This is REFERENCE.md's layout, which
    hits the paper's count exactly (10,331,144 minus the code's two learning-rate scalars =
    10,331,142 with the generator); REFERENCE.md warns that it is a lead, not the authors' design.

    64x64x3: **7,938,243** = encoder 3,431,552 + 2,113,792, decoder 2,392,899:

    * encoder convs (3,431,552): conv3 3->64; conv4 64->128; conv3 s2 128->128 (->32);
      conv4 128->192; conv3 s2 192->192 (->16); conv4 192->256; conv3 s2 256->256 (->8);
      conv4 256->256; each with bias and LeakyReLU(0.2);
    * Flatten, Dense 16384 -> 128 (N_h) with LeakyReLU(0.2), Dense 128 -> 2*64 written as two
      Dense 128 -> 64 named ``mean`` and ``log_var`` (linear; 2,113,792 together);
    * ``Reparameterize``: z = mean + exp(log_var / 2) * eps during training, z = mean in
      inference (``training`` False or None);
    * decoder from z: as ``began_v3_generator`` (2,392,899), output named ``reconstruction``.

    28x28x1 (derived, one fewer stage 28 -> 14 -> 7, so the top width is 192): **4,054,337** =
    encoder convs 1,594,816 (conv3 1->64; conv4 64->128; conv3 s2 128->128; conv4 128->192;
    conv3 s2 192->192; conv4 192->192) + Dense 9408 -> 128 and 128 -> 2*64 (1,220,864) + decoder
    1,238,657 (as ``began_v3_generator``).

    Open choices (REFERENCE.md and the paper do not fix them): LeakyReLU on the N_h layer (a hidden
    layer), linear mean/log-variance, linear Dense from z and linear output conv (as in BEGAN).
    ``code_dim`` must equal the generator's ``latent_dim``; ``seed`` seeds ``Reparameterize``'s
    noise. ``frozen_bn`` is unused (no BatchNorm).
    """
    stages, side = _stages(image_shape)
    image = image_input(image_shape)
    hidden = _chain(image, _v3_encoder_convs(stages))
    mean = layers.Dense(code_dim, kernel_initializer=_moment_halves_init(), name="mean")(hidden)
    log_var = layers.Dense(code_dim, kernel_initializer=_moment_halves_init(), name="log_var")(hidden)
    z = Reparameterize(seed=seed, name="sample")([mean, log_var])
    reconstruction = _chain(z, _v3_decoder("dec", stages, side, image_shape[2], output_name="reconstruction"))
    return keras.Model(image, [reconstruction, mean, log_var], name="discriminator")
