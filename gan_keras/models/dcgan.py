"""DCGAN (Radford et al. 2015), sections 3.1.2, 3.3.1 and 4.x.

Published tables: Figure 4-4 (28x28x1) and Figure 4-21 (64x64x3). The tables win over the
prose of 3.4.4: the generators upsample with UpSampling2D + Conv2D (not Conv2DTranspose) and the
64x64 filters run 64..512. The 64x64 discriminator is shared with WGAN and WGAN-GP, which
differ only in its output activation and BatchNorm (see ``discriminator_64``).
"""
import functools

from keras import Sequential, layers

from gan_keras.models import radford
from gan_keras.models.blocks import conv_down, image_input, latent_input, to_image, upsample_conv
from gan_keras.models.spec import ModelSpec, Networks


def generator_28(frozen_bn="batch", latent_dim=100):
    """Figure 4-4 generator: 856,193 parameters, 384 non-trainable."""
    return Sequential([
        latent_input(latent_dim),
        layers.Dense(7 * 7 * 128, activation="relu"),
        layers.Reshape((7, 7, 128)),
        *upsample_conv(128, 3, frozen_mode=frozen_bn),   # 14x14
        *upsample_conv(64, 3, frozen_mode=frozen_bn),    # 28x28
        *to_image(1, 3),
    ], name="generator")


def discriminator_28(frozen_bn="batch", output_activation="sigmoid"):
    """Figure 4-4 discriminator: 393,729 parameters, 896 non-trainable.

    LSGAN's discriminator is this with ``output_activation="linear"``.
    """
    return Sequential([
        image_input((28, 28, 1)),
        *conv_down(32, 3, batch_norm_=False),                                          # 14x14
        *conv_down(64, 3, zero_pad_to_even=True, frozen_mode=frozen_bn),               # 7x7 -> 8x8
        *conv_down(128, 3, frozen_mode=frozen_bn),                                     # 4x4
        *conv_down(256, 3, strides=1, frozen_mode=frozen_bn),                          # 4x4
        layers.Flatten(),
        layers.Dense(1, activation=output_activation),
    ], name="discriminator")


def generator_64(frozen_bn="batch", latent_dim=100):
    """Figure 4-21 generator (also WGAN-GP's, Fig 4-27): 19,072,387 parameters, 1,920 non-trainable."""
    return Sequential([
        latent_input(latent_dim),
        layers.Dense(4 * 4 * 1024, activation="relu"),
        layers.Reshape((4, 4, 1024)),
        *upsample_conv(512, 5, frozen_mode=frozen_bn),   # 8x8
        *upsample_conv(256, 5, frozen_mode=frozen_bn),   # 16x16
        *upsample_conv(128, 5, frozen_mode=frozen_bn),   # 32x32
        *upsample_conv(64, 5, frozen_mode=frozen_bn),    # 64x64
        *to_image(3, 5),
    ], name="generator")


def discriminator_64(frozen_bn="batch", output_activation="sigmoid", batch_norm=True, name="discriminator"):
    """Figure 4-21 discriminator: 4,318,337 parameters, 1,792 non-trainable.

    WGAN's critic (Fig 4-24) is this with ``output_activation="linear"``; WGAN-GP's
    (Fig 4-27) also has ``batch_norm=False``; LSGAN's has a linear output.
    """
    return Sequential([
        image_input((64, 64, 3)),
        *conv_down(64, 5, batch_norm_=False),                            # 32x32
        *conv_down(128, 5, batch_norm_=batch_norm, frozen_mode=frozen_bn),  # 16x16
        *conv_down(256, 5, batch_norm_=batch_norm, frozen_mode=frozen_bn),  # 8x8
        *conv_down(512, 5, batch_norm_=batch_norm, frozen_mode=frozen_bn),  # 4x4
        layers.Flatten(),
        layers.Dense(1, activation=output_activation),
    ], name=name)


def networks(output_activation: str = "sigmoid") -> Networks:
    """The dissertation's DCGAN networks at 28x28x1 and 64x64x3 with D's output activation: "sigmoid"
    (DCGAN), "linear" (a least-squares D, a logit D for a loss written on logits)."""
    if output_activation == "sigmoid":
        discriminators = {(28, 28, 1): discriminator_28, (64, 64, 3): discriminator_64}
        source = "Figures 4-4 and 4-21"
    else:
        discriminators = {(28, 28, 1): functools.partial(discriminator_28, output_activation=output_activation),
                          (64, 64, 3): functools.partial(discriminator_64, output_activation=output_activation)}
        source = f"Figures 4-4 and 4-21 with a {output_activation} D output"
    return Networks(generators={(28, 28, 1): generator_28, (64, 64, 3): generator_64},
                    discriminators=discriminators, source=source)


SPEC = ModelSpec(
    name="DCGAN",
    description="Deep convolutional GAN (Radford et al. 2015); Figures 4-4 and 4-21",
    networks={"dissertation": networks("sigmoid"),
              "radford": radford.networks(output_activation="sigmoid")},   # seed 002's DCGAN (--arch radford)
    training_form="stacked",
    loss="bce",
)
