"""Seed 001's models as whole runs: the CLI on real MNIST and CelebA, resume with k_t, evaluation."""
import json
import os

import keras
import numpy as np
import pytest

import gan_keras  # noqa: F401  (registers the custom layers needed to load .keras files)
from gan_keras import rundir
from tests.test_run import main_here, read_rows, run, same_weights, weights_of

BEGAN_COLUMNS = {"iteration", "d_loss", "g_loss", "loss_real", "loss_fake", "loss_fake_d", "k_t", "m_global",
                 "collapse"}


@pytest.fixture(autouse=True)
def _data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)


# Every model on MNIST; at 64x64 (CelebA) the largest, BEGAN-CS (benchmarks/seed001.py runs all six).
@pytest.mark.parametrize("model,extra,dataset", [
    ("BEGAN", set(), "mnist"),
    ("BEGANCS", {"constraint"}, "mnist"),
    ("BEGANV3", {"constraint", "kl_real", "kl_fake"}, "mnist"),
    ("BEGANCS", {"constraint"}, "celeba"),
])
def test_seed001_models_train_from_the_command_line(tmp_path, model, extra, dataset):
    out = tmp_path / "run"
    data = ["--limit", "16"] if dataset == "celeba" else []
    result = main_here(model, dataset, 2, 2, 2, 2, *data, "--seed", 5, "--no-tensorboard", "--out", out)
    assert result.returncode == 0, result.stderr
    assert " k " in result.stdout and " M " in result.stdout          # k_t and M_global on the progress line
    rows = read_rows(str(out))
    assert set(rows[0]) == BEGAN_COLUMNS | extra and len(rows) == 2
    assert all(np.isfinite(float(v)) for r in rows for v in r.values())
    config = json.loads((out / "config.json").read_text())
    assert config["hyperparams"]["latent"] == "uniform" and config["hyperparams"]["latent_dim"] == 64
    for path in ("samples/iter_0000002.png", "samples/reconstructions/iter_0000002.png",
                 "samples/reconstructions/real.png", "plots/k_t.png", "plots/m_global.png", "plots/losses.png"):
        assert (out / path).is_file(), path
    (checkpoint,) = rundir.list_checkpoints(str(out))
    shape = (28, 28, 1) if dataset == "mnist" else (64, 64, 3)
    assert keras.saving.load_model(checkpoint.generator_path).output_shape == (None, *shape)


def test_a_began_run_resumes_bit_identically_k_t_included(tmp_path):
    kw = dict(model="BEGANV3", epochs=4, save_model_interval=2, batch_size=2)
    straight = run(tmp_path, "straight", **kw)
    rows = read_rows(straight)
    assert len({r["k_t"] for r in rows}) == 4                        # k_t moves every iteration
    run(tmp_path, "part", **{**kw, "epochs": 2})
    resumed = run(tmp_path, "part", **kw)
    assert read_rows(resumed) == rows
    last = lambda d: rundir.list_checkpoints(d)[-1]  # noqa: E731
    assert same_weights(weights_of(last(resumed).discriminator_path), weights_of(last(straight).discriminator_path))
    assert same_weights(weights_of(last(resumed).generator_path), weights_of(last(straight).generator_path))


def _forget(run_dir, *names):
    """Drop hyperparameters from a run's config.json, as a run saved before they existed lacks them."""
    path = os.path.join(run_dir, rundir.CONFIG)
    with open(path) as f:
        config = json.load(f)
    for name in names:
        del config["hyperparams"][name]
    with open(path, "w") as f:
        json.dump(config, f)


def test_a_began_run_from_before_the_loss_forms_resumes_as_before(tmp_path):
    """BEGAN's published forms are the declared defaults (the old behaviour): an old run resumes."""
    out = run(tmp_path, model="BEGAN", epochs=2, batch_size=2)
    _forget(out, "l2_form")
    run(tmp_path, model="BEGAN", epochs=3, batch_size=2)
    assert [r["iteration"] for r in read_rows(out)] == ["1", "2", "3"]
    assert rundir.read_config(out)["hyperparams"]["l2_form"] == "pixel_mean"


def test_an_old_began_cs_run_is_refused_with_the_flags_that_resume_it(tmp_path):
    """A BEGAN-CS run saved before the authors' forms became its defaults (eta 1, no l2_form or
    constraint_form) would now train differently: refused, naming the flags that resume it."""
    from gan_keras.errors import RunDirError

    old = {"eta": 1, "l2_form": "pixel_mean", "constraint_form": "l2_norm"}
    out = run(tmp_path, model="BEGANCS", epochs=2, batch_size=2, hyperparams=old)
    _forget(out, "l2_form", "constraint_form")
    with pytest.raises(RunDirError) as refused:
        run(tmp_path, model="BEGANCS", epochs=3, batch_size=2)
    for advice in ("the run's: --eta 1", "the run's: --l2-form pixel_mean", "the run's: --constraint-form l2_norm"):
        assert advice in str(refused.value)
    run(tmp_path, model="BEGANCS", epochs=3, batch_size=2, hyperparams=old)
    assert [r["iteration"] for r in read_rows(out)] == ["1", "2", "3"]


class _PixelBackbone:
    name, feature_dim, has_classifier, resize = "pixels", 4, False, "bilinear"
    description = {"network": "4 fixed pixel projections"}

    def features(self, images, batch_size=50, progress=False):
        x = np.asarray(images, np.float64).reshape(len(images), -1)
        return x @ np.random.default_rng(0).normal(size=(x.shape[1], 4))


def test_evaluation_draws_the_runs_uniform_noise(tmp_path):
    from gan_keras.data import load_dataset
    from gan_keras.evaluation import EvalConfig, evaluate_run

    run_dir = run(tmp_path, model="BEGAN", epochs=2, save_model_interval=1, batch_size=2)
    result = evaluate_run(run_dir, EvalConfig(fid_sample_number=20, generate_sample_number=4, similarity=False,
                                              progress=False, out=str(tmp_path / "eval")),
                          backbone=_PixelBackbone(), dataset=load_dataset("mnist", limit=200, progress=False))
    assert sorted(result.fid_by_iteration) == [1, 2] and all(np.isfinite(list(result.fid_by_iteration.values())))
    assert "uniform(-1, 1" in result.summary["generated_images"]["noise"]
    assert os.path.isfile(os.path.join(str(tmp_path / "eval"), "metrics.md"))
