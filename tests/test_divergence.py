"""training/divergence.py: the record of a run's divergences and the words that stop it."""
import json
import math

from gan_keras.training import divergence


def test_the_record_keeps_every_earlier_divergence_oldest_first(tmp_path):
    run = str(tmp_path)
    assert divergence.earlier(run) == []
    first = divergence.new_record(run, 7, {"d_loss": math.nan, "g_loss": 1.5}, "iteration 5", "rollback")
    assert first["losses"] == {"d_loss": "nan", "g_loss": "1.5"} and first["earlier"] == []
    divergence.write(run, {**first, "status": "rolled back"})
    second = divergence.new_record(run, 9, {"d_loss": math.inf}, "iteration 5", "rollback")
    divergence.write(run, second)
    third = divergence.new_record(run, 11, {"d_loss": math.inf}, "iteration 10", "stop")
    assert [e["iteration"] for e in third["earlier"]] == [7, 9]
    assert third["earlier"][0]["status"] == "rolled back"
    assert all("earlier" not in e for e in third["earlier"])


def test_a_damaged_record_is_no_history(tmp_path):
    (tmp_path / divergence.RECORD).write_text("{not json")
    assert divergence.earlier(str(tmp_path)) == []
    (tmp_path / divergence.RECORD).write_text(json.dumps([1, 2]))
    assert divergence.earlier(str(tmp_path)) == []


def test_the_message_names_the_bad_values_and_advises_what_can_help():
    common = dict(run_dir="runs/x", on_nan="rollback", last_checkpoint="iteration 20", max_rollbacks=3,
                  resume_command="python GAN_main.py GAN mnist 40 8 10 10")
    logs = {"d_loss": math.nan, "g_loss": 0.5, "jsd": -math.inf}
    unloadable = divergence.stop_message(30, logs, has_checkpoints=True, rollbacks=1, **common)
    assert "(d_loss=nan, jsd=-inf)" in unloadable and "g_loss" not in unloadable
    assert "(no checkpoint could be loaded)" in unloadable
    assert unloadable.endswith("python GAN_main.py GAN mnist 40 8 10 10 --on-nan rollback")
    stopped = divergence.stop_message(30, logs, has_checkpoints=True, rollbacks=0, **{**common, "on_nan": "stop"})
    assert "nan, jsd=-inf); the last good checkpoint is iteration 20 in runs/x; to roll back" in stopped
