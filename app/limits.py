"""Per-device rate limits that hold across gunicorn workers, instances and restarts.

Counts live in the database (a fixed window per key, bumped by one upsert; housekeeping
clears the windows gone by), or in Redis when REDIS_URL is configured. Keys name the
actor: a kiosk, a staff member, a phone link.
"""

import re
import time
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, has_request_context, make_response, render_template, request
from sqlalchemy import Engine, ForeignKey, Integer, String, bindparam, delete, event, exists
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, aliased, mapped_column

from .communities import scope, settings
from .communities.models import CommunityScoped
from .communities.settings import setting
from .extensions import db
from .i18n import lazy_gettext as _l
from .web import events

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class RateCounter(CommunityScoped, db.Model):
    __tablename__ = "rate_counters"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Limit":
        """'5 per minute', '20 per 10 minutes'."""
        match = re.fullmatch(r"\s*(\d+)\s+per\s+(\d+\s+)?(second|minute|hour|day)s?\s*", text)
        if not match:
            raise ValueError(f"not a limit: {text!r}")
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * _PERIODS[unit])


def _limits_setting(text: str, name: str) -> dict[str, str]:
    """Per-kiosk limits as a community's settings form takes them: "name = N per period"."""
    limits = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        try:
            if not re.fullmatch(r"[a-z][a-z-]{1,30}", key):
                raise ValueError(key)
            Limit.parse(value)
        except ValueError:
            raise settings.SettingError(_l("One limit per line, such as: class-signup = 60 per 10 minutes"),
                                        name) from None
        limits[key] = value
    return limits


settings.register(settings.Setting("RATE_LIMITS", _l("Per-kiosk limits"), _limits_setting, settings.pairs,
                                   _l("One per line, such as: class-signup = 60 per 10 minutes")))


def _counting(insert):
    """Count one hit in a key's window, made once per dialect: an upsert returning the count."""
    return (insert(RateCounter)
            .values(community_id=bindparam("community_id"), key=bindparam("key"), window=bindparam("window"), hits=1)
            .on_conflict_do_update(index_elements=["community_id", "key", "window"],
                                   set_={"hits": RateCounter.hits + 1})
            .returning(RateCounter.hits))


_COUNT = {"postgresql": _counting(pg_insert), "sqlite": _counting(sqlite_insert)}


def _hit_database(key: str, window: int, *, joined: "_Joined | None" = None) -> int:
    # One write, run on the session's connection, as a sign-up's writes are
    # (scope.execute_on_connection), so that the writer's turn is held briefly. A transaction
    # of its own, unless it is to commit with the action it counts (`joined`).
    params = {"community_id": scope.current_community_id(), "key": key, "window": window}
    hits = scope.execute_on_connection(_COUNT[db.engine.dialect.name], params)[0][0]
    if joined is None:
        db.session.commit()
    else:
        joined.counted, joined.connection = (key, window), db.session.connection()
    return hits


class _Joined:
    """A hit counted in the transaction of the action it limits, to commit with it.

    On PostgreSQL the counter's row is the actor's own: holding its lock until the action
    commits keeps no one else waiting, and the action spends one transaction where it spent
    two (BEGIN, the scope, COMMIT and its flush of the log, per limited action). SQLite has
    one writer for the whole database: there the hit commits at once, so that the action
    takes the writer only when its own writes begin. Whatever the action does after the hit
    (commits, rolls back, raises, or only reads), the hit is kept: a hit its transaction did
    not commit is counted again on its own (`keep`)."""

    def __init__(self):
        self.counted: tuple[str, int] | None = None  # the key and window counted, once they are
        self.connection = None  # the session's connection the hit was counted on
        self.fate: str | None = None  # "committed" or "rolled back", once its transaction ends

    @staticmethod
    def wanted() -> bool:
        return db.engine.dialect.name == "postgresql" and not current_app.config.get("REDIS_URL")

    def ended(self, connection, fate: str) -> None:
        if self.fate is None and connection is self.connection:
            self.fate = fate

    def keep(self) -> None:
        if self.counted is None or self.fate == "committed":
            return
        if self.fate is None:
            db.session.rollback()  # what the action left uncommitted was not to be kept
        _hit_database(*self.counted)


def _joined_hits() -> list[_Joined]:
    """The request's hits waiting on their transaction (one per limited view it is inside)."""
    return g.get("linli_joined_hits", ()) if has_request_context() else ()


# The connection's own transaction ending (a savepoint's release or rollback is not one).
@event.listens_for(Engine, "commit")
def _joined_hits_committed(connection) -> None:
    for joined in _joined_hits():
        joined.ended(connection, "committed")


@event.listens_for(Engine, "rollback")
def _joined_hits_rolled_back(connection) -> None:
    for joined in _joined_hits():
        joined.ended(connection, "rolled back")


_LATER = aliased(RateCounter)
# A key's windows before its latest count for nothing: only the window a hit falls in is read.
_PAST_WINDOWS = delete(RateCounter).where(exists().where(_LATER.key == RateCounter.key,
                                                         _LATER.window > RateCounter.window))


def clear_past_windows() -> int:
    """Delete every key's windows but its latest (housekeeping): the table holds a row per
    key that acted, as a hit's own clearing did, without a statement on the hit that opens a
    window (every tap of a rush is one)."""
    cleared = db.session.execute(_PAST_WINDOWS, execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    return cleared


_redis_clients = {}


def _hit_redis(url: str, key: str, window: int, seconds: int) -> int:
    import redis

    client = _redis_clients.get(url) or _redis_clients.setdefault(url, redis.Redis.from_url(url))
    name = f"{current_app.config['RATE_LIMIT_NAMESPACE']}:rate:{key}:{window}"
    pipeline = client.pipeline()
    pipeline.incr(name)
    pipeline.expire(name, seconds + 1)
    hits, _ = pipeline.execute()
    return int(hits)


def hit(key: str, limit: Limit, now: float | None = None, *, joined: _Joined | None = None) -> int:
    """Count one action for key; the seconds to wait if it is over the limit, else 0. With
    `joined`, a count in the database is left to commit with the action (Redis counts at once)."""
    now = time.time() if now is None else now
    window = int(now // limit.seconds)
    url = current_app.config.get("REDIS_URL")
    scoped = f"{key}:{limit.count}/{limit.seconds}"
    hits = _hit_redis(url, scoped, window, limit.seconds) if url else _hit_database(scoped, window, joined=joined)
    if hits <= limit.count:
        return 0
    return max(1, int((window + 1) * limit.seconds - now + 0.999))


def _limited(wait: int):
    """429 with "please wait N seconds". htmx leaves what the resident typed in place and
    shows the wait in a banner (app.js, on the limit-reached event)."""
    if request.htmx:
        response = make_response(render_template("_rate_limited.html", wait=wait), 429)
    else:  # a whole page: the same words, inside the kiosk's (or console's) layout
        response = make_response(render_template("errors.html", code=429, reason=None, wait=wait), 429)
    response.headers["Retry-After"] = str(wait)
    if request.htmx:
        response.headers["HX-Reswap"] = "none"
        events(response, limit_reached={"seconds": wait})
    return response


def rate_limited(name: str, default: str, actor_key):
    """Limit a view per actor. The limit comes from the community's RATE_LIMITS[name] or default;
    ``actor_key()`` names who acts (None: not limited here, the view refuses it anyway)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            key = actor_key()
            if key is None:
                return view(*args, **kwargs)
            limit, key = Limit.parse(setting("RATE_LIMITS").get(name, default)), f"{name}:{key}"
            if not _Joined.wanted():
                wait = hit(key, limit)
                return _limited(wait) if wait else view(*args, **kwargs)
            joined = _Joined()
            g.setdefault("linli_joined_hits", []).append(joined)
            try:
                wait = hit(key, limit, joined=joined)
                if wait:
                    db.session.commit()
                    return _limited(wait)
                return view(*args, **kwargs)
            finally:
                g.linli_joined_hits.remove(joined)
                joined.keep()

        return wrapped

    return decorate
