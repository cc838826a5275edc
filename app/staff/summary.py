"""A community's month in counts, for what staff report upward (admins and coordinators):
posts by kind, sign-ups, attendance, help requests, matchmaking and the kiosks' uptime; on
a page and as an Excel workbook. Counts only: no name, number or text of anyone.

What each figure counts, for the month (the community's own days):

- posts: written in the month, by kind, and how many of them went on the wall;
- sign-ups: made in the month (seats, waitlist places and lottery entries), by staff at the
  desk among them;
- attendance: at the month's meetings whose roll was taken, the places of those marked, and
  how many of those were present (absent marks count against, not-yet-marked people not at all);
- help requests: asked in the month, and closed in it (done or declined);
- matchmaking: cards left in the month, requests to meet, introductions (both agreed);
- kiosks: each kiosk's hours online (its heartbeats, app/kiosk/devices.py) and their share of
  the month's hours so far.
"""

from dataclasses import dataclass
from datetime import date

from flask import render_template
from sqlalchemy import func, select

from ..cases import figures as months
from ..classes.models import Attendance, Meeting, Signup
from ..clock import to_site, utcnow
from ..experts.models import HelpRequest
from ..exports import Table, attachment, xlsx_body
from ..extensions import db
from ..friends.models import Card, Interest
from ..i18n import lazy_gettext as _l
from ..kiosk.models import Kiosk, KioskDay
from ..wall.labels import KIND_LABELS
from ..wall.models import KINDS, Post
from . import bp
from .access import staff_required
from .case_figures import in_a_community, month_asked, percent

READERS = ("coordinator",)


@dataclass(frozen=True)
class KioskUptime:
    name: str
    hours: float
    share: float | None  # of the month's hours so far


@dataclass(frozen=True)
class MonthSummary:
    month: date
    posts: dict[str, int]  # by kind
    published: int
    signups: int
    assisted: int
    attendance_marked: int
    attendance_present: int
    help_asked: int
    help_closed: int
    cards_left: int
    meet_requests: int
    introductions: int
    kiosks: list[KioskUptime]

    @property
    def attendance_rate(self) -> float | None:
        return self.attendance_present / self.attendance_marked if self.attendance_marked else None

    def rows(self) -> list[tuple[str, object]]:
        """(what, count) in the page's and the workbook's order."""
        rows = [(str(_l("Posts written: %(kind)s", kind=KIND_LABELS[kind])), self.posts.get(kind, 0))
                for kind in KINDS]
        rows += [
            (str(_l("Posts put on the wall")), self.published),
            (str(_l("Sign-ups")), self.signups),
            (str(_l("Sign-ups made by staff at the desk")), self.assisted),
            (str(_l("Attendance: places marked")), self.attendance_marked),
            (str(_l("Attendance: present")), self.attendance_present),
            (str(_l("Attendance rate")), self.attendance_rate),
            (str(_l("Help requests asked")), self.help_asked),
            (str(_l("Help requests closed")), self.help_closed),
            (str(_l("Matchmaking cards left")), self.cards_left),
            (str(_l("Requests to meet")), self.meet_requests),
            (str(_l("Introductions made")), self.introductions),
        ]
        return rows


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def month_summary(month: date) -> MonthSummary:
    start, end = months.month_bounds(month)
    posts = dict(db.session.execute(select(Post.kind, func.count()).where(
        Post.created_at >= start, Post.created_at < end).group_by(Post.kind)).all())
    in_month = (Meeting.starts_at >= start, Meeting.starts_at < end)
    marked, present = db.session.execute(
        select(func.count(Attendance.id), func.count(Attendance.id).filter(Attendance.present))
        .join(Meeting, Meeting.id == Attendance.session_id).where(*in_month)).one()
    now = utcnow()
    elapsed = (min(now, end) - start).total_seconds()
    seconds = dict(db.session.execute(
        select(KioskDay.kiosk_id, func.sum(KioskDay.online_seconds))
        .where(KioskDay.day >= month, KioskDay.day < months.next_month(month)).group_by(KioskDay.kiosk_id)).all())
    kiosks = [KioskUptime(kiosk.name, round(seconds.get(kiosk.id, 0) / 3600, 1),
                          round(seconds.get(kiosk.id, 0) / elapsed, 3) if elapsed > 0 else None)
              for kiosk in db.session.scalars(select(Kiosk).where(Kiosk.enrolled_at.is_not(None),
                                                                  Kiosk.enrolled_at < end).order_by(Kiosk.name))
              if kiosk.revoked_at is None or kiosk.revoked_at >= start]
    return MonthSummary(
        month=month, posts=posts,
        published=_count(Post, Post.published_at >= start, Post.published_at < end),
        signups=_count(Signup, Signup.created_at >= start, Signup.created_at < end),
        assisted=_count(Signup, Signup.created_at >= start, Signup.created_at < end, Signup.source == "assisted"),
        attendance_marked=marked, attendance_present=present,
        help_asked=_count(HelpRequest, HelpRequest.created_at >= start, HelpRequest.created_at < end),
        help_closed=_count(HelpRequest, HelpRequest.closed_at >= start, HelpRequest.closed_at < end),
        cards_left=_count(Card, Card.created_at >= start, Card.created_at < end),
        meet_requests=_count(Interest, Interest.created_at >= start, Interest.created_at < end),
        introductions=_count(Interest, Interest.state == "agreed", Interest.updated_at >= start,
                             Interest.updated_at < end),
        kiosks=kiosks)


def _first_month() -> date:
    """The month the community's first kiosk, post or sign-up came (pages go back no further)."""
    firsts = [db.session.scalar(select(func.min(column))) for column in (Kiosk.created_at, Post.created_at,
                                                                         Signup.created_at)]
    known = [to_site(first).date().replace(day=1) for first in firsts if first]
    return min([*known, months.this_month()])


def _link(month: date, first: date) -> str | None:
    return month.strftime("%Y-%m") if first <= month <= months.this_month() else None


@bp.get("/summary")
@staff_required(*READERS)
def monthly_summary():
    in_a_community()
    month, error = month_asked()
    return render_template("staff/summary.html", summary=month_summary(month), error=error, percent=percent,
                           previous_month=_link(months.previous_month(month), _first_month()),
                           next_month=_link(months.next_month(month), month))


@bp.get("/summary.xlsx")
@staff_required(*READERS)
def monthly_summary_file():
    in_a_community()
    month, _error = month_asked()
    summary = month_summary(month)
    label = month.strftime("%Y-%m")
    rows = [list(row) for row in summary.rows()]
    rates = tuple((index, 1) for index, (_what, count) in enumerate(rows) if isinstance(count, float))
    figures = Table(_l("Month %(month)s", month=label), [_l("What"), _l("Count")], rows, percent_cells=rates)
    kiosks = Table(_l("Kiosks %(month)s", month=label), [_l("Kiosk"), _l("Hours online"), _l("Share of the month")],
                   [[kiosk.name, kiosk.hours, kiosk.share] for kiosk in summary.kiosks], percent_columns=(2,))
    body = xlsx_body(figures, kiosks, title=str(_l("Monthly summary, %(month)s", month=label)))
    return attachment(body, "xlsx", f"{_l('Monthly summary')}-{label}")
