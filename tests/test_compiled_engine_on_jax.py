"""--engine compiled on Keras's JAX backend (training/compiled_jax.py) computes the stacked and
custom-step engines' iteration, as tests/test_compiled_engine.py checks it on TensorFlow.

A child process with KERAS_BACKEND=jax builds both engines from one seed, gives them the same
draws for 2 iterations, and compares every state variable (weights, optimizer slots, BatchNorm
statistics) with test_compiled_engine's tolerance, 1e-5 relative + 1e-6 absolute. Measured worst:
1.2e-7 (DCGAN, DeLiGAN), 0 (GAN with DiffAugment, WGAN-GP). WGAN (clipping, 2 critic steps; 6e-8)
and BEGAN-CS (0) were measured too and left out of the suite for its time budget.

The child compiles at XLA's lowest optimisation level (conftest's ``jax_child_env``): the same
programs, optimised less by LLVM, so this file takes 60 s instead of 80 s alone (compiling is most
of it). The engines then agree
exactly (worst 0 in every case, measured); at the default level the measured worst is as above.

Not here: ``frozen_bn moving`` (exact on TensorFlow). On JAX its biases before BatchNorm, whose
gradient is zero up to rounding, differ by Adam steps of about lr x g / epsilon (seen: up to 6e-6,
varying from run to run): noise of a zero gradient, which no tolerance separates from a bug there.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

CASES = [
    ("DCGAN", (28, 28, 1), {}, 1e-6),                                    # BatchNorm, Dropout, frozen D
    ("DELIGAN", (28, 28, 1), {}, 1e-6),                                  # a regularisation loss
    ("GAN", (28, 28, 1), {"diffaugment": "color,translation,cutout"}, 1e-6),
    ("WGANGP", (28, 28, 1), {"critic_steps": 1}, 1e-6),                 # a custom train step
]

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import test_compiled_engine as t
    from gan_keras.training.compiled_jax import JaxCompiledStackedEngine, JaxCompiledTrainStepEngine
    results = []
    for model, shape, overrides, atol in json.loads(sys.argv[1]):
        t.ATOL = atol
        reference, compiled = t._pair(model, tuple(shape), **overrides)
        kind = type(compiled).__name__
        before = [np.array(v) for v in reference.discriminator.trainable_variables]
        t._run_both(reference, compiled, t._images(tuple(shape), n=16), batch=2 if "BEGAN" in model else 4)
        moved = any(not np.array_equal(b, np.array(v))
                    for b, v in zip(before, reference.discriminator.trainable_variables))
        try:
            worst, error = t._assert_same_state(reference, compiled), None
        except AssertionError as exc:
            worst, error = None, str(exc)[:1500]
        results.append({"engine": kind, "moved": moved, "worst": worst, "error": error})
    print("RESULT " + json.dumps(results))
""")


@pytest.fixture(scope="module")
def results(jax_child_env):
    env = {**jax_child_env, "PYTHONPATH": os.pathsep.join([ROOT, os.path.join(ROOT, "tests")])}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(CASES)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{m}-{o}" for m, _, o, _ in CASES])
def test_the_jax_compiled_engine_computes_the_reference_iteration(results, index):
    model, _, _, _ = CASES[index]
    result = results[index]
    expected = "JaxCompiledTrainStepEngine" if model == "WGANGP" else "JaxCompiledStackedEngine"
    assert result["engine"] == expected
    assert result["moved"]                      # the iterations trained D
    assert result["error"] is None, result["error"]
