"""gan_keras.evaluation.evaluate_run as a library call, on a fake 32x32x3 run of a model the dissertation lacks.

The real images are made by a "true" generator; the checkpoints are that generator plus less and
less noise in its weights, so FID must fall from checkpoint to checkpoint and the last one (the
true generator itself) must be close to 0. The backbone is a fixed projection without classifier.
"""
import ast
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gan_keras.data.base import ImageDataset, to_uint8
from gan_keras.errors import CheckpointError, ConfigError, DatasetError, RunDirError
from gan_keras.evaluation import EvalConfig, EvaluationResult, evaluate_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPE = (32, 32, 3)
LATENT = 16
N_REAL = 200
CHECKPOINTS = [(100, 3.0), (200, 1.0), (300, 0.0)]   # (iteration, distance of the weights from the true ones)


class FakeBackbone:
    """6-d features from a fixed projection of the pixels; no classifier (so no Inception Score)."""

    name = "fake"
    feature_dim = 6
    has_classifier = False
    resize = "bilinear"
    description = {"network": "fixed projection"}

    def __init__(self):
        self.proj = np.random.default_rng(0).normal(size=(int(np.prod(SHAPE)), 6)) / 30.0

    def features(self, images, batch_size=50, progress=False):
        x = np.asarray(images, np.float64)
        assert x.shape[1:] == SHAPE and x.min() >= -1.0 - 1e-6 and x.max() <= 1.0 + 1e-6
        return x.reshape(len(x), -1) @ self.proj


def _true_weights():
    rng = np.random.default_rng(1)
    return rng.normal(size=(LATENT, int(np.prod(SHAPE)))) * 0.4, rng.normal(size=int(np.prod(SHAPE))) * 0.5


def make_dataset() -> ImageDataset:
    """N_REAL images of the true generator, 8-bit as a dataset is."""
    w, b = _true_weights()
    z = np.random.default_rng(2).standard_normal((N_REAL, LATENT))
    images = to_uint8(np.tanh(z @ w + b).reshape((N_REAL,) + SHAPE))
    return ImageDataset("toy32", images, source="test", info={"fingerprint": "toy32-200"})


def _generator(distance: float):
    import keras

    w, b = _true_weights()
    rng = np.random.default_rng(3)
    model = keras.Sequential([keras.Input((LATENT,)), keras.layers.Dense(int(np.prod(SHAPE)), activation="tanh"),
                              keras.layers.Reshape(SHAPE)])
    model.layers[0].set_weights([(w + distance * rng.normal(size=w.shape) * 0.4).astype(np.float32),
                                 (b + distance * rng.normal(size=b.shape) * 0.5).astype(np.float32)])
    return model


def _write_checkpoint(run, iteration, model=None, garbage=False):
    path = os.path.join(run, "checkpoints", f"iter_{iteration:07d}")
    os.makedirs(path, exist_ok=True)
    gen = os.path.join(path, "generator.keras")
    if garbage:
        with open(gen, "wb") as f:
            f.write(b"not a keras file")
    else:
        model.save(gen)
    with open(os.path.join(path, "manifest.json"), "w") as f:
        json.dump({"files": ["generator.keras"], "iteration": iteration}, f)


@pytest.fixture(scope="module")
def template_run(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("api") / "lsgan_toy32")
    os.makedirs(run)
    config = {"model": "LSGAN", "dataset": "toy32", "latent_dim": LATENT, "image_shape": list(SHAPE),
              "image_size": 32, "data_dir": None}
    with open(os.path.join(run, "config.json"), "w") as f:
        json.dump(config, f)
    for iteration, distance in CHECKPOINTS:
        _write_checkpoint(run, iteration, _generator(distance))
    return run


@pytest.fixture
def run_dir(template_run, tmp_path):
    dst = str(tmp_path / "run")
    shutil.copytree(template_run, dst)
    return dst


@pytest.fixture(autouse=True)
def cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_KERAS_CACHE_DIR", str(tmp_path / "cache"))


def test_evaluate_run_result_and_files(run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    result = evaluate_run(run_dir, EvalConfig(fid_sample_number=100, generate_sample_number=5, out=out,
                                              progress=False), backbone=FakeBackbone(), dataset=make_dataset())
    assert isinstance(result, EvaluationResult) and result.complete and result.out == str(out)
    assert [r["iteration"] for r in result.rows] == [100, 200, 300]
    fids = [r["fid"] for r in result.rows]
    assert all(r["status"] == "ok" and r["error"] is None for r in result.rows)
    assert all(np.isfinite(f) and f >= 0 for f in fids)
    assert fids[0] > fids[1] > fids[2], fids          # closer weights, lower FID
    assert fids[2] < 0.3 * fids[1]                    # the true generator: only sampling noise is left
    assert result.fid_by_iteration == dict(zip([100, 200, 300], fids))
    for r in result.rows:
        assert r["is"] is None and np.isfinite(r["kid"]) and 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
    assert result.failed == [] and result.warnings == []
    # the files, and the summary is exactly evaluation.json
    assert result.files == {k: str(out / v) for k, v in [("table_csv", "metrics.csv"), ("table_md", "metrics.md"),
                                                          ("fid_plot", "fid.png"), ("json", "evaluation.json")]}
    assert all(os.path.isfile(p) for p in result.files.values())
    with open(out / "evaluation.json") as f:
        assert json.load(f) == result.summary
    for iteration in (100, 200, 300):
        d = out / f"iter_{iteration:07d}"
        assert sorted(os.listdir(d / "generated")) == [f"{i:05d}.png" for i in range(5)]
        assert (d / "grid.png").is_file() and (d / "similarity.png").is_file()
    s = result.summary
    assert s["command"].startswith(f"evaluate_run({run_dir!r}, EvalConfig(fid_sample_number=100, "
                                   "generate_sample_number=5, out=")
    assert s["command"].endswith("backbone=<FakeBackbone>, dataset=<ImageDataset>)")
    assert s["run"]["model"] == "LSGAN" and s["run"]["image_size"] == 32 and s["run"]["image_shape"] == [32, 32, 3]
    assert s["backbone"]["name"] == "fake" and s["backbone"]["has_classifier"] is False
    assert s["real_images"]["n"] == 100 and s["real_images"]["dataset_size"] == N_REAL
    table = (out / "metrics.md").read_text()
    assert "| 300 |" in table
    # 100 images: every KID subset is the whole sample, so no (zero) std is shown
    kid_cell = next(ln for ln in table.splitlines() if ln.startswith("| 300 |")).split("|")[3]
    assert "±" not in kid_cell and "so no std is shown" in table
    assert "Traceback" not in capsys.readouterr().err


def test_one_checkpoint_into_an_earlier_evaluation_keeps_the_other_rows(run_dir, tmp_path):
    """--checkpoint N into a folder that holds the other checkpoints' evaluation (same settings)
    adds N's row instead of replacing the table; with other settings it is refused (the table would
    go), and replaces the table, with a warning, with --recompute."""
    out = tmp_path / "out"
    every = evaluate_run(run_dir, EvalConfig(fid_sample_number=50, generate_sample_number=2, out=out,
                                             similarity=False, progress=False),
                         backbone=FakeBackbone(), dataset=make_dataset())
    again = evaluate_run(run_dir, EvalConfig(fid_sample_number=50, generate_sample_number=2, out=out, checkpoint=200,
                                             similarity=False, progress=False),
                         backbone=FakeBackbone(), dataset=make_dataset())
    assert [r["iteration"] for r in again.rows] == [100, 200, 300] and again.warnings == []
    assert [r["fid"] for r in again.rows] == pytest.approx([r["fid"] for r in every.rows])
    with open(out / "evaluation.json") as f:
        assert [r["iteration"] for r in json.load(f)["checkpoints"]] == [100, 200, 300]
    assert (out / "metrics.csv").read_text().count("\n") == 4    # header + 3 rows
    def other(**kw):
        return evaluate_run(run_dir, EvalConfig(fid_sample_number=40, generate_sample_number=2, out=out,
                                                checkpoint=300, similarity=False, progress=False, **kw),
                            backbone=FakeBackbone(), dataset=make_dataset())
    table = (out / "metrics.csv").read_text()
    with pytest.raises(ConfigError, match=r"holds an evaluation of iteration\(s\) 100, 200 made with other settings "
                                          r"\(fid_sample_number 50 then, 40 now; real\); evaluating checkpoint 300 there would replace it: "
                                          r"give --out to keep both, or --recompute to replace it"):
        other()
    assert (out / "metrics.csv").read_text() == table and (out / "iter_0000100").is_dir()
    other = other(recompute=True)
    assert [r["iteration"] for r in other.rows] == [300]
    assert any("made with other settings" in w and "--out" in w for w in other.warnings)
    assert not (out / "iter_0000100").exists() and not (out / "iter_0000200").exists()   # gone with their rows
    assert (out / "iter_0000300" / "generated").is_dir()


def test_fewer_fid_images_than_similarity_queries(run_dir, tmp_path):
    """The similarity figure shows only generated images that have features: with 4 FID images and
    20 PNGs it shows 4 (it used to index past the 4 features and end in a traceback)."""
    result = evaluate_run(run_dir, EvalConfig(fid_sample_number=4, generate_sample_number=20, out=tmp_path / "out",
                                              progress=False), backbone=FakeBackbone(), dataset=make_dataset())
    assert [r["status"] for r in result.rows] == ["ok"] * 3
    d = tmp_path / "out" / "iter_0000300"
    assert len(os.listdir(d / "generated")) == 20 and (d / "similarity.png").is_file()
    assert result.rows[-1]["similarity"]["queries"] == 4


def test_image_size_reaches_the_data_layer(run_dir, tmp_path, monkeypatch):
    import gan_keras.data

    calls = []

    def load_dataset(name, data_dir=None, image_size=None, limit=None):
        calls.append((name, data_dir, image_size, limit))
        return make_dataset()

    monkeypatch.setattr(gan_keras.data, "load_dataset", load_dataset)
    cfg = EvalConfig(20, 0, checkpoint="iter_0000300", out=tmp_path / "a", similarity=False, progress=False)
    result = evaluate_run(run_dir, cfg, backbone=FakeBackbone())
    assert [r["iteration"] for r in result.rows] == [300] and calls == [("toy32", None, 32, None)]
    assert cfg.checkpoint_iteration == 300 and not (tmp_path / "a" / "iter_0000300" / "similarity.png").exists()
    # Generate_sample_number 0: no PNG files, no grid, the metrics all the same
    assert os.listdir(tmp_path / "a" / "iter_0000300" / "generated") == [] and result.rows[0]["fid"] > 0
    assert not (tmp_path / "a" / "iter_0000300" / "grid.png").exists()

    # a run trained with --limit: the real images come from the same limited set
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    config["data_limit"] = 40
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(config, f)
    evaluate_run(run_dir, EvalConfig(20, 2, checkpoint=300, out=tmp_path / "l", similarity=False, progress=False),
                 backbone=FakeBackbone())
    assert calls[-1] == ("toy32", None, 32, 40)

    # a run without image_size or a limit: the keywords are not passed at all (data layers without them
    # keep working)
    del config["image_size"], config["data_limit"]
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(config, f)

    def old_load_dataset(name, data_dir=None):
        calls.append((name, data_dir))
        return make_dataset()

    monkeypatch.setattr(gan_keras.data, "load_dataset", old_load_dataset)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    evaluate_run(run_dir, EvalConfig(20, 2, checkpoint=300, out=tmp_path / "b", data_dir=str(data_dir),
                                     similarity=False, progress=False), backbone=FakeBackbone())
    assert calls[-1] == ("toy32", str(data_dir))


def test_image_size_without_data_layer_support(run_dir, tmp_path, monkeypatch):
    import gan_keras.data

    monkeypatch.setattr(gan_keras.data, "load_dataset", lambda name, data_dir=None: make_dataset())
    with pytest.raises(DatasetError, match="image_size 32"):
        evaluate_run(run_dir, EvalConfig(20, 2, out=tmp_path / "o", progress=False), backbone=FakeBackbone())


@pytest.mark.parametrize("kwargs, message", [
    ({"fid_sample_number": 1}, "fid_sample_number must be at least 2 (FID needs a covariance), got 1"),
    ({"generate_sample_number": -1}, "generate_sample_number must be at least 0 (0 writes no PNG files), got -1"),
    ({"generate_sample_number": "10"}, "generate_sample_number must be an integer, got '10'"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"seed": -1}, "seed must be an integer from 0 to 4294967295, got -1"),
    ({"inception": "vgg"}, "inception must be one of 'keras', 'fid', got 'vgg'"),
    ({"resize": "bicubic"}, "resize must be one of 'bilinear', 'nearest', got 'bicubic'"),
    ({"checkpoint": "last"}, "checkpoint must be an iteration such as 10000 or iter_0010000, got 'last'"),
    ({"checkpoint": -5}, "checkpoint must be a non-negative iteration, got -5"),
    ({"data_dir": "/no/such/folder"}, "data_dir '/no/such/folder' does not exist"),
    ({"similarity": "no"}, "similarity must be True or False, got 'no'"),
    ({"recompute": "yes"}, "recompute must be True or False, got 'yes'"),
    ({"inception_weights": "  "}, "inception_weights is an empty path"),
    ({"command": 3}, "command must be a string, a list of strings or None, got 3"),
])
def test_bad_config_raises_config_error(kwargs, message, tmp_path):
    cfg = EvalConfig(**{"fid_sample_number": 10, "generate_sample_number": 10, **kwargs})
    with pytest.raises(ConfigError) as info:
        cfg.validate()
    assert str(info.value) == message
    # evaluate_run checks the options before it touches the run directory (which does not exist here)
    with pytest.raises(ConfigError, match="^" + message.split(" ")[0]):
        evaluate_run(str(tmp_path / "missing"), cfg)


def test_config_messages_can_use_the_callers_names():
    with pytest.raises(ConfigError, match="^--checkpoint must be an iteration"):
        EvalConfig(10, 10, checkpoint="x").validate({"checkpoint": "--checkpoint"})
    with pytest.raises(ConfigError, match="config must be an EvalConfig"):
        evaluate_run(".", {"fid_sample_number": 10})
    assert EvalConfig(10, 10).validate() == EvalConfig(10, 10)
    described = EvalConfig(10, 20, seed=3).describe()
    assert described == "EvalConfig(fid_sample_number=10, generate_sample_number=20, seed=3)"


class CountingBackbone(FakeBackbone):
    """FakeBackbone that counts its calls, or raises KeyboardInterrupt at call ``interrupt_at``."""

    def __init__(self, interrupt_at=None):
        super().__init__()
        self.calls, self.interrupt_at = 0, interrupt_at

    def features(self, images, batch_size=50, progress=False):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return super().features(images, batch_size, progress)


def test_an_interrupted_evaluation_continues_and_keeps_only_what_still_stands(run_dir, tmp_path):
    """Ctrl-C after the first checkpoint leaves its row; the same call again keeps it (same settings,
    same generator file) and evaluates the rest; a changed generator, or recompute, is evaluated again."""
    out = tmp_path / "out"

    def evaluate(backbone, **kw):
        return evaluate_run(run_dir, EvalConfig(50, 2, out=out, similarity=False, progress=False, **kw),
                            backbone=backbone, dataset=make_dataset())
    with pytest.raises(KeyboardInterrupt):   # calls: 1 the real features, 2 checkpoint 100, 3 checkpoint 200
        evaluate(CountingBackbone(interrupt_at=3))
    with open(out / "evaluation.json") as f:
        partial = json.load(f)
    assert [r["iteration"] for r in partial["checkpoints"]] == [100] and partial["complete"] is False
    assert "**Not finished**" in (out / "metrics.md").read_text()
    again = CountingBackbone()
    result = evaluate(again)
    assert again.calls == 2 and result.complete   # 200 and 300 only (the real features: from the cache)
    assert result.rows[0] == partial["checkpoints"][0] and "**Not finished**" not in (out / "metrics.md").read_text()
    shutil.copy(os.path.join(run_dir, "checkpoints", "iter_0000100", "generator.keras"),
                os.path.join(run_dir, "checkpoints", "iter_0000300", "generator.keras"))   # retrained since
    changed = CountingBackbone()
    rows = evaluate(changed).rows
    assert changed.calls == 1 and rows[2]["fid"] == pytest.approx(rows[0]["fid"])
    redo = CountingBackbone()
    evaluate(redo, recompute=True)
    assert redo.calls == 3
    # a row is kept only when it was scored and its images are still there
    with open(out / "evaluation.json") as f:
        record = json.load(f)
    record["checkpoints"][0]["status"] = "nan"
    with open(out / "evaluation.json", "w") as f:
        json.dump(record, f)
    shutil.rmtree(out / "iter_0000200" / "generated")
    partly = CountingBackbone()
    rows = evaluate(partly).rows
    assert partly.calls == 2 and [r["status"] for r in rows] == ["ok"] * 3
    assert (out / "iter_0000200" / "generated").is_dir()
    assert (out / "iter_0000300" / "grid.png").is_file()
    evaluate_run(run_dir, EvalConfig(50, 0, out=out, checkpoint=300, recompute=True, similarity=False, progress=False),
                 backbone=FakeBackbone(), dataset=make_dataset())   # no PNGs asked: no grid left from before
    assert not (out / "iter_0000300" / "grid.png").exists() and os.listdir(out / "iter_0000300" / "generated") == []


def test_another_number_of_pngs_keeps_the_metrics_and_writes_the_pngs_again(run_dir, tmp_path):
    """Generate_sample_number up to FID_sample_number changes no metric (the same noise, generated
    in the same batches): the rows in the folder stand, and only the PNGs and the grid are written
    again, the files a fresh evaluation writes. Beyond FID_sample_number it is evaluated again; and
    one checkpoint with another number is refused (the others' folders would disagree with the table)."""
    out = tmp_path / "out"

    def evaluate(backbone, gen, where=out, **kw):   # batches of 8: 20 images are 8 + 8 + 4
        return evaluate_run(run_dir, EvalConfig(20, gen, out=where, batch_size=8, similarity=False, progress=False,
                                                **kw), backbone=backbone, dataset=make_dataset())

    def files(where, iteration):
        folder = where / f"iter_{iteration:07d}"
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    first = evaluate(FakeBackbone(), 7)
    for gen in (20, 0):   # as many as the FID images; none
        counting = CountingBackbone()
        result = evaluate(counting, gen)
        fresh = evaluate(FakeBackbone(), gen, where=tmp_path / f"fresh{gen}")
        assert counting.calls == 0 and result.warnings == []          # no feature computed again
        assert [r["fid"] for r in result.rows] == [r["fid"] for r in first.rows] == [r["fid"] for r in fresh.rows]
        assert result.summary["generate_sample_number"] == gen
        for row, fresh_row in zip(result.rows, fresh.rows):
            assert files(out, row["iteration"]) == files(tmp_path / f"fresh{gen}", row["iteration"])
            assert len(os.listdir(out / row["generated_images_dir"])) == gen
            assert row.get("grid_layout") == fresh_row.get("grid_layout") and ("grid" in row) == (gen > 0)
    with pytest.raises(ConfigError, match=r"made with other settings \(generate_sample_number 0 then, 5 now\)"):
        evaluate(FakeBackbone(), 5, checkpoint=300)
    beyond = CountingBackbone()
    result = evaluate(beyond, 21)   # more PNGs than FID images: the noise is drawn in other chunks
    assert beyond.calls == 3 and any("other settings (generate_sample_number at most fid_sample_number then, 21 now)" in w
                                  for w in result.warnings)
    assert len(os.listdir(out / "iter_0000300" / "generated")) == 21
    other = CountingBackbone()   # another batch size: a generator's own draws are made per batch
    result = evaluate_run(run_dir, EvalConfig(20, 21, out=out, batch_size=5, similarity=False, progress=False),
                          backbone=other, dataset=make_dataset())
    assert other.calls == 3 and any("(batch_size 8 then, 5 now)" in w for w in result.warnings)
    figure = CountingBackbone()   # a similarity figure asked for, which the rows lack: evaluated again
    result = evaluate_run(run_dir, EvalConfig(20, 21, out=out, batch_size=5, progress=False),
                          backbone=figure, dataset=make_dataset())
    assert figure.calls == 3 and all((out / r["similarity"]["file"]).is_file() for r in result.rows)
    # a table from before the metrics code changed (METRICS_VERSION) is replaced, not kept; one from
    # before the field existed is version 1
    from gan_keras.evaluation.earlier import METRICS_VERSION

    assert result.summary["metrics_version"] == METRICS_VERSION == 1
    for then, calls in ((None, 0), (0, 3)):
        with open(out / "evaluation.json") as f:
            record = json.load(f)
        record.pop("metrics_version")
        if then is not None:
            record["metrics_version"] = then
        with open(out / "evaluation.json", "w") as f:
            json.dump(record, f)
        counting = CountingBackbone()
        result = evaluate_run(run_dir, EvalConfig(20, 21, out=out, batch_size=5, progress=False),
                              backbone=counting, dataset=make_dataset())
        assert counting.calls == calls
    assert any("(metrics_version 0 then, 1 now)" in w for w in result.warnings)


def test_rewriting_the_pngs_interrupted_or_killed_leaves_a_table_that_the_next_run_completes(run_dir, tmp_path,
                                                                                           monkeypatch):
    """Ctrl-C while the PNGs of the second checkpoint are written keeps the first one's new row and
    the others' earlier rows, so the same call again computes no feature; an evaluation.json
    that lost the new rows (a kill before it was written) is noticed from the rows' grids and
    mended. A checkpoint the run no longer has leaves the table with its folder."""
    from gan_keras.evaluation import checkpoint

    out = tmp_path / "out"

    def evaluate(gen, backbone=None):
        return evaluate_run(run_dir, EvalConfig(20, gen, out=out, similarity=False, progress=False),
                            backbone=backbone or FakeBackbone(), dataset=make_dataset())

    evaluate(0)
    with open(out / "evaluation.json") as f:
        before = f.read()
    rewrite, calls = checkpoint.rewrite_saved_images, []

    def interrupted(ckpt, ctx, row):
        calls.append(ckpt.iteration)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return rewrite(ckpt, ctx, row)

    monkeypatch.setattr(checkpoint, "rewrite_saved_images", interrupted)
    with pytest.raises(KeyboardInterrupt):
        evaluate(5)
    with open(out / "evaluation.json") as f:
        partial = json.load(f)
    assert partial["complete"] is False and [r["iteration"] for r in partial["checkpoints"]] == [100, 200, 300]
    assert [r.get("grid_layout", {}).get("images") for r in partial["checkpoints"]] == [5, None, None]
    monkeypatch.setattr(checkpoint, "rewrite_saved_images", rewrite)
    one = evaluate_run(run_dir, EvalConfig(20, 5, out=out, checkpoint=300, similarity=False, progress=False),
                       backbone=FakeBackbone(), dataset=make_dataset())
    assert not one.complete and "**Not finished**" in (out / "metrics.md").read_text()   # 200 is still unchecked
    counting = CountingBackbone()
    result = evaluate(5, counting)
    assert counting.calls == 0 and result.complete
    assert [r["grid_layout"]["images"] for r in result.rows] == [5, 5, 5]
    with open(out / "evaluation.json", "w") as f:   # as if killed before the table was written
        f.write(before)
    result = evaluate(5, counting)
    assert counting.calls == 0 and [r["grid_layout"]["images"] for r in result.rows] == [5, 5, 5]
    shutil.rmtree(os.path.join(run_dir, "checkpoints", "iter_0000200"))
    result = evaluate(5, counting)
    assert [r["iteration"] for r in result.rows] == [100, 300] and not (out / "iter_0000200").exists()
    assert any("iteration(s) 200 leave the table" in w for w in result.warnings)
    # interrupted while a checkpoint is evaluated again, its earlier row goes (its files went first)
    with pytest.raises(KeyboardInterrupt):   # calls: 1 checkpoint 100, 2 checkpoint 300 (real features: cached)
        evaluate_run(run_dir, EvalConfig(20, 5, out=out, recompute=True, similarity=False, progress=False),
                     backbone=CountingBackbone(interrupt_at=2), dataset=make_dataset())
    with open(out / "evaluation.json") as f:
        assert [r["iteration"] for r in json.load(f)["checkpoints"]] == [100]


def test_the_same_weights_found_elsewhere_are_the_same_settings(run_dir, tmp_path):
    def backbone(path, digest):
        b = FakeBackbone()
        b.description = {"network": "fixed projection", "file": path, "sha256": digest}
        return b

    def evaluate(b, **kw):
        return evaluate_run(run_dir, EvalConfig(20, 0, out=tmp_path / "o", similarity=False, progress=False, **kw),
                            backbone=b, dataset=make_dataset())
    evaluate(backbone("/weights/w.pt", "abc"))
    again = evaluate(backbone("/elsewhere/link.pt", "abc"), checkpoint=300)
    assert [r["iteration"] for r in again.rows] == [100, 200, 300] and again.warnings == []
    other = evaluate(backbone("/weights/w.pt", "def"), checkpoint=300, recompute=True)   # other weights: other settings
    assert [r["iteration"] for r in other.rows] == [300]
    assert any("other settings (backbone)" in w for w in other.warnings)


def test_what_a_checkpoint_needs_and_what_is_refused_before_any_work(run_dir, tmp_path):
    """A checkpoint pruned of everything but its generator is evaluated; one without its generator
    is skipped, saying so; an output path that is a file, or an empty weights path, is refused at once."""
    ckpts = os.path.join(run_dir, "checkpoints")
    with open(os.path.join(ckpts, "iter_0000100", "manifest.json"), "w") as f:
        json.dump({"files": ["generator.keras", "discriminator.keras", "trainer_state.npz"]}, f)
    os.remove(os.path.join(ckpts, "iter_0000200", "generator.keras"))
    result = evaluate_run(run_dir, EvalConfig(20, 0, out=tmp_path / "o", similarity=False, progress=False),
                          backbone=FakeBackbone(), dataset=make_dataset())
    assert [r["iteration"] for r in result.rows] == [100, 300]
    assert any("skipped checkpoint(s) 200: no generator.keras" in w for w in result.warnings)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ConfigError, match="a_file: it is a file, not a folder"):
        evaluate_run(run_dir, EvalConfig(20, 0, out=tmp_path / "a_file", progress=False), backbone=FakeBackbone(),
                     dataset=make_dataset())
    with pytest.raises(ConfigError, match="inception_weights is an empty path"):
        EvalConfig(20, 0, inception_weights="").validate()


def test_a_checkpoint_folder_given_as_the_run_says_what_to_give(run_dir, tmp_path):
    folder = os.path.join(run_dir, "checkpoints", "iter_0000300")
    shutil.copy(os.path.join(run_dir, "config.json"), folder)   # as GAN_main.py's checkpoints hold one
    with pytest.raises(RunDirError, match=f"the folder of one checkpoint of the run {run_dir}, not a run directory: "
                                          f"give its run directory and the checkpoint, {run_dir} --checkpoint 300"):
        evaluate_run(folder, EvalConfig(20, 0, out=tmp_path / "o", progress=False), backbone=FakeBackbone(),
                     dataset=make_dataset())


def test_checkpoints_saved_during_an_evaluation_are_named(run_dir, tmp_path, monkeypatch):
    from gan_keras.evaluation import checkpoint as ckpt_mod

    evaluate_checkpoint = ckpt_mod.evaluate_checkpoint

    def training_goes_on(ckpt, ctx):   # the run saves iteration 400 while 100 is evaluated
        if ckpt.iteration == 100:
            _write_checkpoint(run_dir, 400, _generator(0.0))
        return evaluate_checkpoint(ckpt, ctx)
    monkeypatch.setattr(ckpt_mod, "evaluate_checkpoint", training_goes_on)
    result = evaluate_run(run_dir, EvalConfig(20, 0, out=tmp_path / "o", similarity=False, progress=False),
                          backbone=FakeBackbone(), dataset=make_dataset())
    assert [r["iteration"] for r in result.rows] == [100, 200, 300]
    assert any("checkpoint(s) 400 were saved during this evaluation" in w for w in result.warnings)


def test_no_checkpoint_evaluates_raises_with_result(run_dir, tmp_path):
    for iteration, _ in CHECKPOINTS:
        _write_checkpoint(run_dir, iteration, garbage=True)
    os.makedirs(tmp_path / "o")
    (tmp_path / "o" / "fid.png").write_bytes(b"an earlier evaluation's figure")
    with pytest.raises(CheckpointError, match="none of the 3 checkpoint") as info:
        evaluate_run(run_dir, EvalConfig(10, 2, out=tmp_path / "o", progress=False), backbone=FakeBackbone(),
                     dataset=make_dataset())
    result = info.value.result
    assert [r["status"] for r in result.rows] == ["failed"] * 3 and result.fid_by_iteration[100] is None
    assert os.path.isfile(tmp_path / "o" / "evaluation.json")
    assert not os.path.exists(tmp_path / "o" / "fid.png")


# ------------------------------------------------------------------------------------------------
# the library never imports the command line
# ------------------------------------------------------------------------------------------------

def test_library_sources_do_not_import_cli():
    for path in glob.glob(os.path.join(ROOT, "gan_keras", "evaluation", "*.py")):
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("gan_keras.cli", "argparse")), f"{path} imports {name}"
            if isinstance(node, ast.ImportFrom) and node.module == "gan_keras":
                assert "cli" not in [a.name for a in node.names], path
            if isinstance(node, ast.Attribute) and node.attr == "exit":
                assert not (isinstance(node.value, ast.Name) and node.value.id == "sys"), f"{path} calls sys.exit"


def test_comparison_and_questionnaire_libraries_do_not_import_cli():
    """Their command lines are gan_keras/cli/{compare,questionnaire}.py, started by GAN_compare.py and
    GAN_questionnaire.py; no module of the packages (no __main__.py either) imports them."""
    for package in ("compare", "questionnaire"):
        for path in glob.glob(os.path.join(ROOT, "gan_keras", package, "*.py")):
            with open(path) as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                assert not any(n.startswith(("gan_keras.cli", "argparse")) for n in names), f"{path} imports {names}"


def test_evaluate_run_in_fresh_process_does_not_import_cli(template_run, tmp_path):
    script = (
        "import json, sys\n"
        f"sys.path[:0] = [{ROOT!r}, {os.path.join(ROOT, 'tests')!r}]\n"
        "from gan_keras.evaluation import EvalConfig, evaluate_run\n"
        "from test_evaluation_api import FakeBackbone, make_dataset\n"
        f"r = evaluate_run({template_run!r}, EvalConfig(20, 2, checkpoint=300, out={str(tmp_path / 'o')!r}, "
        "similarity=False, progress=False), backbone=FakeBackbone(), dataset=make_dataset())\n"
        "print(json.dumps({'cli': sorted(m for m in sys.modules if m.startswith('gan_keras.cli')), "
        "'fid': r.fid_by_iteration[300]}))\n")
    env = {**os.environ, "GAN_KERAS_CACHE_DIR": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["cli"] == [] and np.isfinite(report["fid"])


def test_the_memory_estimate_caps_the_batch_at_the_sample():
    """--batch-size 200000 for 4 images holds 4 images at a time, not 200,000 (the estimate said 627 GiB)."""
    from gan_keras.evaluation.preflight import estimate_memory

    small = estimate_memory(4, 2, (28, 28, 1), 0, batch_size=4)
    assert estimate_memory(4, 2, (28, 28, 1), 0, batch_size=200_000) == small
    assert small["images"] < estimate_memory(400, 2, (28, 28, 1), 0, batch_size=400)["images"]


def test_the_terminal_ends_an_evaluation_with_its_fids_and_the_best():
    from gan_keras.evaluation.pipeline import fid_summary

    rows = [{"iteration": 1000, "fid": 50.0}, {"iteration": 2000, "fid": 40.5},
            {"iteration": 3000, "fid": float("nan")}, {"iteration": 4000, "fid": None, "error": "damaged"},
            {"iteration": 5000, "fid": 9.0, "status": "nan"}]   # NaN images replaced by 0: no FID of the model
    assert fid_summary(rows) == "FID by iteration: 1,000: 50.00, 2,000: 40.50; best 40.50 at 2,000"
    assert fid_summary(rows[2:]) == "FID: no checkpoint could be scored"


def test_a_training_set_smaller_than_the_sample_is_all_used_and_said_so(run_dir, tmp_path):
    """200 training images, 300 generated: all 200 are the real set, and the table says so (not "a
    seeded random sample"), with the note that evaluation.json and the terminal carry."""
    out = tmp_path / "out"
    result = evaluate_run(run_dir, EvalConfig(fid_sample_number=300, generate_sample_number=1, out=out,
                                              progress=False, checkpoint=300),
                          backbone=FakeBackbone(), dataset=make_dataset())
    note = "the dataset has only 200 images: all of them are the real set, fewer than FID_sample_number 300"
    assert result.summary["real_images"]["n"] == N_REAL and result.summary["notes"] == [note]
    assert any(note in w for w in result.warnings)
    table = (out / "metrics.md").read_text()
    assert "300 generated vs 200 real training images (all of them: the training set has no more)" in table
    assert f"Note: {note}." in table and "seeded random sample" not in table
    exactly = evaluate_run(run_dir, EvalConfig(fid_sample_number=N_REAL, generate_sample_number=1, out=tmp_path / "all",
                                               progress=False, checkpoint=300),
                           backbone=FakeBackbone(), dataset=make_dataset())
    assert exactly.summary["notes"] == []
    assert f"{N_REAL} generated vs {N_REAL} real training images (all of them)" in \
        (tmp_path / "all" / "metrics.md").read_text()


def test_a_checkpoint_whose_images_hold_nan_has_no_fid_of_its_model(run_dir, tmp_path, monkeypatch):
    """A diverged generator (NaN in its weights): its row says "nan" and keeps, as a diagnostic, the
    FID with those pixels set to 0; fid_by_iteration, GAN_compare's runs and the plot's curve leave
    it out, and fid.png marks it apart."""
    from gan_keras.compare.runs import Run
    from gan_keras.report import eval_plots

    broken = _generator(1.0)
    kernel, bias = broken.layers[0].get_weights()
    kernel[:, 0] = np.nan            # pixel 0 of every image
    broken.layers[0].set_weights([kernel, bias])
    _write_checkpoint(run_dir, 200, broken)
    drawn = {}
    plot = eval_plots.plot_fid
    monkeypatch.setattr(eval_plots, "plot_fid", lambda *a, **k: drawn.update(args=a, kwargs=k) or plot(*a, **k))
    out = tmp_path / "out"
    result = evaluate_run(run_dir, EvalConfig(fid_sample_number=40, generate_sample_number=2, out=out, progress=False),
                          backbone=FakeBackbone(), dataset=make_dataset())
    row = result.rows[1]
    assert row["status"] == "nan" and row["error"].startswith("40 of 40 generated images contain NaN or inf")
    assert np.isfinite(row["fid"]) and row["generated_nonfinite"] == 40
    assert result.fid_by_iteration[200] is None and result.fid_by_iteration[300] == result.rows[2]["fid"]
    assert drawn["args"][0] == [100, 300] and drawn["kwargs"]["diverged"] == ([200], [row["fid"]])
    assert (out / "fid.png").is_file()
    assert "| 200 |" in (out / "metrics.md").read_text() and "nan: 40 of 40" in (out / "metrics.md").read_text()
    with open(out / "evaluation.json") as f:
        run = Run(name="run", path=run_dir, config={}, eval_path=str(out), evaluation=json.load(f))
    assert run.fid(200) is None and run.fid(100) == result.rows[0]["fid"]


def test_a_generator_per_checkpoint_does_not_warn_of_retracing(caplog):
    """Each checkpoint's generator is traced once, in its own tf.function; TensorFlow counts traces
    per function code, and the one lambda they shared warned "triggered tf.function retracing" (a
    paragraph telling the user to fix their loop) for every checkpoint from the 5th on."""
    import logging

    import keras

    from gan_keras.evaluation.checkpoint import generator_fn

    tf_logger = logging.getLogger("tensorflow")   # TensorFlow's logger does not propagate to caplog's
    tf_logger.addHandler(caplog.handler)
    try:
        for _ in range(7):
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
            assert generator_fn(model)(np.ones((2, 4), np.float32)).shape == (2, 3)
    finally:
        tf_logger.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]
