"""``build``: sample a questionnaire from run directories (dissertation 3.5.1, Figure 3-13).

Per model (one run directory, one generator checkpoint) it draws ``questions`` questions of two
real and two generated images in seeded random positions, plus an example strip of ``examples``
real and ``examples`` generated images shown above each of that model's questions. The generator
and the real images are loaded exactly as the FID evaluation loads them (``gan_keras.evaluation``),
so the images people judge are the images FID judged: generated from N(0, 1) or U[-1, 1] noise,
rounded to 8 bits, against the run's own training set.

Nothing the page can see may tell real from generated, so:

- every image is re-encoded here from its 8-bit pixels by one function: the same mode, the same
  integer nearest-neighbour upscaling, PNG with compression level 0 and no metadata. Equal sizes
  therefore give byte-for-byte equal file lengths, and the headers are identical;
- every image is named by a fresh random 128-bit token, so neither URL nor order says anything;
- the answer key (which positions are generated, where each image came from) is written to
  ``key.json``, apart from ``questionnaire.json``, the only file the server reads.
"""
from __future__ import annotations

import io
import json
import math
import os
import secrets
import shutil
import sys
from datetime import datetime, timezone

import numpy as np

from gan_keras.errors import ConfigError, DatasetError, RunDirError
from gan_keras.questionnaire import DATABASE, FORMAT, IMAGES, KEY, PUBLIC

DISPLAY_MIN = 112          # images are upscaled by an integer factor to at least this many pixels
GENERATE_BATCH = 64


def display_scale(height: int, width: int) -> int:
    """The integer factor that makes the smaller side at least DISPLAY_MIN pixels (28 -> 4, 64 -> 2)."""
    return max(1, math.ceil(DISPLAY_MIN / max(1, min(height, width))))


def encode_png(image_uint8: np.ndarray, scale: int) -> bytes:
    """One (H, W, C) uint8 image as PNG bytes; the only encoder used for real and generated images.

    Compression level 0 stores the pixels uncompressed, so the file length depends on the size
    alone: a real digit and a generated smudge of the same size are the same number of bytes.
    No text, time or physical-size chunks are written.
    """
    from PIL import Image

    arr = np.ascontiguousarray(image_uint8[..., 0] if image_uint8.shape[-1] == 1 else image_uint8)
    img = Image.fromarray(arr.astype(np.uint8), mode="L" if arr.ndim == 2 else "RGB")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=0)
    return buf.getvalue()


def _choose_checkpoint(run_dir: str, iteration):
    from gan_keras import rundir

    checkpoints = rundir.list_checkpoints(run_dir)
    if not checkpoints:
        raise RunDirError(f"{run_dir} has no complete checkpoint (checkpoints/iter_*/): train it first")
    if iteration is None:
        return checkpoints[-1]
    for ckpt in checkpoints:
        if ckpt.iteration == iteration:
            return ckpt
    raise ConfigError(f"{run_dir} has no checkpoint {iteration}; it has "
                      + ", ".join(str(c.iteration) for c in checkpoints))


def _check_out(out: str, run_dirs: list, force: bool) -> None:
    """``out`` may be new or empty; ``force`` replaces only a questionnaire folder (one with a
    key.json), never a run, a file, or a folder holding one of the runs."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(f"{out} is a file, not a folder: choose another --out")
    real = os.path.realpath(out)
    for run_dir in run_dirs:
        inside = os.path.realpath(run_dir)
        if inside == real or inside.startswith(real + os.sep):
            raise ConfigError(f"--out {out} holds the run {run_dir}: choose another --out")
    if os.path.isdir(out) and os.listdir(out):
        if not os.path.isfile(os.path.join(out, KEY)):
            raise ConfigError(f"{out} is not empty and holds no questionnaire (no {KEY}): choose another --out "
                              f"(--force replaces only a questionnaire)")
        if not force:
            raise ConfigError(f"{out} holds a questionnaire (and may hold its answers): choose another --out, "
                              "or add --force to replace it and its answers")


def _labels(configs: list, run_dirs: list, labels) -> list:
    """The models' names in the report: the given labels, else the model name, else (when two
    runs share a model) the run folder's name."""
    if len({os.path.realpath(d) for d in run_dirs}) < len(run_dirs):
        raise ConfigError(f"a run was given twice ({', '.join(run_dirs)}): give each run once")
    if labels:
        if len(labels) != len(run_dirs):
            raise ConfigError(f"--label was given {len(labels)} times for {len(run_dirs)} run(s)")
        if len(set(labels)) < len(labels):
            raise ConfigError(f"two runs have the same --label ({', '.join(labels)}): give each its own")
        out = list(labels)
    else:
        out = [str(c.get("model", "?")) for c in configs]
        if len(set(out)) < len(out):
            out = [os.path.basename(os.path.normpath(d)) for d in run_dirs]
    if len(set(out)) < len(out):
        raise ConfigError(f"two models would have the same name ({', '.join(out)}): give --label for each run")
    return out


def _generate(ckpt, latent_dim: int, image_shape, latent: str, n: int, rng) -> tuple[np.ndarray, int]:
    """``n`` generated images as uint8, from the same code path as the FID evaluation."""
    from gan_keras.evaluation.checkpoint import generate_images, generator_fn, load_checked_generator
    from gan_keras.hparams import draw_latent

    generate = generator_fn(load_checked_generator(ckpt.generator_path, latent_dim, image_shape))
    z = draw_latent(rng, (n, latent_dim), latent, float64_normal=True)
    images, bad = generate_images(generate, z, GENERATE_BATCH)
    return images, int(bad.sum())


def _sample_model(index: int, run_dir: str, iteration, label: str, questions: int, examples: int, seed: int,
                  data_dir, write_image, log) -> tuple[dict, list, dict]:
    """One model's questions: (key entry, public question list, public part)."""
    from gan_keras import rundir
    from gan_keras.evaluation.pipeline import load_real_dataset
    from gan_keras.evaluation.preflight import run_latent, run_shape

    config = rundir.read_config(run_dir)
    latent_dim, image_shape, image_size = run_shape(run_dir, config)
    latent = run_latent(config)
    ckpt = _choose_checkpoint(run_dir, iteration)
    folder = os.fspath(data_dir) if data_dir is not None else config.get("data_dir")
    dataset = load_real_dataset(config["dataset"], folder, image_size, config.get("data_limit"))
    if tuple(dataset.image_shape) != tuple(image_shape):
        raise DatasetError(f"{config['dataset']} now has images {tuple(dataset.image_shape)}, the run {run_dir} "
                           f"was trained on {tuple(image_shape)}")
    n = 2 * questions + examples
    if len(dataset) < n:
        raise DatasetError(f"{config['dataset']} has {len(dataset)} images; {n} real images are needed")
    log(f"{label}: {run_dir}, checkpoint {ckpt.iteration}, {config['dataset']} ({len(dataset)} images)")
    rng = np.random.default_rng([seed, index])
    fake, nonfinite = _generate(ckpt, latent_dim, image_shape, latent, n, rng)
    real_idx = rng.choice(len(dataset), size=n, replace=False)
    real = dataset.images[real_idx]
    scale = display_scale(image_shape[0], image_shape[1])
    part = index + 1
    sources = {}

    def put(img, source):
        token = write_image(encode_png(img, scale))
        sources[token] = source
        return token

    public_part = {"part": part, "size": [image_shape[1] * scale, image_shape[0] * scale],
                   "examples_real": [put(real[i], {"kind": "real", "index": int(real_idx[i]), "role": "example"})
                                     for i in range(examples)],
                   "examples_generated": [put(fake[i], {"kind": "generated", "noise_index": i, "role": "example"})
                                          for i in range(examples)]}
    key_questions, public_questions = [], []
    for q in range(questions):
        items = [("real", examples + 2 * q), ("real", examples + 2 * q + 1),
                 ("generated", examples + 2 * q), ("generated", examples + 2 * q + 1)]
        order = rng.permutation(4)
        shown = [items[i] for i in order]
        tokens, generated = [], []
        for pos, (kind, i) in enumerate(shown):
            if kind == "real":
                tokens.append(put(real[i], {"kind": "real", "index": int(real_idx[i]), "role": "question"}))
            else:
                tokens.append(put(fake[i], {"kind": "generated", "noise_index": i, "role": "question"}))
                generated.append(pos)
        public_questions.append({"part": part, "images": tokens})
        key_questions.append({"generated": generated, "images": tokens})
    key_model = {"label": label, "part": part, "run_dir": os.path.abspath(run_dir), "model": config.get("model"),
                 "dataset": config["dataset"], "data_dir": folder, "checkpoint": ckpt.iteration,
                 "checkpoint_path": os.path.abspath(ckpt.path), "image_shape": list(image_shape),
                 "display_scale": scale, "latent": latent, "latent_dim": latent_dim,
                 "generated_nonfinite": nonfinite,
                 "rng": f"numpy.random.default_rng([{seed}, {index}]): noise for {n} images, then "
                        f"{n} real indices without replacement, then one permutation of 4 per question"}
    return key_model, list(zip(public_questions, key_questions)), {"part": public_part, "sources": sources}


def build_questionnaire(run_dirs, out, questions: int = 1, examples: int = 4, seed: int = 0, checkpoints=None,
                        labels=None, data_dir=None, researcher: str | None = None, force: bool = False,
                        log=None) -> dict:
    """Write a questionnaire folder ``out`` from ``run_dirs``; returns the key (as in key.json).

    ``checkpoints``: None (each run's last), one iteration for all runs, or one per run.
    The folder is written under a temporary name and renamed into place, so a failed build
    leaves nothing half-made; an existing folder is replaced only with ``force`` (its answers too).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    run_dirs = [os.fspath(d) for d in run_dirs]
    if not run_dirs:
        raise ConfigError("give at least one run directory")
    for name, value, low in (("--questions", questions, 1), ("--examples", examples, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    checkpoints = list(checkpoints or [])
    if len(checkpoints) not in (0, 1, len(run_dirs)):
        raise ConfigError(f"--checkpoint takes one iteration for all runs or one per run, got {len(checkpoints)} "
                          f"for {len(run_dirs)} run(s)")
    per_run = checkpoints * len(run_dirs) if len(checkpoints) == 1 else (checkpoints or [None] * len(run_dirs))
    out = os.path.abspath(os.fspath(out))
    _check_out(out, run_dirs, force)
    from gan_keras import rundir

    names = _labels([rundir.read_config(d) for d in run_dirs], run_dirs, labels)
    tmp = os.path.join(os.path.dirname(out), f".tmp-{os.path.basename(out)}-{secrets.token_hex(4)}")
    os.makedirs(os.path.join(tmp, IMAGES))
    try:
        def write_image(data: bytes) -> str:
            token = secrets.token_hex(16)
            with open(os.path.join(tmp, IMAGES, f"{token}.png"), "wb") as f:
                f.write(data)
            return token

        build_id = secrets.token_hex(8)
        models, parts, questions_public, key_questions, images = [], [], [], {}, {}
        for i, (run_dir, label) in enumerate(zip(run_dirs, names)):
            key_model, pairs, extra = _sample_model(i, run_dir, per_run[i], label, questions, examples, seed,
                                                    data_dir, write_image, log)
            models.append(key_model)
            parts.append(extra["part"])
            images.update(extra["sources"])
            for public_q, key_q in pairs:
                qid = f"q{len(questions_public) + 1}"
                questions_public.append({"id": qid, **public_q})
                key_questions[qid] = {"model": label, **key_q}
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        public = {"format": FORMAT, "id": build_id, "questions": questions_public, "parts": parts,
                  "intro": {"questions": len(questions_public), "researcher": researcher or ""},
                  "order": "fixed: the questions of each model together, models in the order built"}
        key = {"format": FORMAT, "id": build_id, "created": created, "seed": seed,
               "questions_per_model": questions, "examples_per_model": examples, "models": models,
               "questions": key_questions, "images": images, "command": sys.argv[:]}
        for name, obj in ((PUBLIC, public), (KEY, key)):
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(obj, f, indent=1, sort_keys=name == KEY)
                f.write("\n")
        if os.path.exists(out):
            shutil.rmtree(out) if os.path.isdir(out) else os.remove(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {out}: {len(questions_public)} questions from {len(models)} model(s); answer key in "
        f"{os.path.join(out, KEY)} (never served); answers will go to {os.path.join(out, DATABASE)}")
    return key
