"""Unchanged polls answered before Flask.

Every kiosk showing the wall or a course asks every few seconds whether it changed
(app/web.py's `poll`), and almost always it has not. Such a poll is answered here, in the
WSGI layer in front of Flask, with one indexed read and the same 204 and headers Flask
would send: no request context, session, routing or ORM.

A board registers a poll it wants answered here with `fast_poll`: the path after
``/c/<slug>``, the query parameters the path may carry besides ``v``, and the version as a
scalar subquery of the community's id and the path's parameters, the same value its view
compares (the wall's counter, a course's revision). A version worked out from several rows
registers a `FastPoll` of its own (the urgent banner: a hash of the notices showing now, in
the request's language, which this layer reads as app/i18n.py does). The read also checks
what Flask's community routing checks: the slug names a community, and the device cookie
is not that of a live kiosk of another community (its pages are a 404 to that kiosk).

Anything this layer is not sure of goes on to Flask, which answers as it always did: a
version that differs, a slug or course that does not exist, a kiosk of another community, a
query or header with anything unexpected in it, a method but GET. So it can only ever
answer what Flask would have answered, sooner.

The read runs on the driver's own connection (app/driver_reads.py), outside the ORM, so the
session's community scope does not apply: the statement names the community itself.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Dialect, Select, bindparam, exists, select
from werkzeug.http import parse_cookie

from . import driver_reads
from .communities.models import Community
from .communities.services import SLUG_PATTERN
from .inputs import unusable
from .driver_reads import Statement
from .security import SECURITY_HEADERS, token_digest

# What a query parameter of a poll may hold (versions, ids, filter names).
_VALUE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_COMMUNITY_PATH = re.compile(r"/c/([^/]+)(/.*)")

# A board's statement, given the `elsewhere` column (first in its select) and a bindparam
# per group of the path; what it reads as the version, given the rows, the request's locale
# (a function: read only when asked) and the database's dialect.
Built = Callable[..., Select]
Version = Callable[[list, Callable[[], str], Dialect], str | None]


@dataclass
class FastPoll:
    path: re.Pattern
    statement: Built
    version: Version
    extra_params: frozenset[str]
    # Values of the statement's own bindparams at this moment (the clock), for the dialect.
    values: Callable[[Dialect], dict] = lambda _dialect: {}
    _driver: Statement | None = field(default=None, repr=False)

    def driver(self) -> Statement:
        """The statement for the driver: the `elsewhere` column and a bindparam per group."""
        if self._driver is None:
            self._driver = Statement(lambda: self.statement(
                _elsewhere(), **{name: bindparam(name) for name in self.path.groupindex}))
        return self._driver


_POLLS: list[FastPoll] = []


def register(poll: FastPoll) -> None:
    """Answer the unchanged polls of ``/c/<slug>`` + ``poll.path`` before Flask. The path is a
    regular expression whose named groups are integers; its statement selects from
    Community (the slug's, named by ``bindparam("slug")``) and yields no row when no
    community goes by the slug."""
    _POLLS.append(poll)


def fast_poll(path: str, version: Callable[..., ColumnElement], *, params: tuple[str, ...] = ()) -> None:
    """A poll whose version is one value: ``version(community_id, **groups)`` builds it as
    a scalar subquery (groups as bindparams), and its text is the poll's current ``v``.
    ``params`` are other query parameters the poll URL may carry that do not change the
    answer to an unchanged poll."""

    def statement(elsewhere, **groups) -> Select:
        return select(elsewhere, version(Community.id, **groups)).where(Community.slug == bindparam("slug"))

    register(FastPoll(re.compile(path), statement, _one_value, frozenset(params)))


def _one_value(rows, _locale, _dialect) -> str | None:
    return None if rows[0][1] is None else str(rows[0][1])


def _elsewhere() -> ColumnElement:
    """Whether the device cookie is a live kiosk of another community (its pages are a 404)."""
    from .kiosk.models import Kiosk

    return exists().where(Kiosk.token_hash == bindparam("token"), Kiosk.revoked_at.is_(None),
                          Kiosk.community_id != Community.id)


class _Cookies:
    """What this layer reads of a request's Cookie header: the device token (as its digest,
    the form the database keeps), and the session cookie, whose language choice is read as
    app/i18n.py's select_locale reads it, through the app's session interface (which checks
    its signature once and its age each time, as Flask does). A kiosk sends the same header
    poll after poll: what it names is kept under the header's digest (not the header), and
    the header is parsed only the first time."""

    KEPT = 4096

    def __init__(self, app, device_cookie: str):
        self.app = app
        self.device_cookie = device_cookie
        self.kept: dict[str, tuple[str, str | None]] = {}

    def said(self, header: str) -> tuple[str, str | None]:
        """(the device token's digest or "", the session cookie or None)."""
        key = token_digest(header)
        found = self.kept.get(key)
        if found is None:
            cookies = parse_cookie(header)
            token = cookies.get(self.device_cookie)
            found = (token_digest(token) if token else "", cookies.get(self.app.config["SESSION_COOKIE_NAME"]))
            if len(self.kept) >= self.KEPT:
                self.kept.clear()
            self.kept[key] = found
        return found

    def language(self, said: tuple[str, str | None], env) -> str:
        """The request's language: the session's choice, else the browser's Accept-Language,
        else the site's."""
        from .i18n import LOCALES, accepted_locale

        session = said[1]
        data = self.app.session_interface.verified(self.app, session) if session and self.app.secret_key else None
        chosen = data.get("locale") if data else None
        if chosen in LOCALES:
            return chosen
        return accepted_locale(env.get("HTTP_ACCEPT_LANGUAGE")) or self.app.config["BABEL_DEFAULT_LOCALE"]


class UnchangedPolls:
    """WSGI middleware in front of the Flask app (inside any proxy fix, so the scheme is the
    one Flask sees)."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._engine = None
        from .kiosk.devices import DEVICE_COOKIE

        self._cookies = _Cookies(app, DEVICE_COOKIE)

    def __call__(self, env, start_response):
        if (self.app.config["FAST_POLLS"] and env.get("REQUEST_METHOD") == "GET"
                and self._unchanged(env)):
            start_response("204 NO CONTENT", self._headers(env))
            return []
        return self.wsgi_app(env, start_response)

    def _unchanged(self, env) -> bool:
        found = _COMMUNITY_PATH.fullmatch(env.get("PATH_INFO", ""))
        if found is None or not SLUG_PATTERN.fullmatch(found[1]):
            return False
        for poll in _POLLS:
            matched = poll.path.fullmatch(found[2])
            if matched is not None:
                break
        else:
            return False
        # name=value pairs of plain characters only: anything encoded is Flask's to read.
        pairs = dict(part.split("=", 1) for part in env.get("QUERY_STRING", "").split("&") if "=" in part)
        if (len(pairs) != env.get("QUERY_STRING", "").count("&") + 1 or "v" not in pairs
                or not pairs.keys() <= poll.extra_params | {"v"} or not all(map(_VALUE.fullmatch, pairs.values()))
                or unusable(env.get("HTTP_HX_CURRENT_URL", ""))):
            return False
        groups = matched.groupdict()
        if any(len(value) > 9 for value in groups.values()):
            return False  # an id past PostgreSQL's INTEGER: Flask's 404
        said = self._cookies.said(env.get("HTTP_COOKIE", ""))
        rows = self._read(poll, found[1], said[0], {name: int(value) for name, value in groups.items()})
        if not rows or rows[0][0]:
            return False  # no such community, or a kiosk of another one: Flask's answer
        version = poll.version(rows, lambda: self._cookies.language(said, env), self._engine.dialect)
        return version is not None and version == pairs["v"]

    def _read(self, poll: FastPoll, slug: str, device: str, groups: dict) -> list:
        engine = self._engine = driver_reads.engine_of(self.app)
        # A handful of integers to compare: SQLAlchemy's execution would cost more than the read.
        found = driver_reads.read(engine, [(poll.driver(), {**poll.values(engine.dialect), "slug": slug,
                                                            "token": device, **groups})])
        return found[0] if found else []

    def _headers(self, env) -> list[tuple[str, str]]:
        """What Flask's 204 carries: app/security.py's headers, and Vary: Cookie, as the
        request's session was looked at."""
        headers = [("Content-Type", "text/html; charset=utf-8"), *SECURITY_HEADERS.items(),
                   ("Vary", "HX-Request, Cookie"), ("Cache-Control", "no-store")]
        if env.get("wsgi.url_scheme") == "https":
            from .security import HSTS_SECONDS

            headers.append(("Strict-Transport-Security", f"max-age={HSTS_SECONDS}"))
        return headers


def init_app(app) -> None:
    """Before app/security.py's proxy fix wraps the app."""
    app.wsgi_app = UnchangedPolls(app, app.wsgi_app)
