"""The dissertation's human evaluation (3.5.1, Appendix A) as a local web questionnaire.

Three steps, each a module and a sub-command of ``python GAN_questionnaire.py``:

- ``build`` (build.py): sample questions from run directories (2 real + 2 generated images each,
  in seeded random positions) and the example strip of Figure 3-13; the answer key goes to
  ``key.json``, which the server never reads or serves.
- ``serve`` (server.py, store.py, static/): a standard-library HTTP server for the page; answers go
  to SQLite in WAL mode.
- ``report`` (report.py): per-model human error rates with 95 % Wilson intervals, per-question
  difficulty, a chart.

The folder layout (names shared by the three steps) is defined here so that no step has to import
another's heavy dependencies: the server and the report never import TensorFlow themselves.
"""
from __future__ import annotations

PUBLIC = "questionnaire.json"   # what the page may see: question ids, image tokens, texts
KEY = "key.json"                # the answer key and provenance: never served
IMAGES = "images"               # <token>.png, re-encoded identically for real and generated images
DATABASE = "answers.sqlite"     # participants and answers (WAL)
FORMAT = "gan_keras-questionnaire/1"
