"""The FID Inception: the TensorFlow "2015-12-05" Inception graph as a Keras functional model.

This is the network of the reference FID implementation (TTUR) and of pytorch-fid / clean-fid /
StyleGAN metrics, rebuilt here channels-last (:func:`build_fid_inception`); its weights are read,
without PyTorch, from the TorchScript file ``fid-inception-2015-12-05.pt``
(:func:`load_fid_weights`, which checks every tensor's name and shape against
:data:`FID_ARCHITECTURE`). Input: (N, 299, 299, 3) in the graph's ``x / 128 - 1`` range of
8-bit ``x``; output: the 2048-d ``pool_3`` feature. It has no classifier.

Finding the file is :mod:`gan_keras.metrics.weights`' job; preprocessing images into the
network's input, and the :class:`~gan_keras.metrics.backbones.Backbone` that runs it, are
:mod:`gan_keras.metrics.backbones`'.
"""
from __future__ import annotations

import os
from typing import Dict, Optional, Tuple

import numpy as np

from ..errors import WeightsError, warn
from .weights import FID_WEIGHTS_FILE, FID_WEIGHTS_SHA256, file_digest

IMAGE_SIZE = 299  # the input's height and width (Keras InceptionV3's too)

FID_NUM_TENSORS = 376
FID_NUM_PARAMS = 21_802_784
FID_BN_EPSILON = 0.001


# --------------------------------------------------------------------------------------------
# the architecture, and its weights read from the .pt file
# --------------------------------------------------------------------------------------------
# One entry per convolution: name (as in the .pt file, below net.layers.), out channels,
# in channels, kernel (h, w), stride, padding (h, w). Channel order of each block's concat
# follows the TorchScript code (out_jit_module/code/__torch__/inceptionv3.py).
def _fid_architecture():
    convs = []

    def c(name, cout, cin, k, s=1, p=(0, 0)):
        k = (k, k) if isinstance(k, int) else k
        p = (p, p) if isinstance(p, int) else p
        convs.append((name, cout, cin, k, s, p))

    c("conv", 32, 3, 3, 2, 0)
    c("conv_1", 32, 32, 3, 1, 0)
    c("conv_2", 64, 32, 3, 1, 1)
    c("conv_3", 80, 64, 1)
    c("conv_4", 192, 80, 3)
    for blk, cin, pool_f in (("mixed", 192, 32), ("mixed_1", 256, 64), ("mixed_2", 288, 64)):  # A
        c(f"{blk}.conv", 64, cin, 1)
        c(f"{blk}.tower.conv", 48, cin, 1)
        c(f"{blk}.tower.conv_1", 64, 48, 5, 1, 2)
        c(f"{blk}.tower_1.conv", 64, cin, 1)
        c(f"{blk}.tower_1.conv_1", 96, 64, 3, 1, 1)
        c(f"{blk}.tower_1.conv_2", 96, 96, 3, 1, 1)
        c(f"{blk}.tower_2.conv", pool_f, cin, 1)
    c("mixed_3.conv", 384, 288, 3, 2, 0)  # B
    c("mixed_3.tower.conv", 64, 288, 1)
    c("mixed_3.tower.conv_1", 96, 64, 3, 1, 1)
    c("mixed_3.tower.conv_2", 96, 96, 3, 2, 0)
    for blk, m in (("mixed_4", 128), ("mixed_5", 160), ("mixed_6", 160), ("mixed_7", 192)):  # C
        c(f"{blk}.conv", 192, 768, 1)
        c(f"{blk}.tower.conv", m, 768, 1)
        c(f"{blk}.tower.conv_1", m, m, (1, 7), 1, (0, 3))
        c(f"{blk}.tower.conv_2", 192, m, (7, 1), 1, (3, 0))
        c(f"{blk}.tower_1.conv", m, 768, 1)
        c(f"{blk}.tower_1.conv_1", m, m, (7, 1), 1, (3, 0))
        c(f"{blk}.tower_1.conv_2", m, m, (1, 7), 1, (0, 3))
        c(f"{blk}.tower_1.conv_3", m, m, (7, 1), 1, (3, 0))
        c(f"{blk}.tower_1.conv_4", 192, m, (1, 7), 1, (0, 3))
        c(f"{blk}.tower_2.conv", 192, 768, 1)
    c("mixed_8.tower.conv", 192, 768, 1)  # D
    c("mixed_8.tower.conv_1", 320, 192, 3, 2, 0)
    c("mixed_8.tower_1.conv", 192, 768, 1)
    c("mixed_8.tower_1.conv_1", 192, 192, (1, 7), 1, (0, 3))
    c("mixed_8.tower_1.conv_2", 192, 192, (7, 1), 1, (3, 0))
    c("mixed_8.tower_1.conv_3", 192, 192, 3, 2, 0)
    for blk, cin in (("mixed_9", 1280), ("mixed_10", 2048)):  # E
        c(f"{blk}.conv", 320, cin, 1)
        c(f"{blk}.tower_conv", 384, cin, 1)
        c(f"{blk}.tower_mixed_conv", 384, 384, (1, 3), 1, (0, 1))
        c(f"{blk}.tower_mixed_conv_1", 384, 384, (3, 1), 1, (1, 0))
        c(f"{blk}.tower_1_conv", 448, cin, 1)
        c(f"{blk}.tower_1_conv_1", 384, 448, 3, 1, 1)
        c(f"{blk}.tower_1_mixed_conv", 384, 384, (1, 3), 1, (0, 1))
        c(f"{blk}.tower_1_mixed_conv_1", 384, 384, (3, 1), 1, (1, 0))
        c(f"{blk}.tower_2_conv", 192, cin, 1)
    return {name: (cout, cin, k, s, p) for name, cout, cin, k, s, p in convs}


FID_ARCHITECTURE = _fid_architecture()
_FID_PREFIX = "net.layers."


def load_fid_weights(path: str, check_hash: bool = True) -> Tuple[Dict[str, np.ndarray], dict]:
    """Read and check ``fid-inception-2015-12-05.pt`` without PyTorch.

    Returns ``({conv name: {"weight", "beta", "mean", "var"}}, info)``; info holds the file's
    sha256 and whether it is the reference file. Raises WeightsError when the file does not hold
    exactly the FID Inception's tensors.
    """
    from .torch_reader import load_state_dict

    sd, attrs = load_state_dict(path)
    n_params = int(sum(v.size for v in sd.values()))
    if len(sd) != FID_NUM_TENSORS or n_params != FID_NUM_PARAMS:
        raise WeightsError(
            f"{path} is not the FID Inception network: {len(sd)} tensors / {n_params} numbers, "
            f"expected {FID_NUM_TENSORS} / {FID_NUM_PARAMS} ({FID_WEIGHTS_FILE}, sha256 {FID_WEIGHTS_SHA256})"
        )
    convs = {}
    for name, (cout, cin, k, s, p) in FID_ARCHITECTURE.items():
        key = _FID_PREFIX + name
        try:
            entry = {t: np.asarray(sd[f"{key}.{t}"], dtype=np.float32) for t in ("weight", "beta", "mean", "var")}
        except KeyError as exc:
            raise WeightsError(f"{path} lacks tensor {exc.args[0]}: not the FID Inception file {FID_WEIGHTS_FILE}")
        if entry["weight"].shape != (cout, cin) + k or any(entry[t].shape != (cout,) for t in ("beta", "mean", "var")):
            raise WeightsError(
                f"{path}: tensor {key}.weight has shape {entry['weight'].shape}, expected {(cout, cin) + k}"
            )
        a = attrs.get(key, {})
        if a:
            pad = a.get("padding")
            pad = tuple(pad) if isinstance(pad, (list, tuple)) else (pad, pad)
            if a.get("stride") != s or pad != p:
                raise WeightsError(f"{path}: {key} has stride {a.get('stride')} padding {pad}, expected {s} {p}")
        convs[name] = entry
    info = {"file": os.path.abspath(path)}
    if check_hash:
        digest = file_digest(path)
        info["sha256"] = digest
        info["is_reference_file"] = digest == FID_WEIGHTS_SHA256
        if digest != FID_WEIGHTS_SHA256:
            warn(f"{path} has sha256 {digest}, not the reference {FID_WEIGHTS_SHA256}; "
                 "its tensors have the right names and shapes, so it is used")
    return convs, info


# --------------------------------------------------------------------------------------------
# the Keras functional model
# --------------------------------------------------------------------------------------------
def build_fid_inception(weights: Optional[Dict[str, dict]] = None, fold_batchnorm: bool = True):
    """The 2015 FID Inception as a channels-last Keras model: (N, 299, 299, 3) in ``x/128 - 1``
    range -> (N, 2048) pool_3 features.

    Every convolution is ``conv (no bias) -> batch norm without scale (beta, moving mean,
    moving variance, eps 0.001) -> ReLU``. With ``fold_batchnorm`` (default, faster) the batch
    norm is folded into the convolution: ``W' = W / sqrt(var + eps)``, ``b = beta - mean /
    sqrt(var + eps)``; otherwise explicit ``BatchNormalization(scale=False)`` layers are used.
    Average pooling inside the blocks is 3x3/1 'same' and excludes the padding (TF 'SAME'
    semantics = PyTorch ``count_include_pad=False``); mixed_10's pool branch is a 3x3/1 max pool.
    ``weights``: output of :func:`load_fid_weights` (None: random initialisation).
    """
    import keras
    from keras import layers

    def conv(x, name):
        cout, cin, k, s, p = FID_ARCHITECTURE[name]
        lname = name.replace(".", "_")
        if p == (0, 0):
            padding = "valid"
        elif s == 1 and p == ((k[0] - 1) // 2, (k[1] - 1) // 2):
            padding = "same"  # symmetric for odd kernels at stride 1
        else:
            x = layers.ZeroPadding2D(p, name=f"{lname}_pad")(x)
            padding = "valid"
        if fold_batchnorm:
            x = layers.Conv2D(cout, k, strides=s, padding=padding, use_bias=True,
                              activation="relu", name=lname)(x)
        else:
            x = layers.Conv2D(cout, k, strides=s, padding=padding, use_bias=False, name=lname)(x)
            x = layers.BatchNormalization(epsilon=FID_BN_EPSILON, scale=False, name=f"{lname}_bn")(x)
            x = layers.ReLU(name=f"{lname}_relu")(x)
        return x

    def avg_pool(x, name):
        return layers.AveragePooling2D(3, strides=1, padding="same", name=name)(x)

    def cat(xs, name):
        return layers.Concatenate(axis=-1, name=name)(xs)

    inp = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="fid_input")
    x = conv(inp, "conv")
    x = conv(x, "conv_1")
    x = conv(x, "conv_2")
    x = layers.MaxPooling2D(3, strides=2, name="pool0")(x)
    x = conv(x, "conv_3")
    x = conv(x, "conv_4")
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for blk in ("mixed", "mixed_1", "mixed_2"):  # Inception-A
        b0 = conv(x, f"{blk}.conv")
        b1 = conv(conv(x, f"{blk}.tower.conv"), f"{blk}.tower.conv_1")
        b2 = conv(conv(conv(x, f"{blk}.tower_1.conv"), f"{blk}.tower_1.conv_1"), f"{blk}.tower_1.conv_2")
        b3 = conv(avg_pool(x, f"{blk}_tower_2_pool"), f"{blk}.tower_2.conv")
        x = cat([b0, b1, b2, b3], blk)
    b0 = conv(x, "mixed_3.conv")  # Inception-B
    b1 = conv(conv(conv(x, "mixed_3.tower.conv"), "mixed_3.tower.conv_1"), "mixed_3.tower.conv_2")
    b2 = layers.MaxPooling2D(3, strides=2, name="mixed_3_pool")(x)
    x = cat([b0, b1, b2], "mixed_3")
    for blk in ("mixed_4", "mixed_5", "mixed_6", "mixed_7"):  # Inception-C
        b0 = conv(x, f"{blk}.conv")
        b1 = x
        for n in ("conv", "conv_1", "conv_2"):
            b1 = conv(b1, f"{blk}.tower.{n}")
        b2 = x
        for n in ("conv", "conv_1", "conv_2", "conv_3", "conv_4"):
            b2 = conv(b2, f"{blk}.tower_1.{n}")
        b3 = conv(avg_pool(x, f"{blk}_tower_2_pool"), f"{blk}.tower_2.conv")
        x = cat([b0, b1, b2, b3], blk)
    b0 = conv(conv(x, "mixed_8.tower.conv"), "mixed_8.tower.conv_1")  # Inception-D
    b1 = x
    for n in ("conv", "conv_1", "conv_2", "conv_3"):
        b1 = conv(b1, f"mixed_8.tower_1.{n}")
    b2 = layers.MaxPooling2D(3, strides=2, name="mixed_8_pool")(x)
    x = cat([b0, b1, b2], "mixed_8")
    for blk in ("mixed_9", "mixed_10"):  # Inception-E
        a = conv(x, f"{blk}.tower_conv")
        b = conv(conv(x, f"{blk}.tower_1_conv"), f"{blk}.tower_1_conv_1")
        if blk == "mixed_10":  # the FID quirk: max pooling in the last block's pool branch
            pooled = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{blk}_tower_2_pool")(x)
        else:
            pooled = avg_pool(x, f"{blk}_tower_2_pool")
        x = cat([
            conv(x, f"{blk}.conv"),
            conv(a, f"{blk}.tower_mixed_conv"),
            conv(a, f"{blk}.tower_mixed_conv_1"),
            conv(b, f"{blk}.tower_1_mixed_conv"),
            conv(b, f"{blk}.tower_1_mixed_conv_1"),
            conv(pooled, f"{blk}.tower_2_conv"),
        ], blk)
    # pool2: 8x8 average pool over the 8x8 map = global average -> pool_3 (N, 2048)
    x = layers.GlobalAveragePooling2D(name="pool_3")(x)
    model = keras.Model(inp, x, name="fid_inception_2015_12_05")

    if weights is not None:
        for name in FID_ARCHITECTURE:
            w = weights[name]
            lname = name.replace(".", "_")
            kernel = np.transpose(w["weight"], (2, 3, 1, 0)).astype(np.float32)  # OIHW -> HWIO
            if fold_batchnorm:
                inv = (1.0 / np.sqrt(w["var"].astype(np.float64) + FID_BN_EPSILON))
                kernel = (kernel.astype(np.float64) * inv).astype(np.float32)
                bias = (w["beta"].astype(np.float64) - w["mean"].astype(np.float64) * inv).astype(np.float32)
                model.get_layer(lname).set_weights([kernel, bias])
            else:
                model.get_layer(lname).set_weights([kernel])
                # BatchNormalization(scale=False) weights: beta, moving_mean, moving_variance
                model.get_layer(f"{lname}_bn").set_weights([w["beta"], w["mean"], w["var"]])
    return model
