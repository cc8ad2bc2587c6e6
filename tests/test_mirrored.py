"""--strategy mirrored (training/distribute.py): two logical CPU devices compute what one does.

Each replica takes half of every batch, BatchNormalization uses the global batch's statistics,
and the gradients are all-reduced; so after a few iterations the weights must agree with a
one-device run to float32 summation-order noise. Stated tolerance: 1e-5 absolute per weight
(measured: under 1e-6 after 3 iterations of GAN on MNIST).

The custom-step models (WGAN-GP, BEGAN v3, EDGEGAN), WGAN and DeLiGAN are compared after one
iteration with plain SGD (lr 0.01, ``--optimizer sgd``), so that a weight's change is its gradient:
Adam's first steps are +-lr wherever a gradient is zero up to rounding (a bias before BatchNorm),
which makes two correct runs differ by up to 2 lr there. WGAN-GP and WGAN take 2 critic updates per
iteration, not their published 5: each update is traced again (the loop is unrolled), 10 s of the
file's time. Measured: WGAN-GP 1.2e-7 (2 critic updates and one generator update; 3.3e-6 with 5),
WGAN 6e-8, DeLiGAN 8e-8, BEGAN v3 3.7e-9 (with --l2-form pixel_mean: the published batch-norm L2 is
refused over several devices), EDGEGAN 2.2e-7; the logged values are equal.
"""
import json
import os
import re
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from gan_keras import registry, rundir  # noqa: F401 (registry imports the models: their layers load)
from gan_keras.cli.train import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATOL = 1e-5


def _train(out, devices, data_dir, *extra, model="GAN", iterations=3):
    env = {**os.environ, "GAN_KERAS_LOGICAL_CPUS": str(devices)}
    n = str(iterations)
    args = [sys.executable, os.path.join(ROOT, "GAN_main.py"), model, "mnist", n, "8", n, n, "--seed", "4",
            "--engine", "compiled", "--limit", "200", "--no-tensorboard", "--data-dir", data_dir, "--out", str(out),
            *extra]
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.fixture(scope="module")
def one_device_run(tmp_path_factory, shared_data_dir):
    """The one-device GAN run that the mirrored and the multi-worker runs must reproduce."""
    out = tmp_path_factory.mktemp("one") / "run"
    one = _train(out, 1, shared_data_dir)
    assert one.returncode == 0, one.stderr
    return out


def test_two_logical_devices_train_as_one(tmp_path, shared_data_dir, one_device_run):
    two = _train(tmp_path / "two", 2, shared_data_dir, "--strategy", "mirrored")
    assert two.returncode == 0, two.stderr
    assert rundir.read_config(str(tmp_path / "two"))["replicas"] == 2
    worst = _largest_weight_difference(one_device_run, tmp_path / "two")
    assert worst < ATOL, worst


SGD_MODELS = ("WGANGP", "BEGANV3", "EDGEGAN", "WGAN", "DELIGAN")
SGD_CHILD = r"""
import sys
from gan_keras.cli.train import main
out, data = sys.argv[1], sys.argv[2]
for devices in (2, 1):   # two devices first: logical devices are configured before TensorFlow runs
    for model in sys.argv[3:]:
        extra = ["--strategy", "mirrored"] if devices > 1 else []
        if model == "BEGANV3":   # its published batch-norm L2 does not split over replicas (refused there)
            extra += ["--l2-form", "pixel_mean"]
        if model in ("WGANGP", "WGAN"):   # 2 critic updates, not 5: each is traced (the loop is unrolled)
            extra += ["--critic-steps", "2"]
        code = main([model, "mnist", "1", "8", "1", "1", "--seed", "4", "--engine", "compiled", "--limit", "200",
                     "--no-tensorboard", "--data-dir", data, "--out", f"{out}/{devices}/{model}", "--optimizer",
                     "sgd", "--d-lr", "0.01", "--g-lr", "0.01", *extra])
        print(f"RESULT {devices} {model} {code}", flush=True)
"""


@pytest.fixture(scope="module")
def sgd_runs(tmp_path_factory, shared_data_dir):
    """One iteration of each model over two devices and on one, all in one process (start-up is
    most of a run's time). The two-device runs share one MirroredStrategy (make_strategy reuses
    it: a second one's collective ops would collide with the first's), which this checks too."""
    root = tmp_path_factory.mktemp("sgd")
    env = {**os.environ, "GAN_KERAS_LOGICAL_CPUS": "2", "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, "-c", SGD_CHILD, str(root), shared_data_dir, *SGD_MODELS],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    codes = dict((" ".join(line.split()[1:3]), line.split()[3]) for line in proc.stdout.splitlines()
                 if line.startswith("RESULT "))
    assert codes == {f"{d} {m}": "0" for d in (2, 1) for m in SGD_MODELS}, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root


@pytest.mark.parametrize("model", SGD_MODELS)
def test_a_model_trains_over_two_devices_as_on_one(sgd_runs, model):
    """Custom steps, and the stacked models whose loss or generator could differ over devices:
    WGAN's scalar loss (it stepped N times as far) and DeLiGAN's mixture draw (each replica drew
    the same components)."""
    one, two = sgd_runs / "1" / model, sgd_runs / "2" / model
    assert rundir.read_config(str(two))["replicas"] == 2
    logs = [np.loadtxt(run / "log.csv", delimiter=",", skiprows=1)[1:-1] for run in (one, two)]
    np.testing.assert_allclose(logs[1], logs[0], rtol=1e-5)        # without the seconds column
    worst = _largest_weight_difference(one, two)
    assert worst < ATOL, worst
    # Every saved variable: BatchNorm statistics, k_t and its history, seed states, optimizer slots.
    states = [np.load(rundir.list_checkpoints(str(run))[-1].path + "/trainer_state.npz") for run in (one, two)]
    assert states[0].files == states[1].files
    for name in states[0].files:
        np.testing.assert_allclose(states[1][name], states[0][name], rtol=0, atol=ATOL, err_msg=name)


def _largest_weight_difference(*runs):
    weights = []
    for run in runs:
        last = rundir.list_checkpoints(str(run))[-1]
        weights.append([w for p in (last.generator_path, last.discriminator_path)
                        for w in keras.saving.load_model(p, compile=False).get_weights()])
    assert len(weights[0]) == len(weights[1])
    return max(float(np.max(np.abs(a - b))) for a, b in zip(*weights))


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_local_workers_train_as_one_device(tmp_path, shared_data_dir, one_device_run):
    """--strategy multiworker: two processes on 127.0.0.1 (TF_CONFIG), one CPU each. The chief
    writes the run; the other worker's scratch folder is gone at the end; the weights are one
    device's within ATOL (measured: 8e-7 after 3 iterations)."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    args = [sys.executable, os.path.join(ROOT, "GAN_main.py"), "GAN", "mnist", "3", "8", "3", "3", "--seed", "4",
            "--engine", "compiled", "--limit", "200", "--no-tensorboard", "--data-dir", shared_data_dir,
            "--out", str(tmp_path / "cluster"), "--strategy", "multiworker"]
    workers = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "TF_CONFIG": json.dumps(
                                    {"cluster": cluster, "task": {"type": "worker", "index": i}})})
               for i in range(2)]
    try:
        outputs = [w.communicate(timeout=300) for w in workers]
    finally:
        for w in workers:
            w.kill()
    for w, (out, err) in zip(workers, outputs):
        assert w.returncode == 0, err[-3000:]
    config = rundir.read_config(str(tmp_path / "cluster"))
    assert config["strategy"] == "multiworker" and config["replicas"] == 2
    scratch = re.search(r"this one writes to (\S+)", outputs[1][0])
    assert scratch and not os.path.exists(scratch.group(1)), outputs[1][0]
    assert "non-chief" not in outputs[0][0]
    worst = _largest_weight_difference(one_device_run, tmp_path / "cluster")
    assert worst < ATOL, worst


def test_multiworker_needs_tf_config(tmp_path, shared_data_dir, monkeypatch, capsys):
    """Refused before TensorFlow runs anything (so in this process)."""
    monkeypatch.delenv("TF_CONFIG", raising=False)
    code = main(["GAN", "mnist", "3", "8", "3", "3", "--engine", "compiled", "--strategy", "multiworker",
                 "--data-dir", shared_data_dir, "--out", str(tmp_path / "x")])
    assert code == 1 and "TF_CONFIG, which is not set" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "x").exists()


def test_mirrored_refuses_what_it_cannot_do(tmp_path, shared_data_dir, monkeypatch, capsys):
    monkeypatch.setenv("GAN_KERAS_LOGICAL_CPUS", "2")   # refused before any device is configured
    code = main(["GAN", "mnist", "3", "8", "3", "3", "--strategy", "mirrored", "--engine", "stacked",
                 "--data-dir", shared_data_dir, "--out", str(tmp_path / "a")])
    assert code == 1 and "--strategy mirrored needs --engine compiled" in capsys.readouterr().err
    jit = _train(tmp_path / "b", 2, shared_data_dir, "--strategy", "mirrored", "--jit")   # crashed in TensorFlow
    assert jit.returncode == 1 and "--jit with a strategy" in jit.stderr and jit.stderr.count("\n") == 1, jit.stderr
    assert not (tmp_path / "b").exists()


GRADIENT_CHILD = r"""
import os, sys
import numpy as np
from gan_keras.training.distribute import make_strategy, scope
strategy = make_strategy("mirrored") if int(os.environ["GAN_KERAS_LOGICAL_CPUS"]) > 1 else None
import keras, tensorflow as tf
from gan_keras.registry import get_model
from gan_keras.training.engine import build_engine
keras.utils.set_random_seed(5)
tf.config.experimental.enable_op_determinism()
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
spec = get_model("DCGAN")
with scope(strategy):
    e = build_engine(spec, spec.hyperparams(engine="compiled"), (28, 28, 1))
x = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")

def one(x):
    with tf.GradientTape() as tape:
        y = e.discriminator(x, training=True)  # BatchNorm and Dropout in training mode
        loss = e.d_train.compute_loss(x=x, y=tf.ones((tf.shape(x)[0], 1)), y_pred=y, training=True)
    return [loss] + tape.gradient(loss, e.discriminator.trainable_weights)

@tf.function
def run(x):
    if strategy is None:
        return one(x)
    def replica(x):
        i = tf.distribute.get_replica_context().replica_id_in_sync_group
        return one(x[i * 4:(i + 1) * 4])
    return [strategy.reduce("SUM", v, axis=None) for v in strategy.run(replica, args=(x,))]

np.savez(sys.argv[1], *[v.numpy() for v in run(x)])
"""


def test_a_dcgan_update_has_the_one_device_gradient_over_two_devices(tmp_path):
    """D's loss and gradients for one batch: two replicas (synchronized BatchNorm, GANDropout's
    global mask, Keras' 1/N loss scaling, summed) equal one device's to float32 rounding. Whole
    DCGAN runs then drift apart only as rounding does under Adam (README, Several devices)."""
    script = tmp_path / "child.py"
    script.write_text(GRADIENT_CHILD)
    results = []
    for devices in (1, 2):
        out = tmp_path / f"grads{devices}.npz"
        proc = subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "GAN_KERAS_LOGICAL_CPUS": str(devices), "PYTHONPATH": ROOT})
        assert proc.returncode == 0, proc.stderr[-2000:]
        with np.load(out) as npz:
            results.append([npz[k] for k in sorted(npz.files, key=lambda k: int(k.split("_")[1]))])
    one, two = results
    assert len(one) == len(two) > 5
    for a, b in zip(one, two):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=5e-6)
