"""Every published layer table, by its exact total and non-trainable parameter counts."""
import keras
import numpy as np
import pytest

from gan_keras.registry import MODELS, get_model
from gan_keras.errors import ConfigError

# (model, shape): (D total, D non-trainable, G total, G non-trainable), REFERENCE.md
PUBLISHED = {
    ("GAN", (28, 28, 1)): (533_505, 0, 1_493_520, 3_584),          # Fig 4-1
    ("DCGAN", (28, 28, 1)): (393_729, 896, 856_193, 384),          # Fig 4-4
    ("WGAN", (28, 28, 1)): (5_336_961, 0, 7_276_993, 13_056),      # Fig 4-7
    ("WGANGP", (28, 28, 1)): (5_336_961, 0, 7_276_993, 13_056),    # 4.1.4
    ("GAN", (64, 64, 3)): (7_080_449, 0, 7_143_424, 0),            # Fig 4-18
    ("DCGAN", (64, 64, 3)): (4_318_337, 1_792, 19_072_387, 1_920),  # Fig 4-21
    ("WGAN", (64, 64, 3)): (4_318_337, 1_792, 18_876_163, 3_840),   # Fig 4-24
    ("WGANGP", (64, 64, 3)): (4_314_753, 0, 19_072_387, 1_920),     # Fig 4-27
}


def non_trainable(model):
    return int(sum(np.prod(w.shape) for w in model.non_trainable_weights))


@pytest.mark.parametrize("name,shape", sorted(PUBLISHED))
def test_published_parameter_counts(name, shape):
    spec = get_model(name)
    d, g = spec.build_discriminator(shape), spec.build_generator(shape)
    d_total, d_nt, g_total, g_nt = PUBLISHED[(name, shape)]
    assert (d.count_params(), non_trainable(d)) == (d_total, d_nt)
    assert (g.count_params(), non_trainable(g)) == (g_total, g_nt)
    assert g.output_shape == (None, *shape)
    assert d.output_shape == (None, 1)


# Seed 002's networks (the DCGAN paper's), REFERENCE.md: trainable G 3,576,704 and D 2,765,568 at
# 64x64x3, plus Keras BatchNorm's moving statistics. 32x32: both drop their 512-channel stage.
RADFORD = {
    (64, 64, 3): (2_767_360, 1_792, 3_578_624, 1_920),
    (32, 32, 3): (664_064, 768, 1_069_824, 896),
}


@pytest.mark.parametrize("name", ["DCGAN", "LSGAN"])
@pytest.mark.parametrize("shape", sorted(RADFORD))
def test_seed002_networks_parameter_counts(name, shape):
    spec = get_model(name)
    hp = spec.hyperparams(arch="radford")
    d, g = spec.build_discriminator(shape, hp), spec.build_generator(shape, hp)
    d_total, d_nt, g_total, g_nt = RADFORD[shape]
    assert (d.count_params(), non_trainable(d)) == (d_total, d_nt)
    assert (g.count_params(), non_trainable(g)) == (g_total, g_nt)
    if shape == (64, 64, 3):   # REFERENCE.md's trainable counts, from the models' trainable weights
        trainable = [sum(int(np.prod(w.shape)) for w in m.trainable_weights) for m in (d, g)]
        assert trainable == [2_765_568, 3_576_704]
    assert g.output_shape == (None, *shape) and d.output_shape == (None, 1)
    convs = [l for m in (g, d) for l in m.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert all(not l.use_bias and l.kernel_size == (4, 4) for l in convs)          # no biases, 4x4 kernels
    assert [l.strides for l in convs].count((1, 1)) == 2                           # the 4x4 'valid' ends
    assert all(l.padding == "valid" for l in convs if l.strides == (1, 1))


def test_lsgan_uses_dcgan_networks_with_a_linear_output():
    for shape in [(28, 28, 1), (64, 64, 3)]:
        lsgan, dcgan = get_model("LSGAN"), get_model("DCGAN")
        d_ls, d_dc = lsgan.build_discriminator(shape), dcgan.build_discriminator(shape)
        assert d_ls.count_params() == d_dc.count_params() == PUBLISHED[("DCGAN", shape)][0]
        assert [type(l) for l in d_ls.layers] == [type(l) for l in d_dc.layers]
        assert lsgan.build_generator(shape).count_params() == PUBLISHED[("DCGAN", shape)][2]


# Seed 001 through the registry (64x64x3 from REFERENCE.md; 28x28x1 derived, see began_networks).
BEGAN_FAMILY = {
    ("BEGAN", (64, 64, 3)): (13_405_379, 1_716_611),       # total 15,121,990
    ("BEGANCS", (64, 64, 3)): (18_371_267, 2_258_051),     # total 20,629,318, the authors' code
    ("BEGANV3", (64, 64, 3)): (7_938_243, 2_392_899),      # total 10,331,142, a reconstruction
    ("BEGAN", (28, 28, 1)): (6_630_593, 1_294_337),
    ("BEGANCS", (28, 28, 1)): (9_351_361, 1_655_297),
    ("BEGANV3", (28, 28, 1)): (4_054_337, 1_238_657),
}


@pytest.mark.parametrize("name,shape", sorted(BEGAN_FAMILY))
def test_seed001_parameter_counts_through_the_registry(name, shape):
    spec = get_model(name)
    d, g = spec.build_discriminator(shape), spec.build_generator(shape)
    assert (d.count_params(), g.count_params()) == BEGAN_FAMILY[(name, shape)]
    assert non_trainable(d) == non_trainable(g) == 0
    assert g.input_shape == (None, 64) and g.output_shape == (None, *shape)
    assert d.output_shape[0] == (None, *shape)                      # the reconstruction comes first


def test_seed003_mlp_gan_counts_and_layers():
    spec = get_model("MLPGAN")
    d, g = spec.build_discriminator((64, 64, 3)), spec.build_generator((64, 64, 3))
    assert (g.count_params(), d.count_params()) == (13_277_952, 13_240_321)      # REFERENCE.md
    dense = lambda m: [(l.units, l.activation.__name__) for l in m.layers if isinstance(l, keras.layers.Dense)]  # noqa: E731
    assert dense(g) == [(256, "relu"), (512, "relu"), (1024, "relu"), (12288, "tanh")]
    assert dense(d) == [(1024, "relu"), (512, "relu"), (256, "relu"), (1, "sigmoid")]
    hp = spec.hyperparams()
    assert (hp.optimizer, hp.d_lr, hp.beta_1, hp.beta_2, spec.loss) == ("adam", 2e-4, 0.8, 0.999, "bce")


def test_each_registry_key_is_its_models_name():
    """config.json, the log and the error messages use spec.name; the command line uses the key."""
    assert {key: spec.name for key, spec in MODELS.items()} == {key: key for key in MODELS}


def test_every_registered_model_is_covered():
    covered = {name for name, _ in PUBLISHED} | {"LSGAN", "MLPGAN"} | {name for name, _ in BEGAN_FAMILY} | \
        {"EDGEGAN", "DELIGAN"}   # tests/test_edgegan.py, tests/test_deligan.py
    assert covered == set(MODELS), (
        f"a registered model without a test of its published networks: {sorted(set(MODELS) - covered)}; give it "
        f"one (PUBLISHED above, or its own tests/test_<model>.py) and name it here")


@pytest.mark.parametrize("name", list(MODELS))
def test_output_activations_follow_the_loss_table(name):
    from gan_keras.training.losses import get_loss, output_activation

    spec = get_model(name)   # (a model's loss may be its own row: README, "Adding a model")
    expected = get_loss(spec.loss).output_activation if spec.loss else "linear"
    for arch, networks in spec.networks.items():
        hp = spec.hyperparams(arch=arch)
        for shape in networks.discriminators:
            assert output_activation(spec.build_discriminator(shape, hp)) == expected, (name, arch, shape)


def test_wgangp_critic_has_no_batchnorm():
    for shape in [(28, 28, 1), (64, 64, 3)]:
        critic = get_model("WGANGP").build_discriminator(shape)
        assert not any("batch_normalization" in type(l).__name__.lower() or "BatchNormalization" in type(l).__name__
                       for l in critic.layers)


def test_unknown_model_and_shape_are_clear_errors():
    with pytest.raises(ConfigError, match="choose one of GAN, DCGAN, WGAN, WGANGP"):
        get_model("VAE")
    with pytest.raises(ConfigError, match=r"32x32x3 .*--arch radford has it, or --image-size 64 trains the images "
                                          r"at that size$"):
        get_model("DCGAN").build_generator((32, 32, 3))
    with pytest.raises(ConfigError, match=r"GAN \(dissertation architecture\) has no generator for images of shape "
                                          r"32x32x3 \(its shapes: 28x28x1, 64x64x3\); --image-size 64 trains"):
        get_model("GAN").build_generator((32, 32, 3))
    with pytest.raises(ConfigError, match=r"\(its shapes: 28x28x1, 64x64x3\)$"):   # no colour size for grey images
        get_model("GAN").build_generator((32, 32, 1))
    with pytest.raises(ConfigError, match="GAN has no architecture 'radford'"):
        get_model("GAN").hyperparams(arch="radford")
    with pytest.raises(ConfigError, match="--gp-weight does not apply to LSGAN"):
        get_model("LSGAN").hyperparams(gp_weight=3.0)
