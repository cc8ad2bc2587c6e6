"""The answers database: SQLite in WAL mode, one short-lived connection per operation.

Why this shape:

- The server is threaded; a connection per call (with ``busy_timeout``) lets SQLite serialise
  the writers itself, and WAL lets the report read while participants write. No answer can be
  lost to a race, and none can be counted twice: ``UNIQUE (participant, question)`` makes the
  database, not the handler, the judge of "one submission per question per participant".
- An answer is stored only for a question that was shown to that participant (a ``shown`` row):
  the insert selects from ``shown``, so the check and the write are one statement.
- The ``CHECK`` constraints repeat the server's validation (two distinct picks in 0..3, stored
  sorted), so even a bug in the handler cannot store an impossible answer.
- Participants are anonymous. The browser holds a random bearer token in a cookie; the database
  stores only a hash of it as the participant id, so the file holds no credential and nothing
  about the person. Timestamps are UTC.
- ``meta.questionnaire`` ties the file to one build, so answers of an older build are never
  scored against a new key.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime, timezone

from gan_keras.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    id TEXT PRIMARY KEY,
    consented_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shown (
    participant TEXT NOT NULL REFERENCES participants(id),
    question TEXT NOT NULL,
    shown_at TEXT NOT NULL,
    PRIMARY KEY (participant, question)
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant TEXT NOT NULL REFERENCES participants(id),
    question TEXT NOT NULL,
    pick1 INTEGER NOT NULL CHECK (pick1 BETWEEN 0 AND 3),
    pick2 INTEGER NOT NULL CHECK (pick2 BETWEEN 0 AND 3),
    shown_at TEXT,
    answered_at TEXT NOT NULL,
    CHECK (pick1 < pick2),
    UNIQUE (participant, question)
);
"""
BUSY_TIMEOUT_MS = 10_000


class AlreadyAnswered(Exception):
    """This participant has already answered this question (a replay or a double click)."""


class NotShown(Exception):
    """This question was never shown to this participant (an answer sent ahead of the page)."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def participant_id(token: str) -> str:
    """The stored, anonymous id of a cookie token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


class Store:
    """The answers of one questionnaire build (``questionnaire_id``) in the SQLite file ``path``."""

    def __init__(self, path: str, questionnaire_id: str, create: bool = True):
        self.path = path
        if not create:
            try:  # read-only use (the report): never create an empty file by accident
                sqlite3.connect(f"file:{path}?mode=ro", uri=True).close()
            except sqlite3.Error:
                raise ConfigError(f"no answers yet: {path} does not exist or cannot be read") from None
        with self.connect() as db:
            if create:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('questionnaire', ?)", (questionnaire_id,))
            row = db.execute("SELECT value FROM meta WHERE key = 'questionnaire'").fetchone()
        if row is None or row[0] != questionnaire_id:
            raise ConfigError(f"{path} holds the answers of another build of this questionnaire "
                              f"({row[0] if row else 'none'}, this one is {questionnaire_id}): move it away first")

    def connect(self) -> "_Closing":
        """A new connection, closed when the caller's ``with store.connect() as db:`` block ends."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys=ON")
        return _Closing(db)

    # -- participants -------------------------------------------------------------------------
    def new_participant(self) -> str:
        """Record a consent; returns the cookie token (its hash is the stored id)."""
        token = secrets.token_urlsafe(24)
        with self.connect() as db:
            db.execute("INSERT INTO participants (id, consented_at) VALUES (?, ?)", (participant_id(token), now()))
        return token

    def participant(self, token: str | None) -> str | None:
        """The participant id of a cookie token, or None when it is unknown."""
        if not token or len(token) > 200:
            return None
        pid = participant_id(token)
        with self.connect() as db:
            row = db.execute("SELECT id FROM participants WHERE id = ?", (pid,)).fetchone()
        return row[0] if row else None

    # -- answers ------------------------------------------------------------------------------
    def answered(self, pid: str) -> set[str]:
        with self.connect() as db:
            return {r[0] for r in db.execute("SELECT question FROM answers WHERE participant = ?", (pid,))}

    def mark_shown(self, pid: str, question: str) -> None:
        """When a question was first shown to a participant (kept across reloads)."""
        with self.connect() as db:
            db.execute("INSERT OR IGNORE INTO shown (participant, question, shown_at) VALUES (?, ?, ?)",
                       (pid, question, now()))

    def add_answer(self, pid: str, question: str, picks) -> None:
        """Store one answer to a question shown to ``pid``.

        Raises AlreadyAnswered when (participant, question) exists, NotShown when the question was
        never shown to this participant (then nothing is stored). One statement: the row is
        inserted only if the ``shown`` row exists.
        """
        a, b = sorted(int(p) for p in picks)
        with self.connect() as db:
            try:
                cur = db.execute("INSERT INTO answers (participant, question, pick1, pick2, shown_at, answered_at) "
                                 "SELECT participant, question, ?, ?, shown_at, ? FROM shown "
                                 "WHERE participant = ? AND question = ?",
                                 (a, b, now(), pid, question))
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc):
                    raise AlreadyAnswered(question) from None
                raise
            if cur.rowcount != 1:
                raise NotShown(question)

    def all_answers(self) -> list[dict]:
        with self.connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(
                "SELECT id, participant, question, pick1, pick2, shown_at, answered_at FROM answers ORDER BY id")]

    def participants(self) -> int:
        with self.connect() as db:
            return db.execute("SELECT COUNT(*) FROM participants").fetchone()[0]


class _Closing:
    """A connection that closes when its ``with`` block ends (sqlite3's own only commits)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __getattr__(self, name):
        return getattr(self.db, name)

    def __enter__(self):
        return self.db

    def __exit__(self, *exc):
        self.db.close()
        return False
