"""Whole runs: the run directory, saved models, resume and interruption, hostile input (test_resume.py: when things go wrong)."""
import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import gan_keras  # noqa: F401  (registers the custom layers needed to load .keras files)
from gan_keras import rundir
from gan_keras.errors import RunDirError
from gan_keras.training.loop import RunConfig, Trainer
from tests.conftest import ROOT
from tests.test_models import PUBLISHED, non_trainable


def run(tmp_path, name="run", **kw):
    defaults = dict(model="DCGAN", dataset="mnist", epochs=4, batch_size=4, sample_interval=2,
                    save_model_interval=2, seed=7, tensorboard=False, progress_seconds=1e9)
    defaults.update(kw)
    config = RunConfig(out=str(tmp_path / name), **defaults)
    return Trainer(config).run()


def read_rows(run_dir):
    with open(os.path.join(run_dir, rundir.LOG), newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def weights_of(path):
    return keras.saving.load_model(path, compile=False).get_weights()


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture(autouse=True)
def _data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)


# Each model at 28x28 (MNIST) and at 64x64 on a real 64x64 dataset (a model's both, nlvr's and
# 102flowers' loaders among them: nlvr gives 3 crops per image).
@pytest.mark.parametrize("model,dataset", [(m, d) for m, big in (("GAN", "102flowers"), ("DCGAN", "nlvr"),
                                                                  ("WGAN", "102flowers"), ("WGANGP", "nlvr"))
                                           for d in ("mnist", big)])
def test_each_model_runs_and_its_saved_files_have_the_published_counts(tmp_path, model, dataset):
    small = dataset == "mnist"
    run_dir = run(tmp_path, model=model, dataset=dataset, epochs=1, batch_size=2, sample_interval=1,
                  save_model_interval=1, data_limit=None if small else 20, tensorboard=True,
                  hyperparams={} if small else {"critic_steps": 1})
    shape = (28, 28, 1) if small else (64, 64, 3)
    d_total, d_nt, g_total, g_nt = PUBLISHED[(model, shape)]
    (checkpoint,) = rundir.list_checkpoints(run_dir)
    g = keras.saving.load_model(checkpoint.generator_path)
    d = keras.saving.load_model(checkpoint.discriminator_path)
    assert (g.count_params(), non_trainable(g)) == (g_total, g_nt)
    assert (d.count_params(), non_trainable(d)) == (d_total, d_nt)
    config = rundir.read_config(run_dir)
    assert config["model"] == model and config["image_shape"] == list(shape)
    divergence = next(v for v in config["log"]["values"] if v["name"] == config["log"]["divergence"])
    assert divergence["label"] == ("JSD" if model in ("GAN", "DCGAN") else "W")
    for path in ("plots/losses.png", "plots/divergence.png", "samples/iter_0000001.png", "tensorboard"):
        assert os.path.exists(os.path.join(run_dir, path)), path
    assert len(read_rows(run_dir)) == 1
    if not small:
        assert config["dataset_size"] == (60 if dataset == "nlvr" else 20)


def test_run_directory_is_self_describing(tmp_path):
    run_dir = run(tmp_path, epochs=4, sample_interval=2, save_model_interval=3)
    config = rundir.read_config(run_dir)
    for key in ("model", "dataset", "epochs", "batch_size", "seed", "hyperparams", "versions", "dataset_size"):
        assert key in config
    assert config["hyperparams"]["beta_1"] == 0.5 and config["hyperparams"]["d_lr"] == 2e-4
    rows = read_rows(run_dir)
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == {"iteration", "d_loss", "d_acc", "g_loss", "divergence"}
    for r in rows:
        assert float(r["divergence"]) == pytest.approx(np.log(2) - float(r["d_loss"]), abs=1e-5)
    assert [c.iteration for c in rundir.list_checkpoints(run_dir)] == [3, 4]  # every 3 and at the end
    assert sorted(os.listdir(os.path.join(run_dir, "samples"))) == ["iter_0000002.png", "iter_0000004.png"]
    # the final model always gets a grid, as it always gets a checkpoint
    short = run(tmp_path, "short", epochs=3, sample_interval=2, save_model_interval=2)
    assert sorted(os.listdir(os.path.join(short, "samples"))) == ["iter_0000002.png", "iter_0000003.png"]
    from PIL import Image

    grid = Image.open(os.path.join(run_dir, "samples", "iter_0000004.png"))
    assert grid.size[0] > 8 * 28  # an 8x8 grid of 28x28 samples (enlarged)


def test_the_terminal_says_what_is_happening_and_what_to_do_next(tmp_path, capsys, monkeypatch):
    """The first progress line times the start (tracing), not a rate to extrapolate; the others
    give the rate and time left; the last names the samples, the curves and the evaluation command,
    with --inception fid where Keras' InceptionV3 weights are not on the machine (as here)."""
    from gan_keras.errors import WeightsError
    from gan_keras.metrics import weights
    from gan_keras.training import loop

    def missing(**kw):
        raise WeightsError("not here")

    monkeypatch.setattr(weights, "find_keras_weights", missing)
    run_dir = run(tmp_path, epochs=3, progress_seconds=0)
    lines = capsys.readouterr().out.splitlines()
    progress = [ln for ln in lines if ln.startswith("[")]
    assert "s to start (building and tracing; the ETA follows)" in progress[0] and "ETA 0:" not in progress[0]
    assert all("it/s | ETA " in ln for ln in progress[1:]) and len(progress) == 3
    assert lines[-2].startswith("done: 3 iterations, ") and "s of training in all its sessions; run directory" \
        in lines[-2]
    assert lines[-1] == f"  samples in {run_dir}/samples, curves in {run_dir}/plots; its FID: " \
                        f"python GAN_evaluation.py {run_dir} 5000 500 --inception fid  (README 'Evaluation': " \
                        "which Inception weights, and how long on a CPU)"
    monkeypatch.setattr(weights, "find_keras_weights", lambda **kw: ("/models/inception.h5", True))
    assert loop._inception_option() == ""    # with Keras' weights found, the default network
    assert "  (Keras on tensorflow, the CPU; each progress line: the mean of every value since the line before)" \
        in lines                                                 # where it runs: no GPU here
    assert not any("a GPU is visible" in ln for ln in lines)    # so no hint


def test_a_stacked_run_on_a_gpu_is_pointed_to_the_compiled_engine(tmp_path, capsys, monkeypatch):
    """On an H100 the compiled engine trained DCGAN-64 at 94 it/s, the stacked one at 37 (README
    'Speed'): a stacked run there says so once, at its start; a compiled run does not."""
    from gan_keras import backend

    monkeypatch.setattr(backend, "gpu_count", lambda: 2)
    run(tmp_path, epochs=1)
    lines = capsys.readouterr().out.splitlines()
    assert any(ln.startswith("  (Keras on tensorflow, 2 GPUs; each progress line") for ln in lines)
    hints = [ln for ln in lines if "a GPU is visible" in ln]
    assert len(hints) == 1 and "--engine compiled --fetch-every 100" in hints[0]
    run(tmp_path, name="compiled", epochs=1, hyperparams={"engine": "compiled"})
    assert "a GPU is visible" not in capsys.readouterr().out


def test_a_progress_line_shows_the_means_since_the_line_before(tmp_path, capsys):
    run_dir = run(tmp_path, epochs=4)   # lines after iteration 1 (the start) and 4 (the end)
    progress = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[")]
    rows = read_rows(run_dir)
    assert [ln.split("]")[0] for ln in progress] == ["[1/4", "[4/4"]
    for line, its in zip(progress, ([rows[0]], rows[1:])):
        for label, column in (("D", "d_loss"), ("G", "g_loss")):
            assert f"| {label} {np.mean([float(r[column]) for r in its]):.4f} |" in f"| {line.split('] ')[1]}"


def test_the_plots_are_drawn_again_only_when_what_they_show_changed(tmp_path, monkeypatch):
    """At every checkpoint and at the end; a run whose last iteration is a checkpoint has nothing
    new to draw at its end, so it is drawn once there."""
    from gan_keras.training import loop

    drawn, plot_run = [], loop.plot_run

    def counting(run_dir, *args, **kwargs):
        drawn.append(len(read_rows(run_dir)))   # the iterations the plots show
        return plot_run(run_dir, *args, **kwargs)

    monkeypatch.setattr(loop, "plot_run", counting)
    run(tmp_path, "even", model="GAN", epochs=4, save_model_interval=2)
    assert drawn == [2, 4]
    drawn.clear()
    run(tmp_path, "odd", model="GAN", epochs=5, save_model_interval=2)
    assert drawn == [2, 4, 5]
    assert os.path.getsize(tmp_path / "odd" / "plots" / "losses.png") > 0


def test_same_seed_same_run_and_extension_equals_a_straight_run(tmp_path):
    straight = run(tmp_path, "a", epochs=6, save_model_interval=3)
    again = run(tmp_path, "b", epochs=6, save_model_interval=3)
    assert read_rows(straight) == read_rows(again)
    part = run(tmp_path, "c", epochs=3, save_model_interval=3)
    resumed = run(tmp_path, "c", epochs=6, save_model_interval=3)  # same --out: continues
    assert read_rows(resumed) == read_rows(straight)
    last = lambda d: rundir.list_checkpoints(d)[-1]  # noqa: E731
    assert same_weights(weights_of(last(resumed).generator_path), weights_of(last(straight).generator_path))
    assert same_weights(weights_of(last(resumed).discriminator_path), weights_of(last(straight).discriminator_path))
    assert part == resumed


def test_every_run_turns_the_graph_optimizer_off(tmp_path):
    """--no-determinism too: with Grappler on, a step could read a weight its optimizer had already
    updated (backend.disable_graph_optimizer); and its rewrites differ between processes."""
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
    try:
        run(tmp_path, epochs=1, deterministic=False)
        assert tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer") is True
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def test_a_finished_run_lets_the_process_free_its_weights(tmp_path):
    """TensorFlow files each traced optimizer update's gradient in a process-wide table that keeps
    the traced graph, and through its captures every variable's buffer (a variable's handle), until
    the process ends; a run removes what it added (backend.traced_gradients_released). Without that,
    the handle below stays alive (checked), and each WGAN-GP run kept 326 MB (benchmarks/memory_per_run.py)."""
    import gc
    import weakref

    from gan_keras import backend

    table = backend._custom_gradient_registry()
    before = set(table)
    trainer = Trainer(RunConfig(out=str(tmp_path / "run"), model="DCGAN", dataset="mnist", epochs=1, batch_size=4,
                                sample_interval=1, save_model_interval=1, seed=7, tensorboard=False,
                                progress_seconds=1e9))
    trainer.run()
    handle = weakref.ref(trainer.engine.discriminator.trainable_variables[0].value.handle)
    del trainer
    gc.collect()
    assert set(table) == before
    assert handle() is None


def test_a_different_run_is_never_overwritten_without_force(tmp_path, capsys):
    run(tmp_path, epochs=2)
    with pytest.raises(RunDirError, match="batch_size: 4 -> 8"):
        run(tmp_path, epochs=2, batch_size=8)
    # --resume with other values is refused even with --force: the user asked to continue that run.
    with pytest.raises(RunDirError, match=r"cannot resume .*run: it was trained with other values \(batch_size: "
                                          r"4 -> 8.*--force never overwrites a run named by --resume"):
        run(tmp_path, epochs=2, batch_size=8, force=True, resume=True)
    assert rundir.read_config(str(tmp_path / "run"))["batch_size"] == 4
    capsys.readouterr()
    run(tmp_path, epochs=2, batch_size=8, force=True)   # without --resume it overwrites, and says so
    assert rundir.read_config(str(tmp_path / "run"))["batch_size"] == 8
    assert "--force: overwriting " in capsys.readouterr().out
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    for force in (False, True):   # --force replaces a run, never someone's folder
        with pytest.raises(RunDirError, match=r"holds no gan_keras run; choose another --out \(--force replaces"):
            run(tmp_path, "other", epochs=1, force=force)
        assert os.listdir(tmp_path / "other") == ["notes.txt"]
    (tmp_path / "other" / "config.json").write_text('{"name": "my web app"}')   # not a run's config
    (tmp_path / "other" / "log.csv").write_text("step,loss\n")
    (tmp_path / "other" / "checkpoints" / "iter_0000100").mkdir(parents=True)   # another tool's checkpoints
    (tmp_path / "other" / "checkpoints" / "iter_0000100" / "model.pt").write_text("weights")
    with pytest.raises(RunDirError, match="holds no gan_keras run"):
        run(tmp_path, "other", epochs=1, force=True)
    assert sorted(os.listdir(tmp_path / "other")) == ["checkpoints", "config.json", "log.csv", "notes.txt"]
    # A hyperparameter names itself and the flag that resumes the run as it was.
    with pytest.raises(RunDirError, match=r"hyperparameters: optimizer_epsilon 1e-07 -> 1e-08 \(the run's: "
                                          r"--optimizer-epsilon 1e-07\)"):
        run(tmp_path, epochs=2, batch_size=8, hyperparams={"optimizer_epsilon": 1e-8})
    # Another model's run: no flag can resume it, so none is suggested.
    with pytest.raises(RunDirError, match="model: 'DCGAN' -> 'WGAN'") as info:
        run(tmp_path, model="WGAN", epochs=2, batch_size=8)
    assert "the run's:" not in str(info.value) and "hyperparameters:" in str(info.value)
    # An identity key that is not a flag's name names its flags.
    with pytest.raises(RunDirError, match=r"f1_images \(--f1-every / --f1-images\): None -> 8"):
        run(tmp_path, epochs=2, batch_size=8, f1_every=1)


def test_a_dataset_has_one_spelling_however_it_was_typed(tmp_path, monkeypatch):
    def config(dataset):
        return RunConfig(model="DCGAN", dataset=dataset, epochs=1, batch_size=1, sample_interval=1,
                         save_model_interval=1)
    assert config("MNIST").dataset == "mnist" and config("MNIST").run_dir() == os.path.join("gan_models", "DCGAN_mnist")
    monkeypatch.chdir(tmp_path)
    assert config("folder:imgs").dataset == "folder:" + str(tmp_path / "imgs")


def test_a_run_from_before_a_hyperparameter_existed_resumes_as_before(tmp_path):
    """A config.json without a hyperparameter added since (here optimizer_epsilon) takes its declared
    default, the old behaviour, so the run resumes; so does one that recorded its dataset as typed
    ("MNIST"), which any spelling now resumes."""
    out = run(tmp_path, model="GAN", epochs=2, batch_size=4)
    path = os.path.join(out, rundir.CONFIG)
    with open(path) as f:
        config = json.load(f)
    del config["hyperparams"]["optimizer_epsilon"]
    config["dataset"] = "MNIST"
    with open(path, "w") as f:
        json.dump(config, f)
    run(tmp_path, model="GAN", dataset="Mnist", epochs=3, batch_size=4)
    assert rundir.read_config(out)["dataset"] == "mnist"
    assert [r["iteration"] for r in read_rows(out)] == ["1", "2", "3"]


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, os.path.join(ROOT, "GAN_main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def main_here(*args):
    """GAN_main.py's ``main`` in this process (a new process costs ~5 s of start-up), as ``cli``
    reports it: returncode, stdout, stderr. For what needs no fresh interpreter (no signals, no
    logical devices, no other backend)."""
    from gan_keras.cli.train import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:   # argparse's refusals
            code = exc.code
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("args,message", [
    (["VAE", "mnist", 10, 8, 5, 5], "invalid choice: 'VAE'"),
    (["DCGAN", "cifar100", 10, 8, 5, 5], "unknown dataset 'cifar100': choose one of mnist, nlvr, 102flowers"),
    (["DCGAN", "folder:", 10, 8, 5, 5], "unknown dataset 'folder:'"),
    (["DCGAN", "mnist", 0, 8, 5, 5], "epochs: must be a positive integer"),
    (["DCGAN", "mnist", 10, "x", 5, 5], "batch_size: must be a positive integer"),
    (["DCGAN", "mnist", 10, 8, 5], "required: save_model_interval"),
    (["DCGAN", "mnist", 10, 8, 5, 5, "--beta-1", "1.5"], "--beta-1: must be in [0, 1), got 1.5"),
    (["DCGAN", "mnist", 10, 8, 5, 5, "--gp-weight", "5"], "--gp-weight does not apply to DCGAN"),
    (["WGANGP", "mnist", 10, 8, 5, 5, "--clip-value", "0.1"], "--clip-value does not apply to WGANGP"),
    (["GAN", "shapes", 10, 8, 5, 5, "--arch", "radford"], "GAN has no architecture 'radford' (--arch): choose dissertation"),
    (["WGANGP", "mnist", 10, 8, 5, 5, "--gp-weight", "-1"], "--gp-weight: must be a positive number, got -1"),
    (["WGANGP", "mnist", 10, 8, 5, 5, "--gp-form", "squared"], "invalid choice: 'squared'"),
    (["DCGAN", "shapes", 10, 8, 5, 5, "--image-size", "48"], "invalid choice: 48"),
    (["DCGAN", "shapes", 10, 8, 5, 5, "--f1-every", "0"], "--f1-every: must be a positive integer"),
    (["DCGAN", "shapes", 10, 8, 5, 5, "--init-from", "/no/such/run"], "--init-from: '/no/such/run' does not exist"),
    (["DCGAN", "nlvr", 10, 8, 5, 5, "--data-dir", "/no/such/folder"], "--data-dir: '/no/such/folder' does not exist"),
    (["DCGAN", "nlvr", 10, 8, 5, 5, "--data-dir", __file__], "is not a folder"),
    (["DCGAN", "mnist", 10, 8, 5, 5, "--seed", 2**32], "--seed: must be an integer from 0 to 4294967295"),
    (["DCGAN", "mnist", 10, 8, 5, 5, "--seed", -1], "--seed: must be an integer"),
])
def test_bad_arguments_give_one_line_and_no_traceback(args, message, capsys):
    from gan_keras.cli.train import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_model_names_are_read_as_dataset_names_are_whatever_their_case():
    from gan_keras.cli.train import build_parser

    args = build_parser().parse_args(["wganGP", "MNIST", "1", "8", "1", "1"])
    assert args.model_name == "WGANGP"


def test_a_session_with_nothing_to_train_changes_no_record(tmp_path):
    out = tmp_path / "run"
    assert main_here("GAN", "shapes", 4, 4, 2, 2, "--limit", 8, "--no-tensorboard", "--out", out).returncode == 0
    config, log = (out / "config.json").read_text(), (out / "log.csv").read_text()
    again = main_here("GAN", "shapes", 2, 4, 2, 2, "--limit", 8, "--no-tensorboard", "--out", out)
    assert again.returncode == 0 and "already has 4 iterations (asked for 2): nothing to do" in again.stdout
    assert (out / "config.json").read_text() == config and (out / "log.csv").read_text() == log


def test_a_checkpoint_folder_is_never_taken_for_a_run(tmp_path):
    """A checkpoint holds copies of the run's config.json and log.csv (what a resume restores a
    damaged log from), so it looks like a run: training there, or --force, would destroy it."""
    from gan_keras.compare import compare_runs
    from gan_keras.compare.runs import CompareError

    out = tmp_path / "run"
    assert main_here("GAN", "shapes", 2, 4, 1, 1, "--limit", 8, "--no-tensorboard", "--out", out).returncode == 0
    folder = out / "checkpoints" / "iter_0000001"
    before = sorted(os.listdir(folder))
    assert {"config.json", "log.csv", "generator.keras"} <= set(before)
    for args in (["--resume", folder], ["--out", folder], ["--out", folder, "--force"]):
        result = main_here("GAN", "shapes", 3, 4, 1, 1, "--limit", 8, "--no-tensorboard", *args)
        # exit status as for any run directory that is not this run: 2 for --resume's argument, else 1
        assert result.returncode == (2 if args[0] == "--resume" else 1) and result.stderr.count("\n") == 1
        assert (f"{folder} is the folder of one checkpoint of the run {out}, not a run directory: to continue "
                f"the run, pass --resume {out}; to start a new run from this checkpoint's weights, pass "
                f"--init-from {folder} and another --out") in result.stderr
        assert sorted(os.listdir(folder)) == before and len(read_rows(folder)) == 1
    with pytest.raises(CompareError, match=f"not a run directory: give its run directory, {out}$"):
        compare_runs([folder], tmp_path / "cmp")


def test_an_unwritable_run_directory_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = main_here("GAN", "shapes", 2, 4, 1, 1, "--limit", 8, "--no-tensorboard", "--out", blocker / "run")
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "Not a directory" in result.stderr and str(blocker / "run") in result.stderr, result.stderr


def test_bad_arguments_in_a_real_process():
    result = cli("VAE", "mnist", 10, 8, 5, 5)
    assert result.returncode == 2 and result.stdout == ""
    from gan_keras.registry import model_names

    choices = ", ".join(f"'{name}'" for name in model_names())
    assert result.stderr == (f"GAN_main.py: error: argument model_name: invalid choice: 'VAE' (choose from "
                             f"{choices}) (see GAN_main.py -h)\n")


@pytest.mark.parametrize("args,message", [
    (["DCGAN", "mnist", 10, 70000, 5, 5], "larger than the dataset (60000 images"),
    (["DCGAN", "102flowers", 10, 8, 5, 5, "--data-dir", "{empty}"], "102flowers/jpg/"),
    (["DCGAN", "mnist", 10, 40000, 5, 5], "of memory"),
    (["DCGAN", "mnist", 10, 8, 5, 5, "--image-size", 32], "image size 32 applies to colour datasets"),
    (["DCGAN", "shapes", 10, 8, 5, 5, "--image-size", 32, "--limit", 50], "32x32x3 (its shapes: 28x28x1, 64x64x3); "
                                                                          "--arch radford has it"),
    (["LSGAN", "shapes", 10, 8, 5, 5, "--f1-images", 4, "--limit", 50], "--f1-images needs --f1-every"),
    (["GAN", "shapes", 10, 8, 5, 5, "--fetch-every", 5, "--limit", 50], "--fetch-every applies to --engine compiled"),
    (["LSGAN", "shapes", 10, 8, 5, 5, "--f1-every", 2, "--f1-images", 45, "--limit", 50],
     "larger than the 5 training images left after holding out 45 of 50"),
    (["LSGAN", "shapes", 10, 8, 5, 5, "--f1-every", 2, "--f1-images", 60, "--limit", 50],
     "--f1-images 60 would hold out all 50 images of shapes, leaving none to train on"),
])
def test_impossible_runs_are_refused_before_anything_is_written(tmp_path, args, message, monkeypatch, capsys):
    """GAN_main.py's own ``main`` in this process (the refusals in a real process: the tests above);
    each is one line on stderr, exit code 1, and no run directory."""
    from gan_keras.cli.train import main

    if "--data-dir" in args:
        monkeypatch.delenv("GAN_KERAS_DATA_DIR")  # only the folder given may be searched
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    out = tmp_path / "out"
    args = [str(a).replace("{empty}", str(tmp_path)) for a in args]
    code = main([*args, "--out", str(out), "--no-tensorboard"])
    stderr = capsys.readouterr().err
    assert code == 1, stderr
    assert stderr.count("\n") == 1 and message in stderr, stderr
    assert not out.exists()


EPOCHS = 300


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory, shared_data_dir):
    out = tmp_path_factory.mktemp("straight") / "s"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "GAN_main.py"), "GAN", "mnist", str(EPOCHS), "8",
                             "1000", "100", "--seed", "11", "--no-tensorboard", "--out", str(out),
                             "--data-dir", shared_data_dir], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return str(out)


def _start(out, epochs, *extra):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "GAN_main.py"), "GAN", "mnist", str(epochs), "8",
                             "1000", "100", "--seed", "11", "--out", str(out), "--no-tensorboard", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _wait_for_rows(out, n, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(os.path.join(out, "log.csv")) as f:
                if sum(1 for _ in f) > n:
                    return
        except OSError:
            pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run did not start")


def test_ctrl_c_and_sigterm_are_the_same_stop_request():
    """SIGINT takes the path SIGTERM takes (the run test below sends SIGTERM): finish, save, exit."""
    from gan_keras.training.runlog import StopRequest

    for sig in (signal.SIGINT, signal.SIGTERM):
        with StopRequest() as stop:
            os.kill(os.getpid(), sig)
            deadline = time.time() + 5
            while stop.signal_name is None and time.time() < deadline:
                time.sleep(0.01)
            assert stop.signal_name == sig.name
            with pytest.raises(KeyboardInterrupt):  # a second one stops at once
                os.kill(os.getpid(), sig)
                time.sleep(1)


def test_ctrl_c_while_starting_is_never_lost(tmp_path):
    """A Ctrl-C while TensorFlow is imported used to be raised inside a garbage-collector callback,
    where Python discards it, so the run trained to the end (or printed a long traceback). GAN_main.py
    holds the signal until it has started: one line, exit code 130, nothing written."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "GAN_main.py"), "GAN", "shapes", "30", "4", "10", "10",
                             "--limit", "16", "--no-tensorboard", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(0.5)   # importing takes seconds
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    assert stderr == "GAN_main.py: error: interrupted while starting; nothing was written\n"
    assert not out.exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_interrupted_runs_resume_to_the_same_result_as_a_straight_run(tmp_path, sig, straight_run):
    """SIGTERM: a resume point at the stop; kill -9: the last --autosave resume point (not the last
    checkpoint); either way the resumed run ends bit-identical to a straight one."""
    epochs = EPOCHS
    out = tmp_path / "interrupted"
    proc = _start(out, epochs, "--autosave", "0.0005")  # a resume point every 30 ms
    _wait_for_rows(out, 110 + np.random.default_rng().integers(0, 80), proc)
    with pytest.raises(RunDirError, match=rf"being written by another training process \(pid {proc.pid} "):
        run(tmp_path, "interrupted", model="GAN")   # a second process on the run while it trains
    if sig == signal.SIGKILL:
        deadline = time.time() + 60
        while (rundir.autosave(str(out)) is None or rundir.autosave(str(out)).iteration <= 100) and \
                time.time() < deadline:
            time.sleep(0.01)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    if sig == signal.SIGKILL:
        assert proc.returncode == -9
    else:
        assert proc.returncode == 143, stderr
        assert "--resume" in stdout and "Traceback" not in stderr
        assert os.path.exists(out / "plots" / "losses.png")
    # the stop or the autosave wrote a resume point, never an extra checkpoint
    assert [c.iteration for c in rundir.list_checkpoints(str(out))] == [100]
    point = rundir.autosave(str(out))
    assert point is not None and 100 < point.iteration < epochs
    assert not os.path.exists(os.path.join(point.path, rundir.GENERATOR_FILE))  # resume state only
    resumed = main_here("GAN", "mnist", epochs, 8, 1000, 100, "--seed", 11, "--no-tensorboard", "--resume", out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"from iteration {point.iteration} (its resume point)" in resumed.stdout
    assert read_rows(str(out)) == read_rows(straight_run)
    a, b = rundir.list_checkpoints(str(out))[-1], rundir.list_checkpoints(straight_run)[-1]
    assert a.iteration == b.iteration == epochs
    assert same_weights(weights_of(a.generator_path), weights_of(b.generator_path))
    assert same_weights(weights_of(a.discriminator_path), weights_of(b.discriminator_path))
    assert rundir.autosave(str(out)) is None  # removed once newer checkpoints existed


def test_a_registered_model_is_a_valid_command_line_choice(monkeypatch):
    from gan_keras import registry
    from gan_keras.cli.train import build_parser

    monkeypatch.setitem(registry.MODELS, "MYGAN", registry.MODELS["DCGAN"])
    args = build_parser().parse_args(["MYGAN", "shapes", "1", "2", "1", "1"])
    assert args.model_name == "MYGAN"
    # --strategy's help names the models it can split, from their declarations (a train step until
    # it sets REPLICABLE: left out)
    import dataclasses

    from gan_keras.training.wgangp import WGANGP

    unsplit = type("Unsplit", (WGANGP,), {"REPLICABLE": False})
    monkeypatch.setitem(registry.MODELS, "MYSTEP", dataclasses.replace(registry.MODELS["WGANGP"], train_step=unsplit))
    action = next(a for a in build_parser()._actions if a.dest == "strategy")
    names = action.help.split("models ")[1].split(")")[0].split(", ")
    assert "MYGAN" in names and "WGANGP" in names and "MYSTEP" not in names
    assert not registry.MODELS["MYSTEP"].replicable and registry.MODELS["WGANGP"].replicable


def test_resume_finds_the_data_where_the_run_found_it(tmp_path, monkeypatch, shared_data_dir):
    run_dir = run(tmp_path, epochs=2, data_dir=shared_data_dir)
    monkeypatch.delenv("GAN_KERAS_DATA_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "nothing"))
    run(tmp_path, epochs=3)  # no data_dir given: the recorded one is used
    assert rundir.read_config(run_dir)["data_dir"] == os.path.abspath(shared_data_dir)
    assert len(read_rows(run_dir)) == 3


def test_saved_models_load_in_a_fresh_interpreter_after_import_gan_keras(tmp_path):
    """What a user does: only `import gan_keras`, then a plain load_model (no custom_objects): a
    trained run's checkpoint, and every registered model's networks (its default architecture at
    its smallest size; a model's own layers, EDGEGAN's Mean Rescaling, DeLiGAN's mixture latent, BEGAN v3's
    reparameterisation, are registered by the package)."""
    from gan_keras.registry import MODELS

    run_dir = run(tmp_path, model="WGAN", epochs=1, batch_size=2, sample_interval=1, save_model_interval=1,
                  hyperparams={"critic_steps": 1})
    (checkpoint,) = rundir.list_checkpoints(run_dir)
    paths, counts = [checkpoint.generator_path, checkpoint.discriminator_path], ["7276993/1", "5336961/1"]
    for name, spec in MODELS.items():
        shape = min(spec.architecture().generators, key=lambda s: s[0] * s[1] * s[2])
        for which, net in (("g", spec.build_generator(shape)), ("d", spec.build_discriminator(shape))):
            paths.append(str(tmp_path / f"{name}_{which}.keras"))
            net.save(paths[-1])
            counts.append(f"{net.count_params()}/{len(net.outputs)}")
    assert counts[2 + 2 * list(MODELS).index("BEGANV3") + 1].endswith("/3")  # its VAE D: image, mean, log variance
    code = ("import gan_keras, keras, numpy as np, sys\n"
            "for p in sys.argv[1:]:\n"
            "    m = keras.saving.load_model(p)\n"
            "    out = m(np.zeros((1,) + tuple(m.inputs[0].shape[1:]), 'float32'), training=False)\n"
            "    print(f'{m.count_params()}/{len(out) if isinstance(out, (list, tuple)) else 1}')")
    result = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=300,
                            cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == counts
    assert result.stderr == ""  # TensorFlow's start-up lines are kept off stderr


def test_the_printed_resume_command_keeps_the_runs_options(tmp_path):
    config = RunConfig(model="LSGAN", dataset="celeba", epochs=10, batch_size=4, sample_interval=1,
                       save_model_interval=1, out=str(tmp_path / "r"),
                       command="python GAN_main.py LSGAN celeba 10 4 1 1 --lr 0.001 --out /x/r --arch radford "
                               "--image-size 32 --on-nan rollback --force --f1-every 5")
    assert Trainer(config)._resume_command() == (
        "python GAN_main.py LSGAN celeba 10 4 1 1 --lr 0.001 --arch radford --image-size 32 --f1-every 5 "
        f"--resume {tmp_path / 'r'}")
    assert config.script("GAN_evaluation.py") == "GAN_evaluation.py"
    # Run from elsewhere: the printed commands name the tools where the user reached them.
    config.command = "python '/opt/my gan/GAN_main.py' LSGAN celeba 10 4 1 1 --lr 0.001"
    assert Trainer(config)._resume_command() == (
        f"python '/opt/my gan/GAN_main.py' LSGAN celeba 10 4 1 1 --lr 0.001 --resume {tmp_path / 'r'}")
    assert config.script("GAN_evaluation.py") == "/opt/my gan/GAN_evaluation.py"
    config.command = "python 'GAN_main.py LSGAN"   # given from Python, unbalanced: the plain names
    assert config.script("GAN_evaluation.py") == "GAN_evaluation.py"
    assert Trainer(config)._resume_command().startswith("python GAN_main.py LSGAN celeba 10 4 1 1 --resume ")


def test_the_recorded_command_names_gan_main_as_it_was_run(monkeypatch):
    from gan_keras.cli import train

    monkeypatch.setattr(sys, "argv", ["/opt/gan/GAN_main.py", "DCGAN"])
    assert train._script() == "/opt/gan/GAN_main.py"
    monkeypatch.setattr(sys, "argv", ["pytest"])   # main() called from Python: the name alone
    assert train._script() == "GAN_main.py"


def test_a_run_written_before_hyperparameters_were_declared_per_model_still_resumes(tmp_path):
    """Older config.json files hold every model's hyperparameters and lack arch/gp_form."""
    run_dir = run(tmp_path, epochs=2, save_model_interval=2)
    for path in (os.path.join(run_dir, rundir.CONFIG),
                 os.path.join(rundir.list_checkpoints(run_dir)[-1].path, rundir.CONFIG)):
        with open(path) as f:
            config = json.load(f)
        config["hyperparams"].pop("arch")
        config["hyperparams"]["gp_weight"] = 10.0
        with open(path, "w") as f:
            json.dump(config, f)
    run(tmp_path, epochs=4, save_model_interval=2)
    assert [int(r["iteration"]) for r in read_rows(run_dir)] == [1, 2, 3, 4]
    assert [c.iteration for c in rundir.list_checkpoints(run_dir)] == [2, 4]


def test_any_image_folder_trains_and_evaluates_at_28x28_greyscale(tmp_path):
    from PIL import Image

    from gan_keras.evaluation import EvalConfig, evaluate_run

    folder = tmp_path / "my images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "run"
    result = main_here("GAN", f"folder:{folder}", 2, 4, 2, 2, "--image-size", 28, "--seed", 0, "--no-tensorboard",
                 "--out", out)
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["image_shape"] == [28, 28, 1] and config["dataset_size"] == 24
    evaluation = evaluate_run(str(out), EvalConfig(fid_sample_number=10, generate_sample_number=2, similarity=False,
                                                   progress=False), backbone=_FlatBackbone())
    assert list(evaluation.fid_by_iteration) == [2]


class _FlatBackbone:
    name, feature_dim, has_classifier, resize = "flat", 3, False, "bilinear"
    description = {"network": "3 pixel means"}

    def features(self, images, batch_size=50, progress=False):
        x = np.asarray(images, np.float64).reshape(len(images), -1)
        return np.stack([x.mean(1), x[:, ::2].mean(1), x[:, 1::3].mean(1)], axis=1)
