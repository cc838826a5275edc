"""Notices: which are showing now, in the reader's language; staff write, end and delete them."""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, case, or_, select, update

from .. import audit, lengths
from ..clock import from_site, to_site, utcnow
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from .models import URGENCIES, Notice

# The board kept pages of notices (and the home screen's strip) are versioned by (app/boards.py).
BOARD = "notices"

ENDED_LISTED_DAYS = 30  # how far back the console lists ended notices
STATES = ("showing", "scheduled", "ended")
# Control characters but tab and newline: invisible, and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class NoticeError(Refused):
    default_field = "title"


@dataclass(frozen=True)
class NoticeView:
    id: int
    title: str
    body: str
    urgent: bool
    starts_at: datetime
    ends_at: datetime | None


def _view(notice: Notice, locale: str) -> NoticeView:
    english = locale == "en" and notice.title_en
    return NoticeView(
        id=notice.id,
        title=notice.title_en if english else notice.title,
        body=(notice.body_en or notice.body) if english else notice.body,
        urgent=notice.urgency == "urgent",
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
    )


def _showing(now: datetime):
    return select(Notice).where(_showing_at(now))


def _showing_at(now):
    return and_(Notice.starts_at <= now, or_(Notice.ends_at.is_(None), Notice.ends_at > now))


@cache
def _current(limited: bool):
    """Notices showing at NOW, urgent first, then the newest (at most LIMIT where limited):
    built once, as every kiosk home and notices page reads it."""
    query = select(Notice).where(_showing_at(NOW)).order_by(
        case((Notice.urgency == "urgent", 0), else_=1), Notice.starts_at.desc(), Notice.id.desc())
    return query.limit(bindparam("limit")) if limited else query


def current_notices(locale: str, limit: int | None = None, now: datetime | None = None) -> list[NoticeView]:
    """Notices showing now: urgent first, then the newest."""
    values = {"now": now or utcnow()} | ({"limit": limit} if limit else {})
    return [_view(notice, locale) for notice in db.session.scalars(_current(bool(limit)), values)]


def showing_notice(notice_id: int, locale: str, now: datetime | None = None) -> NoticeView | None:
    """One notice, if it is showing now; ended and future notices are not public."""
    notice = db.session.scalar(_showing(now or utcnow()).where(Notice.id == notice_id))
    return _view(notice, locale) if notice else None


def add_notice(title: str, body: str = "", *, title_en: str | None = None, body_en: str | None = None,
               urgent: bool = False, starts_at: datetime | None = None,
               ends_at: datetime | None = None) -> int:
    notice = Notice(
        title=title, body=body, title_en=title_en, body_en=body_en,
        urgency="urgent" if urgent else "normal",
        starts_at=starts_at or utcnow(), ends_at=ends_at,
    )
    db.session.add(notice)
    db.session.commit()
    return notice.id


def urgent_at(now):
    """The urgent notices showing at `now` (a time, or a bindparam: app/polls.py)."""
    return and_(_showing_at(now), Notice.urgency == "urgent")


def urgent_hash(locale: str, rows) -> str:
    """The urgent banner's version from its notices' ids and update times (rows with .id and
    .updated_at), for one language."""
    text = locale + "|" + "|".join(f"{row.id}@{row.updated_at.isoformat()}" for row in sorted(rows, key=lambda r: r.id))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def urgent_notices(locale: str, now: datetime | None = None) -> list[NoticeView]:
    """Urgent notices showing now, the newest first: the banner on top of every kiosk screen."""
    return urgent_banner(locale, now)[1]


def urgent_banner(locale: str, now: datetime | None = None) -> tuple[str, list[NoticeView]]:
    """The banner's version and notices, from one query (a full kiosk page draws both)."""
    notices = list(db.session.scalars(_URGENT_BANNER, {"now": now or utcnow()}))
    return urgent_hash(locale, notices), [_view(notice, locale) for notice in notices]


# "Now" as a bound parameter of statements built once (this one, read by every kiosk page
# and banner poll, and the urgent poll's in app/notices/routes.py).
NOW = bindparam("now", type_=Notice.starts_at.type)
_URGENT_STAMPS = select(Notice.id, Notice.updated_at).where(urgent_at(NOW))
_URGENT_BANNER = select(Notice).where(urgent_at(NOW)).order_by(Notice.starts_at.desc(), Notice.id.desc())


def urgent_version(locale: str, now: datetime | None = None) -> str:
    """Changes when an urgent notice starts, ends or is edited, or the language changes:
    kiosks' banner polls get 204 while it stays the same. Reads two columns only."""
    return urgent_hash(locale, db.session.execute(_URGENT_STAMPS, {"now": now or utcnow()}).all())


# --- the staff console ---------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeData:
    """A notice as staff write it; times are the site's local times, as the form shows them."""

    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    urgency: str = "normal"
    body: str = ""
    title_en: str = ""
    body_en: str = ""


def _text(text: str | None, limit: int, field: str, *, one_line: bool = False) -> str:
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n"))
    text = " ".join(text.split()) if one_line else text.strip()
    if len(text) > limit:
        raise NoticeError(_l("At most %(n)d characters.", n=limit), field)
    return text


def _stored_time(moment: datetime, field: str) -> datetime:
    try:
        return from_site(moment)
    except OverflowError:  # the first or last moments a datetime can hold
        raise NoticeError(_l("Please give a date and a time, e.g. 2026-12-05 14:30."), field) from None


def check_notice(data: NoticeData) -> dict:
    """The columns to store (times in UTC), or NoticeError naming the field that is wrong."""
    title = _text(data.title, lengths.NOTICE_TITLE, "title", one_line=True)
    if not title:
        raise NoticeError(_l("Please write the notice's title."), "title")
    if data.urgency not in URGENCIES:
        raise NoticeError(_l("Please choose normal or urgent."), "urgency")
    starts_at = _stored_time(data.starts_at, "starts_at")
    ends_at = _stored_time(data.ends_at, "ends_at") if data.ends_at else None
    if ends_at is None and data.urgency == "urgent":
        raise NoticeError(_l("An urgent notice needs an end time: its banner must not stay on the kiosks for ever."),
                          "ends_at")
    if ends_at is not None and ends_at <= starts_at:
        raise NoticeError(_l("The end must come after the start."), "ends_at")
    return {
        "title": title,
        "body": _text(data.body, lengths.NOTICE_BODY, "body"),
        "title_en": _text(data.title_en, lengths.NOTICE_TITLE_EN, "title_en", one_line=True) or None,
        "body_en": _text(data.body_en, lengths.NOTICE_BODY_EN, "body_en") or None,
        "urgency": data.urgency, "starts_at": starts_at, "ends_at": ends_at,
    }


def _summary(notice: Notice) -> dict:
    return {"title": notice.title, "urgency": notice.urgency, "starts_at": notice.starts_at, "ends_at": notice.ends_at}


def save_notice(notice_id: int | None, data: NoticeData, *, staff_id: int | None = None) -> Notice:
    """Create or edit a notice; kiosks pick the change up at their next poll (updated_at moves)."""
    values = check_notice(data)
    notice = db.session.get(Notice, notice_id) if notice_id else Notice()
    if notice is None:
        raise NoticeError(_l("No such notice."))
    for name, value in values.items():
        setattr(notice, name, value)
    notice.updated_by = staff_id
    db.session.add(notice)
    audit.record("notices", "notice-saved" if notice_id else "notice-created", notice, _summary(notice))
    db.session.commit()
    return notice


def end_notice(notice_id: int, *, staff_id: int | None = None, now: datetime | None = None) -> Notice:
    """End a notice now. One that has not started yet never shows; one already ended is refused."""
    now = now or utcnow()
    # One conditional UPDATE: of two staff ending it at once, the second is told it has ended.
    ended = db.session.execute(
        update(Notice)
        .where(Notice.id == notice_id, or_(Notice.ends_at.is_(None), Notice.ends_at > now))
        .values(ends_at=now, starts_at=case((Notice.starts_at > now, now), else_=Notice.starts_at),
                updated_by=staff_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    notice = db.session.get(Notice, notice_id, populate_existing=True)
    if notice is None:
        raise NoticeError(_l("No such notice."))
    if not ended:
        db.session.rollback()
        raise NoticeError(_l("This notice has already ended."))
    audit.record("notices", "notice-ended", notice, _summary(notice))
    db.session.commit()
    return notice


def delete_notice(notice_id: int) -> None:
    """Delete a notice for good (a mistake, a duplicate); the audit log keeps its title."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        raise NoticeError(_l("No such notice."))
    audit.record("notices", "notice-deleted", notice, _summary(notice))
    db.session.delete(notice)
    db.session.commit()


def get_notice(notice_id: int) -> Notice | None:
    return db.session.get(Notice, notice_id)


def state_of(notice: Notice, now: datetime) -> str:
    if notice.starts_at > now:
        return "scheduled"
    return "ended" if notice.ends_at is not None and notice.ends_at <= now else "showing"


def staff_notices(now: datetime | None = None) -> dict[str, list[Notice]]:
    """Every notice showing or scheduled, and those ended lately, by state: showing ones urgent
    first then the newest, scheduled ones the soonest first, ended ones the latest ended first."""
    now = now or utcnow()
    found = db.session.scalars(
        select(Notice).where(or_(Notice.ends_at.is_(None), Notice.ends_at > now - timedelta(days=ENDED_LISTED_DAYS)))
        .order_by(Notice.starts_at.desc(), Notice.id.desc()))
    groups: dict[str, list[Notice]] = {state: [] for state in STATES}
    for notice in found:
        groups[state_of(notice, now)].append(notice)
    groups["showing"].sort(key=lambda notice: notice.urgency != "urgent")  # stable: newest first within each
    groups["scheduled"].reverse()
    groups["ended"].sort(key=lambda notice: (notice.ends_at, notice.id), reverse=True)
    return groups


def form_data(notice: Notice) -> dict:
    """A notice as the edit form shows it: site-local times, empty text for no English."""
    return {"title": notice.title, "body": notice.body, "title_en": notice.title_en or "",
            "body_en": notice.body_en or "", "urgency": notice.urgency, "starts_at": to_site(notice.starts_at),
            "ends_at": to_site(notice.ends_at) if notice.ends_at else None}
