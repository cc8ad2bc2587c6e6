"""GAN: the original multilayer-perceptron GAN (Goodfellow et al. 2014), sections 3.1.1 and 4.x.

Published tables: Figure 4-1 (28x28x1) and Figure 4-18 (64x64x3). Note the published
differences: at 28x28 the generator has BatchNorm after each LeakyReLU and the discriminator
has two hidden layers (512, 256); at 64x64 there is no BatchNorm and both networks have four
hidden layers of 512 units. Section 4.2.1 calls the 64x64 networks' activation ReLU; Figure 4-18
prints LeakyReLU, and the figure (the table) is followed.
"""
import numpy as np
from keras import Sequential, layers

from gan_keras.models.blocks import dense_lrelu, image_input, latent_input
from gan_keras.models.spec import ModelSpec, Networks


def generator_28(frozen_bn="batch", latent_dim=100, image_shape=(28, 28, 1)):
    """Figure 4-1 generator: 1,493,520 parameters, 3,584 non-trainable."""
    return Sequential([
        latent_input(latent_dim),
        *dense_lrelu(256, batch_norm_after=True, frozen_mode=frozen_bn),
        *dense_lrelu(512, batch_norm_after=True, frozen_mode=frozen_bn),
        *dense_lrelu(1024, batch_norm_after=True, frozen_mode=frozen_bn),
        layers.Dense(int(np.prod(image_shape)), activation="tanh"),
        layers.Reshape(image_shape),
    ], name="generator")


def discriminator_28(frozen_bn="batch", image_shape=(28, 28, 1)):
    """Figure 4-1 discriminator: 533,505 parameters."""
    return Sequential([
        image_input(image_shape),
        layers.Flatten(),
        *dense_lrelu(512),
        *dense_lrelu(256),
        layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


def generator_64(frozen_bn="batch", latent_dim=100, image_shape=(64, 64, 3)):
    """Figure 4-18 generator: 7,143,424 parameters, no BatchNorm."""
    return Sequential([
        latent_input(latent_dim),
        *[layer for _ in range(4) for layer in dense_lrelu(512)],
        layers.Dense(int(np.prod(image_shape)), activation="tanh"),
        layers.Reshape(image_shape),
    ], name="generator")


def discriminator_64(frozen_bn="batch", image_shape=(64, 64, 3)):
    """Figure 4-18 discriminator: 7,080,449 parameters."""
    return Sequential([
        image_input(image_shape),
        layers.Flatten(),
        *[layer for _ in range(4) for layer in dense_lrelu(512)],
        layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


SPEC = ModelSpec(
    name="GAN",
    description="MLP GAN (Goodfellow et al. 2014); Figures 4-1 and 4-18",
    networks={"dissertation": Networks(
        generators={(28, 28, 1): generator_28, (64, 64, 3): generator_64},
        discriminators={(28, 28, 1): discriminator_28, (64, 64, 3): discriminator_64},
        source="Figures 4-1 and 4-18")},
    training_form="stacked",
    loss="bce",
)
