"""Working days as China's calendar has them: weekends off, public holidays off, and the
make-up workdays (调休) that move a weekend day into the week.

The years the `chinese_calendar` library knows come from it; for a year it does not know
yet (the State Council publishes each year's arrangement in November) staff enter the
holidays and make-up days themselves (CalendarDay), and the console warns until they have.
A day staff entered wins over the library, so a correction never waits for a release.
"""

from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import select

from .. import audit, lengths
from ..clock import from_site, site_today, to_site
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from .models import CalendarDay

LIBRARY_YEARS = frozenset(day.year for day in chinese_calendar.holidays)
# From this month on, next year's arrangement is published: the console asks for it.
NEXT_YEAR_FROM_MONTH = 11


class CalendarError(Refused):
    default_field = "day"


def _entered(first: date, last: date) -> dict[date, bool]:
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.workday)
                              .where(CalendarDay.day >= first, CalendarDay.day <= last))
    return dict(rows.all())


def entered_years() -> set[int]:
    return {day.year for day in db.session.scalars(select(CalendarDay.day))}


def known(year: int) -> bool:
    """The library or staff have the year's holidays."""
    return year in LIBRARY_YEARS or year in entered_years()


def _is_workday(day: date, entered: dict[date, bool]) -> bool:
    if day in entered:
        return entered[day]
    if day.year in LIBRARY_YEARS:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def is_workday(day: date) -> bool:
    return _is_workday(day, _entered(day, day))


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    entered = _entered(start, start + timedelta(days=days * 3 + 30))
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if _is_workday(day, entered):
            counted += 1
    return day


def end_of(day: date) -> datetime:
    """The end of a local day (the next day's midnight), stored as naive UTC."""
    return from_site(datetime.combine(day + timedelta(days=1), time()))


def due_after(moment: datetime, *, days: int = 0, hours: int | None = None) -> datetime:
    """When a case accepted at ``moment`` (naive UTC) is due: ``hours`` later for an urgent
    case, otherwise at the end of the ``days``-th working day after the day it was accepted."""
    if hours:
        return moment + timedelta(hours=hours)
    return end_of(add_working_days(to_site(moment).date(), days))


def missing_years(today: date | None = None) -> list[int]:
    """This year, and from November next year, when neither the library nor staff have them."""
    today = today or site_today()
    years = [today.year] + ([today.year + 1] if today.month >= NEXT_YEAR_FROM_MONTH else [])
    return [year for year in years if not known(year)]


def entered_days(year: int | None = None) -> list[CalendarDay]:
    query = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.scalars(query))


def enter_day(day: date | None, workday: bool, note: str = "") -> None:
    """Staff enter one day: a holiday (not a working day) or a make-up workday."""
    note = " ".join((note or "").split())
    if day is None:
        raise CalendarError(_l("Please give a date as YYYY-MM-DD."))
    if len(note) > lengths.CALENDAR_NOTE:
        raise CalendarError(_l("A note has at most %(n)d characters.", n=lengths.CALENDAR_NOTE), "note")
    row = db.session.get(CalendarDay, day) or CalendarDay(day=day)
    row.workday, row.note = workday, note
    db.session.add(row)
    audit.record("cases", "calendar-day-entered", detail={"day": day.isoformat(), "workday": workday})
    db.session.commit()


def remove_day(day: date) -> None:
    row = db.session.get(CalendarDay, day)
    if row is not None:
        db.session.delete(row)
        audit.record("cases", "calendar-day-removed", detail={"day": day.isoformat()})
        db.session.commit()

