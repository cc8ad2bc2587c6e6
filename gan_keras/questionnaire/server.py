"""``serve``: the questionnaire over HTTP, with the standard library only.

``http.server.ThreadingHTTPServer`` is enough for a questionnaire that a handful of people answer
on a local network, and it adds no dependency. What a web framework would have given is done
here on purpose, and tested:

- a fixed table of routes. The page (``/``), two static files, images under ``/img/<token>.png``
  where the token must be one of the build's, and three JSON endpoints. No path is ever mapped
  to the file system, so ``key.json`` and the database cannot be reached by any URL;
- the server reads ``questionnaire.json`` (tokens and texts) and the images, never ``key.json``;
  scoring happens only in ``report``;
- every submission is validated (a JSON object without repeated keys, a known question that was
  shown to this participant, exactly two distinct integer picks in 0..3, a consented participant);
  bodies over ``MAX_BODY`` bytes get 413 unread, replays and unshown questions 409;
- the Host header must name the served address (or localhost when it is a loopback one), so a
  page on another name that resolves here (DNS rebinding) is refused; serving on all interfaces
  (0.0.0.0) accepts any Host. A POST's Origin, when sent, must match its Host;
- each rejected request gets a 4xx and one log line; an exception never reaches the client as a
  traceback (it is logged by type only), and an unknown HTTP method is a 405, not a 501;
- a strict Content-Security-Policy: the page can load nothing from anywhere else.
"""
from __future__ import annotations

import ipaddress
import json
import re
import signal
import sys
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gan_keras.errors import ConfigError
from gan_keras.questionnaire.app import Questionnaire, Reject

MAX_BODY = 4096                      # bytes; an answer is about 40
DRAIN_LIMIT = 1 << 20                # read (and drop) an oversized body up to this, so the 413 arrives
COOKIE = "participant"
COOKIE_AGE = 30 * 24 * 3600
IMG_RE = re.compile(r"^/img/([0-9a-f]{32})\.png$")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
COMMON_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                  "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                  "Cross-Origin-Resource-Policy": "same-origin"}


class Handler(BaseHTTPRequestHandler):
    server_version = "questionnaire"
    sys_version = ""
    timeout = 20                     # seconds a client may take to send a request
    app: Questionnaire = None        # set by make_server
    verbose = False
    _sent = False                    # whether a response has started (then an error cannot be sent)

    # -- dispatch: every method goes through _handle, unknown methods included -------------
    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def __getattr__(self, name):
        if name.startswith("do_"):  # PUT, DELETE, HEAD, anything: 405, never 501
            return lambda: self._handle(name[3:])
        raise AttributeError(name)

    def _handle(self, method: str) -> None:
        self._sent = False
        try:
            self._route(method)
        except Reject as r:
            self._reject(r.status, r.reason)
        except Exception as exc:  # noqa: BLE001 - logged by type; the client sees no traceback
            self.app.log(f"{self._who()} {method} {self._path_for_log()} -> error {type(exc).__name__}")
            if not self._sent:
                self._send_json(503, {"error": "the server could not handle this request; try again"}, close=True)

    def _route(self, method: str) -> None:
        self._check_host()
        path = self.path.split("?", 1)[0]
        if method not in ("GET", "POST"):
            raise Reject(405, f"method {method[:20]} not allowed")
        if method == "GET":
            if path in self.app.static:
                body, ctype = self.app.static[path]
                return self._send(200, body, ctype, {"Cache-Control": "no-cache"})
            match = IMG_RE.match(path)
            if match and match.group(1) in self.app.images:
                return self._send(200, self.app.images[match.group(1)], "image/png",
                                  {"Cache-Control": "private, max-age=3600"})
            if path == "/api/state":
                return self._send_json(200, self.app.state(self._participant()))
            if path == "/favicon.ico":  # browsers ask for it; no icon, and no log line for it
                return self._send(204, b"", "image/x-icon")
            if path in ("/api/consent", "/api/answer"):
                raise Reject(405, "use POST")
            raise Reject(404, "not found")
        if path not in ("/api/consent", "/api/answer"):
            if path in self.app.static or path == "/api/state":
                raise Reject(405, "use GET")
            raise Reject(404, "not found")
        self._check_origin()
        body = self._read_json()
        if path == "/api/consent":
            if body != {"consent": True}:
                raise Reject(400, 'the body must be {"consent": true}')
            pid = self._participant()
            headers = {}
            if pid is None:
                token = self.app.store.new_participant()
                pid = self.app.store.participant(token)
                headers["Set-Cookie"] = (f"{COOKIE}={token}; Path=/; Max-Age={COOKIE_AGE}; HttpOnly; "
                                         "SameSite=Strict")
            return self._send_json(200, self.app.state(pid), headers)
        pid = self._participant()
        if pid is None:
            raise Reject(403, "no consent recorded for this browser: reload the page")
        self.app.answer(pid, body)
        return self._send_json(200, self.app.state(pid))

    # -- request parts ------------------------------------------------------------------------
    def _participant(self) -> str | None:
        raw = self.headers.get("Cookie")
        if not raw or len(raw) > 4096:
            return None
        try:
            morsel = SimpleCookie(raw).get(COOKIE)
        except CookieError:
            return None
        return self.app.store.participant(morsel.value) if morsel else None

    def _check_host(self) -> None:
        """A request whose Host is not this server's address (DNS rebinding) is refused."""
        allowed = getattr(self.server, "allowed_hosts", None)
        if allowed is None:
            return
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in allowed:
            raise Reject(403, f"unexpected Host header {ascii(host[:100])}: use {self.server.url}")

    def _check_origin(self) -> None:
        """A POST from another site's page (whose Origin is not this server) is refused."""
        origin, host = self.headers.get("Origin"), self.headers.get("Host")
        if origin is not None and (host is None or origin not in (f"http://{host}", f"https://{host}")):
            raise Reject(403, "cross-origin request")

    def _read_json(self):
        if self.headers.get("Transfer-Encoding"):
            raise Reject(411, "send a Content-Length, not a chunked body")
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise Reject(411, "Content-Length required")
        if not re.fullmatch(r"[0-9]{1,12}", raw.strip()):
            raise Reject(400, "bad Content-Length")
        length = int(raw)
        if length > MAX_BODY:
            self._drain(length)
            raise Reject(413, f"body larger than {MAX_BODY} bytes")
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        try:
            data = self.rfile.read(length)
        except OSError:  # the client stopped sending (timeout) or went away
            self.close_connection = True
            raise Reject(408, "the body did not arrive in time") from None
        if len(data) != length:
            raise Reject(400, "body shorter than its Content-Length")
        if ctype != "application/json":
            raise Reject(415, "the body must be application/json")
        try:
            return json.loads(data.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_no_repeats)
        except RepeatedKey:
            raise Reject(400, "the body repeats a key") from None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise Reject(400, "the body is not valid JSON") from None

    def _drain(self, length: int) -> None:
        """Read a refused body (up to DRAIN_LIMIT) so that the client receives the 413 rather than a reset."""
        self.close_connection = True
        left = min(length, DRAIN_LIMIT)
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    # -- responses ------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None, close: bool = False) -> None:
        self._sent = True
        self.send_response(status)
        for name, value in {**COMMON_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if close or self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, obj, headers: dict | None = None, close: bool = False) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json",
                   {"Cache-Control": "no-store", **(headers or {})}, close)

    def _reject(self, status: int, reason: str) -> None:
        self.app.log(f"{self._who()} {self.command} {self._path_for_log()} -> {status} {reason}")
        if not self._sent:
            try:
                self._send_json(status, {"error": reason})
            except OSError:  # the client has gone; nothing more to tell it
                self.close_connection = True

    def version_string(self) -> str:
        return self.server_version

    def _who(self) -> str:
        return self.client_address[0] if self.client_address else "-"

    def _path_for_log(self) -> str:
        return ascii(self.path[:200])  # control characters cannot forge log lines

    def send_error(self, code, message=None, explain=None):
        """The base class's own refusals (bad request line, headers too long): JSON and one log line."""
        self.close_connection = True
        code = 400 if code >= 500 else code
        if getattr(self, "request_version", None) in (None, "", "HTTP/0.9"):
            self.request_version = "HTTP/1.0"  # always a status line, even for a one-word request
        self.app.log(f"{self._who()} {getattr(self, 'command', None) or '-'} "
                     f"{ascii(str(getattr(self, 'path', '') or '')[:200])} -> {code} {message or ''}".rstrip())
        try:
            self._send_json(code, {"error": message or HTTPStatus(code).phrase}, close=True)
        except (OSError, ValueError):
            pass

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.verbose:
            self.app.log(f"{self._who()} {format % args}")


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class RepeatedKey(ValueError):
    """A JSON object names one key twice (json.loads would keep the last silently)."""


def _no_repeats(pairs) -> dict:
    out = {}
    for name, value in pairs:
        if name in out:
            raise RepeatedKey(name)
        out[name] = value
    return out


def allowed_hosts(server_address) -> set[str] | None:
    """The Host header values a server on ``server_address`` accepts; None (any) on all interfaces.

    The address itself with its port (and without it on port 80); on a loopback address also
    ``localhost``, ``127.0.0.1`` and ``[::1]``.
    """
    host, port = server_address[:2]
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        ip = None
    if ip is not None and ip.is_unspecified:
        return None
    names = {host.lower() if ":" not in host else f"[{host.lower()}]"}
    if ip is not None and ip.is_loopback:
        names |= {"localhost", "127.0.0.1", "[::1]"}
    return {f"{n}:{port}" for n in names} | (names if port == 80 else set())


class QuestionnaireServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        """A connection that failed outside a handler (reset, timeout): one line, no traceback."""
        exc = sys.exc_info()[1]
        self.app.log(f"{client_address[0] if client_address else '-'} connection error {type(exc).__name__}")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host if ':' not in host else f'[{host}]'}:{port}/"


def make_server(folder: str, host: str = "127.0.0.1", port: int = 8000, log=None,
                verbose: bool = False) -> QuestionnaireServer:
    """A server for the questionnaire in ``folder`` (not yet serving: call ``serve_forever``)."""
    import socket

    app = Questionnaire(folder, log=log)
    handler = type("BoundHandler", (Handler,), {"app": app, "verbose": verbose})
    server_class = QuestionnaireServer
    if ":" in host:  # an IPv6 address such as ::1
        server_class = type("QuestionnaireServer6", (QuestionnaireServer,), {"address_family": socket.AF_INET6})
    try:
        server = server_class((host, port), handler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    server.app = app
    server.allowed_hosts = allowed_hosts(server.server_address)
    return server


def serve(folder: str, host: str = "127.0.0.1", port: int = 8000, verbose: bool = False) -> None:
    """Serve until Ctrl-C; prints the URL (with ``port=0`` the port the system chose)."""
    server = make_server(folder, host, port, verbose=verbose)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {host}: other machines can reach the questionnaire", file=sys.stderr)
    _stop_on_interrupt_and_terminate()  # before the line below: whoever reads it may stop us at once
    print(f"serving {server.app.folder} ({len(server.app.order)} questions) at {server.url} ; Ctrl-C stops",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print(f"stopped; the answers so far: GAN_questionnaire.py report {server.app.folder}", flush=True)


def _stop_on_interrupt_and_terminate() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both stop ``serve`` cleanly (the database closed, exit status 0).

    A process started from a non-interactive shell's ``&``, or by a parent that ignores SIGINT,
    inherits SIGINT *ignored*, and Python then never raises KeyboardInterrupt: the server could
    only be killed. Setting the handlers here makes the documented stop work however it was started.
    """
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, interrupt)


def serve_in_thread(folder: str, host: str = "127.0.0.1", port: int = 0, log=None):
    """(server, thread): a running server for tests and notebooks; stop with ``server.shutdown()``."""
    server = make_server(folder, host, port, log=log)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
