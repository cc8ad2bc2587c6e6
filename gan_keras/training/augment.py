"""DiffAugment (Zhao, Liu, Lin, Zhu, Han 2020, "Differentiable Augmentation for Data-Efficient GAN
Training"): one random, differentiable augmentation T applied to every image the discriminator sees.

D learns on T(x) and T(G(z)), and G learns through T (so T must be differentiable with respect to
the images); with few real images D then cannot simply memorise them, while G is still pushed
towards the un-augmented data, since T is applied to both sides alike. Real and fake batches
(and every call) get their own random draws, as in the authors' code.

The policy is a subset of three items (``--diffaugment color,translation,cutout``; ``none`` is
off, the default). Images are NHWC in [-1, 1]. Each draw is per image:

* ``color``, in this order:
  - brightness: add b ~ U(-0.5, 0.5) to every pixel;
  - saturation: scale each pixel's deviation from the mean over its channels by s ~ U(0, 2)
    (a one-channel image has no deviation, so grey images pass unchanged);
  - contrast: scale each pixel's deviation from the image's mean by c ~ U(0.5, 1.5).
* ``translation``: shift the image by integers t_y, t_x, each uniform in [-r, r] with
  r = int(H / 8 + 0.5) (and int(W / 8 + 0.5)), filling with zeros: out[i, j] = x[i + t_y, j + t_x], 0 where
  that falls outside. Done exactly, without gather: for each of the 2r + 1 candidate shifts, a
  slice of the zero-padded image times 1.0 where the image drew that shift and 0.0 elsewhere.
* ``cutout``: zero a square of side int(H / 2 + 0.5) x int(W / 2 + 0.5) whose centre is uniform over the
  image (as the authors': over [0, H - side % 2] per axis); the square is clipped at the borders,
  so near an edge less than a full square is zeroed (at least a quarter of it always is).

The items are applied in the authors' order (color, then translation, then cutout), whatever
order the user wrote, each once: the hyperparameter's check normalises the policy to that
canonical string (the authors' code applies the items as typed, ``color,color`` twice).

Rounding: int(x + 0.5), as the authors' later PyTorch copies (DiffAugment-stylegan2-pytorch,
DiffAugment-biggan-cifar) round; their TensorFlow code and first PyTorch file round down. The
two agree at 32 and 64; at 28x28 the shift is up to 4 here, 3 there (the cutout side is 14 in both).

The layer computes in float32 under ``--mixed-precision`` (its draws and means would lose digits in
16 bits), as the custom steps' ``augment`` does; D's first layer casts its output.
Everything is written with ``keras.ops`` and ``keras.random`` on a ``SeedGenerator``, so a run is
reproducible and the seed state can be checkpointed.

Where it is used:
* the stacked engine (``training/stacked.py``): a :class:`DiffAugment` layer in front of D, in D's
  own updates and inside the stacked G -> D model; the saved discriminator stays the plain D;
* custom train steps: ``GANTrainStep.augment(images)`` (``training/train_step.py``), drawing from
  the step's own seed generator.
"""
from __future__ import annotations

import keras
from keras import ops

from gan_keras.hparams import COMMON

# The one declaration of the policy (gan_keras/hparams.py); its check normalises and refuses.
POLICY = next(p for p in COMMON if p.name == "diffaugment")
TRANSLATION_RATIO = 1.0 / 8.0
CUTOUT_RATIO = 1.0 / 2.0


def normalise_policy(policy) -> str:
    """The canonical policy string ("color,cutout", or "none"); ConfigError for an unknown item."""
    return POLICY.check(policy)


def parse_policy(policy) -> tuple[str, ...]:
    """The policy's items in the order they are applied (empty for "none")."""
    policy = normalise_policy(policy)
    return () if policy == "none" else tuple(policy.split(","))


def _rounded(size: int, ratio: float) -> int:
    """int(size * ratio + 0.5), as the authors' PyTorch copies round the shift and the cutout side
    (their TensorFlow code rounds down: 3, not 4, at 28 / 8; see the module docstring)."""
    return int(size * ratio + 0.5)


def _per_image(images, seed, minval, maxval):
    """One U(minval, maxval) number per image, shaped (B, 1, 1, 1) to broadcast over it."""
    batch = ops.shape(images)[0]
    return keras.random.uniform((batch, 1, 1, 1), minval, maxval, dtype=images.dtype, seed=seed)


# -- color ---------------------------------------------------------------------------------------
def rand_brightness(images, seed):
    """x + b, b ~ U(-0.5, 0.5) per image."""
    return images + _per_image(images, seed, -0.5, 0.5)


def rand_saturation(images, seed):
    """(x - mean over channels) * s + that mean, s ~ U(0, 2) per image."""
    mean = ops.mean(images, axis=-1, keepdims=True)
    return (images - mean) * _per_image(images, seed, 0.0, 2.0) + mean


def rand_contrast(images, seed):
    """(x - the image's mean) * c + that mean, c ~ U(0.5, 1.5) per image."""
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * _per_image(images, seed, 0.5, 1.5) + mean


# -- translation -----------------------------------------------------------------------------------
def _shift_axis(images, shifts, axis, reach):
    """out[..., i, ...] = images[..., i + shifts[b], ...] along ``axis`` (1 or 2), zeros outside.

    ``shifts`` holds one integer in [-reach, reach] per image. The sum over the candidate shifts
    has exactly one non-zero term per image (a 1.0 times a slice), so it is exact and its gradient
    is the same slice pattern, with no gather and no matmul (whose TF32 rounding on GPUs would
    not be exact).
    """
    size = images.shape[axis]
    padding = [[0, 0]] * 4
    padding[axis] = [reach, reach]
    padded = ops.pad(images, padding)
    out = ops.zeros_like(images)
    for shift in range(-reach, reach + 1):
        window = [slice(None)] * 4
        window[axis] = slice(reach + shift, reach + shift + size)
        drew_it = ops.cast(ops.equal(shifts, shift), images.dtype)[:, None, None, None]
        out = out + drew_it * padded[tuple(window)]
    return out


def rand_translation(images, seed, ratio=TRANSLATION_RATIO):
    """Shift each image by integers in [-round(ratio H), round(ratio H)] (rows) and likewise for
    the columns, filling with zeros."""
    batch = ops.shape(images)[0]
    for axis in (1, 2):
        reach = _rounded(images.shape[axis], ratio)
        if reach == 0:
            continue
        shifts = keras.random.randint((batch,), -reach, reach + 1, seed=seed)
        images = _shift_axis(images, shifts, axis, reach)
    return images


# -- cutout ----------------------------------------------------------------------------------------
def cutout_mask(batch, height, width, seed, ratio=CUTOUT_RATIO, dtype="float32"):
    """(B, H, W, 1): 0 inside each image's square, 1 elsewhere (see the module docstring)."""
    inside = []
    for size in (height, width):
        side = _rounded(size, ratio)
        # 1. The centre, as the authors draw it: uniform over [0, size - side % 2].
        centre = keras.random.randint((batch,), 0, size + 1 - side % 2, seed=seed)
        start = centre - side // 2
        # 2. Which rows (columns) the square covers; positions off the image simply never match.
        index = ops.arange(size, dtype="int32")[None, :]
        inside.append(ops.logical_and(index >= start[:, None], index < (start + side)[:, None]))
    square = ops.logical_and(inside[0][:, :, None], inside[1][:, None, :])
    return ops.expand_dims(1.0 - ops.cast(square, dtype), -1)


def rand_cutout(images, seed, ratio=CUTOUT_RATIO):
    """Zero one square of side round(ratio H) x round(ratio W) per image (clipped at the borders)."""
    mask = cutout_mask(ops.shape(images)[0], images.shape[1], images.shape[2], seed, ratio, images.dtype)
    return images * mask


FUNCTIONS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


def diff_augment(images, policy, seed_generator):
    """T(images) for ``policy`` (a policy string or "none"), drawing from ``seed_generator``.

    Every call draws new parameters per image; "none" returns ``images`` itself, drawing nothing.
    Differentiable with respect to ``images`` (NHWC, static H and W).
    """
    for item in parse_policy(policy):
        for augment in FUNCTIONS[item]:
            images = augment(images, seed_generator)
    return images


@keras.saving.register_keras_serializable(package="gan_keras")
class DiffAugment(keras.layers.Layer):
    """T as a layer, for models trained by ``train_on_batch`` (the stacked engine).

    It augments only when called with ``training=True`` (``train_on_batch`` passes it); in
    inference (``predict``, ``training=False``) it is the identity. So a model that holds it
    behaves like the plain D outside training; the engine still evaluates (F1 probe, evaluation)
    and saves D itself, never a model holding this layer.

    Its own SeedGenerator (``seed_generator``) is the only state; the engine checkpoints it.
    """

    def __init__(self, policy="color,translation,cutout", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.policy = normalise_policy(policy)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        return diff_augment(images, self.policy, self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "policy": self.policy, "seed": self.seed}
