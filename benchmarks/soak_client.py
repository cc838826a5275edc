"""The soak's browser: one keep-alive HTTP connection with its cookies, every request
recorded, and what a browser reads from a page (CSRF token, htmx taps and polls).

A connection idle longer than the server keeps it (gunicorn keepalive = 5 s) is not
reused, as browsers do: so a broken connection means the server lost it (a killed
worker, the restart), never an idle timeout.
"""

import html
import http.client
import json
import re
import socket
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

# Below gunicorn's keepalive (app/gunicorn_conf.py: 5 s).
REUSE_IDLE_SECONDS = 3.5
TIMEOUT_SECONDS = 20

_MAIN_HEADERS = re.compile(r"""<main id="main" hx-headers='([^']*)'""")
_CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]*)"')
_TAG = re.compile(r"<(?:a|button|div|form|input|aside|section)\b[^>]*\bhx-get=\"[^\"]*\"[^>]*>")
_ATTR = re.compile(r'(?<![-\w])(hx-get|hx-target|hx-trigger|id)="([^"]*)"')
_EVERY = re.compile(r"every (\d+(?:\.\d+)?)s")


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def trigger(self, event: str) -> dict | None:
        """The payload of an htmx event in HX-Trigger, if the response carries it."""
        raw = self.headers.get("HX-Trigger")
        if not raw:
            return None
        try:
            return json.loads(raw).get(event)
        except ValueError:
            return None


@dataclass
class Record:
    """One request as the soak saw it: status (0 when no response came) or error."""

    kind: str
    status: int
    error: str
    start: float
    end: float
    # When this connection was last known good (opened, or its previous answer):
    # a worker killed after that moment can explain a broken connection.
    alive_since: float


@dataclass
class Browser:
    host: str
    port: int
    language: str = "zh-CN,zh;q=0.9,en;q=0.8"
    agent: str = "linli-soak"
    cookies: dict = field(default_factory=dict)
    records: list = field(default_factory=list)
    _connection: http.client.HTTPConnection | None = None
    _alive_since: float = 0.0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        now = time.monotonic()
        if self._connection is not None and now - self._alive_since > REUSE_IDLE_SECONDS:
            self.close()
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
            self._alive_since = now
        return self._connection

    def _store_cookies(self, headers: http.client.HTTPMessage) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(self, kind: str, method: str, path: str, *, form=None, headers: dict | None = None) -> Reply | None:
        """Send one request on the kept-alive connection; the reply, or None when the
        connection broke or timed out (recorded either way under `kind`)."""
        sent = {"Accept-Language": self.language, "User-Agent": self.agent, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = self._connect()
        alive_since = self._alive_since
        start = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as error:
            self.close()
            self.records.append(Record(kind, 0, _error_name(error), start, time.monotonic(), alive_since))
            return None
        end = time.monotonic()
        self._alive_since = end
        if response.will_close:
            self.close()
        self._store_cookies(response.headers)
        self.records.append(Record(kind, response.status, "", start, end, alive_since))
        return Reply(response.status, response.headers, text)


def _error_name(error: Exception) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(error, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                          http.client.IncompleteRead)):
        return "connection reset"
    return type(error).__name__


# --- what a browser reads from a page -----------------------------------------------------

def page_token(text: str) -> str | None:
    """The CSRF token htmx sends from this page (<main hx-headers>)."""
    found = _MAIN_HEADERS.search(text)
    if not found:
        return None
    return json.loads(html.unescape(found.group(1))).get("X-CSRFToken")


def form_token(text: str) -> str | None:
    """The CSRF token of the first form on the page (its hidden input)."""
    found = _CSRF_INPUT.search(text)
    value = found and _VALUE.search(found.group(0))
    return html.unescape(value.group(1)) if value else None


@dataclass(frozen=True)
class Tap:
    url: str
    target: str


@dataclass(frozen=True)
class Poll:
    url: str
    seconds: float
    target: str


def hx_elements(text: str) -> tuple[list[Tap], list[Poll]]:
    """What a tap can ask for (hx-get with a target) and what the page polls (hx-trigger
    "every Ns"), same-site only."""
    taps, polls = [], []
    for tag in _TAG.findall(text):
        attrs = {name: html.unescape(value) for name, value in _ATTR.findall(tag)}
        url = attrs.get("hx-get", "")
        if not url.startswith("/") or url.startswith("//"):
            continue
        trigger = attrs.get("hx-trigger", "")
        target = attrs.get("hx-target", "")
        target = attrs.get("id", "") if target in ("", "this") else target.removeprefix("#")
        every = _EVERY.search(trigger)
        if every:
            polls.append(Poll(url, float(every.group(1)), target))
        elif not trigger or trigger == "click" or "submit" in trigger:
            taps.append(Tap(url, target))
    return taps, polls


def path_of(url: str) -> str:
    return urlsplit(url).path
