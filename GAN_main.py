"""Train a GAN: python GAN_main.py model_name training_dataName epochs batch_size sample_interval save_model_interval

See README.md, or ``python GAN_main.py -h``.
"""
from gan_keras.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main())
