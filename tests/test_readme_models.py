"""The README's hand-written model lists name every registered model (README, "Adding a model",
step 5): the `model_name` list of "Training", the models table and the module list of "Models
and training, as built". A model added without them fails here, naming what is missing."""
import os
import re
import sys

from conftest import ROOT

import gan_keras  # noqa: F401  (registers the models)
from gan_keras.registry import MODELS


def _readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_every_registered_model_is_in_the_readmes_lists():
    text = _readme()
    names = re.search(r"`model_name` is one of (.*?)\. `training_dataName`", text, re.S)
    assert names, "README: the sentence \"`model_name` is one of ...\" of Training is gone"
    listed = set(re.findall(r"`([A-Z0-9]+)`", names.group(1)))
    modules = re.search(r"Each model is one module in `gan_keras/models/` \((.*?)\)", text, re.S)
    assert modules, "README: the module list of \"Models and training, as built\" is gone"
    module_files = set(re.findall(r"`(\w+\.py)`", modules.group(1)))
    rows = set(re.findall(r"^\| ([A-Z0-9]+)(?: \(|\s\|)", text, re.M))
    missing = []
    for name, spec in MODELS.items():
        module = next(m for m in sys.modules.values()
                      if getattr(m, "SPEC", None) is spec and m.__name__.startswith("gan_keras.models."))
        file = module.__name__.rsplit(".", 1)[1] + ".py"
        missing += [f"{name}: not in the `model_name` list"] * (name not in listed)
        missing += [f"{name}: no row in the models table"] * (name not in rows)
        missing += [f"{name}: {file} not in the module list"] * (file not in module_files)
    assert not missing, "; ".join(missing)
    assert listed == set(MODELS), f"the `model_name` list names models that do not exist: {listed - set(MODELS)}"
