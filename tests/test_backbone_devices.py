"""The FID/IS feature network over several devices (metrics/backbones.py): every batch is cut into
one part per device and the features come back in the images' order, equal to one device's.

Runs in a child process, which splits the CPU into two logical devices before TensorFlow starts
(as two GPUs would be). Same random InceptionV3 weights on both sides (one seed), 11 images in
batches of 4: parts of 2 + 2, 2 + 2, then a last batch of 3 (2 + 1), and, in a second call, 5 images:
2 + 2 and a last batch of 1, fewer images than devices (padded to one per device). Tolerance: 1e-6 absolute (features are O(0.1-1);
measured 4.7e-10: oneDNN chooses its convolution kernels by batch size, and a part is a smaller
batch than the whole).
"""
import json
import os
import subprocess
import sys
import textwrap

from conftest import ROOT

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from gan_keras.metrics.backbones import get_backbone

    images = np.random.default_rng(0).uniform(-1, 1, (11, 28, 28, 1)).astype(np.float32)
    keras.utils.set_random_seed(3)
    one = get_backbone("keras", weights=None, include_top=True)
    f1, p1 = one.features_and_logits(images, batch_size=4)
    keras.utils.set_random_seed(3)
    two = get_backbone("keras", weights=None, include_top=True, devices=["/cpu:0", "/cpu:1"])
    f2, p2 = two.features_and_logits(images, batch_size=4)
    f5 = two.features(images[:5], batch_size=4)
    print("RESULT " + json.dumps({"devices": [one.devices, two.devices], "strategy": two.strategy is not None,
                                  "features": float(np.abs(f1 - f2).max()), "probs": float(np.abs(p1 - p2).max()),
                                  "five": [list(f5.shape), float(np.abs(f1[:5] - f5).max())],
                                  "spread": float(np.abs(f1[0] - f1[1:]).max()),
                                  "weights": float(max(np.abs(a - b).max() for a, b in
                                                       zip(one.model.get_weights(), two.model.get_weights())))}))
""")


def test_features_over_two_devices_equal_one_device():
    env = {**os.environ, "PYTHONPATH": ROOT, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["devices"][0] == [] and len(result["devices"][1]) == 2 and result["strategy"]
    assert result["weights"] == 0.0                  # the same network on both sides
    assert result["spread"] > 0.0                    # images give different features: a mix-up would show
    assert result["features"] < 1e-6 and result["probs"] < 1e-6
    assert result["five"][0] == [5, 2048] and result["five"][1] < 1e-6
