"""The monthly summary: a community's month in counts, on a page and in a workbook that
agree with what happened (posts, sign-ups, attendance, help, matchmaking, kiosks)."""

import io

from openpyxl import load_workbook
from sqlalchemy import update

from app.cases.figures import this_month
from app.classes import services as classes
from app.classes.models import Course
from app.clock import site_today, utcnow
from app.experts import services as experts
from app.extensions import db
from app.kiosk.models import KioskDay
from app.staff.summary import month_summary
from app.wall import services as wall
from tests.classes.test_routes import new_course
from tests.experts.test_routes import directory
from tests.factories import enrolled_kiosk


def _month_happens():
    for text in ("希望多放长椅", "希望有书法课"):
        wall.create_post("wish", text, posted_by="kiosk:1")
    thanks = wall.create_post("thanks", "谢谢物业", posted_by="kiosk:1")
    wall.approve(wall.receipt(thanks.code).id, None)
    course_id = new_course(capacity=5)
    codes = [classes.sign_up(course_id, name, f"1370000000{index}", created_by="staff:1",
                             source="assisted" if index == 0 else "kiosk").code
             for index, name in enumerate(("赵一", "钱二", "孙三"))]
    # A meeting this month with its roll taken: two present, one absent.
    course = db.session.get(Course, course_id)
    meeting = course.meetings[0]
    db.session.execute(update(type(meeting)).where(type(meeting).id == meeting.id).values(starts_at=utcnow()))
    db.session.commit()
    for code, mark in zip(codes, ("present", "present", "absent")):
        classes.set_attendance(meeting.id, classes.find_signup(code).id, mark, None)
    ids = directory()
    experts.ask(ids["王老师"], ["learn"], "想学写楷书", "张三明", "13812345678", created_by="kiosk:1")
    kiosk_id, _token = enrolled_kiosk("大厅左侧")
    db.session.add(KioskDay(kiosk_id=kiosk_id, day=site_today(), online_seconds=3 * 3600, community_id=1))
    db.session.commit()


def test_the_month_in_counts_on_the_page_and_in_the_workbook(app, staff_client, run_in_app):
    run_in_app(_month_happens)
    month = run_in_app(this_month)
    summary = run_in_app(month_summary, month)
    assert summary.posts == {"wish": 2, "thanks": 1} and summary.published == 1
    assert (summary.signups, summary.assisted) == (3, 1)
    assert (summary.attendance_marked, summary.attendance_present) == (3, 2)
    assert round(summary.attendance_rate, 3) == 0.667 and summary.help_asked == 1

    coordinator = staff_client("coord", "coordinator")
    page = coordinator.get("/staff/summary").get_data(as_text=True)
    assert "月度汇总" in page and month.strftime("%Y-%m") in page and "66.7%" in page
    book = load_workbook(io.BytesIO(coordinator.get("/staff/summary.xlsx").data))
    counts = [row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert counts == [count for _what, count in run_in_app(lambda: month_summary(month).rows())]
    assert book.worksheets[0].cell(row=1, column=1).value == "项目"
    kiosks = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(kiosks) == 1 and kiosks[0][:2] == ("大厅左侧", 3.0) and 0 < kiosks[0][2] <= 1
    # Months before anything happened are not offered; a month typed wrong is said so.
    assert "上个月" not in page
    wrong = coordinator.get("/staff/summary", query_string={"month": "2026-13"}).get_data(as_text=True)
    assert 'role="alert"' in wrong
    assert staff_client("mod", "moderator").get("/staff/summary").status_code == 403
