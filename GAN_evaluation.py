"""Evaluate a training run: python GAN_evaluation.py model_directory FID_sample_number Generate_sample_number

FID (and KID, precision/recall, Inception Score), generated samples and nearest real images for
every saved generator checkpoint. See README.md ("Evaluation"), or ``python GAN_evaluation.py -h``.
"""
import sys

try:
    from gan_keras.cli.evaluate import main
except KeyboardInterrupt:   # Ctrl-C while TensorFlow is imported: one line, not a traceback
    sys.stderr.write("GAN_evaluation.py: interrupted while starting; nothing was written\n")
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(main())
