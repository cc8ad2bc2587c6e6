"""Every published layer table, by its exact total and non-trainable parameter counts."""
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


def test_every_registered_model_is_covered():
    assert {name for name, _ in PUBLISHED} == set(MODELS)


def test_output_activations_follow_the_papers():
    for name, shape in PUBLISHED:
        d = get_model(name).build_discriminator(shape)
        last = d.layers[-1].activation.__name__
        assert last == ("sigmoid" if get_model(name).loss == "bce" else "linear"), (name, shape)


def test_wgangp_critic_has_no_batchnorm():
    for shape in [(28, 28, 1), (64, 64, 3)]:
        critic = get_model("WGANGP").build_discriminator(shape)
        assert not any("batch_normalization" in type(l).__name__.lower() or "BatchNormalization" in type(l).__name__
                       for l in critic.layers)


def test_unknown_model_and_shape_are_clear_errors():
    with pytest.raises(ConfigError, match="choose one of GAN, DCGAN, WGAN, WGANGP"):
        get_model("VAE")
    with pytest.raises(ConfigError, match="32x32x3"):
        get_model("DCGAN").build_generator((32, 32, 3))
