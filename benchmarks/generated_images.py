"""Generate a checkpoint's evaluation images on one machine, measure their FID on another.

    python benchmarks/generated_images.py generate RUN_DIR [--checkpoint ITER] [--n 5000] [--seed 0] [--parts P] --out FILE.npz
    python benchmarks/generated_images.py fid FILE.npz [FILE.npz ...] [--data-dir DIR] [--out results.json]

Why: the GPU machines lent to this project have Keras and JAX but neither TensorFlow nor room for
the FID network's 84 MB of weights (a call carries at most 64 MiB), and a DCGAN-64 generator (76
MB) is too large to bring back (16 MiB a file). So a run trained there generates its evaluation
images there, as 8-bit arrays (a few MB), and this machine measures them.

``generate`` draws exactly the noise ``GAN_evaluation.py RUN_DIR N ... --seed S`` draws
(``evaluation.checkpoint.latent_chunks``) and rounds to 8 bits exactly as it does, so ``fid``
gives the FID that the evaluation would give for that checkpoint, up to the generator's arithmetic
on the other machine. ``fid`` compares against the same real sample as the evaluation (``--seed``
of the evaluation, ``real_stats.real_features``, cached) with the 2015 FID Inception network.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
if HERE not in sys.path:   # runs_common, when imported from elsewhere
    sys.path.insert(1, HERE)


def generate(a) -> None:
    import numpy as np

    import gan_keras  # noqa: F401  (registers the custom layers)
    from gan_keras import rundir
    from gan_keras.evaluation.checkpoint import generate_images, generator_fn, latent_chunks
    from gan_keras.evaluation.preflight import run_latent, run_shape
    from gan_keras.training.checkpoints import load_generator

    config = rundir.read_config(a.run_dir)
    latent_dim, image_shape, _ = run_shape(a.run_dir, config)
    latent = run_latent(config)
    checkpoints = rundir.list_checkpoints(a.run_dir)
    if a.checkpoint is not None:
        checkpoints = [c for c in checkpoints if c.iteration == a.checkpoint]
    if not checkpoints:
        sys.exit(f"{a.run_dir}: no complete checkpoint{'' if a.checkpoint is None else f' at {a.checkpoint}'}")
    ckpt = checkpoints[-1]
    t = time.perf_counter()
    generate_batch = generator_fn(load_generator(os.path.join(ckpt.path, rundir.GENERATOR_FILE)))
    images = np.concatenate([generate_images(generate_batch, z, a.batch_size)[0]
                             for _, z in latent_chunks(a.seed, a.n, latent_dim, latent, a.batch_size)])
    meta = {"run": os.path.basename(os.path.normpath(a.run_dir)), "iteration": ckpt.iteration, "seed": a.seed,
            "n": a.n, "dataset": config["dataset"], "data_dir": config.get("data_dir"), "model": config.get("model"),
            "versions": config.get("versions"), "seconds": time.perf_counter() - t}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    stem = a.out[:-len(".npz")] if a.out.endswith(".npz") else a.out
    bounds = np.linspace(0, len(images), a.parts + 1).astype(int)
    for part, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        path = a.out if a.parts == 1 else f"{stem}-{part + 1}of{a.parts}.npz"
        np.savez_compressed(path, images=images[lo:hi], meta=json.dumps({**meta, "start": int(lo)}))
    print(f"{a.out}: {len(images)} images of {ckpt.path} in {meta['seconds']:.1f} s ({a.parts} file(s))")


def read_images(paths):
    """{(run, iteration, seed, n): (images in order, meta)} of generate's files (parts joined)."""
    import numpy as np

    parts = {}
    for path in paths:
        with np.load(path) as f:
            meta = json.loads(str(f["meta"]))
            parts.setdefault((meta["run"], meta["iteration"], meta["seed"], meta["n"]), []).append(
                (meta.get("start", 0), f["images"], meta))
    out = {}
    for key, pieces in parts.items():
        pieces.sort(key=lambda p: p[0])
        images = np.concatenate([p[1] for p in pieces])
        if len(images) != key[3]:
            sys.exit(f"{key[0]} iteration {key[1]}: {len(images)} of {key[3]} images given (a part is missing)")
        out[key] = (images, pieces[0][2])
    return out


def fid(a, argv=None) -> None:
    """The FID of each image set; ``--out``: a JSON object with the command (``argv``: main's), the
    machine (CPU model and flags, code revision, date: runs_common.machine) and one row per set."""
    import gan_keras  # noqa: F401
    from gan_keras.data import load_dataset
    from gan_keras.data.base import to_unit_range
    from gan_keras.metrics.backbones import get_backbone
    from gan_keras.metrics.fid import fid_from_features
    from gan_keras.metrics.real_stats import real_features

    backbone = get_backbone("fid", download=False)
    rows = []
    for images, meta in read_images(a.files).values():
        dataset = load_dataset(meta["dataset"], data_dir=a.data_dir)
        real = real_features(dataset, backbone, meta["n"], seed=meta["seed"])
        t = time.perf_counter()
        fake = backbone.features(to_unit_range(images), batch_size=50, progress=True)
        value = float(fid_from_features(real.features, fake))
        rows.append({**meta, "fid": value, "feature_seconds": time.perf_counter() - t})
        print(f"{meta['run']}: {meta['model']} {meta['dataset']} iteration {meta['iteration']}: FID {value:.2f} "
              f"({meta['n']} vs {len(real.features)} real, 2015 FID Inception)", flush=True)
    if a.out:
        from runs_common import command_line, machine

        with open(a.out, "w") as f:
            json.dump({"command": command_line(argv, __file__), "machine": machine(), "rows": rows}, f, indent=1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="a checkpoint's evaluation images as uint8 arrays (.npz)")
    g.add_argument("run_dir")
    g.add_argument("--checkpoint", type=int, default=None, help="iteration (default: the last checkpoint)")
    g.add_argument("--n", type=int, default=5000)
    g.add_argument("--seed", type=int, default=0, help="GAN_evaluation.py's --seed (default 0)")
    g.add_argument("--batch-size", type=int, default=50, help="GAN_evaluation.py's --batch-size (default 50)")
    g.add_argument("--out", required=True)
    g.add_argument("--parts", type=int, default=1, help="split into this many files (OUT-1ofP.npz ...)")
    f = sub.add_parser("fid", help="FID of .npz files written by generate (2015 FID Inception)")
    f.add_argument("files", nargs="+")
    f.add_argument("--data-dir", default=None)
    f.add_argument("--out", default=None, help="JSON: the command, the machine and one row per file")
    a = p.parse_args(argv)
    if a.command == "generate":
        generate(a)
    else:
        fid(a, argv)


if __name__ == "__main__":
    main()
