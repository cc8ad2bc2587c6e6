"""``gan_keras.compare``: tables (with the dissertation's values), refusals, overlay figures, panels, CLI.

Most runs are written by hand (config.json, log.csv, evaluation/evaluation.json in the formats that
training and GAN_evaluation.py write), so the numbers in the tables are known; one real tiny run
(GAN on MNIST, 3 iterations) gives real generator checkpoints for the panels and the end-to-end CLI.
"""
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_keras.compare import CompareError, MixedEvaluationsError, compare_runs
from gan_keras.cli.compare import build_parser, main
from gan_keras.registry import get_model
from gan_keras.training.logspec import D_ACC, D_LOSS, G_LOSS, LOSSES_PLOT, LogSpec, Plot
from gan_keras.training.losses import get_loss
from tests.test_run import main_here

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOSS_OF = {"GAN": "bce", "DCGAN": "bce", "WGAN": "wasserstein", "WGANGP": "wasserstein", "LSGAN": "least_squares"}


def _log_spec(model):
    loss = get_loss(LOSS_OF[model])
    values = (D_LOSS,) + ((D_ACC,) if loss.accuracy else ()) + (G_LOSS, loss.divergence)
    return LogSpec(values, divergence="divergence",
                   plots=(LOSSES_PLOT, Plot("divergence.png", "divergence", ("divergence",), "divergence",
                                            hlines=loss.reference_lines)))


def make_run(root, name, model="DCGAN", dataset="mnist", seed=0, batch=128, epochs=30000, fids=None,
             backbone="keras", n=5000, resize="bilinear", iterations=300, status=None, **hp_changes):
    """A run directory by hand; ``fids`` = {iteration: FID} writes an evaluation (None: not evaluated),
    ``status`` = {iteration: "nan"} a row's status; its training set is the dissertation's size."""
    from gan_keras.compare.dissertation import EXPERIMENTS

    run = os.path.join(str(root), name)
    os.makedirs(run)
    spec = _log_spec(model)
    hyperparams = {**get_model(model).hyperparams().to_dict(), **hp_changes}
    config = {"model": model, "dataset": dataset, "seed": seed, "batch_size": batch, "epochs": epochs,
              "latent_dim": 100, "image_shape": [28, 28, 1], "hyperparams": hyperparams,
              "dataset_size": EXPERIMENTS[dataset].dataset_size if dataset in EXPERIMENTS else 60000,
              "save_model_interval": 10000, "log": spec.to_json(),
              "loss": get_model(model).loss, "train_step": getattr(get_model(model).train_step, "__name__", None)}
    with open(os.path.join(run, "config.json"), "w") as f:
        json.dump(config, f)
    rng = np.random.default_rng(seed)
    with open(os.path.join(run, "log.csv"), "w") as f:
        f.write("iteration," + ",".join(spec.names) + ",seconds\n")
        for it in range(1, iterations + 1):
            f.write(f"{it}," + ",".join(f"{v:.4f}" for v in rng.random(len(spec.names))) + f",{it * 0.1}\n")
    if fids is not None:
        os.makedirs(os.path.join(run, "evaluation"))
        record = {"tool": "GAN_evaluation.py", "fid_sample_number": n, "generate_sample_number": 500, "seed": 0,
                  "backbone": {"name": backbone, "resize": resize}, "real_images": {"n": n},
                  "run": {"model": model, "dataset": dataset, "seed": seed, "batch_size": batch},
                  "complete": True,
                  "checkpoints": [{"iteration": it, "status": (status or {}).get(it) or ("ok" if v is not None else
                                                                                          "failed"),
                                   "fid": v} for it, v in fids.items()]}
        with open(os.path.join(run, "evaluation", "evaluation.json"), "w") as f:
            json.dump(record, f)
    return run


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, shared_data_dir):
    """One real tiny training run (3 checkpoints), with a hand-written evaluation of it."""
    run = str(tmp_path_factory.mktemp("real") / "GAN_mnist_tiny")
    proc = main_here("GAN", "mnist", 3, 8, 1, 1, "--seed", 0, "--no-tensorboard", "--out", run,
                     "--data-dir", shared_data_dir)
    assert proc.returncode == 0, proc.stderr
    return run


# ------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------

def test_table_mean_std_and_dissertation(tmp_path):
    runs = [make_run(tmp_path, "dcgan_s0", seed=0, fids={10000: 10.0, 20000: 6.0, 30000: 7.0}),
            make_run(tmp_path, "dcgan_s1", seed=1, fids={10000: 12.0, 20000: 9.0, 30000: 8.0}),
            make_run(tmp_path, "dcgan_s2", seed=2, fids={10000: 14.0, 30000: 9.0}),  # 20,000 not evaluated
            make_run(tmp_path, "wgangp_s0", model="WGANGP", fids={10000: 9.0, 20000: 7.0, 30000: 5.0})]
    result = compare_runs(runs, tmp_path / "out", panels=False)
    table = result.tables["mnist"]
    assert table["iterations"] == [10000, 20000, 30000]
    dcgan, wgangp = table["groups"]
    assert dcgan["label"] == "DCGAN" and dcgan["runs"] == ["dcgan_s0", "dcgan_s1", "dcgan_s2"]
    s = dcgan["fid"][10000]
    assert (s["n"], s["mean"], s["min"], s["max"]) == (3, 12.0, 10.0, 14.0)
    assert math.isclose(s["std"], 2.0)                      # sample std of 10, 12, 14
    assert dcgan["fid"][20000]["n"] == 2 and dcgan["fid"][20000]["mean"] == 7.5
    assert dcgan["fid"][20000]["runs"] == 3 and dcgan["fid"][20000]["missing"] == (("not evaluated there", 1),)
    assert wgangp["fid"][30000]["std"] is None and wgangp["fid"][30000]["n"] == 1
    rows = {r["iteration"]: r for r in dcgan["dissertation"]["rows"]}
    assert dcgan["dissertation"]["matches"] and dcgan["dissertation"]["table"] == "Table 4-1"
    assert rows[10000]["dissertation"] == 10 and rows[10000]["difference"] == pytest.approx(2.0)
    assert rows[30000]["dissertation"] == 8 and rows[30000]["difference"] == pytest.approx(0.0)
    assert dcgan["dissertation"]["notes"] == []             # keras backbone, 5,000 images, defaults
    md = result.markdown
    assert "| DCGAN | 3 (0, 1, 2) | 12.00 ± 2.00 (10.00–14.00, n=3) | 7.50 ± 2.12 (6.00–9.00, n=2 of 3, 1 not " \
           "evaluated there) |" in md
    assert "| DCGAN | 10,000 | 12.00 ± 2.00 (10.00–14.00, n=3) | 10 | +2.00 | Table 4-1 |" in md
    assert "| dcgan_s2 | DCGAN | 2 | 14.00 | — | 9.00 |" in md
    # verdicts: WGAN-GP best at 30,000 agrees; GAN worst cannot be judged without a GAN run
    verdicts = {(v["kind"], v["model"]): v for v in result.data["verdicts"]["mnist"]}
    assert verdicts[("best", "WGANGP")]["status"] == "agrees"
    assert "partial: GAN, WGAN not evaluated" in verdicts[("best", "WGANGP")]["ours"]
    assert verdicts[("worst", "GAN")]["status"] == "not enough runs"
    with open(os.path.join(result.out, "comparison.json")) as f:
        assert json.load(f)["tables"]["mnist"]["groups"][0]["fid"]["10000"]["mean"] == 12.0


def _edit_config(run, drop=(), **changes):
    path = os.path.join(run, "config.json")
    with open(path) as f:
        config = json.load(f)
    for name in drop:
        del config["hyperparams"][name]
    config.update(changes)
    with open(path, "w") as f:
        json.dump(config, f)
    return run


def test_runs_of_other_models_get_no_dissertation_verdicts(tmp_path):
    """Two seeds of a model the dissertation did not run: its verdicts (which rank its four models)
    are not listed as "not enough runs"; with one of its models evaluated beside them, they are."""
    runs = [make_run(tmp_path, f"lsgan_s{s}", model="LSGAN", seed=s, fids={10000: 30.0 + s}) for s in (0, 1)]
    result = compare_runs(runs, tmp_path / "cmp", panels=False)
    assert result.data["verdicts"]["mnist"] == []
    assert "The dissertation's verdicts" not in result.markdown
    unevaluated = make_run(tmp_path, "dcgan_new")   # one of its models, not evaluated yet: "not enough runs"
    result = compare_runs([*runs, unevaluated], tmp_path / "cmp1", panels=False)
    assert {v["status"] for v in result.data["verdicts"]["mnist"]} == {"not enough runs"}
    dcgan = make_run(tmp_path, "dcgan", fids={10000: 12.0})
    result = compare_runs([*runs, dcgan], tmp_path / "cmp2", panels=False)
    assert result.data["verdicts"]["mnist"] and "The dissertation's verdicts" in result.markdown


def test_seeds_group_across_versions_and_other_experiments_do_not(tmp_path):
    """Seeds written before hyperparameters existed (their defaults, the old behaviour) or by the other
    engine are one experiment; fewer training images or a fine-tuning start are another."""
    fids = {30000: 8.0}
    runs = [_edit_config(make_run(tmp_path, "old_s0", seed=0, fids=fids), drop=("optimizer_epsilon", "engine",
                                                                                "upsampled_conv", "mixed_precision")),
            make_run(tmp_path, "new_s1", seed=1, fids={30000: 10.0}, engine="compiled"),
            make_run(tmp_path, "new_s2", seed=2, fids={30000: 12.0}),
            _edit_config(make_run(tmp_path, "limited", seed=0, fids={30000: 60.0}), data_limit=1000),
            _edit_config(make_run(tmp_path, "tuned", seed=0, fids={30000: 7.0}), init_from={"path": "/runs/a"})]
    groups = compare_runs(runs, tmp_path / "out", panels=False).tables["mnist"]["groups"]
    by_runs = {tuple(g["runs"]): g for g in groups}
    assert set(by_runs) == {("old_s0", "new_s1", "new_s2"), ("limited",), ("tuned",)}
    assert by_runs[("old_s0", "new_s1", "new_s2")]["fid"][30000]["mean"] == 10.0
    assert by_runs[("limited",)]["label"] == "DCGAN [data_limit 1000, init_from -]"
    assert by_runs[("tuned",)]["label"] == "DCGAN [data_limit -, init_from /runs/a]"
    # A hyperparameter that does change the experiment still separates runs (here the Adam epsilon).
    other = make_run(tmp_path, "eps", seed=3, fids={30000: 9.0}, optimizer_epsilon=1e-8)
    groups = compare_runs(runs[:3] + [other], tmp_path / "out2", panels=False).tables["mnist"]["groups"]
    assert [g["runs"] for g in groups] == [["old_s0", "new_s1", "new_s2"], ["eps"]]
    assert groups[1]["label"] == "DCGAN [optimizer_epsilon 1e-08]"


def test_differences_from_the_dissertation_are_stated(tmp_path):
    runs = [make_run(tmp_path, "wgan_flowers", model="WGAN", dataset="102flowers", batch=64, epochs=20000,
                     fids={10000: 200.0, 20000: 150.0}, backbone="fid", n=1000, clip_value=0.05),
            make_run(tmp_path, "dcgan_flowers_b32", dataset="102flowers", batch=32, fids={10000: 100.0},
                     backbone="fid", n=1000)]
    result = compare_runs(runs, tmp_path / "out", panels=False)
    wgan, dcgan = result.tables["102flowers"]["groups"]
    notes = " ".join(wgan["dissertation"]["notes"])
    assert "backbone fid" in notes and "1,000 generated images" in notes and "not directly comparable" in notes
    assert "20,000 iterations" in notes and "clip_value 0.05" in notes
    rows = {r["iteration"]: r for r in wgan["dissertation"]["rows"]}
    assert rows[40000]["dissertation"] == 363 and rows[40000]["ours"] is None and rows[40000]["difference"] is None
    assert rows[20000]["difference"] == pytest.approx(150.0 - 364)
    assert not dcgan["dissertation"]["matches"] and "batch 32" in dcgan["dissertation"]["why_not"]
    # WGAN's FID falls here, so "WGAN fails on flowers" is not what these runs show
    verdict = next(v for v in result.data["verdicts"]["102flowers"] if v["model"] == "WGAN")
    assert verdict["status"] == "disagrees" and "200.00 at 10,000 -> 150.00 at 20,000" in verdict["ours"]
    best = next(v for v in result.data["verdicts"]["102flowers"] if v["kind"] == "best")
    assert best["status"] == "agrees" and best["iteration"] == 10000   # the only common checkpoint
    assert "no checkpoint" in result.markdown
    # both read from runs short of the experiment: the status stands, marked indicative, with why
    wgan_differs = ["WGAN: backbone fid, not the dissertation's Keras ImageNet InceptionV3",
                    "WGAN: 1,000 generated images, not 5,000: the values are not directly comparable",
                    "WGAN: hyperparameters changed: clip_value 0.05 (default 0.01)"]
    assert verdict["indicative"] == ["read at 20,000 of the dissertation's 40,000 iterations", *wgan_differs]
    assert best["indicative"] == ["read at 10,000 of the dissertation's 40,000 iterations", "2 of its 4 models",
                                  "not the dissertation's settings", *wgan_differs]
    assert ("**agrees** (indicative only: read at 10,000 of the dissertation's 40,000 iterations; 2 of its 4 "
            "models; not the dissertation's settings; WGAN: backbone fid, ") in result.markdown


def test_a_seed_without_a_fid_is_counted_never_hidden(tmp_path):
    """A seed whose checkpoint diverged (its row "nan": NaN images, no FID of the model) leaves the
    mean, which then says "n=2 of 3, 1 nan"; the run's own row says nan; a verdict read from it is
    indicative, naming the seeds left. The FID figure's legend gives the range of seeds."""
    runs = [make_run(tmp_path, "dcgan_s0", seed=0, fids={10000: 10.0, 30000: 8.0}),
            make_run(tmp_path, "dcgan_s1", seed=1, fids={10000: 12.0, 30000: 10.0}),
            make_run(tmp_path, "dcgan_s2", seed=2, fids={10000: 14.0, 30000: 400.0}, status={30000: "nan"},
                     iterations=500),
            make_run(tmp_path, "gan", model="GAN", fids={10000: 90.0, 30000: 80.0})]
    result = compare_runs(runs, tmp_path / "out", panels=False)
    dcgan = result.tables["mnist"]["groups"][0]
    assert (dcgan["fid"][30000]["n"], dcgan["fid"][30000]["mean"], dcgan["fid"][30000]["missing"]) == (2, 9.0, (("nan", 1),))
    assert "9.00 ± 1.41 (8.00–10.00, n=2 of 3, 1 nan)" in result.markdown
    assert "| dcgan_s2 | DCGAN | 2 | 14.00 | nan |" in result.markdown
    worst = next(v for v in result.data["verdicts"]["mnist"] if v["kind"] == "worst")
    assert "FIDs of only some seeds (DCGAN at 30,000: 9.00 ± 1.41 (8.00–10.00, n=2 of 3, 1 nan))" in worst["indicative"]
    fid_axes = result.data["figures"]["mnist"]["fid"]["axes"][0]
    losses = result.data["figures"]["mnist"]["losses"]["axes"][0]["series"]   # seeds of 300, 300, 500 iterations
    assert "DCGAN (mean of 3 seeds, band min–max; to iteration 300, where the shortest seed ends)" in losses
    assert "DCGAN (mean of 3 seeds, band min–max)" in fid_axes["series"]
    assert "DCGAN: mean of 2 seed(s) where fewer have a FID" in fid_axes["legend"]
    # the dissertation's values are Keras-InceptionV3 FIDs, and the legend says so
    assert "DCGAN: dissertation (Table 4-1, Keras ImageNet InceptionV3)" in fid_axes["dissertation"]
    # a seed without a FID anywhere is counted too
    runs[2] = make_run(tmp_path, "dcgan_s2_lost", seed=2, fids={10000: 1.0, 30000: 1.0},
                       status={10000: "nan", 30000: "failed"})
    fid_axes = compare_runs(runs, tmp_path / "out2", panels=False).data["figures"]["mnist"]["fid"]["axes"][0]
    assert "DCGAN (mean of 2 of 3 seeds, band min–max)" in fid_axes["series"]


def test_allowed_mixed_evaluations_are_never_averaged_and_datasets_are_checked_apart(tmp_path):
    keras_seed = make_run(tmp_path, "s0", seed=0, fids={10000: 10.0})
    fid_seed = make_run(tmp_path, "s1", seed=1, fids={10000: 30.0}, backbone="fid")
    with pytest.raises(MixedEvaluationsError, match=r"mnist backbone: keras \(s0\) vs fid \(s1\)"):
        compare_runs([keras_seed, fid_seed], tmp_path / "out", panels=False)
    result = compare_runs([keras_seed, fid_seed], tmp_path / "mixed", panels=False, allow_mixed=True)
    groups = result.tables["mnist"]["groups"]
    assert [g["runs"] for g in groups] == [["s0"], ["s1"]]                # two groups, no mean of 10 and 30
    assert [g["label"] for g in groups] == ["DCGAN [evaluation keras bilinear, 5000 vs 5000 images]",
                                            "DCGAN [evaluation fid bilinear, 5000 vs 5000 images]"]
    fid_axes = result.data["figures"]["mnist"]["fid"]["axes"][0]
    assert any("not comparable with our fid" in label for label in fid_axes["dissertation"])
    # runs of two datasets are never compared: each evaluated its own way is no mix
    nlvr = make_run(tmp_path, "nlvr", dataset="nlvr", batch=64, fids={10000: 50.0}, backbone="fid", n=1000)
    assert compare_runs([keras_seed, nlvr], tmp_path / "two", panels=False).warnings == []
    # and a dataset evaluated alike keeps its seeds together, an unevaluated one among them, beside a mixed one
    nlvr_s1 = make_run(tmp_path, "nlvr_s1", dataset="nlvr", batch=64, seed=1)
    result = compare_runs([keras_seed, fid_seed, nlvr, nlvr_s1], tmp_path / "three", panels=False, allow_mixed=True)
    assert [g["runs"] for g in result.tables["nlvr"]["groups"]] == [["nlvr", "nlvr_s1"]]
    assert result.tables["nlvr"]["groups"][0]["label"] == "DCGAN"
    # a ranking of FIDs computed differently is no ranking
    wgangp = make_run(tmp_path, "wgangp", model="WGANGP", seed=0, fids={10000: 20.0}, backbone="fid")
    best = next(v for v in compare_runs([keras_seed, wgangp], tmp_path / "four", panels=False, allow_mixed=True)
                .data["verdicts"]["mnist"] if v["kind"] == "best")
    assert (best["status"], best["ours"]) == ("not enough runs",
                                              "their FIDs were computed differently (--allow-mixed): not ranked")


# ------------------------------------------------------------------------------------------------
# refusals and bad input
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field,values,words", [("backbone", ("keras", "fid"), "backbone: keras (a) vs fid (b)"),
                                                ("n", (5000, 1000), "FID sample number: 5000 (a) vs 1000 (b)")])
def test_mixed_evaluations_refused_unless_allowed(tmp_path, capsys, field, values, words):
    a = make_run(tmp_path, "a", fids={10000: 10.0}, **{field: values[0]})
    b = make_run(tmp_path, "b", model="WGAN", fids={10000: 11.0}, **{field: values[1]})
    with pytest.raises(MixedEvaluationsError, match="not comparable"):
        compare_runs([a, b], tmp_path / "out", panels=False)
    assert main([a, b, "--out", str(tmp_path / "cli"), "--no-panels"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "--allow-mixed" in err
    assert not os.path.exists(tmp_path / "cli" / "comparison.md")
    result = compare_runs([a, b], tmp_path / "mixed", panels=False, allow_mixed=True)
    assert any(words in w for w in result.warnings) and words in result.markdown
    # the dataset's section and its FID figure never call the settings one
    section = next(ln for ln in result.markdown.splitlines() if ln.startswith("Evaluation: "))
    assert section.startswith("Evaluation: MIXED, so their FIDs are not comparable: ") and "(a)" in section \
        and "(b)" in section, section


def test_bad_inputs_give_one_line(tmp_path, capsys):
    good = make_run(tmp_path, "good", fids={10000: 10.0})
    garbage = make_run(tmp_path, "garbage", fids={10000: 10.0})
    with open(os.path.join(garbage, "evaluation", "evaluation.json"), "w") as f:
        f.write("{not json")
    other = make_run(tmp_path, "other", fids={10000: 10.0})
    shutil.copy(os.path.join(make_run(tmp_path, "x", model="WGAN", fids={1: 1.0}), "evaluation", "evaluation.json"),
                os.path.join(other, "evaluation", "evaluation.json"))
    (tmp_path / "empty").mkdir()
    cases = [([str(tmp_path / "missing")], "does not exist"),
             ([str(tmp_path / "empty")], "not a gan_keras run directory"),
             ([good, garbage], "cannot read the evaluation of run garbage"),
             ([other], "evaluates a different run (model 'WGAN'")]
    for args, words in cases:
        assert main(args + ["--out", str(tmp_path / "o"), "--no-panels"]) == 2, words
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err, err
    with pytest.raises(SystemExit) as usage:   # the parser's refusal: RUN_DIR is required
        main(["--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert usage.value.code == 2 and len(err.splitlines()) == 1 and "required: RUN_DIR" in err, err
    assert "RUN_DIR [RUN_DIR ...]" in build_parser().format_usage()
    with pytest.raises(CompareError, match="no run directories"):
        compare_runs([], tmp_path / "o")
    (tmp_path / "a_file").write_text("")
    for out, words in ((good, "is the run directory"), (os.path.join(good, "cmp"), "is inside the run directory"),
                       (str(tmp_path / "a_file"), "is a file")):
        assert main([good, "--out", out, "--no-panels"]) == 2, words
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err, err
    assert not os.path.exists(os.path.join(good, "cmp")) and not os.path.exists(os.path.join(good, "comparison.md"))
    assert main([good, "--out", str(tmp_path / "o"), "--no-panels", "--eval-dir", "nope"]) == 2
    assert "no run has an evaluation folder 'nope' (--eval-dir)" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------

def test_evaluations_written_outside_the_runs_are_read_with_a_run_placeholder(tmp_path, capsys):
    """GAN_evaluation.py RUN ... --out /evals/NAME leaves the run without evaluation/: --eval-dir
    /evals/{run} finds each run's by its folder name; a folder two runs would share is refused."""
    runs = [make_run(tmp_path / "runs", f"dcgan_s{seed}", seed=seed, fids={10000: 10.0 + 2 * seed})
            for seed in (0, 1)]
    os.makedirs(tmp_path / "evals")
    for run in runs:
        shutil.move(os.path.join(run, "evaluation"), tmp_path / "evals" / os.path.basename(run))
    result = compare_runs(runs, tmp_path / "out", panels=False, eval_dir=str(tmp_path / "evals" / "{run}"))
    assert result.tables["mnist"]["groups"][0]["fid"][10000]["mean"] == 11.0    # both runs' FIDs, 10 and 12
    assert not any("has no evaluation" in w for w in result.warnings)
    plain = compare_runs(runs, tmp_path / "out2", panels=False)                  # the default: inside the runs
    assert "--eval-dir /evals/{run}" in next(w for w in plain.warnings if "has no evaluation" in w)
    twin = make_run(tmp_path / "other", "dcgan_s0", seed=0)   # the same folder name, model, dataset, seed
    assert main([runs[0], twin, "--out", str(tmp_path / "o3"), "--no-panels",
                 "--eval-dir", str(tmp_path / "evals" / "{run}")]) == 2
    err = capsys.readouterr().err
    assert "have the same folder name" in err and f"ln -s {twin} dcgan_s0_b" in err
    assert main(runs + ["--out", str(tmp_path / "o4"), "--no-panels", "--eval-dir", str(tmp_path / "evals")]) == 2
    assert f"put {{run}} where each run's folder name goes, e.g. --eval-dir {tmp_path / 'evals' / '{run}'}" \
        in capsys.readouterr().err
    # an evaluation of a run with another batch size (the same model, dataset and seed) is refused
    other_batch = make_run(tmp_path / "batch8", "dcgan_s1", seed=1, batch=8)
    with pytest.raises(CompareError, match="evaluates a different run \\(batch_size 128, run dcgan_s1 has 8\\)"):
        compare_runs([other_batch], tmp_path / "o5", panels=False, eval_dir=str(tmp_path / "evals" / "{run}"))


def test_every_curve_of_a_panel_is_smoothed_with_the_panels_window(tmp_path, monkeypatch):
    """The window under a panel is the one its curves were drawn with (not only the label)."""
    from gan_keras.compare import figures
    from gan_keras.report import plots

    used, smooth = [], plots.smooth
    monkeypatch.setattr(figures.plots, "smooth", lambda values, window: (used.append((len(values), window)),
                                                                         smooth(values, window))[1])
    runs = [make_run(tmp_path, "long", model="GAN", iterations=1000), make_run(tmp_path, "short", model="GAN")]
    compare_runs(runs, tmp_path / "out", panels=False)
    # GAN's two loss panels and its JSD panel: each run's common 300 iterations, at the long run's window
    assert used and set(used) == {(300, 10)}, used


def test_the_dissertations_own_tables_support_its_verdicts(tmp_path):
    """Tables 4-1 to 4-6 as runs: each verdict agrees, except that on MNIST WGAN and WGAN-GP tie
    at 30,000 (both 6, Table 4-2), which is a tie, not a ranking by the order of the runs."""
    from gan_keras.compare import dissertation as diss

    runs = [make_run(tmp_path, f"{model}_{dataset}", model=model, dataset=dataset, batch=e.batch_size,
                     epochs=e.iterations, fids=fids)
            for dataset, e in diss.EXPERIMENTS.items() for model, fids in e.fid.items()]
    verdicts = compare_runs(runs, tmp_path / "out", panels=False).data["verdicts"]
    status = {(d, v["kind"], v["model"]): v["status"] for d in verdicts for v in verdicts[d]}
    assert len(status) == len(diss.VERDICTS)
    assert status.pop(("mnist", "best", "WGANGP")) == "tied"
    assert set(status.values()) == {"agrees"}
    assert all(v["indicative"] == [] for d in verdicts for v in verdicts[d])   # the experiment itself
    mnist_best = next(v for v in verdicts["mnist"] if v["kind"] == "best")
    assert "(a tie: " in mnist_best["ours"] and "WGAN" in mnist_best["ours"]


def test_overlays_one_line_per_run_or_seed_group(tmp_path):
    runs = [make_run(tmp_path, "gan", model="GAN", fids={10000: 100.0, 20000: 90.0}, iterations=1000),
            make_run(tmp_path, "dcgan_s0", fids={10000: 10.0, 20000: 8.0}),
            make_run(tmp_path, "dcgan_s1", seed=1, fids={10000: 12.0, 20000: 9.0}),
            make_run(tmp_path, "wgan", model="WGAN", fids={10000: 11.0, 20000: 8.0}),
            make_run(tmp_path, "nlvr_gan", model="GAN", dataset="nlvr", batch=64, fids={10000: 300.0})]
    result = compare_runs(runs, tmp_path / "out", panels=False)
    for name in ("losses_mnist", "divergence_mnist", "fid_mnist", "losses_nlvr", "fid_nlvr", "markdown", "json"):
        assert os.path.isfile(result.files[name]), name
    figures = result.data["figures"]["mnist"]
    # a BCE and a Wasserstein critic loss share no scale: one panel per loss and kind of loss
    losses = {ax["title"]: ax["series"] for ax in figures["losses"]["axes"]}
    bce, critic = ["GAN (gan)", "DCGAN (mean of 2 seeds, band min–max)"], ["WGAN (wgan)"]
    assert losses == {"discriminator loss (bce loss)": bce, "generator loss (bce loss)": bce,
                      "discriminator loss (wasserstein loss)": critic, "generator loss (wasserstein loss)": critic}
    # one smoothing window per panel, the longest run's (1000 iterations: 10), said under it
    xlabels = {ax["title"]: ax["xlabel"] for ax in figures["losses"]["axes"]}
    assert xlabels["discriminator loss (bce loss)"] == "iteration (every curve a 10-iteration moving mean)"
    assert xlabels["discriminator loss (wasserstein loss)"] == "iteration (every curve a 3-iteration moving mean)"
    div_xlabels = {ax["title"]: ax["xlabel"] for ax in figures["divergence"]["axes"]}
    assert div_xlabels["JS divergence estimate (log 2 - D loss, a lower bound)"] == \
        "iteration (every curve a 10-iteration moving mean)"
    # JSD and Wasserstein estimates share no scale: one panel each (Figures 4-12 and 4-15)
    div = {ax["title"]: ax["series"] for ax in figures["divergence"]["axes"]}
    assert div == {"JS divergence estimate (log 2 - D loss, a lower bound)": ["GAN (gan)", "DCGAN (mean of 2 seeds, band min–max)"],
                   "Wasserstein estimate E[f(x)] - E[f(G(z))]": ["WGAN (wgan)"]}
    fid = figures["fid"]["axes"][0]
    assert len(fid["series"]) == 3 and len(fid["dissertation"]) == 3
    assert [ax["series"] for ax in result.data["figures"]["nlvr"]["losses"]["axes"]] == [["GAN (nlvr_gan)"]] * 2
    for key in ("fid_mnist", "losses_mnist"):
        assert f"]({os.path.basename(result.files[key])})" in result.markdown   # relative links from out
    other = tmp_path / "elsewhere"
    assert f"](../out/{os.path.basename(result.files['fid_mnist'])})" in result.markdown_at(str(other))


def test_a_comparison_again_into_its_folder_leaves_none_of_the_earlier_figures(tmp_path):
    mnist = make_run(tmp_path, "m", fids={10000: 10.0})
    nlvr = make_run(tmp_path, "n", dataset="nlvr", batch=64, fids={10000: 50.0})
    first = compare_runs([mnist, nlvr], tmp_path / "out", panels=False)
    assert os.path.isfile(first.files["fid_nlvr"])
    (tmp_path / "out" / "notes.txt").write_text("mine")
    again = compare_runs([mnist], tmp_path / "out", panels=False)
    assert not os.path.exists(first.files["fid_nlvr"]) and os.path.isfile(again.files["fid_mnist"])
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"   # only what a comparison wrote goes


def test_run_without_evaluation_still_gets_curves(tmp_path):
    runs = [make_run(tmp_path, "evaluated", fids={10000: 10.0}),
            make_run(tmp_path, "pending", model="WGANGP", fids=None)]
    result = compare_runs(runs, tmp_path / "out", panels=False)
    assert any("pending has no evaluation" in w for w in result.warnings)
    assert [ax["series"] for ax in result.data["figures"]["mnist"]["losses"]["axes"]] == \
        [["DCGAN (evaluated)"]] * 2 + [["WGAN-GP (pending)"]] * 2   # BCE, then WGAN-GP's own losses
    assert result.data["figures"]["mnist"]["fid"]["axes"][0]["series"] == ["DCGAN (evaluated)"]
    assert "| WGAN-GP | 1 (0) | not evaluated |" in result.markdown
    assert "| pending | WGAN-GP | 0 | not evaluated |" in result.markdown
    # a run that stopped short: what it trained, of what it planned (its log's last row)
    assert "| pending | WGANGP | mnist | 0 | 128 | 300 of 30,000 | none |" in result.markdown
    alone = compare_runs([runs[1]], tmp_path / "alone", panels=False)
    assert "fid_mnist" not in alone.files and os.path.isfile(alone.files["divergence_mnist"])
    assert "not evaluated" in alone.markdown


def test_panel_one_row_per_checkpoint(real_run, tmp_path):
    run = shutil.copytree(real_run, tmp_path / "GAN_mnist_tiny")
    with open(run / "checkpoints" / "iter_0000002" / "generator.keras", "wb") as f:
        f.write(b"damaged")
    result = compare_runs([str(run)], tmp_path / "out", seed=3)
    panel = result.data["panels"]["GAN_mnist_tiny"]
    assert panel["iterations"] == [1, 2, 3] and [f["iteration"] for f in panel["failed"]] == [2]
    image = np.asarray(Image.open(result.files["panel_GAN_mnist_tiny"]))
    tile, pad, header = panel["tile"], panel["pad"], panel["header"]
    assert tile == 56                                        # 28x28 shown at twice the size
    assert image.shape[0] == header + 3 * (tile + pad) + pad   # a header line, one row per checkpoint
    assert (image[:header, :panel["label_width"]] < 128).any()   # the header's text
    assert image.shape[1] == panel["label_width"] + 8 * (tile + pad) + pad
    x0 = panel["label_width"] + pad

    def tile_of(row):   # the first sample of a row
        return image[header + pad + row * (tile + pad): header + pad + row * (tile + pad) + tile, x0:x0 + tile]
    assert (tile_of(1) == 128).all()                         # the damaged checkpoint: a grey row
    assert tile_of(0).std() > 0 and not np.array_equal(tile_of(0), tile_of(2))
    assert any("checkpoint 2 does not load" in w for w in result.warnings)
    assert "not evaluated" in result.markdown                # the real run has no evaluation


def test_cli_end_to_end_on_a_real_run(real_run, tmp_path):
    run = str(shutil.copytree(real_run, tmp_path / "GAN_mnist_tiny"))
    os.makedirs(os.path.join(run, "elsewhere"))   # an evaluation folder without its evaluation: not evaluated
    out = tmp_path / "cmp"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "GAN_compare.py"), run, "--out", str(out), "--title", "Tiny",
                           "--eval-dir", "elsewhere"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.split()
    for name in ("comparison.md", "comparison.json", "losses_mnist.png", "divergence_mnist.png",
                 "panel_GAN_mnist_tiny.png"):
        assert str(out / name) in printed and (out / name).is_file(), name
    text = (out / "comparison.md").read_text()
    assert text.startswith("# Tiny") and "not evaluated" in text and "batch 8, the dissertation's is 128" in text
    assert "has no evaluation" in proc.stderr and "Traceback" not in proc.stderr
