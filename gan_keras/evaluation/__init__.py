"""Evaluation of a training run as a library call (``GAN_evaluation.py`` is its command line).

    from gan_keras.evaluation import EvalConfig, evaluate_run

    result = evaluate_run("gan_models/DCGAN_mnist", EvalConfig(fid_sample_number=5000, generate_sample_number=500))
    result.fid_by_iteration   # {iteration: FID}; result.rows, result.summary (= evaluation.json), result.out

Modules: ``config`` (EvalConfig, the options and their checks), ``pipeline`` (evaluate_run),
``preflight`` (run, checkpoints, memory and disk, checked before any work), ``checkpoint`` (one
checkpoint: generation, metrics, figures), ``images`` (its PNGs and grid), ``earlier`` (what an
earlier evaluation in the folder leaves that still stands), ``outputs`` (metrics.csv/.md, fid.png,
evaluation.json), ``result`` (EvaluationResult). None of them imports ``gan_keras.cli``.
"""
from gan_keras.evaluation.config import EvalConfig
from gan_keras.evaluation.pipeline import evaluate_run
from gan_keras.evaluation.result import EvaluationResult

__all__ = ["EvalConfig", "EvaluationResult", "evaluate_run"]
