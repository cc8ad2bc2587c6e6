"""gan_keras: the GANs of "Synthesising Images by Imagination" (Chen, 2019) in Keras 3."""
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the way

__version__ = "0.1.0"
