"""GAN_evaluation.py end to end on a fake run directory, with a tiny generator and a fake backbone.

The loaders are replaced in the library (gan_keras.evaluation.pipeline), which the command line calls.
"""
import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_keras.cli import evaluate
from gan_keras.data.base import ImageDataset
from gan_keras.evaluation import pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = (16, 16, 3)
LATENT = 100


class FakeBackbone:
    """8-d features from fixed projections of the pixels, and a 10-class softmax 'classifier'."""

    name = "fake"
    feature_dim = 8
    has_classifier = True
    resize = "bilinear"
    description = {"network": "fake test backbone", "weights": "fixed projections"}

    def __init__(self):
        self.images_seen = 0
        self.proj = np.random.default_rng(0).normal(size=(int(np.prod(SHAPE)), 8)) / 20.0

    def features_and_logits(self, images, batch_size=50, progress=False):
        x = np.asarray(images, np.float64)
        assert x.ndim == 4 and x.min() >= -1.0 - 1e-6 and x.max() <= 1.0 + 1e-6
        self.images_seen += len(x)
        f = x.reshape(len(x), -1) @ self.proj
        logits = np.concatenate([f, -f[:, :2]], axis=1) * 3.0
        p = np.exp(logits - logits.max(1, keepdims=True))
        return f, p / p.sum(1, keepdims=True)

    def features(self, images, batch_size=50, progress=False):
        return self.features_and_logits(images, batch_size)[0]


def _write_checkpoint(run, iteration, model=None, garbage=False, manifest=True):
    path = os.path.join(run, "checkpoints", f"iter_{iteration:07d}")
    os.makedirs(path, exist_ok=True)
    gen = os.path.join(path, "generator.keras")
    if garbage:
        with open(gen, "wb") as f:
            f.write(b"this is not a keras file")
    else:
        model.save(gen)
    if manifest:
        with open(os.path.join(path, "manifest.json"), "w") as f:
            json.dump({"files": ["generator.keras"], "iteration": iteration}, f)
    return path


def _generator(seed, scale):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((LATENT,)),
        keras.layers.Dense(int(np.prod(SHAPE)), activation="tanh",
                           kernel_initializer=keras.initializers.RandomNormal(stddev=scale)),
        keras.layers.Reshape(SHAPE),
    ])
    return model


@pytest.fixture(scope="module")
def template_run(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("runs") / "toy_run")
    os.makedirs(run)
    config = {"model": "DCGAN", "dataset": "toy", "latent_dim": LATENT, "image_shape": list(SHAPE), "seed": 1,
              "data_dir": None, "epochs": 30, "batch_size": 8, "dataset_size": 120}
    with open(os.path.join(run, "config.json"), "w") as f:
        json.dump(config, f)
    for i, (iteration, scale) in enumerate([(10, 0.5), (20, 0.1), (30, 0.02)]):
        _write_checkpoint(run, iteration, _generator(i, scale))
    return run


@pytest.fixture
def run_dir(template_run, tmp_path):
    dst = str(tmp_path / "run")
    shutil.copytree(template_run, dst)
    return dst


@pytest.fixture
def fakes(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    images = (rng.random((120,) + SHAPE) ** 2 * 255).astype(np.uint8)
    dataset = ImageDataset("toy", images, source="test", info={"fingerprint": "toy-120-abc"})
    backbone = FakeBackbone()
    calls = {"dataset": []}

    def load_dataset(name, data_dir, image_size=None, limit=None):
        calls["dataset"].append((name, data_dir))
        return dataset

    monkeypatch.setattr(pipeline, "load_backbone", lambda name, weights, resize: backbone)
    monkeypatch.setattr(pipeline, "load_real_dataset", load_dataset)
    monkeypatch.setenv("GAN_KERAS_CACHE_DIR", str(tmp_path / "cache"))
    return {"backbone": backbone, "dataset": dataset, "calls": calls}


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_end_to_end(run_dir, fakes, capsys):
    rc = evaluate.main([run_dir, "40", "12", "--batch-size", "16", "--seed", "3"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    out = os.path.join(run_dir, "evaluation")
    rows = _read_csv(os.path.join(out, "metrics.csv"))
    assert [int(r["iteration"]) for r in rows] == [10, 20, 30]
    for r in rows:
        assert r["status"] == "ok"
        for key in ("fid", "kid", "precision", "recall", "is", "is_std"):
            assert np.isfinite(float(r[key])), key
        assert r["kid_std"] == ""   # 40 images: every KID subset is the whole sample, its std says nothing
        assert float(r["fid"]) > 0
        assert 0 <= float(r["precision"]) <= 1 and 0 <= float(r["recall"]) <= 1
    md = open(os.path.join(out, "metrics.md")).read()
    assert "| iteration | FID |" in md and md.count("\n| ") >= 4
    with Image.open(os.path.join(out, "fid.png")) as im:
        assert im.size[0] > 100
    summary = json.load(open(os.path.join(out, "evaluation.json")))
    assert summary["complete"] is True
    assert summary["fid_sample_number"] == 40 and summary["generate_sample_number"] == 12
    assert summary["backbone"]["name"] == "fake" and summary["backbone"]["resize"] == "bilinear"
    assert summary["real_images"]["n"] == 40 and summary["real_images"]["dataset_size"] == 120
    assert summary["real_images"]["seed"] == 3 and summary["real_images"]["cache"] == "miss"
    assert "versions" in summary and summary["seed"] == 3
    for row in summary["checkpoints"]:
        assert row["timings"]["features_images_per_second"] > 0
        assert row["fid"] == pytest.approx(float(rows[summary["checkpoints"].index(row)]["fid"]), rel=1e-12)
        d = os.path.join(out, f"iter_{row['iteration']:07d}")
        pngs = sorted(os.listdir(os.path.join(d, "generated")))
        assert pngs == [f"{i:05d}.png" for i in range(12)]
        with Image.open(os.path.join(d, "generated", "00000.png")) as im:
            assert im.size == (16, 16) and im.mode == "RGB"
        for name in ("grid.png", "similarity.png"):
            with Image.open(os.path.join(d, name)) as im:
                im.load()
        assert len(row["similarity"]["pixel"]["train_indices"]) == 8
    assert fakes["calls"]["dataset"] == [("toy", None)]
    # the real set (40 images) + 3 checkpoints x 40 generated images went through the backbone
    assert fakes["backbone"].images_seen == 40 + 3 * 40
    assert "Traceback" not in captured.err


def test_deterministic_and_cached(run_dir, fakes, capsys, tmp_path):
    args = [run_dir, "30", "4", "--checkpoint", "20", "--no-similarity", "--quiet"]
    assert evaluate.main(args + ["--out", str(tmp_path / "a")]) == 0
    assert evaluate.main(args + ["--out", str(tmp_path / "b"), "--data-dir", str(tmp_path)]) == 0
    a = json.load(open(tmp_path / "a" / "evaluation.json"))
    b = json.load(open(tmp_path / "b" / "evaluation.json"))
    assert [r["iteration"] for r in a["checkpoints"]] == [20]
    assert a["checkpoints"][0]["fid"] == b["checkpoints"][0]["fid"]
    assert a["real_images"]["cache"] == "miss" and b["real_images"]["cache"] == "hit"
    assert fakes["calls"]["dataset"][-1] == ("toy", str(tmp_path))
    assert not os.path.exists(tmp_path / "a" / "iter_0000020" / "similarity.png")
    # same images for the same seed
    im_a = np.asarray(Image.open(tmp_path / "a" / "iter_0000020" / "generated" / "00003.png"))
    im_b = np.asarray(Image.open(tmp_path / "b" / "iter_0000020" / "generated" / "00003.png"))
    np.testing.assert_array_equal(im_a, im_b)


def test_generated_images_more_than_fid_sample(run_dir, fakes, tmp_path):
    assert evaluate.main([run_dir, "10", "25", "--checkpoint", "iter_0000030", "--quiet",
                          "--out", str(tmp_path / "o")]) == 0
    pngs = os.listdir(tmp_path / "o" / "iter_0000030" / "generated")
    assert len(pngs) == 25
    assert fakes["backbone"].images_seen == 10 + 10


def test_saved_pngs_reproduce_fid_with_folder_command(run_dir, fakes, tmp_path, monkeypatch, capsys):
    """Generated images are 8-bit before the metrics, so FID of the PNG folders = the table's FID."""
    from gan_keras.metrics import backbones, fid as fidmod

    out = tmp_path / "o"
    assert evaluate.main([run_dir, "30", "30", "--checkpoint", "20", "--save-real", "--no-similarity", "--quiet",
                          "--out", str(out)]) == 0
    row = json.load(open(out / "evaluation.json"))["checkpoints"][0]
    assert len(os.listdir(out / "real_sample")) == 30
    monkeypatch.setattr(backbones, "get_backbone", lambda name, **kw: fakes["backbone"])
    capsys.readouterr()
    assert fidmod.main([str(out / "real_sample"), str(out / "iter_0000020" / "generated"), "--quiet"]) == 0
    value = float(capsys.readouterr().out.split()[1])
    assert value == pytest.approx(row["fid"], rel=1e-5)


def test_damaged_checkpoint_others_evaluated(run_dir, fakes, capsys):
    _write_checkpoint(run_dir, 20, garbage=True)
    _write_checkpoint(run_dir, 40, garbage=True, manifest=False)  # still being written: skipped, reported
    rc = evaluate.main([run_dir, "20", "3", "--quiet", "--no-similarity"])
    err = capsys.readouterr().err
    assert rc == 0
    rows = _read_csv(os.path.join(run_dir, "evaluation", "metrics.csv"))
    assert [(int(r["iteration"]), r["status"]) for r in rows] == [(10, "ok"), (20, "failed"), (30, "ok")]
    assert "generator.keras" in rows[1]["error"] and "damaged or truncated" in rows[1]["error"] and rows[1]["fid"] == ""
    assert "1 of 3 checkpoints could not be evaluated" in err and "Traceback" not in err
    assert "skipped checkpoint(s) 40: no manifest.json (still being written, or interrupted)" in err
    summary = json.load(open(os.path.join(run_dir, "evaluation", "evaluation.json")))
    assert summary["skipped_incomplete_checkpoints"] == [40]
    md = open(os.path.join(run_dir, "evaluation", "metrics.md")).read()
    assert "failed" in md


def test_all_checkpoints_damaged_exit_2(run_dir, fakes, capsys):
    for it in (10, 20, 30):
        _write_checkpoint(run_dir, it, garbage=True)
    rc = evaluate.main([run_dir, "20", "3", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err[-1].startswith("GAN_evaluation.py: error: none of the 3 checkpoint(s)")
    assert os.path.isfile(os.path.join(run_dir, "evaluation", "evaluation.json"))


def test_unknown_checkpoint(run_dir, fakes, capsys):
    assert evaluate.main([run_dir, "20", "3", "--checkpoint", "15"]) == 2
    err = capsys.readouterr().err
    assert "no complete checkpoint for iteration 15" in err and "10, 20, 30" in err


def test_dataset_shape_mismatch(run_dir, fakes, capsys, monkeypatch):
    other = ImageDataset("toy", np.zeros((50, 8, 8, 3), np.uint8))
    monkeypatch.setattr(pipeline, "load_real_dataset", lambda name, data_dir, image_size=None, limit=None: other)
    assert evaluate.main([run_dir, "20", "3", "--quiet"]) == 2
    assert "trained on (16, 16, 3)" in capsys.readouterr().err


def test_absurd_sample_number(run_dir, capsys):
    assert evaluate.main([run_dir, "100000000", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "of memory" in err and "\n" not in err


# ------------------------------------------------------------------------------------------------
# errors as the command line shows them: one line on stderr, exit code 2, no traceback (in this
# process: an exception would fail the test; test_cli_help runs the real GAN_evaluation.py)
# ------------------------------------------------------------------------------------------------

def _cli(*args):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = evaluate.main(list(args))
        except SystemExit as exc:   # argparse's own refusals
            code = exc.code
    return code, err.getvalue()


def test_cli_sample_number_one(run_dir):
    rc, err = _cli(run_dir, "1", "10")
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "FID_sample_number must be at least 2" in err and "Traceback" not in err
    rc, err = _cli(run_dir, "10", "-1")   # only the PNG count: 0 and 1 are fine
    assert rc == 2 and "Generate_sample_number: must be an integer >= 0, got '-1'" in err


def test_cli_not_a_run_dir(tmp_path):
    rc, err = _cli(str(tmp_path), "10", "10")
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "not a gan_keras run directory" in err and "Traceback" not in err
    rc, err = _cli(str(tmp_path / "missing"), "10", "10")
    assert rc == 2 and "not found" in err


def test_cli_no_checkpoints(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": "DCGAN", "dataset": "mnist", "latent_dim": 100,
                                                 "image_shape": [28, 28, 1]}))
    half = run / "checkpoints" / "iter_0001000"
    half.mkdir(parents=True)
    rc, err = _cli(str(run), "10", "10")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "no saved generator checkpoint" in err and "skipped 1000: no manifest.json" in err


def test_cli_help_and_an_error_in_a_real_process(run_dir):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "GAN_evaluation.py"), "-h"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for word in ("model_directory", "FID_sample_number", "Generate_sample_number", "--checkpoint",
                 "--inception", "--resize", "--seed", "--out", "--batch-size"):
        assert word in proc.stdout
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "GAN_evaluation.py"), run_dir, "1", "10"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("GAN_evaluation.py: error: FID_sample_number must be at least 2")
