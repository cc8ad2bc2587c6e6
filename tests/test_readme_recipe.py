"""The README's "Adding a model" recipe, run as written: its RaGAN train step and model spec (two
code blocks) become modules, are registered, train, and resume bit-identically."""
import os
import re
import sys
import types

import numpy as np
import pytest

from gan_keras import rundir
from gan_keras.registry import MODELS
from tests.conftest import ROOT
from tests.test_run import read_rows, run, same_weights, weights_of


def readme_block(path: str) -> str:
    """The README's Python block whose first line is ``# <path>``."""
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    found = [b for b in blocks if b.startswith(f"# {path}\n")]
    assert len(found) == 1, f"README.md has {len(found)} blocks starting '# {path}'"
    return found[0]


def as_module(monkeypatch, name: str, path: str):
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(readme_block(path), f"README.md ({path})", "exec"), module.__dict__)
    return module


@pytest.fixture
def ragan(monkeypatch, shared_data_dir):
    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)
    step = as_module(monkeypatch, "gan_keras.training.ragan", "gan_keras/training/ragan.py")
    model = as_module(monkeypatch, "gan_keras.models.ragan", "gan_keras/models/ragan.py")
    monkeypatch.setitem(MODELS, "RAGAN", model.SPEC)
    return step, model


def test_the_recipes_loss_is_the_relativistic_average_bce(ragan):
    step, _ = ragan
    logits = np.array([[0.0], [2.0], [-1.0]], "float32")
    expected = np.mean(np.log1p(np.exp(-logits)))   # -log sigmoid(l), label 1
    assert float(step.logit_bce(logits, 1.0)) == pytest.approx(expected, rel=1e-6)
    assert float(step.logit_bce(logits, 0.0)) == pytest.approx(np.mean(np.log1p(np.exp(logits))), rel=1e-6)


def test_the_recipes_model_trains_and_resumes_bit_identically(tmp_path, ragan):
    """(On the reference engine; any train step runs unchanged on --engine compiled:
    tests/test_compiled_engine.py.)"""
    kw = dict(model="RAGAN", epochs=4, save_model_interval=2, f1_every=2)
    straight = run(tmp_path, "straight", **kw)
    run(tmp_path, "resumed", **{**kw, "epochs": 2})
    resumed = run(tmp_path, "resumed", **kw)
    rows = read_rows(resumed)
    assert rows == read_rows(straight) and len(rows) == 4
    assert set(rows[0]) == {"iteration", "d_loss", "g_loss", "d_f1", "d_precision", "d_recall"}
    a, b = rundir.list_checkpoints(resumed)[-1], rundir.list_checkpoints(straight)[-1]
    assert same_weights(weights_of(a.generator_path), weights_of(b.generator_path))
    assert same_weights(weights_of(a.discriminator_path), weights_of(b.discriminator_path))
    first = rundir.list_checkpoints(straight)[0]
    assert not same_weights(weights_of(first.generator_path), weights_of(b.generator_path))   # G learned
    assert rundir.read_config(straight)["train_step"] == "RaGANStep"
