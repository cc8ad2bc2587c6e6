"""The one place that maps a model name to its definition.

To add a model: write ``gan_keras/models/<name>.py`` defining ``SPEC = ModelSpec(...)`` and add one
line below (README: "Adding a model", with LSGAN as the example).
"""
from gan_keras.errors import ConfigError
from gan_keras.hparams import twice_declared
from gan_keras.models import began, began_cs, began_v3, dcgan, deligan, edgegan, gan, lsgan, mlpgan, wgan, wgangp
from gan_keras.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {
    "GAN": gan.SPEC,
    "DCGAN": dcgan.SPEC,
    "WGAN": wgan.SPEC,
    "WGANGP": wgangp.SPEC,
    "LSGAN": lsgan.SPEC,
    "BEGAN": began.SPEC,
    "BEGANCS": began_cs.SPEC,
    "BEGANV3": began_v3.SPEC,
    "MLPGAN": mlpgan.SPEC,
    "EDGEGAN": edgegan.SPEC,
    "DELIGAN": deligan.SPEC,
}


def model_names() -> list[str]:
    return list(MODELS)


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}") from None


def hyperparameter_table() -> dict:
    """name -> (HParam, {model name: its default}) over every registered model, in declaration order.

    A name must mean one declaration everywhere (the command line has one flag per name).
    """
    table: dict = {}
    for model, spec in MODELS.items():
        hp = spec.hyperparams()
        for name, param in spec.declared_params().items():
            known, users = table.setdefault(name, (param, {}))
            if known is not param:
                raise twice_declared(name, known, f"by {', '.join(users)} and by {model}")
            users[model] = hp.get(name)
    return table
