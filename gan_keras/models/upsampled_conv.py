"""A Conv2D that follows a nearest-neighbour x2 UpSampling2D, computed on the small grid.

The dissertation's generators (Figures 4-4, 4-21, 4-24, 4-27) grow an image with
``UpSampling2D()`` (nearest, x2) followed by a 'same' convolution. Nearest upsampling repeats every
pixel in a 2x2 block, so a k x k convolution over the upsampled map reads each small-map pixel
with several taps at once. Adding those taps together turns the pair into one transposed
convolution of the *small* map, stride 2, with a 2m x 2m kernel (m = (k + 1) / 2) whose entries are
sums of the published kernel's entries: per output pixel m x m multiply-adds instead of k x k
(3x3: 4 instead of 9; 5x5: 9 instead of 25). Along one axis, for k = 3 (taps w0 w1 w2) the
transposed kernel is [w2, w1 + w2, w0 + w1, w0]; ``transposed_taps`` builds it for any odd k.

Two computations of it, one per backend, chosen by measurement: on TensorFlow the transposed
convolution (``_by_transposed_conv``: DCGAN-64 1.6x faster than the literal form on the CPU); on
JAX one ordinary convolution whose outputs are the four phases, interleaved afterwards
(``_by_phases``), because XLA's CPU runs a transposed (lhs-dilated) convolution 3-7x *slower* than
the literal form, while the phase form is 1.2-1.3x faster (DCGAN-28 and DCGAN-64, compiled engine).
Neither has been timed on a GPU yet (``benchmarks/gpu_jax_session.sh`` times both forms).

It is the same function of the same weights: only the order of float additions differs (two
weights are added before the multiply), as it does between any two convolution algorithms
(measured: 1e-7 to 5e-7 of the largest value, outputs and gradients; tests/test_upsampled_conv.py).
With a mixed precision policy the sums are formed in the compute dtype.

The layer keeps Conv2D's weights, shapes, names and config, and the model keeps its UpSampling2D
layer, so the published layer table, the parameter counts and saved files are as before: the layer
takes the upsampled map and reads the small one back (every second pixel, exact), and the gradient
flows through the UpSampling2D layer as before. That round trip costs memory traffic (on the
TensorFlow CPU backend 10-35 % of what the grouping saves, in a microbenchmark of single stages).

``literal=True`` (or ``set_literal(model)``) computes the published Conv2D over the upsampled map,
the reference the tests compare against. Only odd square kernels, 'same' padding, stride 1,
dilation 1, channels_last are grouped; anything else runs as a plain Conv2D. The builders use
this class only right after ``UpSampling2D()`` (``blocks.upsample_conv``): on any other input the
read-back would be wrong. ``benchmarks/train_speed.py`` counts the published FLOPs (the rate of the
published network) and, beside them, the multiply-adds executed.
"""
from __future__ import annotations

import numpy as np
import keras
from keras import layers, ops


def small_offsets(kernel_size: int) -> list[list[int]]:
    """``offsets[a][t]``: the small-map row that tap t reads for output row 2i + a, relative to i.

    Output row 2i + a of the published 'same' convolution (p = (k - 1) / 2) reads the upsampled row
    2i + a + t - p with tap t, which repeats the small row i + (a + t - p) // 2. Both computations
    below group the taps by this offset.
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"odd kernel sizes only, got {kernel_size}")
    p = (kernel_size - 1) // 2
    return [[(a + t - p) // 2 for t in range(kernel_size)] for a in (0, 1)]


def transposed_taps(kernel_size: int) -> np.ndarray:
    """The (2m, k) 0/1 matrix B with transposed kernel = B @ taps along one axis (m = (k + 1) / 2).

    A stride-2 transposed convolution with 'same' padding (m - 1 before) gives output 2i + a the
    small row i + d with its kernel entry a - 2d + m - 1: every tap t with offset d lands there.
    """
    m = (kernel_size + 1) // 2
    taps = np.zeros((2 * m, kernel_size), np.float32)
    for a, offsets in enumerate(small_offsets(kernel_size)):
        for t, d in enumerate(offsets):
            taps[a - 2 * d + m - 1, t] += 1.0
    return taps


def phase_taps(kernel_size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Per output phase a (row parity), the (m, k) 0/1 matrix that groups the taps, and its first offset.

    Row j of ``taps[a]`` sums the kernel taps t that read the small row ``i + lo_a + j``: phase a is
    an m-tap convolution of the small map.
    """
    m = (kernel_size + 1) // 2
    taps, los = np.zeros((2, m, kernel_size), np.float32), []
    for a, offsets in enumerate(small_offsets(kernel_size)):
        for t, d in enumerate(offsets):
            taps[a, d - min(offsets), t] = 1.0
        los.append(min(offsets))
    return taps, (los[0], los[1])


def _by_transposed_conv(small, kernel, kernel_size, dtype):
    """One stride-2 transposed convolution (TensorFlow: oneDNN/cuDNN run it as a convolution's
    input gradient, fast)."""
    taps = ops.convert_to_tensor(transposed_taps(kernel_size), dtype=dtype)
    return ops.conv_transpose(small, ops.einsum("pu,qv,uvio->pqoi", taps, taps, kernel), strides=2, padding="same")


def _by_phases(small, kernel, kernel_size, dtype):
    """One ordinary m x m convolution with the four phases' kernels as 4 x filters outputs, then the
    phases interleaved (JAX: XLA's CPU runs a transposed convolution, an lhs-dilated one, many times
    slower than this; measured 3-7x slower than the literal form)."""
    taps, (lo_0, lo_1) = phase_taps(kernel_size)
    m, filters = taps.shape[1], kernel.shape[-1]
    taps = ops.convert_to_tensor(taps, dtype=dtype)
    phase_kernels = [ops.einsum("iu,jv,uvcd->ijcd", taps[a], taps[b], kernel) for a in (0, 1) for b in (0, 1)]
    pad_lo, pad_hi = -min(lo_0, lo_1), max(lo_0, lo_1) + m - 1    # both phases' windows fit
    padded = ops.pad(small, [[0, 0], [pad_lo, pad_hi], [pad_lo, pad_hi], [0, 0]])
    out = ops.conv(padded, ops.concatenate(phase_kernels, axis=-1), strides=1, padding="valid")
    h, w = small.shape[1], small.shape[2]
    start = (lo_0 + pad_lo, lo_1 + pad_lo)                         # where each phase's window begins
    phases = [[out[:, start[a]:start[a] + h, start[b]:start[b] + w, (2 * a + b) * filters:(2 * a + b + 1) * filters]
               for b in (0, 1)] for a in (0, 1)]
    rows = [ops.stack(phases[a], axis=3) for a in (0, 1)]         # (n, h, w, 2 [b], f)
    return ops.reshape(ops.stack(rows, axis=2), (-1, 2 * h, 2 * w, filters))   # (n, h, 2 [a], w, 2 [b], f)


@keras.saving.register_keras_serializable(package="gan_keras")
class UpsampledConv2D(layers.Conv2D):
    """``Conv2D(filters, k, padding="same")`` right after ``UpSampling2D()``; see the module docstring."""

    def __init__(self, *args, literal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.literal = literal

    def grouped(self) -> bool:
        """Whether ``call`` groups the taps (else it is exactly Conv2D)."""
        k = tuple(self.kernel_size)
        return (not self.literal and k[0] == k[1] and k[0] % 2 == 1 and k[0] > 1 and self.padding == "same"
                and tuple(self.strides) == (1, 1) and tuple(self.dilation_rate) == (1, 1)
                and self.data_format == "channels_last" and self.groups == 1)

    def call(self, inputs):
        if not self.grouped():
            return super().call(inputs)
        small = inputs[:, ::2, ::2, :]                 # the map before UpSampling2D: exact
        compute = _by_phases if keras.backend.backend() == "jax" else _by_transposed_conv
        outputs = compute(small, self.kernel, self.kernel_size[0], self.compute_dtype)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self):
        return {**super().get_config(), "literal": self.literal}


def set_literal(model, literal: bool = True) -> int:
    """Make every UpsampledConv2D in ``model`` (nested models included) compute the published
    Conv2D literally (or grouped again); returns how many layers it changed."""
    changed = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, UpsampledConv2D):
            layer.literal, changed = literal, changed + 1
    return changed
