"""``--mixed-precision bf16|fp16``: the networks compute in a 16-bit float, with float32 weights.

Keras' mixed dtype policies ("mixed_bfloat16", "mixed_float16") keep every variable in float32 and
run each layer in the 16-bit type. Two things stay in float32, for the reasons the Keras guide
gives:

* each network's **last layers**: the last layer with weights (other than BatchNormalization) and
  every layer after it (the output activation). So a generator returns float32 images, a
  discriminator float32 scores, and every loss, the gradient penalty and the edge term are computed
  in float32;
* **BatchNormalization's statistics**, which Keras computes in float32 for 16-bit inputs.

float16 (not bfloat16) has a narrow exponent range, so its gradients underflow: with ``fp16`` the
optimizers are wrapped in ``keras.optimizers.LossScaleOptimizer`` (``hparams.make_optimizer``) and
every update scales its loss (``train_on_batch`` does it, the compiled engine's ``_update`` and
``autodiff.scaled_gradients`` too). The rule names no model: it reads the layers.
"""
from __future__ import annotations

import contextlib

import keras

POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


@contextlib.contextmanager
def building_policy(mode: str):
    """Layers created inside take the mixed policy of ``mode`` ("off": nothing changes)."""
    policy = POLICIES.get(mode)
    if policy is None:
        yield
        return
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def float32_outputs(model: keras.Model) -> list[str]:
    """Make ``model``'s last layers compute in float32; returns their names."""
    layers = model.layers
    weighted = [i for i, layer in enumerate(layers)
                if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    if not weighted:
        return []
    changed = []
    for layer in layers[weighted[-1]:]:
        layer.dtype_policy = "float32"
        changed.append(layer.name)
    return changed
