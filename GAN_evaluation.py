"""Evaluate a training run: python GAN_evaluation.py model_directory FID_sample_number Generate_sample_number

FID (and KID, precision/recall, Inception Score), generated samples and nearest real images for
every saved generator checkpoint. See README.md ("Evaluation"), or ``python GAN_evaluation.py -h``.
"""
from gan_keras.cli.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
