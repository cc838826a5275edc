"""Reading notices: which are showing now, in the reader's language."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, or_, select

from ..clock import utcnow
from ..extensions import db
from .models import Notice


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
    return select(Notice).where(
        Notice.starts_at <= now, or_(Notice.ends_at.is_(None), Notice.ends_at > now)
    )


def current_notices(locale: str, limit: int | None = None, now: datetime | None = None) -> list[NoticeView]:
    """Notices showing now: urgent first, then the newest."""
    query = _showing(now or utcnow()).order_by(
        case((Notice.urgency == "urgent", 0), else_=1), Notice.starts_at.desc(), Notice.id.desc()
    )
    if limit:
        query = query.limit(limit)
    return [_view(notice, locale) for notice in db.session.scalars(query)]


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
