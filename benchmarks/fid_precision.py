"""FID Inception in bfloat16 against float32: speed and the FID difference (issue 16, item 3).

    python benchmarks/fid_precision.py IMAGES.npz [...] [--n 1000] [--data-dir DIR]
        [--out benchmarks/results/fid_precision.md]

IMAGES: files written by ``benchmarks/generated_images.py generate`` (a checkpoint's evaluation
images). The 2015 FID network is built twice, under Keras's ``float32`` and ``mixed_bfloat16``
policies, with the same weights; each computes the features of the first N generated images and
of the dataset's last N real images, timed after one warm-up batch, and the FID. The issue asks
for the 16-bit network only where it is faster and within 0.1 % of the float32 FID.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(1, ROOT)
import generated_images  # noqa: E402
from runs_common import command_line, machine_line  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="+")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=os.path.join(HERE, "results", "fid_precision.md"))
    a = p.parse_args(argv)

    from gan_keras.cli.common import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from gan_keras.data import load_dataset
    from gan_keras.data.base import to_unit_range
    from gan_keras.metrics.backbones import Backbone
    from gan_keras.metrics.fid import fid_from_features
    from gan_keras.metrics.fid_inception import build_fid_inception, load_fid_weights
    from gan_keras.metrics.weights import find_fid_weights

    (fake, meta), = generated_images.read_images(a.images).values()
    fake = to_unit_range(fake[:a.n])
    real = to_unit_range(load_dataset(meta["dataset"], data_dir=a.data_dir, progress=False).images[-a.n:])
    convs, _ = load_fid_weights(find_fid_weights(None, download=False))
    rows = {}
    for policy in ("float32", "mixed_bfloat16"):
        keras.config.set_dtype_policy(policy)
        try:
            backbone = Backbone("fid", build_fid_inception(convs), False, "bilinear", {})
        finally:
            keras.config.set_dtype_policy("float32")
        backbone.features(real[:50])   # trace
        t = time.perf_counter()
        features = backbone.features(real), backbone.features(fake)
        seconds = time.perf_counter() - t
        rows[policy] = {"fid": float(fid_from_features(*features)), "images_per_s": 2 * a.n / seconds}
        print(policy, rows[policy], flush=True)
    f32, b16 = rows["float32"], rows["mixed_bfloat16"]
    rel = b16["fid"] / f32["fid"] - 1
    lines = ["# The FID Inception in bfloat16 against float32", "",
             f"- command: `{command_line(argv, __file__)}` (images: {meta['model']} {meta['dataset']} "
             f"iteration {meta['iteration']}, "
             "made by benchmarks/generated_images.py generate)",
             f"- machine: {machine_line()}",
             f"- {a.n} generated against the dataset's last {a.n} real images, batch 50, features timed after one "
             "warm-up batch", "",
             "| network policy | FID | images/s |", "| --- | --- | --- |",
             f"| float32 | {f32['fid']:.3f} | {f32['images_per_s']:.1f} |",
             f"| mixed_bfloat16 | {b16['fid']:.3f} | {b16['images_per_s']:.1f} |", "",
             f"bfloat16 is {b16['images_per_s'] / f32['images_per_s']:.2f}x as fast; its FID differs by "
             f"{100 * rel:+.3f} % ({'within' if abs(rel) <= 0.001 else 'outside'} the issue's 0.1 %).", ""]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines[-2:]))


if __name__ == "__main__":
    main()
