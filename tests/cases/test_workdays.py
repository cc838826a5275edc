"""Working days as China's calendar has them, with fixed dates: National Day 2026 and its
make-up Saturday, Mid-Autumn, staff-entered days, a year the library does not know yet, and
the site's zone (Asia/Shanghai: stored times are naive UTC, eight hours behind)."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.cases import services, workdays
from app.cases.models import CalendarDay, Category
from app.extensions import db
from app.staff.models import StaffMember
from tests.factories import staff_member

# The first year the library has no holidays for (2027 at the time of writing).
UNKNOWN_YEAR = max(workdays.LIBRARY_YEARS) + 1


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def test_the_site_zone_is_shanghai(app):
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"


def test_the_library_knows_2026():
    assert 2026 in workdays.LIBRARY_YEARS


@pytest.mark.parametrize(("day", "workday"), [
    (date(2026, 9, 18), True),    # Friday
    (date(2026, 9, 19), False),   # Saturday
    (date(2026, 9, 20), True),    # Sunday, a make-up workday for National Day
    (date(2026, 9, 25), False),   # Mid-Autumn (Friday)
    (date(2026, 9, 26), False),
    (date(2026, 9, 27), False),
    (date(2026, 9, 28), True),
    (date(2026, 9, 30), True),    # Wednesday
    (date(2026, 10, 1), False),   # National Day
    (date(2026, 10, 5), False),   # Monday, still the holiday
    (date(2026, 10, 7), False),   # Wednesday, the holiday's last day
    (date(2026, 10, 8), True),    # Thursday
    (date(2026, 10, 10), True),   # Saturday, a make-up workday
    (date(2026, 10, 11), False),  # Sunday
    (date(2026, 10, 12), True),
])
def test_is_workday_in_autumn_2026(ctx, day, workday):
    assert workdays.is_workday(day) is workday


@pytest.mark.parametrize(("start", "days", "due"), [
    # Oct 1–7 off; Thu Oct 8 is the 1st, Fri Oct 9 the 2nd, the make-up Sat Oct 10 the 3rd.
    (date(2026, 9, 30), 3, date(2026, 10, 10)),
    (date(2026, 9, 30), 1, date(2026, 10, 8)),
    (date(2026, 9, 30), 4, date(2026, 10, 12)),
    # Accepted during the holiday: the count starts after it.
    (date(2026, 10, 3), 1, date(2026, 10, 8)),
    # Saturday Sep 19 + 1: the make-up Sunday Sep 20.
    (date(2026, 9, 19), 1, date(2026, 9, 20)),
    # Mid-Autumn Fri Sep 25 to Sun Sep 27 is off.
    (date(2026, 9, 24), 1, date(2026, 9, 28)),
    # Across both holidays: Sep 28, 29, 30, Oct 8, 9, 10 (make-up), then Mon Oct 12.
    (date(2026, 9, 24), 5, date(2026, 10, 9)),
    (date(2026, 9, 24), 6, date(2026, 10, 10)),
    (date(2026, 9, 24), 7, date(2026, 10, 12)),
    (date(2026, 9, 18), 0, date(2026, 9, 18)),
])
def test_add_working_days_across_national_day_2026(ctx, start, days, due):
    assert workdays.add_working_days(start, days) == due


def test_the_end_of_a_local_day_is_stored_as_utc(ctx):
    # The end of Sat Oct 10 in Shanghai is Oct 11 00:00 there, Oct 10 16:00 UTC.
    assert workdays.end_of(date(2026, 10, 10)) == datetime(2026, 10, 10, 16, 0)


def test_a_case_accepted_on_the_eve_of_national_day_is_due_on_the_make_up_saturday(ctx):
    # Wed Sep 30, 10:00 in Shanghai.
    accepted = datetime(2026, 9, 30, 2, 0)
    assert workdays.due_after(accepted, days=3) == datetime(2026, 10, 10, 16, 0)
    assert workdays.due_after(accepted, days=1) == datetime(2026, 10, 8, 16, 0)


def test_the_day_counted_from_is_the_local_one(ctx):
    # Tue Sep 29 23:59 in Shanghai: one working day later is Wed Sep 30.
    assert workdays.due_after(datetime(2026, 9, 29, 15, 59), days=1) == datetime(2026, 9, 30, 16, 0)
    # Wed Sep 30 00:30 in Shanghai (still Sep 29 in UTC): one working day later is Thu Oct 8.
    assert workdays.due_after(datetime(2026, 9, 29, 16, 30), days=1) == datetime(2026, 10, 8, 16, 0)
    # Thu Oct 1 01:00 in Shanghai (Sep 30 in UTC): inside the holiday, so Oct 8, 9, 10.
    assert workdays.due_after(datetime(2026, 9, 30, 17, 0), days=3) == datetime(2026, 10, 10, 16, 0)


def test_an_urgent_case_counts_hours_holidays_or_not(ctx):
    accepted = datetime(2026, 10, 1, 3, 15)  # National Day, 11:15 in Shanghai
    assert workdays.due_after(accepted, days=1, hours=24) == datetime(2026, 10, 2, 3, 15)
    assert workdays.due_after(accepted, days=5, hours=4) == datetime(2026, 10, 1, 7, 15)


def test_a_day_staff_entered_wins_over_the_library(ctx):
    # A correction: Thu Oct 8 made a holiday, the Sunday after the make-up Saturday a workday.
    workdays.enter_day(date(2026, 10, 8), False, "  补充  通知 ")
    assert db.session.get(CalendarDay, date(2026, 10, 8)).note == "补充 通知"
    assert workdays.is_workday(date(2026, 10, 8)) is False
    # Oct 9, Oct 10 (make-up), then Mon Oct 12.
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 12)
    workdays.enter_day(date(2026, 10, 11), True)
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 11)
    assert workdays.due_after(datetime(2026, 9, 30, 2, 0), days=3) == datetime(2026, 10, 11, 16, 0)
    # Entering a day again changes it rather than adding another.
    workdays.enter_day(date(2026, 10, 8), True)
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == 2
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    # Removed, the library's answer is back.
    workdays.remove_day(date(2026, 10, 8))
    workdays.remove_day(date(2026, 10, 11))
    assert workdays.entered_days() == []
    assert workdays.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_entering_a_day_is_refused_without_a_date_or_with_a_long_note(ctx):
    with pytest.raises(workdays.CalendarError) as refused:
        workdays.enter_day(None, False)
    assert refused.value.field == "day"
    with pytest.raises(workdays.CalendarError) as refused:
        workdays.enter_day(date(2026, 10, 8), False, "节" * 41)
    assert refused.value.field == "note"
    assert workdays.entered_days() == []


def test_next_years_days_are_asked_for_from_november(ctx):
    assert UNKNOWN_YEAR - 1 in workdays.LIBRARY_YEARS
    assert workdays.known(UNKNOWN_YEAR) is False
    assert workdays.missing_years(date(UNKNOWN_YEAR - 1, 6, 1)) == []
    assert workdays.missing_years(date(UNKNOWN_YEAR - 1, 10, 31)) == []
    assert workdays.missing_years(date(UNKNOWN_YEAR - 1, 11, 1)) == [UNKNOWN_YEAR]
    assert workdays.missing_years(date(UNKNOWN_YEAR - 1, 11, 15)) == [UNKNOWN_YEAR]
    # In the year itself it is missing all year; from its November the year after is too.
    assert workdays.missing_years(date(UNKNOWN_YEAR, 3, 1)) == [UNKNOWN_YEAR]
    assert workdays.missing_years(date(UNKNOWN_YEAR, 12, 1)) == [UNKNOWN_YEAR, UNKNOWN_YEAR + 1]

    # One day entered for the year: the warning is gone, for that year only.
    workdays.enter_day(date(UNKNOWN_YEAR, 1, 1), False, "元旦")
    assert workdays.known(UNKNOWN_YEAR) is True
    assert workdays.missing_years(date(UNKNOWN_YEAR - 1, 11, 15)) == []
    assert workdays.missing_years(date(UNKNOWN_YEAR, 12, 1)) == [UNKNOWN_YEAR + 1]
    assert [row.day for row in workdays.entered_days(UNKNOWN_YEAR)] == [date(UNKNOWN_YEAR, 1, 1)]
    assert workdays.entered_days(UNKNOWN_YEAR - 1) == []


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def test_a_year_without_data_has_weekends_off_and_weekdays_on(ctx):
    monday = _weekday_on_or_after(date(UNKNOWN_YEAR, 3, 1), 0)
    friday, saturday, sunday = monday + timedelta(days=4), monday + timedelta(days=5), monday + timedelta(days=6)
    assert all(workdays.is_workday(monday + timedelta(days=n)) for n in range(5))
    assert not workdays.is_workday(saturday) and not workdays.is_workday(sunday)
    assert workdays.add_working_days(friday, 1) == monday + timedelta(days=7)
    assert workdays.add_working_days(monday, 5) == monday + timedelta(days=7)
    # The first of January, a holiday in every real year, is a working day until staff say so.
    new_year = date(UNKNOWN_YEAR, 1, 1)
    assert workdays.is_workday(new_year) is (new_year.weekday() < 5)
    workdays.enter_day(new_year, False, "元旦")
    assert workdays.is_workday(new_year) is False
    # A make-up Saturday entered by staff counts.
    workdays.enter_day(saturday, True, "调休")
    assert workdays.add_working_days(friday, 1) == saturday


# --- the service: a case's due time when it is accepted ------------------------------------------

def _category(key: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.key == key))


def _accepted(key: str, *, text: str, **intake):
    moderator = db.session.scalar(select(StaffMember).where(StaffMember.username == "mod"))
    if moderator is None:
        moderator = db.session.get(StaffMember, staff_member("mod", "moderator"))
    channel = "hotline" if intake.get("hotline_number") else "walk_in"
    case = services.take_in(services.Intake(_category(key), text, **intake), channel=channel, reported_by="staff:1")
    services.act(case.id, moderator, services.Step(action="route", level="committee"))
    return services.act(case.id, moderator, services.Step(action="accept"))


def test_an_accepted_case_is_due_after_its_categorys_working_days(ctx):
    case = _accepted("parking", text="地下车库入口被占用")
    rule = services.rule_for(case.category_id)
    assert rule.deadline_days == 5 and rule.urgent_hours is None
    assert case.state == "accepted" and case.accepted_at is not None
    assert case.due_at == workdays.due_after(case.accepted_at, days=rule.deadline_days)
    assert case.due_at > case.accepted_at + timedelta(days=5)


def test_an_urgent_category_is_due_in_hours(ctx):
    case = _accepted("safety", text="3号楼外墙瓷砖松动快掉了")
    rule = services.rule_for(case.category_id)
    assert rule.urgent_hours == 24 and case.urgent is True
    assert case.due_at == case.accepted_at + timedelta(hours=24)


def test_a_communitys_own_deadline_wins(ctx):
    parking = _category("parking")
    services.set_category_override(parking, first_handler="committee", unit_id=None, deadline_days=2,
                                   urgent_hours=None, private=False, active=True)
    case = _accepted("parking", text="消防通道有车停放")
    assert case.due_at == workdays.due_after(case.accepted_at, days=2)


def test_a_hotline_tickets_own_due_date_wins_when_it_is_sooner(ctx):
    from app.clock import site_today

    today = site_today()
    case = _accepted("parking", text="12345转来：车库积水", hotline_number="12345-0001", hotline_due=today)
    assert case.hotline_due_at == workdays.end_of(today)
    assert case.due_at == workdays.end_of(today)
