"""The one place that maps a model name to its definition.

To add a model: write ``gan_keras/models/<family>.py`` defining ``SPEC = ModelSpec(...)`` and
add one line below.
"""
from gan_keras.errors import ConfigError
from gan_keras.models import dcgan, gan, wgan, wgangp
from gan_keras.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {
    "GAN": gan.SPEC,
    "DCGAN": dcgan.SPEC,
    "WGAN": wgan.SPEC,
    "WGANGP": wgangp.SPEC,
}


def model_names() -> list[str]:
    return list(MODELS)


def get_model(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}") from None
