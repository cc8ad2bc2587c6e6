"""Compare training runs as Chapter 4 does: python GAN_compare.py RUN_DIR [RUN_DIR ...] --out DIR

See README.md ("Comparing runs"), or ``python GAN_compare.py -h``.
"""
from gan_keras.cli.compare import main

if __name__ == "__main__":
    raise SystemExit(main())
