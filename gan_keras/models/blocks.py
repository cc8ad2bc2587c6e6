"""Building blocks shared by the model families.

Every model in the dissertation is made of the same few pieces (Keras-GAN conventions):
LeakyReLU(0.2), BatchNormalization(momentum=0.8), Dropout(0.25) after discriminator
convolutions, 'same' padding, nearest-neighbour UpSampling2D followed by a convolution in the
generators. The helpers here return *lists of layers* so that a builder reads as one flat
``keras.Sequential([...])`` list in which every published layer is visible.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from gan_keras.models.upsampled_conv import UpsampledConv2D

LATENT_DIM = 100
LEAKY_SLOPE = 0.2
BN_MOMENTUM = 0.8
DROPOUT_RATE = 0.25


@keras.saving.register_keras_serializable(package="gan_keras")
class GANBatchNormalization(layers.BatchNormalization):
    """BatchNormalization that behaves like Keras 2.2's when it is frozen inside a stacked GAN.

    In the dissertation's Keras 2.2, the discriminator frozen inside the stacked
    generator-discriminator model still normalised each fake batch with *that batch's*
    statistics (the learning phase was "training") and did not update its moving statistics.
    Keras 3 instead runs a frozen BatchNormalization in inference mode (moving statistics).

    ``frozen_mode`` chooses:
      * ``"batch"`` (default, the dissertation's behaviour): trainable=False and training=True
        -> normalise with batch statistics, leave the moving statistics untouched.
      * ``"moving"`` (Keras 3's behaviour): exactly ``keras.layers.BatchNormalization``.

    A trainable layer, or any call with training=False, is plain BatchNormalization.
    """

    def __init__(self, frozen_mode: str = "batch", **kwargs):
        if frozen_mode not in ("batch", "moving"):
            raise ValueError(f"frozen_mode must be 'batch' or 'moving', got {frozen_mode!r}")
        super().__init__(**kwargs)
        self.frozen_mode = frozen_mode

    def call(self, inputs, training=None, mask=None):
        if training and not self.trainable and self.frozen_mode == "batch":
            x = ops.cast(inputs, "float32")
            mean, variance = self._moments(x, mask)
            outputs = ops.batch_normalization(
                x,
                mean=mean,
                variance=variance,
                axis=self.axis,
                offset=ops.cast(self.beta, x.dtype) if self.center else None,
                scale=ops.cast(self.gamma, x.dtype) if self.scale else None,
                epsilon=self.epsilon,
            )
            return ops.cast(outputs, self.compute_dtype)
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {**super().get_config(), "frozen_mode": self.frozen_mode}


@keras.saving.register_keras_serializable(package="gan_keras")
class GANDropout(layers.Dropout):
    """Dropout whose mask, over several devices (``--strategy mirrored``), is the one device's.

    Under a MirroredStrategy each replica holds part of the batch and the same seed state, so a plain
    Dropout would draw the same mask for every replica's part. Here each replica draws the mask of
    the global batch (Keras' own dropout, applied to ones) and keeps its rows, so N devices drop
    what one device drops. On one device it is exactly ``keras.layers.Dropout``.
    """

    def call(self, inputs, training=False):
        from gan_keras.training.distribute import replica_share, replica_slice

        if not training or self.rate == 0 or replica_share()[1] == 1:
            return super().call(inputs, training=training)
        dropout = super().call
        mask = replica_slice(lambda n: dropout(ops.ones((n, *inputs.shape[1:]), inputs.dtype), training=True),
                             ops.shape(inputs)[0])
        return inputs * mask


def batch_norm(frozen_mode: str = "batch") -> layers.Layer:
    return GANBatchNormalization(momentum=BN_MOMENTUM, frozen_mode=frozen_mode)


def dense_lrelu(units: int, batch_norm_after: bool = False, frozen_mode: str = "batch") -> list:
    """Dense -> LeakyReLU(0.2) [-> BatchNorm]: the MLP GAN's hidden layer (Fig 4-1 order)."""
    block = [layers.Dense(units), layers.LeakyReLU(LEAKY_SLOPE)]
    if batch_norm_after:
        block.append(batch_norm(frozen_mode))
    return block


def conv_down(
    filters: int,
    kernel_size: int,
    strides: int = 2,
    padding: str = "same",
    batch_norm_: bool = True,
    dropout: bool = True,
    frozen_mode: str = "batch",
    zero_pad_to_even: bool = False,
) -> list:
    """A discriminator convolution: Conv2D [-> ZeroPadding] [-> BN] -> LeakyReLU [-> Dropout]."""
    block = [layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)]
    if zero_pad_to_even:
        block.append(layers.ZeroPadding2D(((0, 1), (0, 1))))
    if batch_norm_:
        block.append(batch_norm(frozen_mode))
    block.append(layers.LeakyReLU(LEAKY_SLOPE))
    if dropout:
        block.append(GANDropout(DROPOUT_RATE))
    return block


def upsample_conv(filters: int, kernel_size: int, activation: str = "relu", frozen_mode: str = "batch") -> list:
    """A generator stage: UpSampling2D (nearest, x2) -> Conv2D -> BN -> activation.

    The Conv2D is an ``UpsampledConv2D``: the published convolution, computed on the small map with
    fewer multiply-adds (models/upsampled_conv.py says how and why it is the same function).
    """
    return [
        layers.UpSampling2D(),
        UpsampledConv2D(filters, kernel_size, padding="same"),
        batch_norm(frozen_mode),
        _activation(activation),
    ]


def conv_bn_act(filters: int, kernel_size: int, activation: str, transpose: bool = False,
                strides: int = 1, frozen_mode: str = "batch") -> list:
    """Conv2D or Conv2DTranspose -> BN -> activation (the WGAN-28 generator's stages)."""
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    return [conv(filters, kernel_size, strides=strides, padding="same"), batch_norm(frozen_mode),
            _activation(activation)]


def to_image(channels: int, kernel_size: int) -> list:
    """The generators' output: a convolution to the image's channels, then tanh ([-1, 1])."""
    return [layers.Conv2D(channels, kernel_size, padding="same"), layers.Activation("tanh")]


def _activation(name: str) -> layers.Layer:
    return layers.LeakyReLU(LEAKY_SLOPE) if name == "leaky_relu" else layers.Activation(name)


class RandomLayer(layers.Layer):
    """A layer that draws random numbers on every call (training and sampling) from its own seed.

    Its ``keras.random.SeedGenerator`` state is one of the layer's variables, so a checkpoint's
    state holds it; Keras' ``.keras`` format does not save a seed generator's state, so it is saved
    and restored here too: a loaded generator continues the stream where the saved one stood.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["seed_generator_state"] = keras.ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        for i, variable in enumerate(self.weights):   # what Layer.save_own_variables stored, in its order
            variable.assign(store[str(i)])
        if "seed_generator_state" in store:   # absent from files saved before the state was stored
            self.seed_generator.state.assign(store["seed_generator_state"])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def latent_input(latent_dim: int = LATENT_DIM) -> keras.KerasTensor:
    return keras.Input(shape=(latent_dim,), name="z")


def image_input(image_shape) -> keras.KerasTensor:
    return keras.Input(shape=tuple(image_shape), name="image")
