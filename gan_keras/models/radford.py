"""The DCGAN paper's own networks (Radford et al. 2015), as seed 002 built DCGAN and LSGAN.

Seed 002 (Beranek et al. 2023, sections 3.1 and 3.4) follows the PyTorch DCGAN tutorial, which
follows the paper: transposed convolutions with 4x4 kernels and stride 2, no biases, BatchNorm on
every hidden layer except D's first, ReLU in G, LeakyReLU(0.2) in D, tanh out of G, and D ending in
a 4x4 'valid' convolution to one number (sigmoid for DCGAN, none for LSGAN).

64x64 (REFERENCE.md): G 100 -> 512 (4x4) -> 256 (8x8) -> 128 (16x16) -> 64 (32x32) -> C (64x64);
D C -> 64 (32x32) -> 128 (16x16) -> 256 (8x8) -> 512 (4x4) -> 1. Trainable parameters for C = 3:
G 3,576,704 and D 2,765,568 (with Keras' BatchNorm moving statistics: 3,578,624 and 2,767,360).

32x32 ("drop one stage from each"): both networks drop their 512-channel stage, so they mirror each
other: G 100 -> 256 (4x4) -> 128 -> 64 -> C (32x32); D C -> 64 (16x16) -> 128 -> 256 (4x4) -> 1.

Choices the papers leave open, made here as the PyTorch tutorial makes them: weights ~ N(0, 0.02),
BatchNorm gamma ~ N(1, 0.02) and beta 0; BatchNorm momentum 0.9 and epsilon 1e-5 (PyTorch's 0.1 and
1e-5). Any channel count C works (1 for greyscale at 32x32 or 64x64).
"""
from __future__ import annotations

import functools

from keras import Sequential, initializers, layers

from gan_keras.models.blocks import LEAKY_SLOPE, GANBatchNormalization, image_input, latent_input
from gan_keras.models.spec import Networks

SIZES = (32, 64)
CHANNELS = (1, 3)
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def _weights():
    return initializers.RandomNormal(0.0, 0.02)


def _batch_norm(frozen_bn):
    return GANBatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, frozen_mode=frozen_bn,
                                 gamma_initializer=initializers.RandomNormal(1.0, 0.02))


def _widths(size: int) -> list[int]:
    """Hidden channel counts from 4x4 up: 512, 256, 128, 64 at 64x64; 256, 128, 64 at 32x32."""
    return {64: [512, 256, 128, 64], 32: [256, 128, 64]}[size]


def generator(frozen_bn="batch", latent_dim=100, size=64, channels=3):
    """ConvTranspose(4x4, valid) from z, then k4 s2 ConvTranspose stages with BN and ReLU, then tanh."""
    widths = _widths(size)
    stages = [layers.Reshape((1, 1, latent_dim)),
              layers.Conv2DTranspose(widths[0], 4, padding="valid", use_bias=False, kernel_initializer=_weights()),
              _batch_norm(frozen_bn), layers.ReLU()]                                        # 4x4
    for filters in widths[1:]:
        stages += [layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False,
                                          kernel_initializer=_weights()),
                   _batch_norm(frozen_bn), layers.ReLU()]                                   # x2 each
    stages += [layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=False,
                                      kernel_initializer=_weights()),
               layers.Activation("tanh")]                                                   # size x size
    return Sequential([latent_input(latent_dim), *stages], name="generator")


def discriminator(frozen_bn="batch", size=64, channels=3, output_activation="sigmoid"):
    """k4 s2 Conv stages (BN on all but the first) with LeakyReLU(0.2), then Conv(4x4, valid) to 1."""
    widths = list(reversed(_widths(size)))
    stages = [layers.Conv2D(widths[0], 4, strides=2, padding="same", use_bias=False, kernel_initializer=_weights()),
              layers.LeakyReLU(LEAKY_SLOPE)]
    for filters in widths[1:]:
        stages += [layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=_weights()),
                   _batch_norm(frozen_bn), layers.LeakyReLU(LEAKY_SLOPE)]
    stages += [layers.Conv2D(1, 4, padding="valid", use_bias=False, kernel_initializer=_weights(),
                             activation=output_activation),                                 # 1x1
               layers.Flatten()]
    return Sequential([image_input((size, size, channels)), *stages], name="discriminator")


def networks(output_activation: str) -> Networks:
    """The architecture at 32x32 and 64x64, greyscale or colour, with D's output activation."""
    shapes = [(s, s, c) for s in SIZES for c in CHANNELS]
    return Networks(
        generators={shape: functools.partial(generator, size=shape[0], channels=shape[2]) for shape in shapes},
        discriminators={shape: functools.partial(discriminator, size=shape[0], channels=shape[2],
                                                 output_activation=output_activation) for shape in shapes},
        source="Radford et al. 2015 as seed 002 built it (REFERENCE.md)",
    )
