"""The stacked engine and the custom train steps on Keras's JAX backend (gan_keras/backend.py,
training/autodiff.py), and the generate-here, measure-there path of benchmarks/generated_images.py: how runs are trained on GPU machines that
have JAX and no TensorFlow."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import generated_images  # noqa: E402

# TensorFlow made unimportable, as on the GPU machines (Keras itself only uses it when it imports)
JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.modules["tensorflow"] = None
    from gan_keras.cli.train import main
    run, data = sys argv_placeholder
    codes = {
        "dcgan": main(["DCGAN", "mnist", "2", "8", "1", "2", "--seed", "3", "--no-tensorboard",
                       "--data-dir", data, "--out", run]),
        # one critic update per iteration: its step compiles in 3 s on JAX's CPU backend, 14 s with 5
        "wgangp": main(["WGANGP", "mnist", "2", "8", "1", "2", "--critic-steps", "1", "--no-tensorboard",
                        "--data-dir", data, "--out", run + "_gp"]),
        "compiled": main(["DCGAN", "mnist", "2", "8", "1", "2", "--engine", "compiled", "--no-tensorboard",
                          "--seed", "3", "--data-dir", data, "--out", run + "_c"]),
        "resumed": main(["DCGAN", "mnist", "4", "8", "1", "2", "--engine", "compiled", "--no-tensorboard",
                         "--seed", "3", "--data-dir", data, "--out", run + "_c"]),
        "straight": main(["DCGAN", "mnist", "4", "8", "1", "2", "--engine", "compiled", "--no-tensorboard",
                          "--seed", "3", "--data-dir", data, "--out", run + "_straight"]),
        "strategy": main(["DCGAN", "mnist", "2", "8", "1", "2", "--engine", "compiled", "--strategy", "mirrored",
                          "--data-dir", data, "--out", run + "_s"]),
    }
    # a weight written in call (Keras's spectral norm writes W / sigma) is refused where its gradient is taken
    import keras, numpy as np
    from gan_keras.training import autodiff
    critic = keras.Sequential([keras.Input((2,)), keras.layers.SpectralNormalization(keras.layers.Dense(1))])
    sgd = keras.optimizers.SGD(0.1)
    sgd.build(critic.trainable_variables)
    step = autodiff.jax_function(lambda x: autodiff.minimize(lambda: {"loss": keras.ops.sum(critic(x, training=True))},
                                                              {"loss": (critic, sgd)}),
                                 critic.variables + sgd.variables)
    try:
        step(np.ones((1, 2), "float32"))
        writes = "it trained"
    except RuntimeError as error:
        writes = str(error)
    print("RESULT " + json.dumps({"codes": codes, "writes": writes}))
""").replace("sys argv_placeholder", "sys.argv[1:3]")


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory, shared_data_dir, jax_child_env):
    run = str(tmp_path_factory.mktemp("jax") / "dcgan")
    proc = subprocess.run([sys.executable, "-c", JAX_SCRIPT, run, shared_data_dir], cwd=ROOT, env=jax_child_env,
                          capture_output=True, text=True, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    return run, json.loads(lines[-1][len("RESULT "):]), proc.stderr


def test_stacked_engine_trains_on_jax_without_tensorflow(jax_run):
    run, result, _ = jax_run
    assert result["codes"]["dcgan"] == 0              # with TensorFlow unimportable
    with open(os.path.join(run, "config.json")) as f:
        versions = json.load(f)["versions"]
    assert versions["backend"] == "jax" and "jax" in versions and "tensorflow" not in versions
    with open(os.path.join(run, "log.csv")) as f:
        assert len(f.read().strip().splitlines()) == 3   # header + 2 iterations


def test_a_jax_checkpoint_is_the_published_network_here(jax_run):
    import keras

    import gan_keras  # noqa: F401
    from gan_keras.registry import get_model
    from gan_keras.training.checkpoints import load_generator

    run, _, _ = jax_run
    loaded = load_generator(os.path.join(run, "checkpoints", "iter_0000002", "generator.keras"))
    built = get_model("DCGAN").build_generator((28, 28, 1))
    assert keras.backend.backend() == "tensorflow"
    assert loaded.count_params() == built.count_params()
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in built.layers]


def test_a_custom_train_step_trains_on_jax_without_tensorflow(jax_run):
    """WGAN-GP's own step (a gradient penalty: a gradient inside the gradient) on JAX, checkpointed."""
    run, result, _ = jax_run
    assert result["codes"]["wgangp"] == 0
    with open(os.path.join(run + "_gp", "log.csv")) as f:
        header, *rows = f.read().strip().splitlines()
    assert header.startswith("iteration,d_loss,g_loss,divergence,gp") and len(rows) == 2
    assert all(np.isfinite(float(x)) for row in rows for x in row.split(","))
    assert os.path.isfile(os.path.join(run + "_gp", "checkpoints", "iter_0000002", "generator.keras"))


def test_the_compiled_engine_trains_and_resumes_exactly_on_jax_without_tensorflow(jax_run):
    """The GPU sessions' engine: 2 iterations, then resumed to 4, logs and weighs what 4 straight do."""
    run, result, _ = jax_run
    assert (result["codes"]["compiled"], result["codes"]["resumed"], result["codes"]["straight"]) == (0, 0, 0)
    with open(os.path.join(run + "_c", "config.json")) as f:
        assert json.load(f)["hyperparams"]["engine"] == "compiled"
    rows = []
    for name in ("_c", "_straight"):
        with open(os.path.join(run + name, "log.csv")) as f:
            rows.append([line.rsplit(",", 1)[0] for line in f.read().strip().splitlines()])   # without seconds
    assert len(rows[0]) == 5 and rows[0] == rows[1]
    states = [np.load(os.path.join(run + name, "checkpoints", "iter_0000004", "trainer_state.npz"))
              for name in ("_c", "_straight")]
    assert states[0].files == states[1].files
    assert all(np.array_equal(states[0][k], states[1][k]) for k in states[0].files)


def test_a_jax_run_resumed_on_tensorflow_says_what_changes(jax_run, shared_data_dir, tmp_path, capsys):
    """A run may move between backends (weights, optimizers and draw states carry over), but the
    two draw other random numbers: one line says so, and config.json records the session's backend."""
    import shutil

    from gan_keras.training.loop import RunConfig, Trainer

    run, _, _ = jax_run
    copy = str(tmp_path / "moved")
    shutil.copytree(run, copy)
    Trainer(RunConfig(model="DCGAN", dataset="mnist", epochs=3, batch_size=8, sample_interval=1, save_model_interval=2,
                      seed=3, data_dir=shared_data_dir, out=copy, tensorboard=False, resume=True,
                      progress_seconds=1e9)).run()
    assert "this run trained on Keras's jax backend and resumes on tensorflow" in capsys.readouterr().out
    with open(os.path.join(copy, "config.json")) as f:
        sessions = json.load(f)["sessions"]
    assert [s["versions"]["backend"] for s in sessions] == ["jax", "tensorflow"]


def test_tensorflow_code_says_so_on_jax(jax_run):
    _, result, stderr = jax_run
    assert result["codes"]["strategy"] == 1
    errors = [ln for ln in stderr.splitlines() if "TensorFlow code" in ln]
    assert any("--strategy mirrored" in ln for ln in errors), stderr[-2000:]


def test_a_weight_written_while_its_gradient_is_taken_is_refused_on_jax(jax_run):
    """jax.vjp takes the differentiated weights as arguments, so a layer's write to one (Keras's
    SpectralNormalization writes W / sigma into the kernel) would be lost: the step would train
    otherwise than on TensorFlow. autodiff refuses it, naming the weight."""
    _, result, _ = jax_run
    assert "kernel: assigned while its gradient is taken" in result["writes"], result["writes"]
    assert "keras.layers.SpectralNormalization" in result["writes"]


def test_require_tensorflow_on_tensorflow():
    from gan_keras import backend
    from gan_keras.training.config import versions

    backend.require_tensorflow("anything")            # no error on this process's backend
    assert versions()["backend"] == "tensorflow" and versions()["tensorflow"]


def test_generated_images_are_the_evaluations_images(tmp_path):
    """generate writes exactly the 8-bit images GAN_evaluation.py writes for the same checkpoint and
    seed, in parts that read back joined; a missing part is an error."""
    from PIL import Image
    from test_evaluation_api import LATENT, SHAPE, FakeBackbone, _generator, _write_checkpoint, make_dataset

    from gan_keras.evaluation import EvalConfig, evaluate_run

    run = str(tmp_path / "run")   # a toy run: one checkpoint of a dense 32x32x3 generator
    os.makedirs(run)
    with open(os.path.join(run, "config.json"), "w") as f:
        json.dump({"model": "LSGAN", "dataset": "toy32", "latent_dim": LATENT, "image_shape": list(SHAPE)}, f)
    _write_checkpoint(run, 200, _generator(1.0))
    n = 7
    evaluate_run(run, EvalConfig(fid_sample_number=20, generate_sample_number=n, out=tmp_path / "eval", seed=5,
                                 progress=False),
                 backbone=FakeBackbone(), dataset=make_dataset())
    folder = tmp_path / "eval" / "iter_0000200" / "generated"
    pngs = np.stack([np.asarray(Image.open(folder / name)) for name in sorted(os.listdir(folder))])
    out = str(tmp_path / "gen" / "images.npz")
    generated_images.main(["generate", run, "--checkpoint", "200", "--n", str(n), "--seed", "5", "--parts", "3",
                           "--out", out])
    parts = sorted(os.listdir(tmp_path / "gen"))
    assert parts == ["images-1of3.npz", "images-2of3.npz", "images-3of3.npz"]
    (images, meta), = generated_images.read_images([str(tmp_path / "gen" / p) for p in parts]).values()
    assert meta["iteration"] == 200 and meta["seed"] == 5 and images.dtype == np.uint8
    np.testing.assert_array_equal(images, pngs)
    with pytest.raises(SystemExit, match="a part is missing"):
        generated_images.read_images([str(tmp_path / "gen" / p) for p in parts[:2]])
