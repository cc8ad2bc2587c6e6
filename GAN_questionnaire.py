"""The human evaluation: python GAN_questionnaire.py build|serve|report ...

See README.md ("Human evaluation"), or ``python GAN_questionnaire.py -h``.
"""
from gan_keras.cli.questionnaire import main

if __name__ == "__main__":
    raise SystemExit(main())
