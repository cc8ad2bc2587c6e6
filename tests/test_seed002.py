"""Seed 002: LSGAN beside DCGAN, the DCGAN paper's networks, celeba, discriminator F1, fine-tuning."""
import json
import os

import keras
import numpy as np
import pytest

import gan_keras  # noqa: F401  (registers the custom layers needed to load .keras files)
from gan_keras import rundir
from gan_keras.errors import ConfigError
from gan_keras.registry import get_model
from gan_keras.training import checkpoints as ckpt
from gan_keras.training.d_f1 import CHUNK, MIDPOINT, DiscriminatorF1, precision_recall_f1
from gan_keras.training.engine import build_engine
from tests.test_models import non_trainable
from tests.test_run import main_here, read_rows, run, same_weights, weights_of


@pytest.fixture(autouse=True)
def _data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)


# -- F1, precision, recall -----------------------------------------------------------------------
def test_precision_recall_f1_on_known_scores():
    real, fake = [0.9, 0.2, 0.7, 0.6], [0.1, 0.8, 0.3, 0.4]          # TP 3, FN 1, FP 1
    assert precision_recall_f1(real, fake, 0.5) == pytest.approx({"d_f1": 0.75, "d_precision": 0.75, "d_recall": 0.75})
    real, fake = [0.9, 0.8, 0.7, 0.6], [0.9, 0.8, 0.1, 0.0]          # TP 4, FP 2: P 2/3, R 1, F1 0.8
    assert precision_recall_f1(real, fake, 0.5) == pytest.approx({"d_f1": 0.8, "d_precision": 2 / 3, "d_recall": 1.0})
    # A fixed threshold of 0: real scores above it are true positives.
    assert precision_recall_f1([3.0, -1.0], [-2.0, -5.0], 0.0) == pytest.approx(
        {"d_f1": 2 / 3, "d_precision": 1.0, "d_recall": 0.5})
    assert precision_recall_f1([0.1], [0.2], 0.5) == {"d_f1": 0.0, "d_precision": 0.0, "d_recall": 0.0}
    # A critic's threshold is the midpoint of the mean scores (here (1 - 1/3) / 2 = 1/3: TP 2, FN 1,
    # FP 1), so a constant added to every score (its loss cannot see one) changes nothing.
    real, fake = [3.0, -1.0, 1.0], [-2.0, 2.0, -1.0]
    expected = {"d_f1": 2 / 3, "d_precision": 2 / 3, "d_recall": 2 / 3}
    for shift in (0.0, 100.0, -7.5):
        assert precision_recall_f1(np.add(real, shift), np.add(fake, shift), MIDPOINT) == pytest.approx(expected)


class _MeanPixelEngine:
    """A stand-in engine: D(x) = mean pixel of x; G(z) = images whose every pixel is z[0]."""

    def __init__(self, shape=(4, 4, 1)):
        self.shape = shape
        self.discriminator = keras.Sequential([keras.Input(shape), keras.layers.GlobalAveragePooling2D(),
                                               keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])

    def generate(self, noise):
        return np.broadcast_to(noise[:, :1, None, None], (len(noise), *self.shape)).astype(np.float32)


def test_f1_probe_scores_held_out_reals_and_fresh_fakes_with_the_threshold():
    engine = _MeanPixelEngine()
    held_out = np.stack([np.full((4, 4, 1), v, np.float32) for v in (0.9, 0.8, 0.2, 0.6)])  # 3 above 0.5
    probe = DiscriminatorF1(held_out, every=5, threshold=0.5, latent_dim=3, seed=1)
    assert probe(4, engine) == {}                           # only every 5th iteration
    values = probe(5, engine)
    noise = np.random.default_rng([1, 2, 5]).standard_normal((4, 3))
    expected = precision_recall_f1([0.9, 0.8, 0.2, 0.6], noise[:, 0], 0.5)
    assert values == pytest.approx(expected)
    assert probe(5, engine) == values                       # the same fakes for the same iteration
    assert probe(10, engine) != values                      # fresh fakes for another one


class _RecordingEngine(_MeanPixelEngine):
    """_MeanPixelEngine that keeps every batch G and D are given."""

    def __init__(self):
        super().__init__()
        self.noise, self.scored = [], []
        predict = self.discriminator.predict_on_batch
        self.discriminator.predict_on_batch = lambda x: (self.scored.append(np.asarray(x)), predict(x))[1]

    def generate(self, noise):
        self.noise.append(np.asarray(noise))
        return super().generate(noise)


@pytest.mark.parametrize("count", [5, CHUNK, 2 * CHUNK + 1])
def test_f1_probe_scores_every_image_once_in_chunks(count):
    """The probe feeds G and D at most CHUNK images at a time (memory), but every held-out image and
    every fake is scored exactly once, in order: F1 as if computed in one piece."""
    engine = _RecordingEngine()
    values = np.random.default_rng(count).uniform(-1, 1, count).astype(np.float32)
    held_out = np.broadcast_to(values[:, None, None, None], (count, 4, 4, 1))
    probe = DiscriminatorF1(held_out, every=1, threshold=MIDPOINT, latent_dim=3, seed=4)
    result = probe(1, engine)

    noise = np.random.default_rng([4, 2, 1]).standard_normal((count, 3)).astype(np.float32)
    sizes = [min(CHUNK, count - i) for i in range(0, count, CHUNK)]
    assert [len(z) for z in engine.noise] == sizes
    np.testing.assert_array_equal(np.concatenate(engine.noise), noise)
    assert [len(x) for x in engine.scored] == sizes + sizes     # the held-out reals, then the fakes
    fakes = _MeanPixelEngine.generate(engine, noise)
    np.testing.assert_array_equal(np.concatenate(engine.scored), np.concatenate([held_out, fakes]))
    assert result == pytest.approx(precision_recall_f1(values, noise[:, 0], MIDPOINT))


@pytest.mark.parametrize("latent", ["normal", "uniform"])
def test_f1_probe_draws_the_fakes_latent_as_the_run_does(latent):
    """The fakes' z follows the run's latent hyperparameter and dimension, from the probe's own stream
    (seed, 2, iteration): a uniform-latent G shown N(0, 1) noise would be scored on images it never
    learnt to make, and another stream would change the logged F1 of a rerun or a resume."""
    engine = _RecordingEngine()
    held_out = np.zeros((6, 4, 4, 1), np.float32)
    probe = DiscriminatorF1(held_out, every=2, threshold=0.5, latent_dim=5, seed=9, latent=latent)
    probe(4, engine)
    (z,) = engine.noise
    rng = np.random.default_rng([9, 2, 4])
    expected = rng.uniform(-1.0, 1.0, (6, 5)) if latent == "uniform" else rng.standard_normal((6, 5))
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z, expected.astype(np.float32))
    if latent == "uniform":
        assert np.abs(z).max() <= 1.0 and z.min() < 0.0


def test_a_run_logs_f1_on_held_out_images_plots_it_and_resumes_exactly(tmp_path):
    kw = dict(model="LSGAN", epochs=4, save_model_interval=2, f1_every=2, f1_images=16, data_limit=200)
    straight = run(tmp_path, "straight", **kw)
    rows = read_rows(straight)
    assert [r["d_f1"] != "" for r in rows] == [False, True, False, True]
    for r in rows[1::2]:
        assert 0.0 <= float(r["d_f1"]) <= 1.0 and 0.0 <= float(r["d_recall"]) <= 1.0
    config = rundir.read_config(straight)
    assert config["f1"]["images"] == 16 and config["f1"]["threshold"] == 0.5 and config["f1_images"] == 16
    assert os.path.isfile(os.path.join(straight, "plots", "d_f1.png"))
    part = run(tmp_path, "part", **{**kw, "epochs": 2})
    resumed = run(tmp_path, "part", **kw)
    assert read_rows(resumed) == rows
    last = lambda d: rundir.list_checkpoints(d)[-1]  # noqa: E731
    assert same_weights(weights_of(last(resumed).discriminator_path), weights_of(last(straight).discriminator_path))
    assert part == resumed


def test_f1_held_out_images_are_never_trained_on(tmp_path, monkeypatch):
    """Also: the probe's fakes come from the run's latent distribution (here U[-1, 1])."""
    from gan_keras.data.base import ImageDataset
    from gan_keras.training import d_f1

    calls, noise = [], []
    original = ImageDataset.batch
    monkeypatch.setattr(ImageDataset, "batch", lambda self, idx: calls.append(np.asarray(idx)) or original(self, idx))
    draw = d_f1.draw_latent
    monkeypatch.setattr(d_f1, "draw_latent", lambda *a, **k: noise.append(draw(*a, **k)) or noise[-1])
    run(tmp_path, model="LSGAN", dataset="mnist", epochs=3, f1_every=1, f1_images=10, data_limit=30,
        hyperparams={"latent": "uniform", "latent_dim": 7})
    held_out, *training = calls
    assert held_out.tolist() == list(range(20, 30))       # the last 10 images
    assert len(training) == 3 and max(int(i.max()) for i in training) < 20
    assert len(noise) == 3
    for z in noise:
        assert z.shape == (10, 7) and np.abs(z).max() <= 1.0 and z.min() < 0.0


# -- fine-tuning ---------------------------------------------------------------------------------
def test_init_from_copies_the_other_runs_weights_exactly_and_records_it(tmp_path, capsys):
    source = run(tmp_path, "source", model="LSGAN", epochs=2, save_model_interval=2)
    spec = get_model("LSGAN")
    engine = build_engine(spec, spec.hyperparams(), (28, 28, 1))
    info = ckpt.initialise_from(source, engine)
    (checkpoint,) = rundir.list_checkpoints(source)
    assert same_weights(engine.generator.get_weights(), weights_of(checkpoint.generator_path))
    assert same_weights(engine.discriminator.get_weights(), weights_of(checkpoint.discriminator_path))
    assert info["iteration"] == 2 and info["model"] == "LSGAN" and info["dataset"] == "mnist"
    tuned = run(tmp_path, "tuned", model="LSGAN", epochs=1, save_model_interval=1, init_from=source)
    assert rundir.read_config(tuned)["init_from"]["checkpoint"] == os.path.abspath(checkpoint.path)
    from gan_keras.metrics.weights import file_digest

    assert info["sha256"] == {"generator": file_digest(checkpoint.generator_path),
                              "discriminator": file_digest(checkpoint.discriminator_path)}
    # DCGAN's networks differ from LSGAN's only in D's output activation: a checkpoint folder works
    # too, with a note that the models differ.
    dcgan = build_engine(get_model("DCGAN"), get_model("DCGAN").hyperparams(), (28, 28, 1))
    capsys.readouterr()
    ckpt.initialise_from(checkpoint.path, dcgan, "DCGAN")
    assert same_weights(dcgan.generator.get_weights(), weights_of(checkpoint.generator_path))
    assert "note: --init-from: that run trained LSGAN, this one is DCGAN" in capsys.readouterr().out


def test_init_from_refuses_another_architecture_with_both_shapes(tmp_path):
    source = run(tmp_path, "source", model="GAN", epochs=1, save_model_interval=1)
    spec = get_model("LSGAN")
    engine = build_engine(spec, spec.hyperparams(), (28, 28, 1))
    with pytest.raises(ConfigError, match=r"weight 0 .* has shape \(100, 256\) there and \(100, 6272\) here"):
        ckpt.initialise_from(source, engine)
    result = main_here("LSGAN", "mnist", 2, 4, 1, 1, "--init-from", source, "--out", tmp_path / "out", "--no-tensorboard")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "there and (100, 6272) here" in result.stderr and not (tmp_path / "out").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no complete checkpoint"):
        ckpt.initialise_from(str(empty), engine)


# -- LSGAN from the command line, on real MNIST and CelebA, both architectures ------------------
# (the dissertation's 64x64 networks are counted in test_models.py and trained in test_run.py)
@pytest.mark.parametrize("args,shape,counts", [
    (["mnist"], (28, 28, 1), (393_729, 896, 856_193, 384)),                         # Fig 4-4, linear D
    (["celeba", "--limit", "64", "--arch", "radford"], (64, 64, 3), (2_767_360, 1_792, 3_578_624, 1_920)),
    (["celeba", "--limit", "64", "--arch", "radford", "--image-size", "32"], (32, 32, 3), None),
])
def test_lsgan_trains_from_the_command_line(tmp_path, args, shape, counts):
    out = tmp_path / "run"
    result = main_here("LSGAN", args[0], 2, 4, 1, 2, *args[1:], "--seed", 3, "--no-tensorboard", "--out", out)
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "LSGAN" and config["loss"] == "least_squares" and tuple(config["image_shape"]) == shape
    rows = read_rows(str(out))
    assert set(rows[0]) == {"iteration", "d_loss", "g_loss", "divergence"} and len(rows) == 2
    (checkpoint,) = rundir.list_checkpoints(str(out))
    d = keras.saving.load_model(checkpoint.discriminator_path)
    g = keras.saving.load_model(checkpoint.generator_path)
    assert g.output_shape == (None, *shape)
    if counts:
        assert (d.count_params(), non_trainable(d), g.count_params(), non_trainable(g)) == counts
    assert "TD " in result.stdout  # the progress line names LSGAN's divergence estimate


def test_a_discriminator_that_does_not_fit_its_loss_is_refused():
    """LSGAN's least squares on a sigmoid D (DCGAN's networks) would build and train another model."""
    import dataclasses

    from gan_keras.models import dcgan

    mixed = dataclasses.replace(get_model("LSGAN"), name="LSGAN_SIGMOID",
                                networks={"dissertation": dcgan.networks(output_activation="sigmoid")})
    with pytest.raises(ConfigError, match="LSGAN_SIGMOID: its discriminator ends in a sigmoid activation, but the "
                                          r"least_squares loss needs linear"):
        build_engine(mixed, mixed.hyperparams(), (28, 28, 1))
    build_engine(get_model("LSGAN"), get_model("LSGAN").hyperparams(), (28, 28, 1))   # its own D fits
