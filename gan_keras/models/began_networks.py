"""The networks of seed 001 (Park, Huh, Kim 2020, "BEGAN v3"): BEGAN, BEGAN-CS and BEGAN v3.

BEGAN's and BEGAN-CS's builders are here, BEGAN v3's in ``began_v3_networks.py``, their shared
pieces in ``began_blocks.py``; ``NETWORKS`` below maps each model name to its builders.
Builders only (no training code). All three discriminators are auto-encoders and return more than
one output:

* ``began_discriminator`` and ``began_cs_discriminator`` return ``[reconstruction, code]``: the
  decoded image (the input's shape) and the encoder's code, shape ``(64,)``. BEGAN-CS's constraint
  loss ``alpha * L_c(z_D, Enc(G(z_D)))`` reads the code of ``D(G(z_D))``.
* ``began_v3_discriminator`` is a VAE and returns ``[reconstruction, mean, log_var]``: the image
  decoded from a sample ``z = mean + exp(log_var / 2) * eps`` (drawn inside the model by
  :class:`Reparameterize`; in inference the mean is decoded), and the two moments for the KL terms.

Generators map z (64-d; z ~ U[-1, 1] in the paper) to an image. Their output convolution, like the
decoders', has **no activation** (linear), as in the BEGAN / BEGAN-CS TensorFlow code (the last
``conv2d(..., activation_fn=None)``); real images are in [-1, 1] and the L1/L2 reconstruction loss
pulls the outputs there. No network has BatchNorm or Dropout, so ``frozen_bn`` is accepted (the
common calling convention of ``Networks``) and ignored. Weights are Keras' defaults, Glorot uniform
and zero biases, which is what seed 001 states (its section 4 and Appendix).

Sizes. A network halves the image with stride-2 convolutions until it is 8x8 or smaller (or odd):
64 -> 32 -> 16 -> 8 (3 stages, the papers' 64x64 networks), 28 -> 14 -> 7 (2 stages: "one fewer
down/up-sampling stage", derived the same way for MNIST; not published). This is the original BEGAN
code's ``repeat_num = log2(size) - 2`` blocks at powers of two (64 -> 4 blocks, 3 downsamplings).

Parameter counts (all trainable; no network has non-trainable weights). 64x64x3 from REFERENCE.md
(plain BEGAN's split derived, its total from REFERENCE.md); 28x28x1 computed, not published:

========  ==========  =======================================  ==========  ==========
model     shape       D = encoder + decoder                    G           total
========  ==========  =======================================  ==========  ==========
BEGAN-CS  64x64x3     18,371,267 = 16,113,216 + 2,258,051      2,258,051   20,629,318
BEGAN-CS  28x28x1     9,351,361 = 7,696,064 + 1,655,297        1,655,297   11,006,658
BEGAN     64x64x3     13,405,379 = 11,688,768 + 1,716,611      1,716,611   15,121,990
BEGAN     28x28x1     6,630,593 = 5,336,256 + 1,294,337        1,294,337   7,924,930
BEGAN v3  64x64x3     7,938,243 = 5,545,344 + 2,392,899        2,392,899   10,331,142
BEGAN v3  28x28x1     4,054,337 = 2,815,680 + 1,238,657        1,238,657   5,292,994
========  ==========  =======================================  ==========  ==========

BEGAN v3's encoder is its convolutions plus the N_h / moment layers: 3,431,552 + 2,113,792 at
64x64x3, 1,594,816 + 1,220,864 at 28x28x1.

(The papers print 20,629,320 and 10,331,144: REFERENCE.md explains the 2 extra as the original
TensorFlow code's two trainable learning-rate scalars, which a Keras model does not hold.)
"""
from __future__ import annotations

import functools

import keras
from keras import Sequential, layers

from gan_keras.models.began_blocks import (BEGAN_FILTERS, LATENT_DIM, _chain, _stages, conv_block,  # noqa: F401
                                           upsample)
from gan_keras.models.began_v3_networks import (Reparameterize, began_v3_discriminator,  # noqa: F401 (re-exported)
                                                began_v3_generator)
from gan_keras.models.blocks import image_input, latent_input


# -- BEGAN and BEGAN-CS (n = 128, ELU, 3x3 convs) ----------------------------------------------------
def _began_encoder(channels_grow_in: str, stages: int, n: int = BEGAN_FILTERS, code_dim: int = LATENT_DIM) -> list:
    """The BEGAN family's encoder: a stem conv, ``stages + 1`` blocks, Flatten, Dense to the code.

    Block i (i = 0 .. stages) has two 3x3 convs and, except the last block, a stride-2 3x3 conv.
    Widths grow linearly, n * (i + 1) in block i; where the growth happens is the one difference:

    * ``"first"`` (plain BEGAN, the common TensorFlow code): block i's first conv widens to
      n * (i + 1); both other convs keep it: n -> n, n, n(s2); n -> 2n, 2n, 2n(s2); ...
    * ``"second"`` (BEGAN-CS, REFERENCE.md's table): block i's second conv widens to the next
      block's width n * (i + 2), the stride-2 conv keeps it; the last block keeps its width:
      n, 2n, 2n(s2); 2n, 3n, 3n(s2); 3n, 4n, 4n(s2); 4n, 4n.
    """
    stack = conv_block(n, 3, name="enc_conv0")
    for i in range(stages + 1):
        width, last = n * (i + 1), i == stages
        second = width if (channels_grow_in == "first" or last) else n * (i + 2)
        stack += conv_block(width, 3, name=f"enc_block{i}_conv1")
        stack += conv_block(second, 3, name=f"enc_block{i}_conv2")
        if not last:
            stack += conv_block(second, 3, strides=2, name=f"enc_block{i}_down")
    return stack + [layers.Flatten(name="enc_flatten"), layers.Dense(code_dim, name="code")]


def _began_decoder(prefix: str, stages: int, side: int, channels: int, expand_1x1: bool,
                   n: int = BEGAN_FILTERS, output_name: str | None = None) -> list:
    """The BEGAN family's decoder (D's decoder and G): Dense to side*side*n, ``stages + 1`` blocks,
    a linear 3x3 conv to the image's channels.

    Block i has two 3x3 convs to n and, except the last block, nearest x2 upsampling. With
    ``expand_1x1`` (BEGAN-CS) a 1x1 conv n -> 2n (with ELU, like every hidden conv of that code)
    comes before each upsampling, so blocks 1.. start with a 3x3 conv 2n -> n. The Dense is linear,
    as in the TensorFlow code (``fully_connected(z, 8*8*n, activation_fn=None)``).
    """
    stack = [layers.Dense(side * side * n, name=f"{prefix}_dense"),
             layers.Reshape((side, side, n), name=f"{prefix}_reshape")]
    for i in range(stages + 1):
        stack += conv_block(n, 3, name=f"{prefix}_block{i}_conv1", after_upsampling=i > 0)
        stack += conv_block(n, 3, name=f"{prefix}_block{i}_conv2")
        if i < stages:
            if expand_1x1:
                stack += conv_block(2 * n, 1, name=f"{prefix}_block{i}_conv1x1")
            stack.append(upsample(name=f"{prefix}_block{i}_up"))
    return stack + conv_block(channels, 3, activation=None, name=output_name or f"{prefix}_out")


def _autoencoder(image_shape, encoder: list, decoder: list) -> keras.Model:
    image = image_input(image_shape)
    code = _chain(image, encoder)
    reconstruction = _chain(code, decoder)
    return keras.Model(image, [reconstruction, code], name="discriminator")


def began_cs_generator(frozen_bn="batch", latent_dim=LATENT_DIM, image_shape=(64, 64, 3)):
    """BEGAN-CS's generator (Chang et al. 2018 as seed 001 used it), REFERENCE.md's table.

    64x64x3: **2,258,051** parameters (exact, from the authors' TensorFlow code), the same layers
    as D's decoder: Dense 64 -> 8*8*128 (532,480); block 0: 3x3 128->128, 128->128, 1x1 128->256,
    up (328,192); blocks 1, 2: 256->128, 128->128, 1x1 128->256, up (475,648 each); block 3:
    256->128, 128->128 (442,624); 3x3 128->3, linear (3,459). ELU after every conv but the output
    one; after the 1x1 convs too, an open choice (the table gives no activations; every hidden conv
    of the BEGAN TensorFlow code has ELU).

    28x28x1 (derived, one fewer upsampling stage: 7 -> 14 -> 28): **1,655,297** = Dense
    64 -> 7*7*128 (407,680) + block 0 (328,192) + block 1 (475,648) + last block 256->128, 128->128
    (442,624) + 3x3 128->1 (1,153).

    ``frozen_bn`` is unused (no BatchNorm).
    """
    stages, side = _stages(image_shape)
    return Sequential([latent_input(latent_dim),
                       *_began_decoder("gen", stages, side, image_shape[2], expand_1x1=True)],
                      name="generator")


def began_cs_discriminator(frozen_bn="batch", image_shape=(64, 64, 3), code_dim=LATENT_DIM):
    """BEGAN-CS's auto-encoder discriminator, REFERENCE.md's table. Outputs ``[reconstruction, code]``.

    64x64x3: **18,371,267** parameters (exact, from the authors' TensorFlow code) =
    encoder 16,113,216 + decoder 2,258,051. Encoder (3x3 'same' convs with bias, ELU):
    conv 3->128 (3,584); block 0: 128->128, 128->256, stride-2 256->256, 64->32 (1,032,832);
    block 1: 256->256, 256->384, s2 384->384, ->16 (2,802,688); block 2: 384->384, 384->512,
    s2 512->512, ->8 (5,457,280); block 3: 512->512, 512->512 (4,719,616); Flatten, Dense
    8*8*512 -> 64, linear: the code (2,097,216). Decoder: as ``began_cs_generator`` from the code.

    28x28x1 (derived, one fewer stage: 28 -> 14 -> 7; the widths follow the same rule, n * (i + 1)
    in block i, so the last block is 384 wide): **9,351,361** = encoder 7,696,064 (conv 1->128:
    1,280; blocks 0, 1 as at 64x64: 1,032,832 and 2,802,688; last block 384->384, 384->384:
    2,654,976; Dense 7*7*384 -> 64: 1,204,288) + decoder 1,655,297 (as ``began_cs_generator``).

    ``code_dim`` (64): the code's size; it must equal the generator's ``latent_dim`` for BEGAN-CS's
    constraint ``||z - Enc(G(z))||``. ``frozen_bn`` is unused (no BatchNorm).
    """
    stages, side = _stages(image_shape)
    return _autoencoder(image_shape, _began_encoder("second", stages, code_dim=code_dim),
                        _began_decoder("dec", stages, side, image_shape[2], expand_1x1=True,
                                       output_name="reconstruction"))


def began_generator(frozen_bn="batch", latent_dim=LATENT_DIM, image_shape=(64, 64, 3)):
    """Plain BEGAN's generator (Berthelot et al. 2017) with BEGAN-CS's n = 128 and z = 64.

    The layout is the common BEGAN TensorFlow code's, which BEGAN-CS extends (it hits REFERENCE.md's
    plain-BEGAN total 15,121,990 exactly together with ``began_discriminator``): Dense 64 -> 8*8*128,
    linear (532,480); 4 blocks of two 3x3 convs 128->128 with ELU (295,168 each), nearest x2
    upsampling after blocks 0-2; 3x3 conv 128->3, linear (3,459).

    64x64x3: **1,716,611** parameters. 28x28x1 (derived, 3 blocks, 7 -> 14 -> 28): **1,294,337** =
    Dense 64 -> 7*7*128 (407,680) + 3 x 295,168 + 3x3 128->1 (1,153).
    ``frozen_bn`` is unused (no BatchNorm).
    """
    stages, side = _stages(image_shape)
    return Sequential([latent_input(latent_dim),
                       *_began_decoder("gen", stages, side, image_shape[2], expand_1x1=False)],
                      name="generator")


def began_discriminator(frozen_bn="batch", image_shape=(64, 64, 3), code_dim=LATENT_DIM):
    """Plain BEGAN's auto-encoder discriminator. Outputs ``[reconstruction, code]``.

    REFERENCE.md gives only the total with the generator, 15,121,990 ("the same n and z, without the
    channel growth and 1x1 convs"). The common BEGAN TensorFlow code's layout hits it exactly:
    widths grow linearly, n * (i + 1) in block i, at the block's *first* conv (BEGAN-CS moves the
    growth to the second conv), and the decoder has no 1x1 convs.

    64x64x3: **13,405,379** = encoder 11,688,768 + decoder 1,716,611 (+ G 1,716,611 = 15,121,990).
    Encoder: conv 3->128 (3,584); block 0: 128->128, 128->128, s2 128->128 (442,752); block 1:
    128->256, 256->256, s2 256->256 (1,475,328); block 2: 256->384, 384->384, s2 384->384
    (3,540,096); block 3: 384->512, 512->512 (4,129,792); Dense 8*8*512 -> 64 (2,097,216).
    Decoder: as ``began_generator``.

    28x28x1 (derived, 28 -> 14 -> 7, 3 blocks): **6,630,593** = encoder 5,336,256 (conv 1->128:
    1,280; blocks 0, 1 as at 64x64: 442,752 and 1,475,328; last block 256->384, 384->384:
    2,212,608; Dense 7*7*384 -> 64: 1,204,288) + decoder 1,294,337.
    ``code_dim``: as in ``began_cs_discriminator``. ``frozen_bn`` is unused (no BatchNorm).
    """
    stages, side = _stages(image_shape)
    return _autoencoder(image_shape, _began_encoder("first", stages, code_dim=code_dim),
                        _began_decoder("dec", stages, side, image_shape[2], expand_1x1=False,
                                       output_name="reconstruction"))


# -- image shape -> (generator builder, discriminator builder) ----------------------------------------
SHAPES = ((64, 64, 3), (28, 28, 1))


def _by_shape(generator, discriminator) -> dict:
    return {shape: (functools.partial(generator, image_shape=shape), functools.partial(discriminator, image_shape=shape))
            for shape in SHAPES}


# model name -> image shape -> builders (the tests' and layer tables' index; the models name their builders)
NETWORKS = {"BEGAN": _by_shape(began_generator, began_discriminator),
            "BEGANCS": _by_shape(began_cs_generator, began_cs_discriminator),
            "BEGANV3": _by_shape(began_v3_generator, began_v3_discriminator)}


def began_family(generator, discriminator):
    """A ModelSpec's ``Networks`` of a generator and a discriminator builder of this family, at
    every shape in ``SHAPES``; the discriminator's code takes z's size."""
    from gan_keras.models.spec import Networks

    def with_code(disc):
        def build(frozen_bn="batch", latent_dim=LATENT_DIM):
            return disc(frozen_bn=frozen_bn, code_dim=latent_dim)
        return build

    table = _by_shape(generator, discriminator)
    return Networks(generators={shape: gen for shape, (gen, _) in table.items()},
                    discriminators={shape: with_code(disc) for shape, (_, disc) in table.items()},
                    source="seed 001 / REFERENCE.md (see gan_keras.models.began_networks)",
                    discriminator_params=("latent_dim",))
