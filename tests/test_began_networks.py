"""Seed 001's networks (gan_keras/models/began_networks.py): BEGAN, BEGAN-CS and BEGAN v3.

The 64x64x3 counts and layer tables below are written from ../shared/spec/REFERENCE.md ("BEGAN-CS
(seed 001's baseline)" and "BEGAN v3 (seed 001's proposal)"), not dumped from the builders. Plain
BEGAN's split of REFERENCE.md's total (15,121,990) and all 28x28x1 counts are derived (the
module's docstring says how); they are pinned here so that a change to them is seen.
"""
import functools

import keras
import numpy as np
import pytest

import gan_keras  # noqa: F401
from gan_keras.models import began_networks as bn
from gan_keras.models.began_networks import NETWORKS, Reparameterize
from gan_keras.models.upsampled_conv import UpsampledConv2D

S64, S28 = (64, 64, 3), (28, 28, 1)


@functools.lru_cache(maxsize=None)
def nets(name, shape):
    """(generator, discriminator), built once per test session."""
    gen, disc = NETWORKS[name][shape]
    return gen(), disc()


def params(model, *prefixes):
    """Parameters of the layers whose names start with one of the prefixes."""
    return sum(layer.count_params() for layer in model.layers if layer.name.startswith(prefixes))


def images(shape, n=2, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32")


# -- parameter counts ------------------------------------------------------------------------------
# name, shape: D, D's encoder, D's decoder, G, total
COUNTS = {
    ("BEGANCS", S64): (18_371_267, 16_113_216, 2_258_051, 2_258_051, 20_629_318),   # REFERENCE.md
    ("BEGAN", S64): (13_405_379, 11_688_768, 1_716_611, 1_716_611, 15_121_990),      # total: REFERENCE.md
    ("BEGANV3", S64): (7_938_243, 3_431_552 + 2_113_792, 2_392_899, 2_392_899, 10_331_142),  # REFERENCE.md
    ("BEGANCS", S28): (9_351_361, 7_696_064, 1_655_297, 1_655_297, 11_006_658),      # derived
    ("BEGAN", S28): (6_630_593, 5_336_256, 1_294_337, 1_294_337, 7_924_930),         # derived
    ("BEGANV3", S28): (4_054_337, 1_594_816 + 1_220_864, 1_238_657, 1_238_657, 5_292_994),  # derived
}
ENCODER = ("enc_", "code", "mean", "log_var")


@pytest.mark.parametrize("name,shape", sorted(COUNTS))
def test_parameter_counts(name, shape):
    g, d = nets(name, shape)
    d_total, encoder, decoder, g_total, total = COUNTS[(name, shape)]
    assert d.count_params() == d_total
    assert params(d, *ENCODER) == encoder
    assert params(d, "dec_", "reconstruction") == decoder
    assert g.count_params() == g_total
    assert d.count_params() + g.count_params() == total
    assert not d.non_trainable_weights and not g.non_trainable_weights


def test_paper_totals_are_two_learning_rate_scalars_more():
    """The papers print 20,629,320 and 10,331,144: the TF code's two trainable lr scalars on top."""
    for name, printed in (("BEGANCS", 20_629_320), ("BEGANV3", 10_331_144)):
        g, d = nets(name, S64)
        assert g.count_params() + d.count_params() + 2 == printed


def test_began_cs_parts_match_reference_table():
    g, d = nets("BEGANCS", S64)
    assert params(d, "enc_conv0") == 3_584
    assert params(d, "enc_block0_") == 1_032_832
    assert params(d, "enc_block1_") == 2_802_688
    assert params(d, "enc_block2_") == 5_457_280
    assert params(d, "enc_block3_") == 4_719_616
    assert params(d, "code") == 2_097_216
    for model, prefix, out in ((d, "dec", "reconstruction"), (g, "gen", "gen_out")):
        assert params(model, f"{prefix}_dense") == 532_480
        assert params(model, f"{prefix}_block0_") == 328_192
        assert params(model, f"{prefix}_block1_") == params(model, f"{prefix}_block2_") == 475_648
        assert params(model, f"{prefix}_block3_") == 442_624
        assert params(model, out) == 3_459


def test_began_v3_parts_match_reference_table():
    g, d = nets("BEGANV3", S64)
    assert params(d, "enc_conv0", "enc_block", "enc_out") == 3_431_552
    assert params(d, "enc_hidden", "mean", "log_var") == 2_113_792
    assert params(d, "enc_hidden") == 16384 * 128 + 128
    assert params(d, "mean") + params(d, "log_var") == 128 * 128 + 128      # Dense 128 -> 2*64
    for model, prefix, out in ((d, "dec", "reconstruction"), (g, "gen", "gen_out")):
        assert params(model, f"{prefix}_dense") == 64 * 16384 + 16384
        assert params(model, out) == 64 * 3 + 3                               # conv1 64 -> 3


def test_plain_began_parts():
    g, d = nets("BEGAN", S64)
    assert params(d, "enc_conv0") == 3_584
    assert [params(d, f"enc_block{i}_") for i in range(4)] == [442_752, 1_475_328, 3_540_096, 4_129_792]
    assert params(d, "code") == 2_097_216
    assert params(g, "gen_dense") == 532_480
    assert [params(g, f"gen_block{i}_") for i in range(4)] == [295_168] * 4


# -- forward passes and outputs ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", [S64, S28])
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_output_shapes(name, shape):
    g, d = nets(name, shape)
    z = np.random.default_rng(1).uniform(-1, 1, (2, 64)).astype("float32")
    fake = g(z)
    assert tuple(fake.shape) == (2, *shape)
    outputs = d(images(shape))
    assert isinstance(outputs, (list, tuple))
    expected = [(2, *shape), (2, 64)] + ([(2, 64)] if name == "BEGANV3" else [])
    assert [tuple(o.shape) for o in outputs] == expected
    assert d.output_names == (["reconstruction", "mean", "log_var"] if name == "BEGANV3"
                              else ["reconstruction", "code"])
    # BEGAN-CS's constraint reads Enc(G(z)): D applies to G's output directly
    assert [tuple(o.shape) for o in d(fake)] == expected
    assert all(np.isfinite(keras.ops.convert_to_numpy(o)).all() for o in outputs)


def test_networks_table_and_calling_convention():
    assert set(NETWORKS) == {"BEGAN", "BEGANCS", "BEGANV3"}
    for name, table in NETWORKS.items():
        assert set(table) == {S64, S28}
        gen, disc = table[S28]
        g = gen(frozen_bn="moving", latent_dim=32)          # Networks' calling convention
        d = disc(frozen_bn="moving")
        assert tuple(g.input_shape) == (None, 32) and tuple(g.output_shape) == (None, *S28)
        assert tuple(d.input_shape) == (None, *S28)


def test_unsupported_sizes_are_refused():
    with pytest.raises(ValueError, match="square"):
        bn.began_generator(image_shape=(64, 32, 3))
    with pytest.raises(ValueError, match="8x8"):
        bn.began_cs_discriminator(image_shape=(30, 30, 1))       # 30 -> 15: odd and above 8


# -- the VAE's sample ---------------------------------------------------------------------------------
def test_reparameterize_gives_the_mean_in_inference_and_fresh_samples_in_training():
    rng = np.random.default_rng(2)
    mean = rng.normal(size=(4000, 64)).astype("float32")
    log_var = rng.uniform(-2, 1, size=(4000, 64)).astype("float32")
    layer = Reparameterize(seed=7)
    for training in (False, None):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer([mean, log_var], training=training)), mean)
    first = keras.ops.convert_to_numpy(layer([mean, log_var], training=True))
    second = keras.ops.convert_to_numpy(layer([mean, log_var], training=True))
    assert not np.allclose(first, second) and not np.allclose(first, mean)
    eps = (first - mean) / np.exp(log_var / 2)                      # must be N(0, 1)
    assert abs(eps.mean()) < 0.01 and abs(eps.std() - 1) < 0.01
    # the same seed and state give the same stream
    again = Reparameterize(seed=7)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again([mean, log_var], training=True)), first)


def test_v3_discriminator_samples_only_in_training():
    _, d = nets("BEGANV3", S28)
    x = images(S28)
    a, b = d(x, training=False), d(x, training=False)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    t1, t2 = d(x, training=True), d(x, training=True)
    assert not np.allclose(t1[0], t2[0])                           # a new z each call
    np.testing.assert_allclose(t1[1], a[1], rtol=1e-6, atol=1e-6)  # the moments are deterministic
    np.testing.assert_allclose(t1[2], a[2], rtol=1e-6, atol=1e-6)
    # the seed state is a model variable (checkpoints restore it) but not a counted weight
    seed_states = [v for v in d.variables if "seed_generator_state" in v.path]
    assert len(seed_states) == 1 and len(d.variables) == len(d.weights) + 1


def test_reparameterize_is_registered():
    assert keras.saving.get_registered_object("gan_keras>Reparameterize") is Reparameterize


# -- saving -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,shape", [("BEGANV3", S64), ("BEGANCS", S28), ("BEGAN", S28)])
def test_saved_discriminator_loads_with_identical_outputs(tmp_path, name, shape):
    _, d = nets(name, shape)
    x = images(shape, seed=3)
    d(x, training=True)                           # move v3's noise stream away from its start
    path = str(tmp_path / "discriminator.keras")
    d.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.output_names == d.output_names
    for p, q in zip(d(x, training=False), loaded(x, training=False)):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(p), keras.ops.convert_to_numpy(q))
    if name == "BEGANV3":                         # the .keras file also carries the noise stream's state
        for p, q in zip(d(x, training=True), loaded(x, training=True)):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(p), keras.ops.convert_to_numpy(q))


# -- layer order --------------------------------------------------------------------------------------
def rows(model):
    """One row per layer: what a layer table fixes (type, filters, kernel, stride, padding...)."""
    out = []
    for layer in model.layers:
        kind = "Conv2D" if isinstance(layer, UpsampledConv2D) else type(layer).__name__   # computed on the small map
        if kind == "InputLayer":
            continue
        if kind == "Conv2D":
            assert layer.padding == "same" and layer.use_bias and layer.activation.__name__ == "linear", layer.name
            out.append(("Conv2D", layer.filters, layer.kernel_size[0], layer.strides[0]))
        elif kind == "Dense":
            assert layer.use_bias and layer.activation.__name__ == "linear", layer.name
            out.append(("Dense", layer.units))
        elif kind == "LeakyReLU":
            out.append(("LeakyReLU", pytest.approx(layer.negative_slope)))
        elif kind == "ELU":
            out.append(("ELU", layer.alpha))
        elif kind == "UpSampling2D":
            out.append(("UpSampling2D", layer.size, layer.interpolation))
        elif kind == "Reshape":
            out.append(("Reshape", tuple(layer.target_shape)))
        else:
            out.append((kind,))
    return out


ELU, LRELU, UP, FLAT = ("ELU", 1.0), ("LeakyReLU", 0.2), ("UpSampling2D", (2, 2), "nearest"), ("Flatten",)


def conv(filters, kernel=3, strides=1, act=ELU):
    return [("Conv2D", filters, kernel, strides)] + ([act] if act else [])


# BEGAN-CS at 64x64x3 (REFERENCE.md's table)
CS_ENCODER = (conv(128)
              + conv(128) + conv(256) + conv(256, strides=2)
              + conv(256) + conv(384) + conv(384, strides=2)
              + conv(384) + conv(512) + conv(512, strides=2)
              + conv(512) + conv(512)
              + [FLAT, ("Dense", 64)])
CS_DECODER = ([("Dense", 8192), ("Reshape", (8, 8, 128))]
              + conv(128) + conv(128) + conv(256, 1) + [UP]
              + conv(128) + conv(128) + conv(256, 1) + [UP]
              + conv(128) + conv(128) + conv(256, 1) + [UP]
              + conv(128) + conv(128)
              + conv(3, act=None))
# plain BEGAN (widths grow at each block's first conv; no 1x1)
BEGAN_ENCODER = (conv(128)
                 + conv(128) + conv(128) + conv(128, strides=2)
                 + conv(256) + conv(256) + conv(256, strides=2)
                 + conv(384) + conv(384) + conv(384, strides=2)
                 + conv(512) + conv(512)
                 + [FLAT, ("Dense", 64)])
BEGAN_DECODER = ([("Dense", 8192), ("Reshape", (8, 8, 128))]
                 + 3 * (conv(128) + conv(128) + [UP]) + conv(128) + conv(128) + conv(3, act=None))
# BEGAN v3 at 64x64x3 (REFERENCE.md's reconstruction)
V3_ENCODER = (conv(64, 3, act=LRELU) + conv(128, 4, act=LRELU) + conv(128, 3, 2, act=LRELU)
              + conv(192, 4, act=LRELU) + conv(192, 3, 2, act=LRELU)
              + conv(256, 4, act=LRELU) + conv(256, 3, 2, act=LRELU) + conv(256, 4, act=LRELU)
              + [FLAT, ("Dense", 128), LRELU, ("Dense", 64), ("Dense", 64), ("Reparameterize",)])
V3_DECODER = ([("Dense", 16384), ("Reshape", (8, 8, 256))]
              + conv(256, act=LRELU) + [UP] + conv(192, act=LRELU) + [UP] + conv(128, act=LRELU) + [UP]
              + conv(64, act=LRELU) + conv(3, 1, act=None))


@pytest.mark.parametrize("name,encoder,decoder", [("BEGANCS", CS_ENCODER, CS_DECODER),
                                                  ("BEGAN", BEGAN_ENCODER, BEGAN_DECODER),
                                                  ("BEGANV3", V3_ENCODER, V3_DECODER)])
def test_layer_tables_64(name, encoder, decoder):
    g, d = nets(name, S64)
    assert rows(d) == encoder + decoder
    assert rows(g) == decoder


def test_28x28_variants_have_one_fewer_stage():
    for name in NETWORKS:
        g, d = nets(name, S28)
        for model in (g, d):
            ups = [layer for layer in model.layers if isinstance(layer, keras.layers.UpSampling2D)]
            downs = [layer for layer in model.layers
                     if isinstance(layer, keras.layers.Conv2D) and layer.strides == (2, 2)]
            assert len(ups) == 2 and len(downs) == (2 if model is d else 0)
        smallest = min(layer.output.shape[1] for layer in d.layers if isinstance(layer, keras.layers.Conv2D))
        assert smallest == 7


@pytest.mark.parametrize("shape", [S64, S28])
def test_no_normalisation_or_dropout_and_activations_per_model(shape):
    for name in NETWORKS:
        for model in nets(name, shape):
            kinds = {type(layer).__name__ for layer in model.layers}
            assert not any("Normalization" in k or "Dropout" in k for k in kinds), (name, kinds)
            if name == "BEGANV3":
                assert "LeakyReLU" in kinds and "ELU" not in kinds
            else:
                assert "ELU" in kinds and "LeakyReLU" not in kinds
            # every conv but the output one is followed by its activation layer
            convs = [i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Conv2D)]
            for i in convs[:-1]:
                assert type(model.layers[i + 1]).__name__ in ("ELU", "LeakyReLU"), model.layers[i].name
            assert model.layers[convs[-1]] is model.layers[-1]   # the linear output conv ends the model
