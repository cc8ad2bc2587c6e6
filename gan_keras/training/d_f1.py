"""The discriminator as a classifier: F1, precision and recall (seed 002, section 2.5 and Figure 5).

Every ``every`` iterations, D scores a held-out real batch (images that training never draws) and a
fresh fake batch; real is the positive class. An image is called real when D's output is above the
model's decision threshold: 0.5 for a sigmoid D and for LSGAN's linear D (the midpoint of its
targets 1 and 0). A Wasserstein critic has no fixed threshold: its loss E[f(G(z))] - E[f(x)] does
not change when a constant is added to f, so its output bias drifts freely and "score > 0" would
measure that drift. Its threshold is ``MIDPOINT``: halfway between the mean score of the real and
of the fake batch being classified, which moves with the critic's offset.

    precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 P R / (P + R)

with 0 where a denominator is 0 (no image called real). D runs in inference mode and the fake
batch's noise comes from its own generator seeded by (run seed, iteration), so measuring F1 changes
nothing in training: a run with F1 is the same run, and it resumes bit-identically.
"""
from __future__ import annotations

import numpy as np

from gan_keras.hparams import draw_latent
from gan_keras.training.logspec import LogSpec, LogValue, Plot

NOISE_STREAM = 2  # noise = default_rng([seed, NOISE_STREAM, iteration])
MIDPOINT = "midpoint"  # the threshold of a critic: halfway between the batches' mean scores
CHUNK = 256

LOG = LogSpec(
    values=(LogValue("d_f1", "F1", "discriminator F1 (real = positive)"),
            LogValue("d_precision", "P", "discriminator precision", progress=False),
            LogValue("d_recall", "R", "discriminator recall", progress=False)),
    plots=(Plot("d_f1.png", "discriminator F1, precision and recall", ("d_f1", "d_precision", "d_recall"),
                "score", hlines=((1.0, "perfect"),), markers=True),),
)


def precision_recall_f1(real_scores, fake_scores, threshold: float | str) -> dict:
    """Precision, recall and F1 of "score > threshold means real" on real (positive) and fake images.

    ``threshold`` is a number, or ``MIDPOINT``: (mean real score + mean fake score) / 2."""
    real = np.asarray(real_scores, np.float64).reshape(-1)
    fake = np.asarray(fake_scores, np.float64).reshape(-1)
    if real.size == 0 or fake.size == 0:
        raise ValueError("precision_recall_f1 needs at least one real and one fake score")
    if threshold == MIDPOINT:
        threshold = 0.5 * (real.mean() + fake.mean())
    tp = int(np.sum(real > threshold))
    fn = real.size - tp
    fp = int(np.sum(fake > threshold))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"d_f1": f1, "d_precision": precision, "d_recall": recall}


def _scores(model, images):
    return np.concatenate([np.asarray(model.predict_on_batch(images[i:i + CHUNK])).reshape(-1)
                           for i in range(0, len(images), CHUNK)])


class DiscriminatorF1:
    """Called after every iteration; returns the three values on every ``every``-th one."""

    log_spec = LOG

    def __init__(self, held_out: np.ndarray, every: int, threshold: float | str, latent_dim: int, seed: int,
                 latent: str = "normal"):
        self.held_out, self.every = held_out, int(every)
        self.threshold = threshold if threshold == MIDPOINT else float(threshold)
        self.latent_dim, self.seed, self.latent = int(latent_dim), int(seed), latent

    def __call__(self, iteration: int, engine) -> dict:
        if iteration % self.every:
            return {}
        rng = np.random.default_rng([self.seed, NOISE_STREAM, iteration])
        noise = draw_latent(rng, (len(self.held_out), self.latent_dim), self.latent, float64_normal=True)
        fake = np.concatenate([engine.generate(noise[i:i + CHUNK]) for i in range(0, len(noise), CHUNK)])
        return precision_recall_f1(_scores(engine.discriminator, self.held_out),
                                   _scores(engine.discriminator, fake), self.threshold)
