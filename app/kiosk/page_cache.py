"""Kiosk and phone pages kept as rendered, in each worker's memory, for the rush.

When a class notice lands in a WeChat group, hundreds of phones open the same course page
within a minute. A view decorated with `cached_page` renders once per distinct key and
answers the rest from memory. The key holds everything the page shows that can differ:

- the request: path and query, and the htmx headers that pick a page or a fragment;
- the community (its name and settings), the district's settings, the language, large text;
- the screen: kiosk or phone layout, an enrolled kiosk or not, whether it may act, and for a
  kiosk whether its session is "fresh" (what the idle reset compares);
- the minute (the clock, "meets next", a sign-up window opening on the minute);
- what every page shows from a board above (the urgent notices' version, registered with
  `shown_on_every_page`), and the view's own versions (a course's revision, the classes'
  version): every change a page shows bumps one of them.

Each answer still goes through everything a request does (session, device token, security
headers, no-store), and carries the request's own CSRF token: the stored body holds a
marker in its place. Signed-in staff, a phone carrying on a kiosk form, and anything but a
200 are never stored. PAGE_CACHE = False in the config turns the cache off (tests compare).
"""

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from flask import Response, current_app, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..communities import settings
from ..communities.routing import current_community
from ..households.services import current_phone
from ..i18n import current_locale
from . import handoff
from .access import can_act, phone_layout

MAX_ENTRIES = 512
# Where the request's CSRF token goes in a stored body (no token can hold a NUL).
TOKEN_MARK = "\x00csrf\x00"
_KEPT_HEADERS = ("Content-Type", "HX-Trigger", "HX-Reswap", "HX-Retarget", "Vary")

_lock = threading.Lock()


def _entries() -> OrderedDict:
    """This app's pages (an app of its own, as each test builds, keeps its own)."""
    return current_app.extensions.setdefault("linli_page_cache", OrderedDict())


def _cacheable() -> bool:
    return (current_app.config["PAGE_CACHE"] and request.method == "GET"
            and not current_user.is_authenticated and not handoff.on_phone())


def _screen() -> tuple:
    from .routes import idle_settings

    idle = idle_settings()  # what an enrolled kiosk's page carries for its idle reset
    phone = current_phone()
    return (phone_layout(), tuple(sorted(idle.items())) if idle else None, bool(can_act()),
            phone is not None and phone.live)


def minute() -> int:
    """The minute now: what a page's clock, "next meeting" and sign-up windows move by."""
    return int(time.time() // 60)


# What the boards above draw on every page (the urgent notices' banner): each registers the
# version of what it draws, so the kiosk base needs no board.
_EVERY_PAGE: list[Callable[[], object]] = []


def shown_on_every_page(version: Callable[[], object]) -> Callable[[], object]:
    """Register the version of something every kiosk and phone page shows."""
    _EVERY_PAGE.append(version)
    return version


def page_key(endpoint: str, versions: tuple) -> tuple:
    """Everything the page shows that can differ between two requests (see the module's words)."""
    community = current_community()
    return (endpoint, request.path, request.query_string, request.headers.get("HX-Request"),
            request.headers.get("HX-Target"), community, json.dumps(settings._district(), sort_keys=True, default=str),
            current_locale(), bool(session.get("large_text")), _screen(), minute(),
            tuple(version() for version in _EVERY_PAGE), versions)


def _stored(key):
    entries = _entries()
    with _lock:
        entry = entries.get(key)
        if entry is not None:
            entries.move_to_end(key)
        return entry


def _store(key, entry) -> None:
    entries = _entries()
    with _lock:
        entries[key] = entry
        entries.move_to_end(key)
        while len(entries) > MAX_ENTRIES:
            entries.popitem(last=False)


def cached_page(*versions: Callable[..., object]):
    """Keep a read-only view's 200 answers; `versions` are called with the view's arguments
    and name what its body shows beyond the base's (cheap reads: a counter, a revision)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not _cacheable():
                return view(*args, **kwargs)
            token = generate_csrf()
            key = page_key(request.endpoint, tuple(version(**kwargs) for version in versions))
            entry = _stored(key)
            if entry is not None:
                body, headers = entry
                return Response(body.replace(TOKEN_MARK, token), 200, headers)
            response = make_response(view(*args, **kwargs))
            if response.status_code == 200 and not response.is_streamed and "Set-Cookie" not in response.headers:
                body = response.get_data(as_text=True)
                _store(key, (body.replace(token, TOKEN_MARK),
                             [(name, value) for name, value in response.headers if name in _KEPT_HEADERS]))
            return response

        return wrapped

    return decorate
