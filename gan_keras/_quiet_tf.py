"""Import TensorFlow without its C++ start-up chatter on stderr.

TensorFlow 2.21 prints absl log lines (oneDNN notices, CUDA probing) while it loads and
initialises its devices, whatever TF_CPP_MIN_LOG_LEVEL says. They would turn the command-line
tools' one-line errors into seven lines. File descriptor 2 points at /dev/null for exactly that
part; Python exceptions are unaffected. Set GAN_KERAS_TF_LOGS=1 to see the lines.
"""
import os
import sys


def import_tensorflow_quietly() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if os.environ["KERAS_BACKEND"] != "tensorflow":  # another backend (gan_keras/backend.py)
        return
    if os.environ.get("GAN_KERAS_TF_LOGS") == "1" or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to protect
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
