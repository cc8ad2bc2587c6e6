"""The dissertation's own results, as data: Tables 4-1 to 4-6, its experiments and its verdicts.

Chen (2019), *Synthesising Images by Imagination*, chapter 4: four models (GAN, DCGAN, WGAN,
WGAN-GP) trained on three datasets, FID at every 10,000 iterations from 5,000 generated images
through the Keras ImageNet InceptionV3. This module is the only place in ``gan_keras.compare``
that names models: everything else reads it, so a comparison of other models simply finds no
dissertation value to put beside its own.

Each value and each verdict carries its source (table or section), so that the comparison can
quote it and a reader can check it against the dissertation. Where its prose and its tables
disagree, the tables are taken: the abstract's "NLVR obtained FID of 94" is Table 4-4's 109
(WGAN-GP at 30,000). The tables head their columns "epochs"; they are iterations (3.4.5, REFERENCE.md).
"""
from __future__ import annotations

from dataclasses import dataclass

# How the dissertation computed FID: what our evaluations are compared against. 3.5.2 says "the
# last pooling layer in Inception"; that it was Keras' ImageNet InceptionV3 is REFERENCE.md's
# reading ("FID: what the dissertation fixes").
BACKBONE = "keras"
BACKBONE_TEXT = "Keras ImageNet InceptionV3"
FID_SAMPLE_NUMBER = 5000
ARCHITECTURE = "dissertation"   # hyperparams["arch"] of a run built from the dissertation's tables


@dataclass(frozen=True)
class Experiment:
    """One dataset's experiment: its settings (sections 4.1-4.3) and its two FID tables."""

    dataset: str
    section: str
    title: str
    batch_size: int
    iterations: int
    dataset_size: int
    tables: str
    fid: dict            # registry model name -> {iteration: FID}
    human_error: dict = None   # registry model name -> human error rate in percent (section 4.x.5)


EXPERIMENTS: dict[str, Experiment] = {
    "mnist": Experiment(
        "mnist", "4.1", "generate handwritten digits", batch_size=128, iterations=30000, dataset_size=60000,
        tables="Tables 4-1, 4-2",
        fid={"GAN": {10000: 114, 20000: 91, 30000: 85},
             "DCGAN": {10000: 10, 20000: 7, 30000: 8},
             "WGAN": {10000: 11, 20000: 8, 30000: 6},
             "WGANGP": {10000: 8, 20000: 6, 30000: 6}},
        human_error={"GAN": 5.56, "DCGAN": 44.44, "WGAN": 52.78, "WGANGP": 72.22}),
    "nlvr": Experiment(
        "nlvr", "4.2", "generate geometric graphics", batch_size=64, iterations=30000, dataset_size=9306,
        tables="Tables 4-3, 4-4",
        fid={"GAN": {10000: 346, 20000: 314, 30000: 314},
             "DCGAN": {10000: 269, 20000: 294, 30000: 242},
             "WGAN": {10000: 278, 20000: 272, 30000: 256},
             "WGANGP": {10000: 195, 20000: 112, 30000: 109}},
        human_error={"GAN": 0.00, "DCGAN": 13.89, "WGAN": 5.56, "WGANGP": 19.44}),
    "102flowers": Experiment(
        "102flowers", "4.3", "generate flower images", batch_size=64, iterations=40000, dataset_size=8189,
        tables="Tables 4-5, 4-6",
        fid={"GAN": {10000: 331, 20000: 341, 30000: 345, 40000: 353},
             "DCGAN": {10000: 144, 20000: 102, 30000: 90, 40000: 79},
             "WGAN": {10000: 272, 20000: 364, 30000: 386, 40000: 363},
             "WGANGP": {10000: 139, 20000: 120, 30000: 115, 40000: 104}},
        human_error={"GAN": 0.00, "DCGAN": 27.78, "WGAN": 0.00, "WGANGP": 11.11}),
}

def published_human_error(model: str | None, dataset: str | None) -> tuple[float, str] | None:
    """The dissertation's human error rate (a fraction) of a registry model on a dataset, and its
    section (4.1.5, 4.2.5, 4.3.5: its questionnaire, one per dataset); None where it has none."""
    experiment = EXPERIMENTS.get(dataset or "")
    if experiment is None or not experiment.human_error or model not in experiment.human_error:
        return None
    return experiment.human_error[model] / 100.0, f"section {experiment.section}.5"


# The table of each model's FIDs (REFERENCE.md: "Results to reproduce").
TABLE_OF = {("mnist", "GAN"): "Table 4-1", ("mnist", "DCGAN"): "Table 4-1",
            ("mnist", "WGAN"): "Table 4-2", ("mnist", "WGANGP"): "Table 4-2",
            ("nlvr", "GAN"): "Table 4-3", ("nlvr", "DCGAN"): "Table 4-3",
            ("nlvr", "WGAN"): "Table 4-4", ("nlvr", "WGANGP"): "Table 4-4",
            ("102flowers", "GAN"): "Table 4-5", ("102flowers", "DCGAN"): "Table 4-5",
            ("102flowers", "WGAN"): "Table 4-6", ("102flowers", "WGANGP"): "Table 4-6"}

MODELS = ("GAN", "DCGAN", "WGAN", "WGANGP")
DISPLAY = {"GAN": "GAN", "DCGAN": "DCGAN", "WGAN": "WGAN", "WGANGP": "WGAN-GP"}


@dataclass(frozen=True)
class Verdict:
    """A conclusion of the dissertation that FIDs can check.

    kind:
        ``best``: ``model`` has the lowest FID of the four at the last checkpoint;
        ``worst``: ``model`` has the highest;
        ``worsens``: ``model``'s FID is higher at its last checkpoint than at its first (it fails to learn).
    """

    dataset: str
    kind: str
    model: str
    claim: str          # in our words
    quote: str          # the dissertation's, shortened
    source: str         # section (and table)


VERDICTS: tuple[Verdict, ...] = (
    Verdict("mnist", "best", "WGANGP", "WGAN-GP is the best of the four on MNIST",
            "the performance of WGAN-GP was the best among these four models according to FID and human judgment",
            "4.1.5, Tables 4-1/4-2"),
    Verdict("mnist", "worst", "GAN", "vanilla GAN is the worst on MNIST",
            "The worst quality of handwritten digits was generated by vanilla GANs", "4.1.5, Table 4-1"),
    Verdict("nlvr", "best", "WGANGP", "WGAN-GP is the best of the four on NLVR",
            "The performance of WGAN-GP was the best based on FID and the questionnaire", "4.2.5, Table 4-4"),
    Verdict("nlvr", "worst", "GAN", "vanilla GAN is the worst on NLVR (full mode collapse)",
            "Because of the full mode collapse problem, vanilla GANs got terrible FID at every training stage",
            "4.2.5, Table 4-3"),
    Verdict("102flowers", "best", "DCGAN", "DCGAN is the best of the four on Oxford-102 flowers",
            "the synthesised images by DCGAN got the smallest FID", "4.3.5, Table 4-5"),
    Verdict("102flowers", "worsens", "WGAN", "WGAN fails on flowers: its FID rises with training",
            "WGAN also failed to capture the distribution of the training data", "4.3.5, 5.1.3, Table 4-6"),
    Verdict("102flowers", "worsens", "GAN", "vanilla GAN fails on flowers: its FID rises with training",
            "The figure for vanilla GANs was getting bigger along with the training progressing",
            "4.3.5, Table 4-5"),
)


def display(model: str) -> str:
    """The dissertation's spelling of a registry name (WGANGP -> WGAN-GP); other names unchanged."""
    return DISPLAY.get(model, model)


def reference_fid(dataset: str, model: str) -> dict[int, float]:
    """The dissertation's FIDs ``{iteration: FID}`` for one experiment, or {} when it has none."""
    experiment = EXPERIMENTS.get(dataset)
    return dict(experiment.fid.get(model, {})) if experiment else {}


def verdicts_for(dataset: str) -> list[Verdict]:
    return [v for v in VERDICTS if v.dataset == dataset]


def mismatch(model: str, dataset: str, batch_size, arch) -> str | None:
    """Why a run is not one of the dissertation's twelve experiments, or None when it is one.

    Model, dataset, batch size and the dissertation's networks define an experiment; everything else
    (iterations, hyperparameters, dataset size, evaluation) is reported beside the values instead.
    """
    experiment = EXPERIMENTS.get(dataset)
    if experiment is None:
        return f"the dissertation has no {dataset} experiment"
    if model not in experiment.fid:
        return f"the dissertation did not train {model}"
    if batch_size != experiment.batch_size:
        return f"batch {batch_size}, the dissertation's is {experiment.batch_size}"
    if (arch or ARCHITECTURE) != ARCHITECTURE:
        return f"architecture {arch!r}, the dissertation's is {ARCHITECTURE!r}"
    return None
