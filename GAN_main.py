"""Train a GAN: python GAN_main.py model_name training_dataName epochs batch_size sample_interval save_model_interval

See README.md, or ``python GAN_main.py -h``.
"""
import signal

# A Ctrl-C (or SIGTERM) while TensorFlow is being imported can be lost: its KeyboardInterrupt may be
# raised inside a garbage-collector callback, where Python discards it, and the run then trains to
# the end. So both are held until the command line has started (gan_keras/cli/train.py releases them).
if hasattr(signal, "pthread_sigmask"):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})

from gan_keras.cli.train import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
