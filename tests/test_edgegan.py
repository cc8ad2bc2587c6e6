"""EDGEGAN (seed 000): the edge operator, CFT, Mean Rescaling, the loss split of eq. (3), whole runs."""
import os

import keras
import numpy as np
import tensorflow as tf

import gan_keras  # noqa: F401  (registers the custom layers needed to load .keras files)
from gan_keras import rundir
from gan_keras.models.edgegan import MeanRescaling
from gan_keras.registry import get_model
from gan_keras.training.checkpoints import load_generator
from gan_keras.training.edgegan import edge_distance, sobel_edges
from gan_keras.training.engine import build_engine
from tests.test_run import read_rows, run, same_weights, weights_of

MNIST = (28, 28, 1)
FLAT = np.sqrt(1e-6)  # the edge map of a flat region: sqrt(0 + epsilon)


def engine(**hp):
    keras.utils.set_random_seed(3)
    spec = get_model("EDGEGAN")
    return build_engine(spec, spec.hyperparams(**hp), MNIST)


def batches(seed, n=2, shape=MNIST):
    rng = np.random.default_rng(seed)
    return lambda: rng.uniform(-1, 1, (n, *shape)).astype(np.float32)


# -- the edge operator ------------------------------------------------------------------------------------
def test_sobel_on_a_vertical_step_is_half_the_step_on_both_sides_and_flat_elsewhere():
    image = np.full((1, 6, 8, 1), -1.0, np.float32)
    image[:, :, 4:] = 1.0                                     # a step of height 2 between columns 3 and 4
    edges = np.asarray(sobel_edges(image))[0]
    expected = np.full((6, 8), FLAT)
    expected[:, 3:5] = np.sqrt(1.0 + 1e-6)                    # 2 * (1 + 2 + 1) / 8 = 1 on each side
    np.testing.assert_allclose(edges, expected, rtol=1e-5)   # no false edges at the border
    np.testing.assert_allclose(np.asarray(sobel_edges(np.transpose(image, (0, 2, 1, 3))))[0], expected.T, rtol=1e-5)


def test_colour_edges_are_the_edges_of_the_bt601_luminance():
    image = np.zeros((1, 5, 5, 3), np.float32)
    image[:, :, 3:, 0] = 1.0                                  # a red step: luminance step 0.299
    edges = np.asarray(sobel_edges(image))[0]
    np.testing.assert_allclose(edges[:, 2:4], np.sqrt((0.299 / 2) ** 2 + 1e-6), rtol=1e-5)
    np.testing.assert_allclose(edges[:, :2], FLAT, rtol=1e-5)


def test_edge_distance_sums_per_image_and_averages_over_the_batch():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    assert float(edge_distance(real, real)) == 0.0
    fake = real + 0.5                                         # a constant shift has the same edges
    np.testing.assert_allclose(float(edge_distance(fake, real)), 0.0, atol=1e-6)
    np.testing.assert_allclose(float(edge_distance(fake, real, "pixels")), 64 * 0.25, rtol=1e-6)
    step = np.zeros((3, 8, 8, 1), np.float32)
    step[0, :, 4:] = 2.0                                      # one image of three has a step: 16 pixels of 1
    np.testing.assert_allclose(float(edge_distance(step, np.zeros_like(step))), 16 * (1 - FLAT) ** 2 / 3, rtol=1e-4)


# -- CFT and MR ---------------------------------------------------------------------------------------
def test_mean_rescaling_adds_one_scalar_in_minus_one_one_to_each_latent_vector():
    z = np.random.default_rng(1).normal(size=(500, 7)).astype(np.float32)
    shift = np.asarray(MeanRescaling(seed=4)(z)) - z
    np.testing.assert_allclose(shift, shift[:, :1].repeat(7, axis=1), atol=1e-6)   # one mu per vector
    mu = shift[:, 0]
    assert -1 <= mu.min() < -0.9 and 0.9 < mu.max() <= 1 and len(np.unique(mu)) == 500


def test_cft_maps_z_to_n_plus_fd_and_the_parameter_count_follows():
    # Figure 4-4's generator has 856,193 parameters with z of 100: its Dense(6272) grows by 6272 per extra
    # input; CFT adds a 100 x (100 + FD) kernel (no bias), MR nothing.
    for fd in (1, 3):
        g = get_model("EDGEGAN").build_generator(MNIST, get_model("EDGEGAN").hyperparams(feature_diff=fd))
        assert [layer.name for layer in g.layers[:2]] == ["common_feature_training", "mean_rescaling"]
        assert g.input_shape == (None, 100) and g.layers[0].output.shape == (None, 100 + fd)
        assert g.count_params() == 856_193 + fd * 6272 + 100 * (100 + fd)
    plain = get_model("EDGEGAN").build_generator(MNIST, get_model("EDGEGAN").hyperparams(cft="off", mean_rescaling="off"))
    assert plain.count_params() == 856_193 and plain.layers[0].name.startswith("dense")   # the DCGAN baseline


def test_one_iteration_trains_cft_and_every_network():
    e = engine()
    cft = e.generator.get_layer("common_feature_training").kernel
    before = [np.array(v) for v in (cft, *e.discriminator.trainable_variables)]
    logs = e.train_iteration(batches(0), np.random.default_rng(0))
    after = [np.array(v) for v in (cft, *e.discriminator.trainable_variables)]
    assert all(not np.array_equal(b, a) for b, a in zip(before, after))
    assert set(logs) == {"d_loss", "d_acc", "g_loss", "divergence", "edge"} and all(np.isfinite(list(logs.values())))
    # and the gradient that moved CFT's kernel is G's loss, through G
    with tf.GradientTape() as tape:
        out = e.discriminator(e.generator(np.ones((2, 100), np.float32), training=True), training=True)
    assert np.abs(np.asarray(tape.gradient(out, cft))).sum() > 0


def test_the_edge_term_enters_gs_loss_only():
    """Same seeds, same batches: D's loss is the same with and without the term, and G's loss differs by
    exactly weight x term (D's update comes first and does not see the term)."""
    off = engine(edge_loss="off").train_iteration(batches(0), np.random.default_rng(0))
    on = engine(edge_loss="edges", edge_weight=0.25).train_iteration(batches(0), np.random.default_rng(0))
    assert on["d_loss"] == off["d_loss"] and on["edge"] == off["edge"] > 0
    np.testing.assert_allclose(on["g_loss"] - off["g_loss"], 0.25 * on["edge"], rtol=1e-4)
    pixels = engine(edge_loss="pixels").train_iteration(batches(0), np.random.default_rng(0))
    assert pixels["d_loss"] == off["d_loss"] and pixels["edge"] != off["edge"]


def test_the_saved_generator_loads_and_continues_the_same_mean_rescaling_stream(tmp_path):
    e = engine()
    path = str(tmp_path / "g.keras")
    e.generator.save(path)
    loaded = load_generator(path)
    z = np.random.default_rng(2).normal(size=(4, 100)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(loaded(z)), np.asarray(e.generator(z)))


# -- whole runs ---------------------------------------------------------------------------------------
def test_an_edgegan_run_on_a_folder_resumes_bit_identically_and_evaluates(tmp_path, image_folder):
    from gan_keras.data import load_dataset
    from gan_keras.evaluation import EvalConfig, evaluate_run
    from tests.test_seed001_runs import _PixelBackbone

    kw = dict(model="EDGEGAN", dataset=image_folder, image_size=28, epochs=4, batch_size=2, save_model_interval=2)
    straight = run(tmp_path, "straight", **kw)
    rows = read_rows(straight)
    assert [set(r) for r in rows] == [{"iteration", "d_loss", "d_acc", "g_loss", "divergence", "edge"}] * 4
    assert os.path.isfile(os.path.join(straight, "plots", "edge_loss.png"))
    run(tmp_path, "part", **{**kw, "epochs": 2})
    resumed = run(tmp_path, "part", **kw)
    assert read_rows(resumed) == rows
    last = lambda d: rundir.list_checkpoints(d)[-1]  # noqa: E731
    assert same_weights(weights_of(last(resumed).generator_path), weights_of(last(straight).generator_path))

    result = evaluate_run(straight, EvalConfig(fid_sample_number=8, generate_sample_number=2, similarity=False,
                                               progress=False, out=str(tmp_path / "eval")),
                          backbone=_PixelBackbone(), dataset=load_dataset(image_folder, image_size=28, progress=False))
    assert sorted(result.fid_by_iteration) == [2, 4] and all(np.isfinite(list(result.fid_by_iteration.values())))
