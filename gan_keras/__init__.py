"""gan_keras: the GANs of "Synthesising Images by Imagination" (Chen, 2019) in Keras 3.

Importing the package registers its custom Keras objects (``GANBatchNormalization``,
``wasserstein_loss``, the Keras 2.2 ``RMSprop``, and every model's own layers, such as EDGEGAN's
``MeanRescaling`` and DeLiGAN's mixture latent, through the model registry), so saved models load
with a plain ``keras.saving.load_model(path)``.
"""
from gan_keras._quiet_tf import import_tensorflow_quietly as _import_tensorflow_quietly

_import_tensorflow_quietly()

from gan_keras import registry as _registry  # noqa: E402,F401  (every model module: their custom layers)
from gan_keras.models import blocks as _blocks  # noqa: E402,F401  (registers GANBatchNormalization)
from gan_keras.training import losses as _losses  # noqa: E402,F401  (registers wasserstein_loss)
from gan_keras.training import optimizers as _optimizers  # noqa: E402,F401  (registers RMSprop, the Keras 2.2 form)

__version__ = "0.1.0"
