"""gan_keras: the GANs of "Synthesising Images by Imagination" (Chen, 2019) in Keras 3."""
import os as _os

# Keep TensorFlow's C++ start-up chatter out of the way (the CLIs silence it entirely unless
# GAN_KERAS_TF_LOGS=1).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
