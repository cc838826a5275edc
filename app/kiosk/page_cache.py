"""Kiosk and phone pages kept as rendered, in each worker's memory, for the rush.

When a class notice lands in a WeChat group, hundreds of phones open the same course page
within a minute. A view decorated with `cached_page` renders once per distinct key and
answers the rest from memory. The key holds everything the page shows that can differ:

- the request: host and scheme, path and query, and the htmx headers that pick a page or a
  fragment (its target, and whether it restores history);
- the community (its name and settings), the district's settings, the language (and whether
  the session chose it), large text;
- the screen: an enrolled kiosk of this community, a bound phone (of this community or not,
  live or revoked), or a browser that says it is a phone;
- the minute (the clock, "meets next", a sign-up window opening on the minute, today);
- what every page shows from a board above (the urgent notices' version, registered with
  `shown_on_every_page`), and the view's own versions (a course's revision, the classes'
  version): every change a page shows bumps one of them.

The key is read in one go on the driver's connection (app/driver_reads.py): the community
by its slug, the device's and the phone's rows, each version, the district's settings and
the urgent notices, as SQL that names the community itself. It is read before anything
else of the request (the first of its steps, ahead of the community routing): when the page
is kept and the session already holds its CSRF secret, the answer goes out without the
routing's, the ORM's or the view's work. Otherwise the view runs with the same key, and
keeps what it rendered. A key read before the page was rendered is never newer than the
page, so a page is only ever kept under a key at least as old as what it shows.

Each answer still goes through everything a request does (session, security headers,
no-store), and carries the request's own CSRF token: the stored body is kept as the bytes
between the tokens it was rendered with. What the key cannot tell is never kept: signed-in
staff, a phone carrying on a kiosk form, any session entry or cookie the key does not
account for, a query or htmx header that app/inputs.py refuses, a device or phone token the
database does not know (or a kiosk of another community, revoked), and anything but a 200.
PAGE_CACHE = False in the config turns the cache off (tests compare).
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from flask import Response, current_app, g, make_response, request, session
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Select, bindparam, exists, select

from ..communities.models import Community
from ..communities.settings import district_version_columns
from ..driver_reads import Statement, engine_of, read
from ..households.models import Household, HouseholdPhone
from ..households.services import PHONE_COOKIE, PHONE_KEY
from ..i18n import select_locale
from ..inputs import unusable_request
from ..security import token_digest
from .access import says_phone
from .devices import DEVICE_COOKIE
from .models import Kiosk

MAX_ENTRIES = 512
_KEPT_HEADERS = ("Content-Type", "HX-Trigger", "HX-Reswap", "HX-Retarget", "Vary")
# What htmx says that picks a page or a fragment (app/web.py's page_or_fragment).
_HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-History-Restore-Request")
# What a session may hold for its pages to be kept: what the key accounts for (the language
# chosen, large text), the CSRF secret (each answer carries its own token), and the name a
# phone's typed household codes are counted under (shown nowhere). Anything else (staff
# signed in, a kiosk form carried on on a phone) renders afresh.
_SESSION_KEYS = frozenset({"csrf_token", "locale", "large_text", PHONE_KEY})
_lock = threading.Lock()


def _entries(app) -> OrderedDict:
    """This app's pages (an app of its own, as each test builds, keeps its own)."""
    return app.extensions.setdefault("linli_page_cache", OrderedDict())


def minute() -> int:
    """The minute now: what a page's clock, "next meeting" and sign-up windows move by."""
    return int(time.time() // 60)


# What the boards above draw on every page (the urgent notices' banner): each registers an
# app/polls.py FastPoll whose statement and version are the banner's, so the kiosk base
# needs no board.
_EVERY_PAGE: list = []


def shown_on_every_page(poll):
    """Register the version of something every kiosk and phone page shows (a FastPoll)."""
    _EVERY_PAGE.append(poll)
    return poll


# --- the key ----------------------------------------------------------------------------------

def _screen_columns() -> list:
    """The device and the phone the request's cookies name, as columns of the community's row."""
    kiosk_here = exists().where(Kiosk.token_hash == bindparam("kiosk"), Kiosk.revoked_at.is_(None),
                                Kiosk.community_id == Community.id)
    phone = select(HouseholdPhone.community_id).where(HouseholdPhone.token_hash == bindparam("phone"))
    phone_live = (select(HouseholdPhone.id).join(Household, Household.id == HouseholdPhone.household_id)
                  .where(HouseholdPhone.token_hash == bindparam("phone"), HouseholdPhone.revoked_at.is_(None),
                         Household.revoked_at.is_(None)))
    return [kiosk_here.label("kiosk_here"), phone.scalar_subquery().label("phone_community"),
            exists(phone_live).label("phone_live")]


def _main_statement(versions: tuple, names: tuple[str, ...]) -> Select:
    groups = {name: bindparam(name) for name in names}
    return (select(Community.id, Community.name, Community.name_en, Community.settings, *_screen_columns(),
                   *district_version_columns(), *(version(Community.id, **groups) for version in versions))
            .where(Community.slug == bindparam("slug")))


_STATEMENTS: dict[tuple, Statement] = {}


def _statement(view, names: tuple[str, ...]) -> Statement:
    found = _STATEMENTS.get((view, names))
    if found is None:
        found = _STATEMENTS[(view, names)] = Statement(lambda: _main_statement(view.kept_versions, names))
    return found


def _unaccounted(app, asked, held) -> bool:
    """Whether the request carries something the key does not hold (see the module's words)."""
    if not app.config["PAGE_CACHE"] or asked.method != "GET":
        return True
    if not asked.cookies.keys() <= {app.config["SESSION_COOKIE_NAME"], DEVICE_COOKIE, PHONE_COOKIE}:
        return True
    if not held.keys() <= _SESSION_KEYS:
        return True
    return unusable_request()  # refused by app/inputs.py before any view


def _read_key(app, asked, held, view, slug: str):
    """The key of this request's page (`asked` the request, `held` its session), or None."""
    engine = engine_of(app)
    kiosk, phone = asked.cookies.get(DEVICE_COOKIE), asked.cookies.get(PHONE_COOKIE)
    names = tuple(sorted(asked.view_args))
    device = token_digest(kiosk) if kiosk else ""
    reads = [(_statement(view, names), {"slug": slug, "kiosk": device, "phone": token_digest(phone) if phone else "",
                                        **asked.view_args})]
    reads += [(poll.driver(), {**poll.values(engine.dialect), "slug": slug, "token": device}) for poll in _EVERY_PAGE]
    found = read(engine, reads)
    if not found or not found[0]:
        return None  # no community by this slug (a former one, a typo): the routing's answer
    row, shown = found[0][0], found[1:]
    kiosk_here, phone_community, phone_live = bool(row[4]), row[5], bool(row[6])
    if (kiosk and not kiosk_here) or (phone and phone_community is None):
        return None  # a token nobody holds, a revoked kiosk, another community's kiosk: Flask's answer
    locale = select_locale()  # the catalog Babel will use, without building its Locale
    screen = ("kiosk" if kiosk_here else None,
              None if phone_community is None else (phone_community == row[0], phone_live),
              says_phone())
    return (asked.endpoint, asked.host, asked.scheme, asked.path, asked.query_string,
            *map(asked.headers.get, _HTMX_HEADERS), tuple(row), locale, held.get("locale"),
            bool(held.get("large_text")), screen,
            minute(), tuple(poll.version(rows, lambda: locale, engine.dialect)
                            for poll, rows in zip(_EVERY_PAGE, shown, strict=True)))


def _take_key():
    """The first step of every request: a kept page's key, read before the routing takes the
    slug; the kept page itself when there is one and the session has its CSRF secret."""
    app, asked = current_app._get_current_object(), request._get_current_object()
    view = app.view_functions.get(asked.endpoint) if asked.endpoint else None
    if getattr(view, "kept_versions", None) is None:
        return None  # not a kept page
    held, here = session._get_current_object(), g._get_current_object()
    slug = here.get("community_slug")
    key = here.page_key = None if slug is None or _unaccounted(app, asked, held) else _read_key(
        app, asked, held, view, slug)
    if key is None or "csrf_token" not in held:
        return None  # a session without its secret gets one from the view (a cookie to set)
    entry = _stored(app, key)
    return _answer(entry) if entry is not None else None


def _stored(app, key):
    entries = _entries(app)
    with _lock:
        entry = entries.get(key)
        if entry is not None:
            entries.move_to_end(key)
        return entry


def _store(app, key, entry) -> None:
    entries = _entries(app)
    with _lock:
        entries[key] = entry
        entries.move_to_end(key)
        while len(entries) > MAX_ENTRIES:
            entries.popitem(last=False)


_TOKENS: dict[tuple, str] = {}


def _csrf_token() -> str:
    """The CSRF token Flask-WTF's generate_csrf gives this request: the session's secret
    signed with the time in whole seconds, so the same for a session within a second (then
    signed once); a session without its secret gets one from generate_csrf itself."""
    if "csrf_token" not in session or "csrf_token" in g:
        return generate_csrf()
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    key = (secret, session["csrf_token"], int(time.time()))
    token = _TOKENS.get(key)
    if token is None:
        if len(_TOKENS) >= MAX_ENTRIES:
            _TOKENS.clear()
        token = _TOKENS[key] = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(key[1])
    g.csrf_token = token
    return token


def _answer(entry) -> Response:
    parts, headers = entry
    return Response(_csrf_token().encode().join(parts), 200, headers)


def cached_page(*versions: Callable[..., object]):
    """Keep a read-only view's 200 answers. Each of `versions` is called with the community's
    id column and the view's arguments as bindparams, and gives a scalar SQL expression of
    what the view's body shows beyond the base's (a counter, a revision); the read names the
    community itself (it runs outside the session's scope)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            key = g.get("page_key")
            if key is None:
                return view(*args, **kwargs)
            entry = _stored(current_app, key)
            if entry is not None:
                return _answer(entry)
            token = generate_csrf()
            response = make_response(view(*args, **kwargs))
            if response.status_code == 200 and not response.is_streamed and "Set-Cookie" not in response.headers:
                _store(current_app, key, (response.get_data().split(token.encode()),
                                          [(name, value) for name, value in response.headers
                                           if name in _KEPT_HEADERS]))
            return response

        wrapped.kept_versions = versions
        return wrapped

    return decorate


def init_app(app) -> None:
    """After the community routing: the key is read ahead of it."""
    app.before_request_funcs.setdefault(None, []).insert(0, _take_key)
