"""``python -m gan_keras.questionnaire``: the entry point only; the command line is gan_keras/cli/questionnaire.py, so
the package itself stays a library that never imports the command line."""
from gan_keras.cli.questionnaire import main

raise SystemExit(main())
