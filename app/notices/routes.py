import re
from functools import cache, lru_cache
from typing import NamedTuple

from flask import abort, render_template
from sqlalchemy import and_, bindparam, select

from ..clock import utcnow
from ..communities.models import Community
from ..i18n import current_locale
from ..boards import board_version_of, follows
from ..kiosk.page_cache import cached_page, shown_on_every_page
from ..polls import FastPoll, register
from ..web import page_or_fragment, poll
from . import bp, services
from .models import Notice


follows(services.BOARD, "notices")


@bp.get("/")
@cached_page(board_version_of(services.BOARD))
def index():
    return page_or_fragment("notices/index.html", notices=services.current_notices(current_locale()))


@bp.get("/<int:notice_id>")
@cached_page(board_version_of(services.BOARD))
def show(notice_id: int):
    notice = services.showing_notice(notice_id, current_locale())
    if notice is None:
        abort(404)
    return page_or_fragment("notices/show.html", notice=notice)


@bp.get("/urgent")
def urgent():
    """Polled by every kiosk screen: 204 while its urgent banner is still right."""
    locale = current_locale()
    return poll(services.urgent_version(locale),
                lambda: render_template("notices/_urgent.html", urgent=services.urgent_banner(locale)))


class _Stamp(NamedTuple):
    id: int
    updated_at: object


def _urgent_statement(elsewhere):
    """The community's urgent notices showing now: a row each, one with none when none is."""
    showing = and_(Notice.community_id == Community.id, services.urgent_at(services.NOW))
    return (select(elsewhere, Notice.id, Notice.updated_at).select_from(Community).outerjoin(Notice, showing)
            .where(Community.slug == bindparam("slug")))


@cache
def _converters(dialect) -> tuple:
    """How the driver takes a time, and gives one back (SQLite: as text)."""
    times = services.NOW.type.dialect_impl(dialect)
    return times.bind_processor(dialect), times.result_processor(dialect, None)


def _urgent_now(dialect) -> dict:
    to_database = _converters(dialect)[0]
    return {"now": to_database(utcnow()) if to_database else utcnow()}


def _urgent_read(rows, locale, dialect) -> str:
    return _urgent_hash(locale(), tuple((row[1], row[2]) for row in rows if row[1] is not None), dialect)


@lru_cache(maxsize=256)
def _urgent_hash(locale: str, stamps: tuple, dialect) -> str:
    """The banner's version from the rows as the driver gives them: the same rows, poll after
    poll, until a notice starts, ends or is edited."""
    from_database = _converters(dialect)[1]
    return services.urgent_hash(locale, [_Stamp(notice_id, from_database(updated_at) if from_database else updated_at)
                                         for notice_id, updated_at in stamps])


# Every kiosk and phone page draws the banner: kept pages are keyed by its version too.
register(shown_on_every_page(FastPoll(re.compile("/notices/urgent"), _urgent_statement, _urgent_read, frozenset(),
                                      _urgent_now)))


@bp.app_context_processor
def urgent_banner_context():
    # Every kiosk page draws the urgent banner, read only when a template asks for it.
    return {"urgent_banner": lambda: services.urgent_banner(current_locale())}
