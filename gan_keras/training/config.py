"""What a training run is: its settings (``RunConfig``), what makes two runs the same run, and
the memory it needs. ``GAN_main.py`` fills a RunConfig; ``Trainer(config).run()`` trains it."""
from __future__ import annotations

import importlib
import os
import platform
import shlex
from dataclasses import dataclass, field

import keras
import numpy as np

# Keys that make two runs "the same run": resuming with any of them changed is refused.
# f1_images is None unless F1 is measured (its held-out images are then never trained on).
IDENTITY_KEYS = ("model", "dataset", "data_limit", "batch_size", "seed", "hyperparams", "image_shape", "f1_images")


@dataclass
class RunConfig:
    model: str
    dataset: str
    epochs: int                     # iterations, as in the dissertation
    batch_size: int
    sample_interval: int
    save_model_interval: int
    out: str | None = None          # run directory; default gan_models/<model>_<dataset>
    seed: int | None = None         # None: a random seed, recorded in config.json
    data_dir: str | None = None
    data_limit: int | None = None   # use only the first N source images (nlvr: 3 crops each)
    image_size: int | None = None   # 28, 32 or 64: train at this size (None: the dataset's own; 28: greyscale)
    hyperparams: dict = field(default_factory=dict)  # overrides of the model's defaults
    on_nan: str = "stop"            # "stop" or "rollback"
    max_rollbacks: int = 3
    force: bool = False             # overwrite a run directory holding a different run
    resume: bool = False            # --resume: continue the run in ``out``, never overwrite it
    tensorboard: bool = True
    deterministic: bool = True      # enable TensorFlow op determinism (CPU: bit-identical reruns)
    progress_seconds: float = 5.0
    f1_every: int | None = None     # discriminator F1/precision/recall every N iterations (seed 002)
    f1_images: int | None = None    # held-out real images for it (default: one batch)
    init_from: str | None = None    # start from another run's (or checkpoint's) G and D weights
    autosave_minutes: float = 10.0  # a resume point (checkpoints/autosave/) this often; 0: never
    fetch_every: int = 1            # engines that can: run up to K iterations per call, logs fetched once
    strategy: str = "none"          # "mirrored": the compiled engine over all devices (training/distribute.py)
    command: str = ""

    def __post_init__(self):
        # One spelling per dataset ("MNIST" -> "mnist", folder:PATH absolute), so that the run
        # directory, config.json and the resume check agree however the name was typed.
        from gan_keras.data import canonical_name

        self.dataset = canonical_name(self.dataset)

    def run_dir(self) -> str:
        from gan_keras.data import dataset_slug

        return self.out or os.path.join("gan_models", f"{self.model}_{dataset_slug(self.dataset)}")

    def script(self, name: str) -> str:
        """The path of the tool ``name`` (GAN_evaluation.py) beside the GAN_main.py of ``command``:
        the way the user reaches the tools from where they ran this one."""
        words = _words(self.command)
        return os.path.join(os.path.dirname(words[1] if words else "GAN_main.py"), name)

    def resume_command(self, run_dir: str) -> str:
        """The command that continues this run: the original one (its hyperparameter, size and F1
        options are part of the run's identity) with ``--resume RUN_DIR`` in place of any
        --resume/--out/--on-nan it had, and without --force (a resume never needs it to overwrite,
        and it would skip the check that the run's images are still the same)."""
        words = _words(self.command)
        if not words:
            words = ["python", "GAN_main.py", self.model, self.dataset, str(self.epochs), str(self.batch_size),
                     str(self.sample_interval), str(self.save_model_interval)]
        kept, skip = [], False
        for word in words:
            if skip:
                skip = False
            elif word in ("--resume", "--out", "--on-nan"):
                skip = True
            elif word != "--force" and not word.startswith(("--resume=", "--out=", "--on-nan=")):
                kept.append(word)
        return shlex.join(kept + ["--resume", run_dir])


def _words(command: str) -> list[str]:
    """A recorded ``python [PATH/]GAN_main.py ...`` command as words; [] for anything else (a
    command given from Python may be any string, even one shlex cannot split)."""
    try:
        words = shlex.split(command) if command.startswith("python ") else []
    except ValueError:
        return []
    return words if len(words) > 1 and os.path.basename(words[1]) == "GAN_main.py" else []


def versions() -> dict:
    """The versions a run records; the backend's own version under its name (``tensorflow``, ``jax``)."""
    backend = keras.backend.backend()
    module = importlib.import_module(backend)
    return {"python": platform.python_version(), "keras": keras.__version__, "backend": backend,
            backend: getattr(module, "__version__", "?"), "numpy": np.__version__, "platform": platform.platform()}


def estimate_memory(spec, hp, image_shape, batch_size: int, dataset_bytes: int) -> dict:
    """Bytes needed: dataset, weights with gradients and optimizer slots, and activations.

    Activations are estimated from every layer's output size, kept for the backward pass and
    for several batches per iteration (real, fake and interpolates); a generous upper bound.
    """
    g = spec.build_generator(image_shape, hp)
    d = spec.build_discriminator(image_shape, hp)
    params = g.count_params() + d.count_params()
    per_image = sum(int(np.prod(l.output.shape[1:])) for m in (g, d) for l in m.layers)
    del g, d
    keras.backend.clear_session(free_memory=True)
    weights = params * 4 * 4  # weights, gradients, two Adam slots
    activations = per_image * 4 * batch_size * 6
    total = dataset_bytes + weights + activations + 600 * 2**20  # + TensorFlow itself
    return {"dataset": dataset_bytes, "weights_and_optimizer": weights, "activations": activations,
            "total": total, "parameters": params}


def gib(n):
    return f"{n / 2**30:.2f} GiB"
