"""The pieces seed 001's three networks share (BEGAN, BEGAN-CS, BEGAN v3): sizes, the conv block,
the upsampling, and how many stride-2 stages an image size gets. The networks themselves are in
``began_networks.py`` (BEGAN, BEGAN-CS, and the model-name table) and ``began_v3_networks.py``.
"""
from __future__ import annotations

from keras import layers

from gan_keras.models.blocks import LEAKY_SLOPE
from gan_keras.models.upsampled_conv import UpsampledConv2D

LATENT_DIM = 64        # N_z (all three papers' z and code size at 64x64)
BEGAN_FILTERS = 128    # n of BEGAN and BEGAN-CS (REFERENCE.md: n = 128)
V3_FILTERS = 64        # n of BEGAN v3 (REFERENCE.md's reconstruction: n = 64)
V3_HIDDEN = 128        # N_h of BEGAN v3 (seed 001, section 4: N_h = 128)
SMALLEST = 8           # the encoders end at 8x8 (seed 001: "the last layer of the encoder was kept at 8x8")


def conv_block(filters: int, kernel_size: int = 3, strides: int = 1, activation: str | None = "elu",
               name: str | None = None, after_upsampling: bool = False) -> list:
    """Conv2D(filters, kernel, stride, 'same', with bias) [-> activation layer].

    ``activation``: "elu" (BEGAN, BEGAN-CS), "leaky_relu" (slope 0.2, BEGAN v3) or None (a linear
    output convolution). The activation is its own layer, named ``<name>_elu`` / ``<name>_lrelu``.
    ``after_upsampling``: the conv right after ``upsample()`` is an ``UpsampledConv2D``, the same
    convolution computed on the small map (models/upsampled_conv.py).
    """
    conv = UpsampledConv2D if after_upsampling else layers.Conv2D
    block = [conv(filters, kernel_size, strides=strides, padding="same", name=name)]
    if activation is not None:
        block.append(_activation(activation, name))
    return block


def upsample(name: str | None = None) -> layers.Layer:
    """Nearest-neighbour x2 upsampling (all three papers)."""
    return layers.UpSampling2D(2, interpolation="nearest", name=name)


def _activation(activation: str, name: str | None) -> layers.Layer:
    if activation == "elu":
        return layers.ELU(name=name and f"{name}_elu")
    if activation == "leaky_relu":
        return layers.LeakyReLU(LEAKY_SLOPE, name=name and f"{name}_lrelu")
    raise ValueError(f"activation must be 'elu', 'leaky_relu' or None, got {activation!r}")


def _stages(image_shape) -> tuple[int, int]:
    """(number of stride-2 stages, side of the smallest map): 64 -> (3, 8), 28 -> (2, 7), 32 -> (2, 8)."""
    height, width = int(image_shape[0]), int(image_shape[1])
    if height != width:
        raise ValueError(f"square images only, got {tuple(image_shape)}")
    stages, side = 0, height
    while side > SMALLEST and side % 2 == 0:
        stages, side = stages + 1, side // 2
    if stages == 0 or side > SMALLEST:
        raise ValueError(f"{height}x{width} does not halve down to 8x8 or less; use e.g. 64x64 or 28x28")
    return stages, side


def _chain(x, stack: list):
    for layer in stack:
        x = layer(x)
    return x
