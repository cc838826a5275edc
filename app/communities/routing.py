"""Which community a request is for, decided once, before any view runs.

- Public and phone pages name it in the URL, ``/c/<slug>/wall/``, so a link pasted in a
  WeChat group is unambiguous. An enrolled kiosk belongs to exactly one community: its
  requests for another community's pages get a 404.
- The staff console (``/staff/``) works in the community of the staff session, which a
  person in several communities switches.
- Everything else (the kiosk base's own URLs, the sign-in page, error pages) works in the
  kiosk's community, or else in the platform's first.

A path without a community (``/``, ``/wall/``, links from before communities) is redirected,
method and body kept (307), to the same page of the request's community; a slug a community
no longer goes by (renamed, merged) is redirected to the community that holds its records.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from sqlalchemy import Select, bindparam, func, select
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from ..driver_reads import Statement, engine_of, read
from ..extensions import db
from ..i18n import current_locale
from ..security import token_digest
from . import scope, settings
from .models import CodeAlias, Community, CommunitySlug
from .services import SLUG_PATTERN

PREFIX = "/c/<community>"
# The query parameter naming the community a redirected link was for (merged since).
FORMER = "former"
# Paths that never belong to a community's pages.
_NOT_COMMUNITY_PATHS = ("/c/", "/static/", "/staff")

Lookup = Callable[[], int | None]
_device_community: Lookup = lambda: None  # noqa: E731
_staff_community: Lookup = lambda: None  # noqa: E731


def device_community_loader(lookup: Lookup) -> Lookup:
    """The kiosk base registers how to find the community of the kiosk making a request."""
    global _device_community
    _device_community = lookup
    return lookup


@dataclass(frozen=True)
class DeviceRead:
    cookie: str  # the cookie holding the device's token
    statement: Statement  # the device's row by the token's digest (:token_hash), in any community
    keep: Callable[[tuple | None], None]  # keeps the row read (None: no such device) for the request


_device_reads: list[DeviceRead] = []


def device_reader(cookie: str, build: Callable[[], Select]):
    """A device whose row names its own community (a household's phone) registers the
    statement that reads it by its token, and what keeps the row for the request: routing
    reads it with the community the path names, in one go on the driver's connection."""
    def register(keep: Callable[[tuple | None], None]):
        _device_reads.append(DeviceRead(cookie, Statement(build), keep))
        return keep

    return register


def staff_community_loader(lookup: Lookup) -> Lookup:
    """The staff area registers how to find the community a signed-in session works in."""
    global _staff_community
    _staff_community = lookup
    return lookup


def init_app(app: Flask) -> None:
    app.add_template_global(community_name)
    app.url_value_preprocessor(_take_slug)
    app.url_defaults(_add_slug)
    # First of every request's steps (but for app/kiosk/page_cache.py's key, read on the driver's
    # connection with the community named in its SQL): nothing may read a board before the scope is set.
    app.before_request_funcs.setdefault(None, []).insert(0, _resolve)


def _take_slug(_endpoint, values) -> None:
    if values and "community" in values:
        g.community_slug = values.pop("community")


def _add_slug(endpoint: str, values: dict) -> None:
    try:
        expects = "community" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "community")
    except KeyError:  # no such endpoint: Flask's BuildError says so
        return
    if expects:
        values["community"] = current_community().slug


def default_community_id() -> int | None:
    """The platform's first community: the one a browser that is no kiosk sees at /."""
    return db.session.scalar(select(Community.id).order_by(Community.id).limit(1))


@dataclass(frozen=True)
class CommunityView:
    """A community as a request reads it: read once, in one statement, and unchanged by the
    request's commits (an ORM row would be read again after each one)."""

    id: int
    slug: str
    name: str
    name_en: str
    settings: str

    @property
    def overrides(self) -> dict:
        return Community.overrides.fget(self)


_VIEW_COLUMNS = (Community.id, Community.slug, Community.name, Community.name_en, Community.settings)
# With the district's settings' version (app/communities/settings.py keeps them while it holds).
_BY_SLUG = Statement(lambda: select(*_VIEW_COLUMNS, *settings.district_version_columns())
                     .where(Community.slug == bindparam("slug")))
_BY_ID = select(*_VIEW_COLUMNS).where(Community.id == bindparam("id"))
# Where the request names no community: the one given, else the first.
_FALLBACK = select(*_VIEW_COLUMNS).where(
    Community.id == func.coalesce(bindparam("id"), select(func.min(Community.id)).scalar_subquery()))


def _view(row) -> CommunityView | None:
    return CommunityView(*row) if row is not None else None


def current_community() -> CommunityView:
    """The community of this request (or of the enclosing scope.within block)."""
    community_id = scope.current_community_id()
    cached = g.get("community")
    if cached is None or cached.id != community_id:
        cached = g.community = _view(db.session.execute(_BY_ID, {"id": community_id}).first())
    return cached


def community_name() -> str:
    """The name a screen shows: the community's (in English where it has one), or the
    platform's SITE_NAME where no community is chosen (a database being set up)."""
    current = scope.current_scope()
    if current is None or current.community_id is None:
        return current_app.config["SITE_NAME"]
    community = current_community()
    return community.name_en if community.name_en and current_locale() == "en" else community.name


def _use(community: CommunityView) -> None:
    g.community = community
    scope.set_request_scope(community.id)


def _read_at_once(slug: str | None) -> CommunityView | None:
    """The community the path names and each device the cookies name, read in one go on
    the driver's connection (each statement names what it reads; the district's role on
    PostgreSQL). Where the database did not answer, the same statements go through the
    session, which meets the trouble and answers it as every request does."""
    asked, devices = [], []
    if slug:
        asked.append((_BY_SLUG, {"slug": slug}))
    for device in _device_reads:
        token = request.cookies.get(device.cookie)
        if token:
            asked.append((device.statement, {"token_hash": token_digest(token)}))
            devices.append(device)
    if not asked:
        return None
    found = read(engine_of(current_app), asked)
    if found is None:
        with scope.across("routing: the community the path names, and the devices the cookies name"):
            found = [db.session.execute(statement.build(), values).all() for statement, values in asked]
    rows = [found_rows[0] if found_rows else None for found_rows in found]
    for device, row in zip(devices, rows[1:] if slug else rows):
        device.keep(tuple(row) if row is not None else None)
    if not slug or rows[0] is None:
        return None
    settings.district_version_seen(rows[0][len(_VIEW_COLUMNS):])
    return _view(rows[0][:len(_VIEW_COLUMNS)])


def _resolve():
    scope.set_request_scope(None)
    slug = g.pop("community_slug", None)
    if slug is not None and not SLUG_PATTERN.fullmatch(slug):
        slug = ""  # no community's (a NUL byte, say, never reaches a query)
    community = _read_at_once(slug)
    with scope.across("routing: the kiosk's community"):
        device = _device_community()
    if slug:
        if community is not None and device in (None, community.id):
            return _use(community)
    staff = _staff_community() if request.path.startswith("/staff") else None
    fallback = _view(db.session.execute(_FALLBACK, {"id": staff or device}).first())
    if fallback is None:
        return None  # no community yet (a database being set up): nothing scoped can be read
    _use(fallback)  # error pages too are shown in the kiosk's own community
    if slug is not None:
        if community is not None:
            abort(404)  # an enrolled kiosk shows its own community only
        return _follow_old_slug(slug)
    if isinstance(request.routing_exception, NotFound) and not request.path.startswith(_NOT_COMMUNITY_PATHS):
        return _redirect_into(fallback)
    return None


def _redirect_into(community: CommunityView):
    """/wall/… → /c/<slug>/wall/…, when that is a page; otherwise the 404 stands."""
    target = f"/c/{community.slug}{request.path}"
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(target, method=request.method)
    except RequestRedirect as moved:  # /c/<slug> → /c/<slug>/
        target = urlsplit(moved.new_url).path
    except HTTPException:
        return None
    query = request.query_string.decode()
    return _moved(target + (f"?{query}" if query else ""))


def _follow_old_slug(slug: str):
    moved = db.session.get(CommunitySlug, slug) if slug else None
    if moved is None:
        abort(404)
    community = db.session.get(Community, moved.community_id)
    rest = request.path.removeprefix(f"/c/{slug}")
    query = request.query_string.decode()
    if request.args.get("code") and FORMER not in request.args:
        query += f"&{FORMER}={slug}"  # a resident's code may have changed in a merge
    return _moved(f"/c/{community.slug}{rest}" + (f"?{query}" if query else ""))


def code_from_link(kind: str, code: str | None) -> str | None:
    """A resident's code as typed, or, when they came by a link of a community since merged
    into this one (the redirect names it), the code the merge gave their record instead of
    one this community already used (kind: "post", "signup", "request", "card")."""
    former = request.args.get(FORMER)
    if not former or not code:
        return code
    alias = db.session.scalar(select(CodeAlias.new_code).where(
        CodeAlias.former_slug == former, CodeAlias.kind == kind, CodeAlias.old_code == code))
    return alias or code


def _moved(target: str) -> Response:
    """307 keeps the method and the body; no body of its own (a kiosk's first load counts it)."""
    return Response(status=307, headers={"Location": target})
