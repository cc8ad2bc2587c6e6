"""The MLP GAN of seed 003 (Nirogi, "Random Image Generator using GAN"): 102flowers at 64x64x3.

REFERENCE.md's layers (seed 003, sections on the generator, the discriminator and training):

* G: Dense 100 -> 256, ReLU; 256 -> 512, ReLU; 512 -> 1024, ReLU; 1024 -> 12288, tanh; reshape to
  64x64x3: 13,277,952 parameters.
* D: Flatten; Dense 12288 -> 1024, ReLU; 1024 -> 512, ReLU; 512 -> 256, ReLU; 256 -> 1, sigmoid:
  13,240,321 parameters.
* BCE, Adam(2e-4, beta_1 0.8, beta_2 0.999), z ~ N(0, 1) of size 100.

Unlike the dissertation's MLP GAN (``gan.py``) it has ReLU, not LeakyReLU, no BatchNorm, and hidden
sizes 256-512-1024. It is trained the dissertation's way (stacked ``train_on_batch``). Open in the
paper, chosen here: the batch size (a command-line argument); D's hidden order 1024-512-256 (the
paper says "(256, 512, 1024) in both"; REFERENCE.md's descending order, which mirrors G); the weight
initialisation (Keras' Glorot-uniform, where seed 003's PyTorch code had PyTorch's defaults); its
"500 epochs, a sample every 10" become GAN_main.py's iterations and intervals, 8,189 / batch
iterations per epoch. Only 64x64x3 is published (any colour dataset at 64x64 trains).
"""
import numpy as np
from keras import Sequential, layers

from gan_keras.models.blocks import image_input, latent_input
from gan_keras.models.spec import ModelSpec, Networks

SHAPE = (64, 64, 3)


def generator(frozen_bn="batch", latent_dim=100):
    """13,277,952 parameters."""
    return Sequential([
        latent_input(latent_dim),
        layers.Dense(256, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(1024, activation="relu"),
        layers.Dense(int(np.prod(SHAPE)), activation="tanh"),
        layers.Reshape(SHAPE),
    ], name="generator")


def discriminator(frozen_bn="batch"):
    """13,240,321 parameters."""
    return Sequential([
        image_input(SHAPE),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ], name="discriminator")


SPEC = ModelSpec(
    name="MLPGAN",
    description="MLP GAN on flowers (seed 003): ReLU, 256-512-1024, BCE",
    networks={"seed003": Networks(generators={SHAPE: generator}, discriminators={SHAPE: discriminator},
                                  source="seed 003 / REFERENCE.md")},
    training_form="stacked",
    loss="bce",
    defaults=dict(beta_1=0.8, beta_2=0.999),
)
