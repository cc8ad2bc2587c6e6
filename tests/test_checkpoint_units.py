"""Which checkpoint a resume loads, what counts as a damaged one, and when the resume point goes:
checkpoint folders written by hand and a stand-in engine of one variable, so nothing trains."""
import json
import os

import numpy as np
import pytest

from gan_keras import rundir
from gan_keras.errors import CheckpointError
from gan_keras.training import checkpoints


class Variable:
    """What loading reads of an engine variable: its shape and path, and assign."""

    path = "stand_in/weight"

    def __init__(self, value=0.0):
        self.value = np.array([value])
        self.shape = self.value.shape

    def assign(self, value):
        self.value = np.array(value)


class Engine:
    def __init__(self):
        self.weight = Variable()

    def state_variables(self):
        return [self.weight]


def write_checkpoint(run_dir, iteration, weight, name=None, fixed_noise=True):
    """A complete checkpoint folder (or resume point, name="autosave") whose one variable holds ``weight``."""
    folder = os.path.join(run_dir, rundir.CHECKPOINTS, name or rundir.checkpoint_name(iteration))
    os.makedirs(folder)
    arrays = {"var_00000": np.array([weight])}
    if fixed_noise:
        arrays["extra_fixed_noise"] = np.zeros((2, 3))
    np.savez(os.path.join(folder, checkpoints.STATE_NPZ), **arrays)
    with open(os.path.join(folder, checkpoints.STATE_JSON), "w") as f:
        json.dump({"iteration": iteration, "rng_state": np.random.default_rng(iteration).bit_generator.state}, f)
    with open(os.path.join(folder, rundir.MANIFEST), "w") as f:
        json.dump({"iteration": iteration, "files": [checkpoints.STATE_NPZ, checkpoints.STATE_JSON]}, f)
    return folder


def damage(folder):
    with open(os.path.join(folder, checkpoints.STATE_JSON), "w") as f:
        f.write("{}")


def loaded(run_dir, resume_point=True):
    """(folder name, iteration, weight) of what latest_loadable restored into a fresh engine."""
    engine = Engine()
    checkpoint, state, _ = checkpoints.latest_loadable(str(run_dir), engine, resume_point=resume_point)
    return os.path.basename(checkpoint.path), state["iteration"], float(engine.weight.value[0])


def test_the_newest_loadable_checkpoint_is_resumed(tmp_path, capsys):
    """Resuming from an older checkpoint than the newest sound one would silently repeat training
    and cut the log back; a damaged newest one falls back to the next newest, not the oldest."""
    for iteration in (2, 4, 6):
        write_checkpoint(tmp_path, iteration, weight=iteration)
    assert loaded(tmp_path) == ("iter_0000006", 6, 6.0)
    damage(os.path.join(tmp_path, rundir.CHECKPOINTS, "iter_0000006"))
    assert loaded(tmp_path) == ("iter_0000004", 4, 4.0)
    assert "iter_0000006 is damaged" in capsys.readouterr().out


def test_a_resume_point_is_tried_by_its_iteration_and_after_a_checkpoint_of_the_same_one(tmp_path):
    """The resume point is used when it is newer than every sound checkpoint; at the same
    iteration the checkpoint comes first (it also holds the .keras files); a rollback
    (resume_point=False) never uses it."""
    write_checkpoint(tmp_path, 2, weight=2)
    four = write_checkpoint(tmp_path, 4, weight=4)
    write_checkpoint(tmp_path, 4, weight=40, name=rundir.AUTOSAVE)
    assert loaded(tmp_path) == ("iter_0000004", 4, 4.0)
    damage(four)
    assert loaded(tmp_path) == ("autosave", 4, 40.0)   # before the older checkpoint 2
    assert loaded(tmp_path, resume_point=False) == ("iter_0000002", 2, 2.0)


def test_a_checkpoint_without_its_fixed_sample_noise_is_damaged(tmp_path):
    """Without the fixed noise a resumed run's sample grids would come from other noise than
    before; such a checkpoint is refused before any variable changes, like an unreadable one."""
    folder = write_checkpoint(tmp_path, 4, weight=4, fixed_noise=False)
    engine = Engine()
    with pytest.raises(CheckpointError, match=r"is damaged \(trainer_state.npz has no fixed sample noise\)"):
        checkpoints.load_checkpoint(rundir.Checkpoint(4, folder), engine)
    assert float(engine.weight.value[0]) == 0.0
    write_checkpoint(tmp_path, 2, weight=2)
    assert loaded(tmp_path) == ("iter_0000002", 2, 2.0)


def test_a_checkpoint_removes_a_resume_point_of_its_own_iteration_but_not_a_newer_one(tmp_path):
    """A checkpoint at iteration N makes a resume point at N redundant (it would only take
    space); a resume point newer than N still holds later training and is kept."""
    point = os.path.join(tmp_path, rundir.CHECKPOINTS, rundir.AUTOSAVE)
    write_checkpoint(tmp_path, 4, weight=4, name=rundir.AUTOSAVE)
    checkpoints.remove_autosave(str(tmp_path), up_to=3)
    assert os.path.isdir(point)
    checkpoints.remove_autosave(str(tmp_path), up_to=4)
    assert not os.path.exists(point)
    write_checkpoint(tmp_path, 4, weight=4, name=rundir.AUTOSAVE)
    checkpoints.remove_autosave(str(tmp_path))   # no iteration given: removed whatever it is
    assert not os.path.exists(point)
