"""UpsampledConv2D (models/upsampled_conv.py) computes the published UpSampling2D -> Conv2D pair.

The reference is the same layer with ``literal=True``, i.e. ``keras.layers.Conv2D.call`` over the
upsampled map. Tolerance: 1e-5 of the largest value (float32; the grouped form adds two weights
before multiplying; measured about 3e-7 on outputs and 5e-7 on gradients).
"""
import numpy as np
import pytest
import keras
import tensorflow as tf
from keras import layers

from gan_keras.models import dcgan, wgan
from gan_keras.models import upsampled_conv
from gan_keras.models.upsampled_conv import UpsampledConv2D, set_literal, transposed_taps

REL = 1e-5


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= REL * np.abs(b).max(), np.abs(a - b).max() / np.abs(b).max()


def test_transposed_taps_by_hand():
    # k = 3, taps w0 w1 w2 -> transposed kernel [w2, w1 + w2, w0 + w1, w0] (module docstring)
    np.testing.assert_array_equal(transposed_taps(3), [[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]])
    # k = 5: [w4, w3 + w4, w2 + w3, w1 + w2, w0 + w1, w0]; every tap used exactly twice (two phases)
    five = transposed_taps(5)
    np.testing.assert_array_equal(five @ np.arange(5), [4, 7, 5, 3, 1, 0])
    np.testing.assert_array_equal(five.sum(axis=0), [2] * 5)
    with pytest.raises(ValueError, match="odd"):
        transposed_taps(4)


def _layer(k, cin, cout, side, seed, **kwargs):
    conv = UpsampledConv2D(cout, k, padding="same", **kwargs)
    conv.build((None, 2 * side, 2 * side, cin))
    rng = np.random.default_rng(seed)
    conv.set_weights([rng.normal(size=w.shape).astype("float32") for w in conv.get_weights()])
    return conv


@pytest.mark.parametrize("k,side,cin,cout", [(3, 7, 5, 4), (5, 4, 6, 3), (7, 5, 3, 2)])
def test_values_and_gradients_match_the_published_conv(k, side, cin, cout):
    conv = _layer(k, cin, cout, side, seed=k, activation="relu")
    assert conv.grouped()
    x = tf.constant(np.random.default_rng(0).normal(size=(2, side, side, cin)).astype("float32"))
    results = []
    for literal in (False, True):
        conv.literal = literal
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = conv(layers.UpSampling2D()(x))
            loss = tf.reduce_sum(tf.sin(y))      # a non-linear loss: every gradient entry differs
        results.append([y, *tape.gradient(loss, [x, conv.kernel, conv.bias])])
    for grouped, literal in zip(*results):
        _close(grouped, literal)


@pytest.mark.parametrize("compute", ["_by_transposed_conv", "_by_phases"])   # TensorFlow's, JAX's
@pytest.mark.parametrize("k,side", [(3, 7), (5, 4), (7, 5), (3, 6)])
def test_both_computations_match_the_published_conv(compute, k, side):
    rng = np.random.default_rng(k + side)
    small = rng.normal(size=(2, side, side, 3)).astype("float32")
    kernel = rng.normal(size=(k, k, 3, 4)).astype("float32")
    literal = keras.ops.conv(layers.UpSampling2D()(small), kernel, padding="same")
    _close(getattr(upsampled_conv, compute)(small, kernel, k, "float32"), literal)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=4), dict(kernel_size=3, padding="valid"),
                                    dict(kernel_size=3, strides=2), dict(kernel_size=1)])
def test_anything_else_is_a_plain_conv2d(kwargs):
    kwargs = {"padding": "same", **kwargs}
    conv = UpsampledConv2D(3, **kwargs)
    assert not conv.grouped()
    plain = layers.Conv2D(3, **kwargs)
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 2)).astype("float32")
    conv.build(x.shape), plain.build(x.shape)
    plain.set_weights(conv.get_weights())
    np.testing.assert_array_equal(conv(x), plain(x))


def test_generators_use_it_right_after_every_upsampling_and_save_it(tmp_path):
    generator = wgan.generator_64()
    pairs = list(zip(generator.layers, generator.layers[1:]))
    upsampled = [b for a, b in pairs if isinstance(a, layers.UpSampling2D)]
    # WGAN-64's last UpSampling2D feeds the 3-channel output convolution, a plain Conv2D
    assert [type(b).__name__ for b in upsampled] == ["UpsampledConv2D"] * 3 + ["Conv2D"]
    assert all(isinstance(a, layers.UpSampling2D) for a, b in pairs if isinstance(b, UpsampledConv2D))

    z = np.random.default_rng(2).normal(size=(2, 100)).astype("float32")
    grouped = generator(z, training=False)
    assert set_literal(generator) == 3
    _close(grouped, generator(z, training=False))

    path = tmp_path / "g.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path)
    assert [l.literal for l in loaded.layers if isinstance(l, UpsampledConv2D)] == [True] * 3
    np.testing.assert_array_equal(loaded(z, training=False), generator(z, training=False))


def test_dcgan_28_generator_matches_its_literal_form():
    generator = dcgan.generator_28()
    z = np.random.default_rng(3).normal(size=(4, 100)).astype("float32")
    grouped = generator(z, training=True)
    assert set_literal(generator) == 2
    _close(grouped, generator(z, training=True))


@pytest.mark.parametrize("name", ["BEGAN", "BEGANCS", "BEGANV3"])
def test_began_family_decoders_match_their_literal_form(name):
    from gan_keras.models.began_networks import NETWORKS

    build_g, build_d = NETWORKS[name][(28, 28, 1)]
    generator, discriminator = build_g(), build_d()
    z = np.random.default_rng(4).uniform(-1, 1, size=(2, generator.input_shape[-1])).astype("float32")
    image = np.random.default_rng(5).uniform(-1, 1, size=(2, 28, 28, 1)).astype("float32")
    nets = [(generator, z)] + ([] if name == "BEGANV3" else [(discriminator, image)])   # v3's D samples
    for network, x in nets:
        grouped = network(x, training=False)
        assert set_literal(network) == 2        # one per upsampling: 7 -> 14 -> 28
        literal = network(x, training=False)
        for a, b in zip(keras.tree.flatten(grouped), keras.tree.flatten(literal)):
            _close(a, b)
