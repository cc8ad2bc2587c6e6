"""--engine compiled computes the reference engines' iteration (training/compiled.py).

Both engines are built from the same seed (identical weights, optimizer states and Dropout/noise
seed states) and given the same draws (real batches and noise); after several iterations every
weight, optimizer slot and BatchNorm statistic must agree. Tolerance: the two engines run the same
Keras ops in a different graph, so agreement is asked to 1e-5 relative + 1e-6 absolute per value
(float32 rounding after a few Adam steps), and for most models it is exact.
"""
import numpy as np
import pytest
import keras

from gan_keras.registry import get_model
from gan_keras.training.compiled import CompiledStackedEngine, CompiledTrainStepEngine
from gan_keras.training.engine import build_engine

RTOL, ATOL = 1e-5, 1e-6
ITERATIONS = 2


@pytest.fixture(autouse=True, scope="module")
def deterministic_runs():
    """As a deterministic run trains (training/loop.py): op determinism on, Grappler off."""
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options()
    tf.config.experimental.enable_op_determinism()
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    yield
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": before.get("disable_meta_optimizer", False)})


def _pair(model, shape, **overrides):
    spec = get_model(model)
    engines = []
    for engine in ("stacked", "compiled"):
        keras.utils.set_random_seed(7)
        engines.append(build_engine(spec, spec.hyperparams(engine=engine, **overrides), shape))
    return engines


def _images(shape, n=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def _run_both(reference, compiled, images, batch, iterations=ITERATIONS):
    """Feed both engines the same draws: two copies of the same generators, consumed in the
    reference engine's order (host_draws reproduces it)."""
    def drawer(seed):
        rng = np.random.default_rng(seed)
        return lambda: images[rng.integers(0, len(images), batch)].astype(np.float32) / 127.5 - 1.0

    draw_a, draw_b = drawer(1), drawer(1)
    noise_a, noise_b = np.random.default_rng(2), np.random.default_rng(2)
    logs = []
    for _ in range(iterations):
        ref = reference.train_iteration(draw_a, noise_a)
        got = compiled.run_iteration_with(compiled.host_draws(draw_b, noise_b))
        logs.append((ref, got))
    return logs


def _assert_same_state(reference, compiled):
    a = reference.state_variables()
    b = compiled.state_variables()[:len(a)]  # the compiled engine adds its draw seed at the end
    assert len(a) == len(b)
    worst = 0.0
    for va, vb in zip(a, b):
        x, y = np.asarray(va.numpy(), np.float64), np.asarray(vb.numpy(), np.float64)
        np.testing.assert_allclose(y, x, rtol=RTOL, atol=ATOL, err_msg=va.path)
        worst = max(worst, float(np.max(np.abs(x - y), initial=0.0)))
    return worst


STACKED = [
    ("GAN", (28, 28, 1), {}),
    ("DCGAN", (28, 28, 1), {}),
    ("DCGAN", (28, 28, 1), {"frozen_bn": "moving"}),
    ("WGAN", (28, 28, 1), {"critic_steps": 2}),
    ("LSGAN", (28, 28, 1), {}),
    ("DELIGAN", (28, 28, 1), {}),
    ("MLPGAN", (64, 64, 3), {}),
    ("GAN", (28, 28, 1), {"diffaugment": "color,translation,cutout"}),
    ("GAN", (28, 28, 1), {"mixed_precision": "fp16"}),   # the loss scaling train_on_batch does
]


@pytest.mark.parametrize("model,shape,overrides", STACKED, ids=lambda v: str(v))
def test_compiled_stacked_engine_matches_train_on_batch(model, shape, overrides):
    reference, compiled = _pair(model, shape, **overrides)
    assert isinstance(compiled, CompiledStackedEngine)
    before = [np.array(v.numpy()) for v in reference.discriminator.trainable_weights]
    logs = _run_both(reference, compiled, _images(shape), batch=4)
    # The iterations did train (so agreement is not two untouched models).
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, reference.discriminator.trainable_weights))
    _assert_same_state(reference, compiled)
    for ref, got in logs:
        assert ref.keys() == got.keys()
        for k in ref:
            assert got[k] == pytest.approx(ref[k], rel=1e-4, abs=1e-5), k


@pytest.mark.parametrize("model,overrides", [("WGANGP", {"critic_steps": 1}), ("EDGEGAN", {"arch": "radford"})])
def test_compiled_train_step_engine_matches_train_on_batch(model, overrides):
    """Any GANTrainStep's train_step runs unchanged (WGAN-GP: a gradient penalty; EDGEGAN: the edge
    loss and a random layer in G); the BEGAN family's k_t is state like WGAN-GP's seed."""
    shape = (32, 32, 3) if model == "EDGEGAN" else (28, 28, 1)
    reference, compiled = _pair(model, shape, **overrides)
    assert isinstance(compiled, CompiledTrainStepEngine)
    _run_both(reference, compiled, _images(shape, n=16), batch=2, iterations=2)
    _assert_same_state(reference, compiled)


# -- the compiled engine inside the shared loop: resume, determinism, the NaN guard ---------------

def _run(tmp_path, name, **kw):
    from gan_keras.training.config import RunConfig
    from gan_keras.training.loop import Trainer

    settings = dict(model="GAN", dataset="mnist", epochs=4, batch_size=4, sample_interval=2,
                    save_model_interval=2, seed=7, tensorboard=False, progress_seconds=1e9, data_limit=200,
                    hyperparams={"engine": "compiled"})
    settings.update(kw)
    return Trainer(RunConfig(out=str(tmp_path / name), **settings)).run()


def _rows(run_dir):
    import csv
    import os

    with open(os.path.join(run_dir, "log.csv"), newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def _weights(run_dir):
    from gan_keras import rundir

    last = rundir.list_checkpoints(run_dir)[-1]
    return [keras.saving.load_model(p, compile=False).get_weights()
            for p in (last.generator_path, last.discriminator_path)]


def test_a_compiled_run_resumes_bit_identically_and_records_its_engine(tmp_path, shared_data_dir, monkeypatch):
    from gan_keras import rundir
    from gan_keras.errors import RunDirError

    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)
    straight = _run(tmp_path, "straight")
    _run(tmp_path, "resumed", epochs=2)
    resumed = _run(tmp_path, "resumed")          # the same run continued to 4 iterations
    assert _rows(resumed) == _rows(straight) and len(_rows(straight)) == 4
    for a, b in zip(_weights(resumed), _weights(straight)):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    config = rundir.read_config(straight)
    # the engine that ran, and the model's own form (config.json said "stacked" for both before)
    assert (config["hyperparams"]["engine"], config["engine"], config["training_form"]) == ("compiled", "compiled", "stacked")
    with pytest.raises(RunDirError, match="engine"):  # an engine change is a different run
        _run(tmp_path, "straight", epochs=6, hyperparams={"engine": "stacked"})
    rerun = _run(tmp_path, "again")               # same seed, fresh directory: the same numbers
    assert _rows(rerun) == _rows(straight)
    # --fetch-every 3: iterations 1-3 in one compiled loop, then 4; the same rows and weights
    chunked = _run(tmp_path, "chunked", fetch_every=3, sample_interval=4, save_model_interval=4)
    assert _rows(chunked) == _rows(straight)
    for a, b in zip(_weights(chunked), _weights(straight)):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_compiled_run_rolls_back_on_nan_with_new_draws(tmp_path, shared_data_dir, monkeypatch):
    from gan_keras.training import compiled

    monkeypatch.setenv("GAN_KERAS_DATA_DIR", shared_data_dir)
    original = compiled._Compiled.train_iteration
    calls, seeds = {"n": 0}, []

    def nan_once(self, draw_real, rng):
        calls["n"] += 1
        logs = original(self, draw_real, rng)
        seeds.append(np.array(self.draw_seed.state.numpy()))
        return {**logs, "d_loss": float("nan")} if calls["n"] == 3 else logs

    monkeypatch.setattr(compiled._Compiled, "train_iteration", nan_once)
    run_dir = _run(tmp_path, "rollback", on_nan="rollback")
    assert [int(r["iteration"]) for r in _rows(run_dir)] == [1, 2, 3, 4]
    # iteration 3 was redone from checkpoint 2 with a new draw stream, not the one that diverged
    assert not np.array_equal(seeds[2], seeds[3])


def test_jit_needs_the_compiled_engine():
    from gan_keras.errors import ConfigError

    spec = get_model("GAN")
    with pytest.raises(ConfigError, match="--jit applies to --engine compiled"):
        build_engine(spec, spec.hyperparams(jit=True), (28, 28, 1))
