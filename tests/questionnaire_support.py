"""Shared by the questionnaire tests: two tiny real runs, one build, a server in a thread, HTTP.

The runs and the build are made once per test session (a module-level cache: both test modules
use them), and every test gets its own copy of the built folder, so each starts with no answers.
"""
import http.client
import json
import os
import shutil
import threading

_CACHE = {}
QUESTIONS = 3     # per model
EXAMPLES = 2


def built_template(tmp_path_factory, data_dir) -> str:
    """A questionnaire built (through the CLI's main) from a GAN and a DCGAN run of 1-2 iterations."""
    if "template" not in _CACHE:
        from gan_keras.cli.questionnaire import main
        from gan_keras.training.config import RunConfig
        from gan_keras.training.loop import Trainer

        root = tmp_path_factory.mktemp("questionnaire_runs")
        runs = []
        for model, epochs, batch in (("GAN", 2, 8), ("DCGAN", 1, 2)):
            config = RunConfig(model=model, dataset="mnist", epochs=epochs, batch_size=batch, sample_interval=1,
                               save_model_interval=1, out=str(root / model), seed=0, data_dir=data_dir,
                               tensorboard=False, progress_seconds=1e9)
            runs.append(Trainer(config).run())
        out = str(root / "Q")
        code = main(["build", *runs, "--questions", str(QUESTIONS), "--examples", str(EXAMPLES), "--out", out])
        assert code == 0
        _CACHE["template"] = out
        _CACHE["runs"] = runs
    return _CACHE["template"]


def runs() -> list:
    return _CACHE["runs"]


def fresh_copy(template: str, dest) -> str:
    folder = os.path.join(str(dest), "Q")
    shutil.copytree(template, folder)
    return folder


def read_key(folder: str) -> dict:
    with open(os.path.join(folder, "key.json")) as f:
        return json.load(f)


class Served:
    """A server on 127.0.0.1 (or ``host``) and a free port, in a thread, with its log lines collected."""

    def __init__(self, folder: str, host: str = "127.0.0.1"):
        from gan_keras.questionnaire.server import serve_in_thread

        self.folder = folder
        self.logs = []
        self._lock = threading.Lock()
        self.server, self.thread = serve_in_thread(folder, host=host, log=self._log)
        self.host, self.port = self.server.server_address[:2]
        self.url = self.server.url

    def _log(self, line):
        with self._lock:
            self.logs.append(line)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def request(self, method, path, body=None, headers=None, cookie=None):
        """(status, headers dict (lower-case names), body bytes); ``body`` may be bytes or a JSON value.

        A "Host" in ``headers`` replaces the one http.client would send.
        """
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        headers = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        if cookie:
            headers["Cookie"] = cookie
        try:
            conn.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            if body is not None and "Content-Length" not in headers:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def consent(self) -> str:
        """A new participant: the cookie to send back."""
        status, headers, _ = self.request("POST", "/api/consent", {"consent": True})
        assert status == 200
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        return cookie.split(";", 1)[0]

    def answer(self, cookie, question, picks):
        return self.request("POST", "/api/answer", {"question": question, "picks": picks}, cookie=cookie)


def db_rows(folder: str) -> list:
    import sqlite3

    db = sqlite3.connect(os.path.join(folder, "answers.sqlite"))
    try:
        return db.execute("SELECT participant, question, pick1, pick2 FROM answers ORDER BY id").fetchall()
    finally:
        db.close()


def picks_with_wrong(generated, wrong: int) -> list:
    """Two positions with exactly ``wrong`` real images among them."""
    real = [p for p in range(4) if p not in generated]
    return sorted(list(generated[:2 - wrong]) + real[:wrong])
