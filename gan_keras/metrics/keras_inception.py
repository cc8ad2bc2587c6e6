"""``keras.applications.InceptionV3`` as a feature network: the dissertation's FID backbone
(``--inception keras``), with or without its ImageNet classifier (the Inception Score needs it).

Its weights are Keras' official files, found by ``weights.find_keras_weights`` (the Keras cache,
downloaded when absent and possible), or a file given; without either it is refused with one line
that names the file and its md5 (these machines cannot download it).
"""
from __future__ import annotations

import os
from typing import Optional

from ..errors import WeightsError, warn
from .weights import KERAS_WEIGHTS, file_digest, find_keras_weights


def build_keras_inception(weights="imagenet", include_top: Optional[bool] = None, download: bool = True):
    """``keras.applications.InceptionV3`` -> (model, has_classifier, info).

    The model maps (N, 299, 299, 3) [-1, 1] input to ``[avg_pool features, probabilities]``
    when it has the ImageNet classifier, else to the features alone.
    ``weights``: "imagenet" (the cached official file, downloaded if absent and possible),
    a path to a .h5/.weights.h5 file (loaded without hash check; with or without classifier),
    or None (random initialisation; no classifier unless ``include_top=True``).
    """
    import keras

    info: dict = {}
    if weights is None:
        top = bool(include_top)
        info["weights"] = None
        warn("Keras InceptionV3 built with weights=None: random initialisation, its features are "
             "meaningless (for tests); use weights='imagenet' (the default) or a weights file")
        base = keras.applications.InceptionV3(include_top=top, weights=None, pooling=None if top else "avg")
        has_classifier = top
    else:
        if isinstance(weights, str) and weights == "imagenet":
            path, top = find_keras_weights(include_top, download=download)
            info.update(weights="imagenet", file=path, md5=KERAS_WEIGHTS[top]["md5"],
                        sha256=KERAS_WEIGHTS[top]["sha256"])
            tries = [top]
        else:
            path = os.fspath(weights)
            if not os.path.isfile(path):
                raise WeightsError(
                    f"Keras InceptionV3 weights file {path} not found (expected e.g. "
                    f"{KERAS_WEIGHTS[True]['file']}, md5 {KERAS_WEIGHTS[True]['md5']}); or use --inception fid"
                )
            info.update(weights="file", file=os.path.abspath(path), md5=file_digest(path, "md5"))
            tries = [True, False] if include_top is None else [include_top]
        base, errors = None, []
        for top in tries:
            try:
                base = keras.applications.InceptionV3(include_top=top, weights=path,
                                                      pooling=None if top else "avg")
                break
            except Exception as exc:  # wrong layout for this include_top
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''}")
        if base is None:
            raise WeightsError(
                f"cannot load Keras InceptionV3 weights from {path} ({'; '.join(errors)}); expected "
                f"{KERAS_WEIGHTS[True]['file']} (md5 {KERAS_WEIGHTS[True]['md5']}) or its _notop variant"
            )
        has_classifier = top
    if has_classifier:
        feats = base.get_layer("avg_pool").output
        model = keras.Model(base.inputs, [feats, base.output], name="inception_v3_features_and_probs")
    else:
        model = base
    return model, has_classifier, info
