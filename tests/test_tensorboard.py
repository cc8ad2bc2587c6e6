"""A run's TensorBoard events (training/tensorboard.py): each iteration once, also after a resume."""
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.compat.proto.event_pb2 import Event

from gan_keras import rundir
from gan_keras.training.loop import RunConfig, Trainer
from gan_keras.training.tensorboard import keep_events_until


def events(folder):
    """(file, tag, step) of every value in the folder's event files, in TensorBoard's file order."""
    found = []
    for name in sorted(os.listdir(folder)):
        if "tfevents" not in name:
            continue
        for record in tf.data.TFRecordDataset(os.path.join(folder, name)):
            event = Event.FromString(record.numpy())
            found += [(name, value.tag, event.step) for value in event.summary.value]
    return found


def write_events(folder, steps):
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for step in steps:
            tf.summary.scalar("loss", float(step), step=step)
            tf.summary.image("samples", np.zeros((1, 4, 4, 1), np.float32), step=step)
    writer.close()
    (name,) = [n for n in os.listdir(folder) if "tfevents" in n]
    return os.path.join(folder, name)


def test_later_values_are_removed_and_a_file_without_any_is_left_as_it_was(tmp_path):
    path = write_events(tmp_path / "a", range(1, 6))
    assert keep_events_until(path, 3) == 4                  # loss and samples at steps 4 and 5
    assert sorted({(tag, step) for _, tag, step in events(tmp_path / "a")}) == \
        [(tag, step) for tag in ("loss", "samples") for step in (1, 2, 3)]
    before = open(path, "rb").read()
    assert keep_events_until(path, 3) == 0
    assert open(path, "rb").read() == before                # nothing to remove: not rewritten


def test_a_file_of_only_later_values_is_removed(tmp_path):
    path = write_events(tmp_path, [7, 8])
    assert keep_events_until(path, 6) == 4
    assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []                       # no temporary file left either


def test_a_record_cut_short_by_a_kill_is_dropped_with_the_later_values(tmp_path):
    path = write_events(tmp_path, [1, 2, 3])
    whole = open(path, "rb").read()
    with open(path, "ab") as f:
        f.write(whole[-30:-5])                              # a partial record, as kill -9 leaves one
    assert keep_events_until(path, 5) == 0                  # nothing later: the file is left as it is
    assert keep_events_until(path, 2) == 2
    assert sorted({step for _, _, step in events(tmp_path)}) == [1, 2]   # it reads to the end again


@pytest.fixture
def _data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)


def test_a_resumed_run_holds_each_iteration_once(tmp_path, _data, monkeypatch):
    """The run is interrupted after iteration 4 with its last checkpoint at 2 (the later one lost):
    the resumed session writes 3 and 4 again, and TensorBoard must not show them twice. Every
    event up to a checkpoint is on disk when the checkpoint is written (a kill loses none)."""
    from gan_keras.training import checkpoints

    def train():
        return Trainer(RunConfig(out=str(tmp_path / "run"), model="GAN", dataset="mnist", epochs=4, batch_size=4,
                                 sample_interval=3, save_model_interval=2, seed=7, data_limit=16,
                                 progress_seconds=1e9)).run()

    on_disk, save = {}, checkpoints.save_checkpoint

    def spying_save(run_dir, iteration, *args, **kwargs):
        on_disk[iteration] = {step for _, tag, step in events(os.path.join(run_dir, rundir.TENSORBOARD))
                              if tag == "d_loss"}
        return save(run_dir, iteration, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "save_checkpoint", spying_save)
    run_dir = train()
    assert on_disk == {2: {1, 2}, 4: {1, 2, 3, 4}}
    shutil.rmtree(os.path.join(run_dir, rundir.CHECKPOINTS, rundir.checkpoint_name(4)))
    train()
    found = events(os.path.join(run_dir, rundir.TENSORBOARD))
    pairs = [(tag, step) for _, tag, step in found]
    assert len(pairs) == len(set(pairs))                    # each value once
    tags = {tag for tag, _ in pairs}
    assert "samples" in tags and len(tags) > 1
    for tag in tags - {"samples"}:
        assert sorted(step for t, step in pairs if t == tag) == [1, 2, 3, 4]
    assert sorted(step for t, step in pairs if t == "samples") == [3, 4]   # every 3, and the last
    second = sorted({name for name, _, _ in found})[-1]      # the resumed session's file
    assert {step for name, _, step in found if name == second} == {3, 4}
    # TensorBoard's own loader reads them: every value once per step, the samples as one 4x4 grid
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    loaded = EventAccumulator(os.path.join(run_dir, rundir.TENSORBOARD)).Reload()
    assert loaded.Tags()["images"] == ["samples"] and set(loaded.Tags()["scalars"]) == tags - {"samples"}
    assert [event.step for event in loaded.Scalars("d_loss")] == [1, 2, 3, 4]
    assert [(image.step, image.width, image.height) for image in loaded.Images("samples")] == \
        [(3, 4 * 28 + 5 * 2, 4 * 28 + 5 * 2), (4, 4 * 28 + 5 * 2, 4 * 28 + 5 * 2)]
