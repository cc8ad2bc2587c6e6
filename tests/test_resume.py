"""Resume when things go wrong: one process per run directory, other images, divergence and
rollback, full disks, damaged checkpoints, logs and configs, a crash while saving."""
import json
import os
import shutil

import numpy as np
import pytest

from gan_keras import rundir
from gan_keras.errors import CheckpointError, RunDirError, TrainingDiverged
from gan_keras.training.base import reseed_generators
from gan_keras.training.loop import Trainer
from tests.test_run import read_rows, run, same_weights, weights_of


@pytest.fixture(autouse=True)
def _data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)


def test_one_process_at_a_time_trains_a_run_directory(tmp_path):
    """A second training of a run directory that is being trained (a resume, --force, a different
    run) is refused, naming the process that holds it, and changes nothing there; once the holder
    lets go the run resumes. A directory made only to hold the lock is removed by a refusal."""
    from gan_keras.training.runlock import LOCK_FILE, RunLock

    first = run(tmp_path, epochs=2)
    files = sorted(str(p.relative_to(first)) for p in (tmp_path / "run").rglob("*"))
    holder = RunLock(first, "python GAN_main.py (the holder)").acquire()
    for kw in ({}, {"force": True}, {"batch_size": 8, "force": True}):
        with pytest.raises(RunDirError, match=rf"run is being written by another training process \(pid "
                                              rf"{os.getpid()} on .*: python GAN_main.py \(the holder\)\); wait"):
            run(tmp_path, epochs=4, **kw)
    assert sorted(str(p.relative_to(first)) for p in (tmp_path / "run").rglob("*")) == files
    assert len(read_rows(first)) == 2
    holder.release()
    run(tmp_path, epochs=4)   # the lock file left behind is no obstacle
    assert len(read_rows(first)) == 4 and LOCK_FILE in os.listdir(first)
    run(tmp_path, epochs=2, batch_size=8, force=True)   # --force keeps its own lock file, clears the rest
    assert rundir.read_config(first)["batch_size"] == 8 and len(read_rows(first)) == 2

    fresh = tmp_path / "fresh"
    holder = RunLock(str(fresh)).acquire()   # another process is creating this run
    with pytest.raises(RunDirError, match="being written by another training process"):
        run(tmp_path, "fresh", epochs=2)
    assert os.listdir(fresh) == [LOCK_FILE]   # the refused run removed nothing of the holder's
    holder.release(failed=True)
    assert not fresh.exists()
    with pytest.raises(RunDirError, match="holds no gan_keras run"):
        (tmp_path / "notes").mkdir()
        (tmp_path / "notes" / "notes.txt").write_text("mine")
        run(tmp_path, "notes", epochs=1)
    assert os.listdir(tmp_path / "notes") == ["notes.txt"]   # a refused folder keeps no lock file
    from gan_keras.errors import ConfigError
    with pytest.raises(ConfigError, match="larger than the dataset"):   # refused after the lock was taken
        run(tmp_path, "new/deep/run", epochs=1, batch_size=8, data_limit=4)
    assert not (tmp_path / "new").exists()   # nor the folders made to hold it


def test_a_file_system_without_locks_still_trains(tmp_path, monkeypatch, capsys):
    import errno

    from gan_keras.training import runlock

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(runlock.fcntl, "flock", no_locks)
    run_dir = run(tmp_path, epochs=1)
    assert "warning: could not lock" in capsys.readouterr().out and len(read_rows(run_dir)) == 1


def test_a_resume_on_other_images_is_refused_and_every_session_is_recorded(tmp_path, capsys):
    """The dataset's content fingerprint is checked on resume (another --data-dir, a changed
    folder); --force resumes anyway. config.json keeps every session: where it started, the
    command, code revision, versions, machine and data."""
    run_dir = run(tmp_path, epochs=2)
    path = os.path.join(run_dir, rundir.CONFIG)
    config = json.load(open(path))
    assert [s["from_iteration"] for s in config["sessions"]] == [0]
    assert config["machine"]["cpus"] == os.cpu_count() and "code_revision" in config
    config["dataset_info"]["fingerprint"] = "0123456789abcdef" * 4   # as if trained on other images
    with open(path, "w") as f:
        json.dump(config, f)
    with pytest.raises(RunDirError, match=r"mnist images found now .* are not the ones this run trained on "
                                          r"\(content fingerprint .*, the run's 0123456789abcdef.*--force"):
        run(tmp_path, epochs=4)
    assert len(read_rows(run_dir)) == 2
    run(tmp_path, epochs=4, force=True)
    assert len(read_rows(run_dir)) == 4   # resumed, not overwritten
    sessions = json.load(open(path))["sessions"]
    assert [s["from_iteration"] for s in sessions] == [0, 2]
    assert sessions[1]["dataset_fingerprint"] != "0123456789abcdef" * 4 and sessions[1]["versions"]["keras"]


def non_finite_at_call(monkeypatch, n, name, value):
    """The stacked engine's ``n``-th iteration (counted over the test) logs ``name`` = ``value``;
    returns the call counter (reset it to count again)."""
    from gan_keras.training.stacked import StackedEngine

    original = StackedEngine.train_iteration
    calls = {"n": 0}

    def patched(self, draw_real, rng):
        calls["n"] += 1
        logs = original(self, draw_real, rng)
        return {**logs, name: value} if calls["n"] == n else logs

    monkeypatch.setattr(StackedEngine, "train_iteration", patched)
    return calls


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    calls = non_finite_at_call(monkeypatch, 5, "g_loss", float("nan"))
    with pytest.raises(TrainingDiverged, match="iteration 5.*last good checkpoint is iteration 4.*--on-nan rollback"):
        run(tmp_path, epochs=8, save_model_interval=2)
    run_dir = str(tmp_path / "run")
    assert [c.iteration for c in rundir.list_checkpoints(run_dir)] == [2, 4]
    assert json.load(open(os.path.join(run_dir, "divergence.json")))["iteration"] == 5
    # Before any checkpoint, "roll back" would lead nowhere: the advice says what can help.
    calls["n"] = 0
    with pytest.raises(TrainingDiverged, match="none yet .*nothing to roll back to: start it again") as info:
        run(tmp_path, "early", epochs=8, save_model_interval=6)
    assert "--on-nan rollback" not in str(info.value)
    # Rollbacks spent: a resume would replay the run to the same place with its rollbacks counted.
    calls["n"] = 0
    with pytest.raises(TrainingDiverged, match=r"\(0 rollbacks already\).*rolling back again will not help") as info:
        run(tmp_path, "spent", epochs=8, save_model_interval=2, on_nan="rollback", max_rollbacks=0)
    assert "--on-nan rollback" not in str(info.value)


def test_divergence_rollback_continues_from_the_checkpoint(tmp_path, monkeypatch):
    non_finite_at_call(monkeypatch, 5, "d_loss", float("inf"))
    run_dir = run(tmp_path, epochs=8, save_model_interval=2, on_nan="rollback")
    iterations = [int(r["iteration"]) for r in read_rows(run_dir)]
    assert iterations == list(range(1, 9))  # no duplicated or missing rows after the rollback
    assert all(np.isfinite(float(r["d_loss"])) for r in read_rows(run_dir))
    assert rundir.list_checkpoints(run_dir)[-1].iteration == 8


def test_a_progress_line_after_a_rollback_averages_only_the_iterations_kept(tmp_path, monkeypatch, capsys):
    """Iteration 7 diverges, the run rolls back to checkpoint 4: the last line's mean is over the
    iterations trained since (5-8 again), not over the discarded 5 and 6 of the first pass."""
    non_finite_at_call(monkeypatch, 7, "d_loss", float("nan"))
    run_dir = run(tmp_path, epochs=8, save_model_interval=4, on_nan="rollback")
    last = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[8/8]")][-1]
    kept = [float(r["d_loss"]) for r in read_rows(run_dir) if int(r["iteration"]) >= 5]
    assert len(kept) == 4 and f"D {np.mean(kept):.4f} |" in last


def test_every_engine_draws_anew_after_a_rollback():
    """The reseed a rollback makes: a train step's own seed generator (its noise, epsilon,
    DiffAugment) starts a new stream, as the stacked engine's DiffAugment and the compiled
    engine's device draws do."""
    from gan_keras.registry import get_model
    from gan_keras.training.engine import build_engine

    for model, hp, generator in (("WGANGP", {"critic_steps": 1}, lambda e: e.model.seed_generator),
                                 ("DCGAN", {"diffaugment": "color"}, lambda e: e.augmenter.seed_generator),
                                 ("DCGAN", {"engine": "compiled"}, lambda e: e.draw_seed)):
        spec = get_model(model)
        engine = build_engine(spec, spec.hyperparams(**hp), (28, 28, 1))
        before = np.array(generator(engine).state.numpy())
        engine.reseed(1_000_010)
        after = np.array(generator(engine).state.numpy())
        assert after.tolist() != before.tolist() and after[0] in (1_000_010, 1_000_110), (model, hp, after)


def test_a_run_with_rollbacks_resumes_bit_identically(tmp_path, monkeypatch):
    """NaNs at the first pass through iterations 5 and 7. The rollback count is saved with every
    checkpoint, so a run stopped between the two rollbacks and resumed reseeds as a straight one;
    and a rollback returns to the last checkpoint even when a newer resume point exists (its
    place depends on the clock). divergence.json keeps every divergence."""
    seen = set()
    original = Trainer._train_chunk

    def nan_first_time(self, iteration):
        logs = original(self, iteration)
        if iteration + 1 in (5, 7) and iteration + 1 not in seen:
            seen.add(iteration + 1)
            return [{**logs[0], "g_loss": float("nan")}]
        return logs

    monkeypatch.setattr(Trainer, "_train_chunk", nan_first_time)
    from gan_keras.training import loop
    reseeded = []
    monkeypatch.setattr(loop, "reseed_generators", lambda seed, generators: (
        reseeded.append(len(generators)), reseed_generators(seed, generators)))
    kw = dict(model="DCGAN", epochs=8, save_model_interval=2, on_nan="rollback")
    straight = run(tmp_path, "straight", **kw)
    assert seen == {5, 7}
    # every rollback also put the networks' own draws (their Dropout layers) on new streams
    assert reseeded == [4] * 2   # DCGAN's four Dropout layers
    seen.clear()
    run(tmp_path, "resumed", **{**kw, "epochs": 6})
    resumed = run(tmp_path, "resumed", **kw, autosave_minutes=1e-9)   # a resume point after every iteration
    assert seen == {5, 7}
    assert read_rows(resumed) == read_rows(straight)
    assert same_weights(weights_of(rundir.list_checkpoints(resumed)[-1].generator_path),
                        weights_of(rundir.list_checkpoints(straight)[-1].generator_path))
    record = json.load(open(os.path.join(straight, "divergence.json")))
    assert record["status"] == "rolled back" and record["iteration"] == 7
    assert "seed 2000013" in record["action"] and record["last_good_checkpoint"] == "iteration 6"
    assert [e["iteration"] for e in record["earlier"]] == [5] and "seed 1000010" in record["earlier"][0]["action"]


def test_full_disk_is_reported_and_earlier_checkpoints_survive(tmp_path, monkeypatch):
    import errno

    from gan_keras.training import checkpoints

    run_dir = run(tmp_path, epochs=2, save_model_interval=2)

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints.np, "savez", no_space)
    with pytest.raises(CheckpointError, match="disk is full.*earlier checkpoints are intact"):
        run(tmp_path, epochs=4, save_model_interval=2)
    assert [c.iteration for c in rundir.list_checkpoints(run_dir)] == [2]
    assert not [n for n in os.listdir(os.path.join(run_dir, "checkpoints")) if n.startswith(".tmp")]


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, four_and_six):
    run_dir = str(tmp_path / "run")
    shutil.copytree(four_and_six[0], run_dir)
    latest = rundir.list_checkpoints(run_dir)[-1]
    with open(os.path.join(latest.path, "trainer_state.npz"), "r+b") as f:
        f.truncate(100)
    assert run(tmp_path, epochs=6, save_model_interval=2) == run_dir
    assert read_rows(run_dir) == read_rows(four_and_six[1])
    os.remove(os.path.join(rundir.list_checkpoints(run_dir)[-1].path, "manifest.json"))
    assert [c.iteration for c in rundir.list_checkpoints(run_dir)] == [2, 4]  # incomplete: ignored


def test_damaged_checkpoints_are_skipped_with_a_word_and_never_restart_a_run(tmp_path, capsys, four_and_six):
    """A checkpoint whose state.json parses but is wrong, or that lacks a file, is skipped with a
    warning; a resume point newer than every loadable checkpoint is used even when a damaged
    checkpoint is newer still; and when nothing loads the run is refused, its log untouched (it
    used to start again from 0 and cut the log back)."""
    run_dir = str(tmp_path / "run")
    shutil.copytree(four_and_six[0], run_dir)
    four = rundir.list_checkpoints(run_dir)[-1]
    with open(os.path.join(four.path, "state.json"), "w") as f:
        f.write("{}")
    os.remove(os.path.join(rundir.list_checkpoints(run_dir)[0].generator_path))
    with pytest.raises(RunDirError, match=r"none of the checkpoints of .* can be loaded .*no checkpoint or log was changed"):
        run(tmp_path, epochs=6, save_model_interval=2)
    out = capsys.readouterr().out
    assert "iter_0000004 is damaged (state.json has no iteration)" in out
    assert "checkpoint 2 (" in out and "is incomplete (missing generator.keras)" in out
    assert len(read_rows(run_dir)) == 4 and [c.iteration for c in rundir.list_checkpoints(
        run_dir, include_incomplete=True)] == [2, 4]

    # a resume point at 3 (older than the damaged 4, newer than the incomplete 2) is where it resumes
    run_dir = str(tmp_path / "point")
    shutil.copytree(four_and_six[0], run_dir)
    shutil.copytree(os.path.join(four_and_six[0], "checkpoints", "iter_0000004"),
                    os.path.join(run_dir, "checkpoints", "autosave"))
    shutil.rmtree(os.path.join(run_dir, "checkpoints", "iter_0000004"))
    run(tmp_path, "three", epochs=3, save_model_interval=3)   # the same run's state at 3, to make the point from
    three = os.path.join(str(tmp_path / "three"), "checkpoints", "iter_0000003")
    point = os.path.join(run_dir, "checkpoints", "autosave")
    for name in ("trainer_state.npz", "state.json", "log.csv", "config.json"):
        shutil.copyfile(os.path.join(three, name), os.path.join(point, name))
    with open(os.path.join(point, "manifest.json"), "w") as f:
        json.dump({"iteration": 3, "files": ["trainer_state.npz", "state.json", "log.csv", "config.json"]}, f)
    shutil.copytree(four.path, os.path.join(run_dir, "checkpoints", "iter_0000004"))   # the damaged 4
    os.remove(os.path.join(rundir.list_checkpoints(run_dir)[0].generator_path))
    with open(os.path.join(run_dir, rundir.CONFIG), "w") as f:   # and a damaged config: the point's copy serves
        f.write("{")
    capsys.readouterr()
    run(tmp_path, "point", epochs=6, save_model_interval=2)
    out = capsys.readouterr().out
    assert "using the copy saved with checkpoint 4" in out   # the newest copy, even in a damaged checkpoint
    assert "from iteration 3 (its resume point)" in out
    assert read_rows(run_dir) == read_rows(four_and_six[1])


def test_what_a_crash_while_saving_leaves_is_tidied_on_resume(tmp_path, capsys, monkeypatch, four_and_six):
    """A crash (here an exception standing for kill -9) between moving the old resume point aside
    and renaming the new one in, with a half-written checkpoint folder beside it: the resume puts
    the resume point back, removes the rest, and ends as a straight run."""
    from gan_keras.training import checkpoints

    run_dir = str(tmp_path / "run")
    shutil.copytree(four_and_six[0], run_dir)
    root = os.path.join(run_dir, "checkpoints")
    shutil.copytree(os.path.join(root, "iter_0000002"), os.path.join(root, ".tmp-iter_0000006"))
    real_replace = os.replace

    def crash_before_the_new_one(src, dst):
        if os.path.basename(src).startswith(".tmp-"):
            raise KeyboardInterrupt("killed")
        real_replace(src, dst)

    with pytest.MonkeyPatch.context() as mp:   # the newest state as a resume point, then a crashed re-save
        shutil.copytree(os.path.join(root, "iter_0000004"), os.path.join(root, "autosave"))
        shutil.rmtree(os.path.join(root, "iter_0000004"))
        mp.setattr(checkpoints.os, "replace", crash_before_the_new_one)

        class Engine:   # saving a resume point reads only these
            def state_variables(self):
                return []
        with pytest.raises(KeyboardInterrupt):
            checkpoints.save_checkpoint(run_dir, 5, Engine(), {"iteration": 5}, {}, autosave=True)
    assert sorted(os.listdir(root)) == [".old-autosave", ".tmp-autosave", ".tmp-iter_0000006", "iter_0000002"]
    run(tmp_path, epochs=6, save_model_interval=2)
    out = capsys.readouterr().out
    assert "restored" in out and "autosave, which a crash while saving had left aside" in out
    assert "from iteration 4 (its resume point)" in out
    assert sorted(os.listdir(root)) == ["iter_0000002", "iter_0000006"]   # the resume point, spent
    assert read_rows(run_dir) == read_rows(four_and_six[1])


@pytest.fixture(scope="module")
def four_and_six(tmp_path_factory, shared_data_dir):
    """A DCGAN run of 4 iterations (checkpoints 2, 4) and the same run straight to 6 (run once, copied)."""
    base = tmp_path_factory.mktemp("damage")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)
        return run(base, "four", epochs=4, save_model_interval=2), run(base, "six", epochs=6, save_model_interval=2)


@pytest.mark.parametrize("damage", ["garbage", "deleted", "emptied"])
def test_a_damaged_log_and_config_are_restored_from_the_checkpoint(tmp_path, damage, capsys, four_and_six):
    run_dir, straight = str(tmp_path / "run"), four_and_six[1]
    shutil.copytree(four_and_six[0], run_dir)
    log, config = os.path.join(run_dir, rundir.LOG), os.path.join(run_dir, rundir.CONFIG)
    if damage == "garbage":  # a line cut short, NUL bytes, invalid UTF-8, a non-number, a repeated row
        text = open(log, "rb").read().splitlines(keepends=True)
        with open(log, "wb") as f:
            f.write(b"".join(text[:2]) + text[2][:9] + b"\0\0\xff\xfe\n3,x,1,1,1,1\n" + text[1])
        with open(config, "w") as f:
            f.write('{"model": "DCG')
    elif damage == "deleted":
        os.remove(log)
        os.remove(config)
    else:
        open(log, "w").close()
        open(config, "w").close()
    assert rundir.read_log_rows(log)[1] == [] or damage == "garbage"
    run(tmp_path, epochs=6, save_model_interval=2)
    out = capsys.readouterr().out
    assert "using the copy saved with checkpoint 4" in out and "restored 4 rows from the checkpoint's copy" in out
    assert read_rows(run_dir) == read_rows(straight) and len(read_rows(run_dir)) == 6
    assert rundir.read_config(run_dir)["model"] == "DCGAN"
    a, b = rundir.list_checkpoints(run_dir)[-1], rundir.list_checkpoints(straight)[-1]
    assert same_weights(weights_of(a.generator_path), weights_of(b.generator_path))


def test_a_damaged_config_without_a_copy_is_refused_with_one_line(tmp_path):
    run_dir = run(tmp_path, epochs=2, save_model_interval=100)  # no checkpoint before the end...
    for c in rundir.list_checkpoints(run_dir):
        os.remove(os.path.join(c.path, rundir.CONFIG))  # ...and no copy of the config in it
    with open(os.path.join(run_dir, rundir.CONFIG), "w") as f:
        f.write("{")
    with pytest.raises(RunDirError, match=r"config.json is damaged .*pass --force"):
        run(tmp_path, epochs=4)
    with pytest.raises(RunDirError, match=r"^cannot resume: .*config.json is damaged .*give --out .*run --force in place of --resume"):
        run(tmp_path, epochs=4, resume=True, force=True)   # --resume never overwrites


def test_the_log_reader_keeps_only_sound_rows(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"iteration,d_loss,g_loss\n1,0.5,0.7\n2,nan,inf\n2,0.1,0.1\n3,0.4\n\0\0\n4,a,1\n5,0.3,0.2\n6,0.3")
    header, rows = rundir.read_log_rows(str(path))
    assert header == ["iteration", "d_loss", "g_loss"]
    assert [r["iteration"] for r in rows] == ["1", "2", "5"]  # "6,0.3" lacks a column: dropped
    assert rows[1]["d_loss"] == "nan"
    assert rundir.log_is_whole(rows, 2) and not rundir.log_is_whole(rows, 5)
    assert rundir.read_log_rows(str(tmp_path / "missing.csv")) == ([], [])


# -- the command line, in subprocesses as a user runs it -------------------------------------
