"""Reading the runs to compare: config, evaluation, and their grouping into experiments.

A comparison is only as honest as its inputs are alike. So this module refuses what cannot be
compared (runs evaluated with different backbones, resizes or FID sample sizes, unless the caller
allows it), rejects what is not a run at all, and groups the runs that *are* the same experiment
with different seeds, so that their spread is shown instead of one lucky seed.
"""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field

from gan_keras import rundir
from gan_keras.errors import GanKerasError, RunDirError


class CompareError(GanKerasError):
    """Runs that cannot be compared (bad path, unreadable evaluation, mixed evaluations)."""


class MixedEvaluationsError(CompareError):
    """The runs' FIDs were computed differently (backbone, resize, sample number)."""


# The evaluation settings that make two FIDs comparable, with their names in messages: the real
# images' number too (min(FID sample number, dataset size): FID depends on both sample sizes), and
# the version of the metrics code (evaluation/earlier.py's METRICS_VERSION).
EVAL_KEYS = (("backbone", "backbone"), ("resize", "resize"), ("fid_sample_number", "FID sample number"),
             ("real_images", "real images"), ("metrics_version", "metrics version"))


@dataclass
class Run:
    """One run directory and its evaluation, as the comparison needs them."""

    name: str
    path: str
    config: dict
    eval_path: str
    evaluation: dict | None = None
    checkpoints: list[int] = field(default_factory=list)

    # -- from config.json -----------------------------------------------------------------------
    @property
    def model(self) -> str:
        return str(self.config.get("model") or "?")

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset") or "?")

    @property
    def seed(self):
        return self.config.get("seed")

    @property
    def batch_size(self):
        return self.config.get("batch_size")

    @property
    def hyperparams(self) -> dict:
        return dict(self.config.get("hyperparams") or {})

    @property
    def arch(self) -> str | None:
        return self.hyperparams.get("arch")

    @property
    def latent(self) -> str:
        return self.hyperparams.get("latent", "normal")   # runs written before the option: N(0, 1)

    @property
    def planned(self):
        """The iterations the run was asked for (config.json's ``epochs``)."""
        return self.config.get("epochs")

    @functools.cached_property
    def trained(self) -> int:
        """The iterations it has trained: its log's last sound row, or its newest checkpoint or
        evaluated one when those are later (a damaged log); 0 for none."""
        _, rows = rundir.read_log_rows(os.path.join(self.path, rundir.LOG))
        return max([int(rows[-1]["iteration"]) if rows else 0, *self.checkpoints, *self.rows])

    @property
    def latent_dim(self) -> int:
        return int(self.config.get("latent_dim") or self.hyperparams.get("latent_dim") or 100)

    # -- from evaluation.json -------------------------------------------------------------------
    @property
    def evaluated(self) -> bool:
        return self.evaluation is not None

    def eval_settings(self) -> dict:
        """backbone, resize, fid_sample_number, the number of real images and the metrics code's
        version ({} when not evaluated)."""
        if self.evaluation is None:
            return {}
        e = self.evaluation
        return {"backbone": (e.get("backbone") or {}).get("name"), "resize": (e.get("backbone") or {}).get("resize"),
                "fid_sample_number": e.get("fid_sample_number"),
                "real_images": (e.get("real_images") or {}).get("n"),
                "metrics_version": e.get("metrics_version", 1)}

    @property
    def rows(self) -> dict[int, dict]:
        """Evaluated checkpoints: ``{iteration: evaluation.json row}``."""
        if self.evaluation is None:
            return {}
        return {int(r["iteration"]): r for r in self.evaluation.get("checkpoints", [])}

    def fid(self, iteration: int):
        """The FID at a checkpoint, or None (not evaluated there, failed, its images held NaN or
        inf, or not finite: ``evaluation.result.model_fid``)."""
        from gan_keras.evaluation.result import model_fid

        return model_fid(self.rows.get(iteration))

    @property
    def fid_by_iteration(self) -> dict[int, float | None]:
        return {it: self.fid(it) for it in sorted(self.rows)}


def _load_evaluation(run: Run) -> dict | None:
    path = os.path.join(run.eval_path, "evaluation.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError) as exc:
        raise CompareError(f"cannot read the evaluation of run {run.name}: {path}: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    problem = None
    if not isinstance(record, dict):
        problem = "not a JSON object"
    elif not isinstance(record.get("checkpoints"), list) or not all(
            isinstance(r, dict) and isinstance(r.get("iteration"), int) for r in record["checkpoints"]):
        problem = "no list of evaluated checkpoints"
    elif not isinstance(record.get("backbone"), dict) or "name" not in record["backbone"]:
        problem = "no backbone recorded"
    elif not isinstance(record.get("fid_sample_number"), int):
        problem = "no FID sample number recorded"
    if problem:
        raise CompareError(f"cannot read the evaluation of run {run.name}: {path}: {problem} "
                           "(not written by GAN_evaluation.py?)")
    described = record.get("run") or {}
    # what a run cannot change when resumed (its iteration count and data folder can change)
    for key in ("model", "dataset", "seed", "batch_size", "latent_dim", "image_shape"):
        if described.get(key) is not None and run.config.get(key) is not None and described[key] != run.config[key]:
            raise CompareError(f"{path} evaluates a different run ({key} {described[key]!r}, "
                               f"run {run.name} has {run.config[key]!r}); pass the right --eval-dir")
    return record


def _names(paths: list[str]) -> list[str]:
    """Each run's name is its folder's; two folders of the same name get their parent's in front."""
    base = [os.path.basename(os.path.normpath(p)) or p for p in paths]
    names = []
    for p, b in zip(paths, base):
        if base.count(b) > 1:
            parent = os.path.basename(os.path.dirname(os.path.normpath(os.path.abspath(p))))
            b = f"{parent}-{b}" if parent else b
        while b in names:
            b += "_"
        names.append(b)
    return names


def evaluation_folder(run_path: str, eval_dir: str) -> str:
    """A run's evaluation folder: ``eval_dir`` relative to the run (``evaluation``, GAN_evaluation.py's
    default), or, where it holds ``{run}``, that path as given with ``{run}`` replaced by the run
    folder's name (evaluations written outside the runs, ``GAN_evaluation.py RUN ... --out
    /evals/NAME``: ``--eval-dir /evals/{run}``). Either way the evaluation must name the run's
    model, dataset and seed (``_load_evaluation``), so a folder of another run is refused."""
    if "{run}" in eval_dir:
        return eval_dir.replace("{run}", os.path.basename(os.path.normpath(run_path)))
    return os.path.join(run_path, eval_dir)


def _shared_folder(first: str, second: str, folder: str, eval_dir: str) -> str:
    """Why two runs would read one evaluation folder, and what to do instead."""
    if "{run}" not in eval_dir:
        return (f"--eval-dir {eval_dir} is one folder for every run ({first} and {second}): for evaluations "
                f"written outside the runs, put {{run}} where each run's folder name goes, e.g. "
                f"--eval-dir {os.path.join(eval_dir, '{run}')}")
    base = os.path.basename(os.path.normpath(second))
    return (f"runs {first} and {second} have the same folder name, so --eval-dir {eval_dir} gives both {folder}: "
            f"compare one of them through a link of another name (ln -s {os.path.abspath(second)} {base}_b), "
            f"with its evaluation in {eval_dir.replace('{run}', base + '_b')}")


def load_runs(paths, eval_dir: str = rundir.EVALUATION) -> tuple[list[Run], list[str]]:
    """The runs (with their evaluations where present) and warnings; CompareError for bad input.

    ``eval_dir``: each run's evaluation folder (``evaluation_folder``).
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise CompareError("no run directories given")
    warnings, unique, seen = [], [], {}
    for p in paths:
        real = os.path.realpath(p)
        if real in seen:
            warnings.append(f"{p} was given twice; compared once")
            continue
        seen[real] = p
        unique.append(p)
    runs, readers = [], {}
    for path, name in zip(unique, _names(unique)):
        if not os.path.isdir(path):
            raise CompareError(f"{path} is not a run directory ("
                               + ("it is a file" if os.path.exists(path) else "it does not exist") + ")")
        if not os.path.isfile(os.path.join(path, rundir.CONFIG)) and not rundir.list_checkpoints(path):
            raise CompareError(f"{path} is not a gan_keras run directory (no {rundir.CONFIG})")
        try:
            config = rundir.read_config(path)
        except RunDirError as exc:
            raise CompareError(str(exc)) from None
        run = Run(name=name, path=path, config=config, eval_path=evaluation_folder(path, eval_dir),
                  checkpoints=[c.iteration for c in rundir.list_checkpoints(path)])
        folder = os.path.abspath(run.eval_path)
        if folder in readers:
            raise CompareError(_shared_folder(readers[folder], path, folder, eval_dir))
        readers[folder] = path
        run.evaluation = _load_evaluation(run)
        if run.evaluation is None:
            warnings.append(f"run {name} has no evaluation ({os.path.join(run.eval_path, 'evaluation.json')}): "
                            "its FIDs are shown as not evaluated (an evaluation written elsewhere with "
                            "GAN_evaluation.py --out: give --eval-dir NAME for <run>/NAME, or a path with "
                            "{run}, the run folder's name, e.g. --eval-dir /evals/{run})")
        else:
            missing = sorted(set(run.checkpoints) - set(run.rows))
            if missing:
                warnings.append(f"run {name}: checkpoint(s) {', '.join(map(str, missing))} are not in its evaluation")
            if not run.evaluation.get("complete", True):
                warnings.append(f"run {name}: its evaluation did not finish")
        runs.append(run)
    return runs, warnings


def evaluation_differences(runs: list[Run]) -> dict[str, list[str]]:
    """``{dataset: ["<dataset> backbone: keras (a) vs fid (b)", ...]}`` for each dataset whose
    evaluated runs had their FIDs computed differently (``EVAL_KEYS``); {} when none."""
    datasets: dict = {}
    for run in runs:
        if run.evaluated:
            datasets.setdefault(run.dataset, []).append(run)
    found: dict = {}
    for dataset, evaluated in datasets.items():
        for key, what in EVAL_KEYS:
            values: dict = {}
            for run in evaluated:
                values.setdefault(run.eval_settings()[key], []).append(run.name)
            if len(values) > 1:
                found.setdefault(dataset, []).append(
                    f"{dataset} {what}: " + " vs ".join(f"{v} ({', '.join(names)})" for v, names in values.items()))
    return found


def check_evaluations(runs: list[Run], allow_mixed: bool = False) -> list[str]:
    """MixedEvaluationsError when evaluated runs of one dataset had their FIDs computed differently.

    Backbone, resize and both sample numbers each change FID's value (a smaller sample gives a
    larger FID), so such FIDs are not comparable. Runs of different datasets are never compared, so
    each dataset is checked on its own. With ``allow_mixed`` the difference becomes a warning (and
    ``group_runs(..., by_evaluation=<those datasets>)`` keeps such runs in separate groups).
    """
    problems = [p for found in evaluation_differences(runs).values() for p in found]
    if not problems:
        return []
    text = "the runs were evaluated differently, so their FIDs are not comparable: " + "; ".join(problems)
    if not allow_mixed:
        raise MixedEvaluationsError(text + " (evaluate them alike, or pass --allow-mixed)")
    return [text + " (--allow-mixed: compared anyway)"]


@dataclass
class Group:
    """Runs of one experiment that differ only in their seed: aggregated as mean and spread."""

    dataset: str
    model: str
    label: str
    runs: list[Run]
    key: tuple


# Hyperparameters that say how an iteration is computed, not which experiment it is: the two
# engines compute the same iteration (bit-identical on the CPU: benchmarks/engine_diff.py), and XLA
# and the grouped upsampled convolution the same function to float rounding.
_NOT_EXPERIMENT = ("seed", "engine", "jit", "upsampled_conv")


def _experiment(run: Run, by_evaluation: bool = False) -> dict:
    """What makes a run's experiment, beyond its model and dataset: the batch size, the image shape,
    the training images (``data_limit``, the F1's held-out ``f1_images``), a fine-tuning start
    (``init_from``) and the hyperparameters. Those are read as the run's code meant them: a
    hyperparameter added since it was written takes its declared default, the behaviour of that code
    (``run_setup.comparable_hyperparams``, as a resume reads them), so seeds written by different
    versions still group together. ``by_evaluation``: how its FIDs were computed too, when it has
    an evaluation (with ``--allow-mixed``: FIDs computed differently are never averaged together)."""
    from gan_keras.errors import GanKerasError
    from gan_keras.registry import get_model
    from gan_keras.training.run_setup import comparable_hyperparams

    hp = run.hyperparams
    try:
        hp = comparable_hyperparams(get_model(run.model), hp)
    except GanKerasError:   # a model this version does not have: its hyperparameters as saved
        pass
    init_from = run.config.get("init_from")
    return {"batch": run.batch_size, "image": "x".join(map(str, run.config.get("image_shape") or ())),
            **{k: run.config.get(k) for k in ("data_limit", "f1_images") if run.config.get(k) is not None},
            **({"init_from": init_from.get("path") if isinstance(init_from, dict) else init_from} if init_from else {}),
            **{k: v for k, v in hp.items() if k not in _NOT_EXPERIMENT},
            **({"evaluation": _evaluation_text(run)} if by_evaluation and run.evaluated else {})}


def _evaluation_text(run: Run) -> str:
    """How a run's FIDs were computed, for a group's label: "fid bilinear, 5000 vs 5000 images"."""
    e = run.eval_settings()
    version = f", metrics v{e['metrics_version']}" if e["metrics_version"] != 1 else ""
    return f"{e['backbone']} {e['resize']}, {e['fid_sample_number']} vs {e['real_images']} images{version}"


_FIRST = ("batch", "image", "data_limit", "f1_images", "init_from", "evaluation")   # a label's order; then the rest


def group_runs(runs: list[Run], by_evaluation=frozenset()) -> dict[str, list[Group]]:
    """``{dataset: [Group, ...]}``, datasets and groups in the order first given.

    A group's label is the model's name; when one model has several groups in a dataset (other
    batch size, architecture or hyperparameters; in the datasets ``by_evaluation`` names, FIDs
    computed otherwise), the settings that differ are added to it.
    """
    def experiment(run):
        return _experiment(run, run.dataset in by_evaluation)

    by_dataset: dict[str, dict[tuple, list[Run]]] = {}
    for run in runs:
        key = (run.model, json.dumps(experiment(run), sort_keys=True, default=str))
        by_dataset.setdefault(run.dataset, {}).setdefault(key, []).append(run)
    from gan_keras.compare.dissertation import display

    out = {}
    for dataset, groups in by_dataset.items():
        made = []
        for key, members in groups.items():
            model = members[0].model
            same_model = [m[0] for k, m in groups.items() if k[0] == model]
            label = display(model)
            if len(same_model) > 1:
                mine, others = experiment(members[0]), [experiment(r) for r in same_model if r is not members[0]]
                differ = sorted({k for o in others for k in {*mine, *o} if o.get(k) != mine.get(k)},
                                key=lambda k: (_FIRST.index(k) if k in _FIRST else len(_FIRST), k))
                label += " [" + ", ".join(f"{k} {mine.get(k, '-')}" for k in differ) + "]"
            made.append(Group(dataset, model, label, members, key))
        out[dataset] = made
    return out


def safe_name(text: str) -> str:
    """A file-name part: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "run"
