"""FLOPs of one training iteration, counted from the layers (used by train_speed.py).

Only Conv (incl. transposed) and Dense layers count; a forward pass costs 2 x its
multiply-accumulates. Backward of a layer = 2 x its forward (input gradient + weight gradient),
except the first counted layer of a network whose input needs no gradient, and a frozen network
(input gradients only). The full convention is in train_speed.py's docstring.
"""
from __future__ import annotations


def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= int(x)
    return out


def _io_shapes(layer):
    """(input shape, output shape) of a layer's first call in its model's graph."""
    try:
        return tuple(layer.input.shape), tuple(layer.output.shape)
    except (AttributeError, ValueError):
        node = layer._inbound_nodes[0]
        return tuple(node.input_tensors[0].shape), tuple(node.output_tensors[0].shape)


def layer_macs(layer, in_shape, out_shape, executed: bool = False) -> int:
    """Multiply-accumulates of one forward pass of ``layer`` on one image (0 for layers that do not
    multiply: BatchNorm, activations, pooling, upsampling, reshapes, ...).

    The published layer's count, or with ``executed`` what our implementation runs: an
    UpsampledConv2D in its grouped form does m x m (m = (k + 1) / 2) instead of k x k per output."""
    from keras import layers as L

    from gan_keras.models.upsampled_conv import UpsampledConv2D

    first = getattr(layer, "data_format", "channels_last") == "channels_first"
    spatial = (lambda s: s[2:]) if first else (lambda s: s[1:-1])
    channels = (lambda s: s[1]) if first else (lambda s: s[-1])
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        # every input pixel scatters a k x k x filters patch per input channel
        return _prod(spatial(in_shape)) * _prod(layer.kernel_size) * channels(in_shape) * layer.filters
    if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        return _prod(spatial(out_shape)) * _prod(layer.kernel_size) * channels(in_shape) * layer.depth_multiplier
    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        mid = channels(in_shape) * layer.depth_multiplier
        return _prod(spatial(out_shape)) * (_prod(layer.kernel_size) * mid + mid * layer.filters)
    if executed and isinstance(layer, UpsampledConv2D) and layer.grouped():
        m = (layer.kernel_size[0] + 1) // 2
        return _prod(spatial(out_shape)) * m * m * channels(in_shape) * layer.filters
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        groups = getattr(layer, "groups", 1) or 1
        return _prod(spatial(out_shape)) * _prod(layer.kernel_size) * (channels(in_shape) // groups) * layer.filters
    if isinstance(layer, L.Dense):
        return _prod(out_shape[1:-1]) * int(in_shape[-1]) * layer.units
    return 0


def counted_layers(model, executed: bool = False) -> list[dict]:
    """The layers of ``model`` that multiply, in order (nested models flattened): name, type,
    forward FLOPs per image (2 x MACs)."""
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and hasattr(layer, "layers"):
            out += counted_layers(layer, executed)
            continue
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            in_shape, out_shape = _io_shapes(layer)
        except (AttributeError, IndexError, ValueError, TypeError):
            continue   # a layer with several inputs or outputs: none of those multiply here
        macs = layer_macs(layer, in_shape, out_shape, executed)
        if macs:
            out.append({"name": layer.name, "type": type(layer).__name__, "flops": 2 * macs})
    return out


def network_flops(model, executed: bool = False) -> dict:
    """Per image: ``forward`` FLOPs of the whole network and ``first``, those of its first counted
    layer (whose input gradient is not computed when the network's input needs none)."""
    layers = counted_layers(model, executed)
    return {"forward": sum(x["flops"] for x in layers), "first": layers[0]["flops"] if layers else 0,
            "layers": layers}


def iteration_flops(engine_or_models, batch: int, critic_steps: int = 1, kind: str = "stacked",
                    detail: bool = False, executed: bool = False):
    """FLOPs of one training iteration, counted from the layers (see the module docstring).

    ``engine_or_models``: an engine (its ``generator`` and ``discriminator``) or a pair (G, D).
    ``kind``: "stacked" (the stacked schedule: GAN, DCGAN, WGAN, LSGAN, ...; the BEGAN family and
    EDGEGAN with critic_steps 1) or "wgangp" (adds the gradient penalty per critic step).

    Conventions (per image, F = forward FLOPs = 2 x MACs of the Conv/Dense layers, F1 = the first
    such layer's): a trained network's backward = 2F - F1 (weight gradients, and input gradients
    of every layer but the first); frozen D in the G update: F (input gradients only, the first
    layer's included since they flow on to G); the gradient penalty: F_D + 2 x 2F_D.

        critic step = F_G + 2 (F_D + 2F_D - F1_D)         [+ F_D + 4F_D for "wgangp"]
        G update    = F_G + F_D + F_D + (2F_G - F1_G)
        iteration   = batch x (critic_steps x critic step + G update)

    ``executed``: count what runs (``layer_macs``) instead of the published layers.
    Returns the total (a float), or with ``detail`` a dict of the parts (per iteration).
    """
    if isinstance(engine_or_models, (tuple, list)):
        generator, discriminator = engine_or_models
    else:
        generator, discriminator = engine_or_models.generator, engine_or_models.discriminator
    g, d = network_flops(generator, executed), network_flops(discriminator, executed)
    gf, df = g["forward"], d["forward"]
    d_backward_data = 2 * df - d["first"]
    d_backward_input = df
    d_backward_full = 2 * df
    g_backward = 2 * gf - g["first"]
    critic = gf + 2 * (df + d_backward_data)
    penalty = 0
    if kind == "wgangp":
        penalty = df + 2 * d_backward_full
    elif kind != "stacked":
        raise ValueError(f"unknown kind {kind!r}: stacked or wgangp")
    g_update = gf + df + d_backward_input + g_backward
    total = float(batch * (critic_steps * (critic + penalty) + g_update))
    if not detail:
        return total
    return {"total": total, "critic_steps": critic_steps, "kind": kind, "batch": batch,
            "critic_step": float(batch * (critic + penalty)), "gradient_penalty": float(batch * penalty),
            "generator_update": float(batch * g_update),
            "generator_forward_per_image": float(gf), "discriminator_forward_per_image": float(df),
            "generator_layers": g["layers"], "discriminator_layers": d["layers"]}


def flop_kind(spec) -> str:
    """Which schedule ``iteration_flops`` counts for a model: "wgangp" for WGAN-GP's step, else "stacked"."""
    from gan_keras.training.wgangp import WGANGP

    if spec.train_step is not None and issubclass(spec.train_step, WGANGP):
        return "wgangp"
    return "stacked"
