"""WGAN (Arjovsky et al. 2017) with weight clipping, sections 3.1.3 and 4.x.

Published tables: Figure 4-7 (28x28x1) and Figure 4-24 (64x64x3). Differences from DCGAN:
no sigmoid on the critic; at 28x28 a different, larger pair of networks (Fig 4-7, no BatchNorm in
the critic); at 64x64 the DCGAN discriminator with a linear output (BatchNorm kept) and a
generator with BatchNorm right after the first Dense and no 64-filter stage (Fig 4-24).
Training: RMSprop(5e-5) as Keras 2.2 computed it (training/optimizers.py), 5 critic updates per
iteration, critic weights clipped to [-c, c].
"""
from keras import Sequential, layers

from gan_keras.models import dcgan
from gan_keras.models.blocks import (
    LEAKY_SLOPE, batch_norm, conv_bn_act, conv_down, image_input, latent_input, to_image, upsample_conv,
)
from gan_keras.models.spec import ModelSpec, Networks


def generator_28(frozen_bn="batch", latent_dim=100):
    """Figure 4-7 generator: 7,276,993 parameters, 13,056 non-trainable."""
    return Sequential([
        latent_input(latent_dim),
        layers.Dense(1024),
        layers.LeakyReLU(LEAKY_SLOPE),
        layers.Dense(7 * 7 * 128),
        batch_norm(frozen_bn),
        layers.LeakyReLU(LEAKY_SLOPE),
        layers.Reshape((7, 7, 128)),
        *conv_bn_act(128, 5, "leaky_relu", transpose=True, strides=2, frozen_mode=frozen_bn),  # 14x14
        *conv_bn_act(64, 5, "leaky_relu", frozen_mode=frozen_bn),                              # 14x14
        *conv_bn_act(64, 5, "leaky_relu", transpose=True, strides=2, frozen_mode=frozen_bn),   # 28x28
        layers.Conv2D(1, 5, padding="same", activation="tanh"),  # Fig 4-7: tanh inside the last Conv2D
    ], name="generator")


def critic_28(frozen_bn="batch"):
    """Figure 4-7 critic: 5,336,961 parameters, no BatchNorm, linear output."""
    return Sequential([
        image_input((28, 28, 1)),
        *conv_down(64, 5, strides=1, batch_norm_=False),                   # 28x28
        *conv_down(128, 5, padding="valid", batch_norm_=False),            # 12x12
        *conv_down(128, 5, batch_norm_=False),                             # 6x6
        layers.Flatten(),
        layers.Dense(1024),
        layers.LeakyReLU(LEAKY_SLOPE),
        layers.Dense(1),
    ], name="critic")


def generator_64(frozen_bn="batch", latent_dim=100):
    """Figure 4-24 generator: 18,876,163 parameters, 3,840 non-trainable."""
    return Sequential([
        latent_input(latent_dim),
        layers.Dense(4 * 4 * 1024),
        layers.Reshape((4, 4, 1024)),
        batch_norm(frozen_bn),
        layers.Activation("relu"),
        *upsample_conv(512, 5, frozen_mode=frozen_bn),   # 8x8
        *upsample_conv(256, 5, frozen_mode=frozen_bn),   # 16x16
        *upsample_conv(128, 5, frozen_mode=frozen_bn),   # 32x32
        layers.UpSampling2D(),                           # 64x64, no 64-filter stage
        *to_image(3, 5),
    ], name="generator")


def critic_64(frozen_bn="batch"):
    """Figure 4-24 critic: the DCGAN 64 discriminator with a linear output (4,318,337 / 1,792)."""
    return dcgan.discriminator_64(frozen_bn, output_activation="linear", batch_norm=True, name="critic")


SPEC = ModelSpec(
    name="WGAN",
    description="Wasserstein GAN with weight clipping (Arjovsky et al. 2017); Figures 4-7 and 4-24",
    networks={"dissertation": Networks(
        generators={(28, 28, 1): generator_28, (64, 64, 3): generator_64},
        discriminators={(28, 28, 1): critic_28, (64, 64, 3): critic_64},
        source="Figures 4-7 and 4-24")},
    training_form="stacked",
    loss="wasserstein",
    defaults=dict(optimizer="rmsprop", d_lr=5e-5, g_lr=5e-5, critic_steps=5, clip_value=0.01),
)
