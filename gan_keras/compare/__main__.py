"""``python -m gan_keras.compare``: the entry point only; the command line is gan_keras/cli/compare.py, so
the package itself stays a library that never imports the command line."""
from gan_keras.cli.compare import main

raise SystemExit(main())
