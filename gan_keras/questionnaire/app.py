"""The questionnaire a server serves: its public file and images, what each participant sees next,
and the validation of an answer. No HTTP here (``server.py`` is the HTTP side): a ``Reject`` is
the status and message an invalid request gets."""
from __future__ import annotations

import json
import os
import re
import sys

from gan_keras.errors import ConfigError
from gan_keras.questionnaire import DATABASE, FORMAT, IMAGES, PUBLIC
from gan_keras.questionnaire.store import AlreadyAnswered, NotShown, Store

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/static/style.css": ("style.css", "text/css; charset=utf-8")}


class Reject(Exception):
    """A request refused with ``status`` (4xx) and a short reason for the client and the log."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class Questionnaire:
    """What the handlers share: the public questionnaire, the image bytes, the static files, the store."""

    def __init__(self, folder: str, log=None):
        self.folder = os.path.abspath(folder)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        try:
            with open(os.path.join(self.folder, PUBLIC)) as f:
                self.public = json.load(f)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.folder} is not a questionnaire built by 'build' ({PUBLIC}: {exc})") from None
        if not isinstance(self.public, dict) or self.public.get("format") != FORMAT:
            raise ConfigError(f"{os.path.join(self.folder, PUBLIC)} is not in the format {FORMAT}")
        try:  # the right format but a missing or malformed entry: one line, not a traceback
            self.questions = {q["id"]: q for q in self.public["questions"]}
            self.order = [q["id"] for q in self.public["questions"]]
            self.parts = {p["part"]: p for p in self.public["parts"]}
            tokens = [t for q in self.public["questions"] for t in q["images"]]
            tokens += [t for p in self.public["parts"] for t in p["examples_real"] + p["examples_generated"]]
            questionnaire_id = self.public["id"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{self.folder} is not a questionnaire built by 'build' ({PUBLIC}: "
                              f"missing or malformed entry {exc})") from None
        self.images = {}
        for token in tokens:  # all in memory: every image is served the same way, from the same place
            if not isinstance(token, str) or not re.fullmatch(r"[0-9a-f]{32}", token):
                raise ConfigError(f"{PUBLIC} names an image token that is not 32 hex digits")
            try:
                with open(os.path.join(self.folder, IMAGES, f"{token}.png"), "rb") as f:
                    self.images[token] = f.read()
            except OSError as exc:
                raise ConfigError(f"{self.folder}: image {IMAGES}/{token}.png cannot be read "
                                  f"({exc.strerror or exc})") from None
        self.static = {}
        for route, (name, ctype) in STATIC.items():
            with open(os.path.join(STATIC_DIR, name), "rb") as f:
                self.static[route] = (f.read(), ctype)
        self.store = Store(os.path.join(self.folder, DATABASE), questionnaire_id)

    def state(self, pid: str | None) -> dict:
        """What the page shows next for this participant: consent, a question, or the end."""
        intro = self.public.get("intro", {})
        out = {"consented": pid is not None, "total": len(self.order), "researcher": intro.get("researcher", "")}
        if pid is None:
            return out
        answered = self.store.answered(pid)
        out["answered"] = sum(1 for q in self.order if q in answered)
        nxt = next((q for q in self.order if q not in answered), None)
        out["done"] = nxt is None
        if nxt is not None:
            q, part = self.questions[nxt], self.parts[self.questions[nxt]["part"]]
            self.store.mark_shown(pid, nxt)
            out["question"] = {"id": nxt, "number": self.order.index(nxt) + 1,
                               "images": [f"/img/{t}.png" for t in q["images"]], "size": part["size"],
                               "examples_real": [f"/img/{t}.png" for t in part["examples_real"]],
                               "examples_generated": [f"/img/{t}.png" for t in part["examples_generated"]]}
        return out

    def answer(self, pid: str, body) -> None:
        """Validate and store one answer (raises Reject)."""
        if not isinstance(body, dict) or set(body) != {"question", "picks"}:
            raise Reject(400, 'the body must be {"question": id, "picks": [i, j]}')
        qid, picks = body["question"], body["picks"]
        if not isinstance(qid, str) or qid not in self.questions:
            raise Reject(404, "unknown question")
        if not isinstance(picks, list) or len(picks) != 2:
            raise Reject(400, "exactly two picks are needed")
        if not all(type(p) is int and 0 <= p < len(self.questions[qid]["images"]) for p in picks):
            raise Reject(400, "picks must be image positions 0 to 3")
        if picks[0] == picks[1]:
            raise Reject(400, "the two picks must be different images")
        try:
            self.store.add_answer(pid, qid, picks)
        except AlreadyAnswered:
            raise Reject(409, "this question was already answered") from None
        except NotShown:
            raise Reject(409, "this question has not been shown to you") from None
