"""Classes through HTTP: the kiosk's pages, sign-up, lookup, cancel, rate and survey, and
the coordinators' console (course form, roster, moves, assisted sign-ups, exports, purge)."""

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import event, func, select

from app.audit import AuditEntry
from app.classes import services
from app.classes.models import Attendance, Course, Signup
from app.clock import site_today, to_site, utcnow
from app.extensions import db

HTMX = {"HX-Request": "true"}
FORM = {**HTMX, "HX-Target": "signup-form"}
EN = {"Accept-Language": "en"}


def new_course(capacity=3, mode="first_come", opens_in_days=-1, closes_in_days=3, term_in_days=7, weeks=6,
               title="书法入门") -> int:
    today = site_today()
    local_now = to_site(utcnow())
    course = services.save_course(None, services.CourseData(
        title=title, title_en="Calligraphy", category="calligraphy", teacher="王老师", venue="二楼书画室",
        capacity=capacity, mode=mode, term_starts=today + timedelta(days=term_in_days),
        term_ends=today + timedelta(days=term_in_days + 7 * weeks - 1),
        signup_opens_at=local_now + timedelta(days=opens_in_days),
        signup_closes_at=local_now + timedelta(days=closes_in_days),
        weekdays=(1,), start_time=time(9, 30), minutes=90))
    services.set_status(course.id, "open")
    return course.id




def sign_up(client, course_id, name="张三明", mobile="13812345678", headers=FORM):
    return client.post(f"/c/main/classes/{course_id}/sign-up", data={"name": name, "mobile": mobile}, headers=headers)


def code_of(response) -> str:
    return (re.search(r'id="signup-code">(\d{4}) (\d{4})<', response.get_data(as_text=True))
            .group(0)[16:].replace(" ", "").rstrip("<"))


def rows(run_in_app, course_id):
    return run_in_app(lambda: [(s.state, s.masked_name, s.mobile, s.source) for s in db.session.scalars(
        select(Signup).where(Signup.course_id == course_id).order_by(Signup.id))])


def test_kiosk_pages_render_in_both_languages(client, run_in_app):
    course_id = run_in_app(new_course)
    for headers, word in (({}, "报名"), (EN, "Sign up")):
        for url in ("/c/main/classes/", "/c/main/classes/all", "/c/main/classes/all?category=calligraphy",
                    f"/c/main/classes/{course_id}", f"/c/main/classes/{course_id}/sign-up", "/c/main/classes/my",
                    "/c/main/classes/survey"):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
        assert word in client.get(f"/c/main/classes/{course_id}", headers=headers).get_data(as_text=True)
    assert client.get("/c/main/classes/999").status_code == 404


def test_draft_courses_stay_off_the_kiosk(client, run_in_app):
    course_id = run_in_app(new_course)
    run_in_app(lambda: (setattr(db.session.get(Course, course_id), "status", "draft"), db.session.commit()))
    assert client.get(f"/c/main/classes/{course_id}").status_code == 404
    assert "书法入门" not in client.get("/c/main/classes/all").get_data(as_text=True)


def test_sign_up_gives_a_code_and_a_qr_and_masks_the_name(kiosk_client, run_in_app):
    course_id = run_in_app(new_course)
    response = sign_up(kiosk_client, course_id)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="signup-code">\d{4} \d{4}<', page)
    assert "<svg" in page and "张*明" in page
    assert "张三明" not in page and "13812345678" not in page
    assert rows(run_in_app, course_id) == [("confirmed", "张*明", "13812345678", "kiosk")]


@pytest.mark.parametrize("name, mobile, message", [
    ("张三明", "12345", "请输入 11 位手机号"),
    ("", "13812345678", "请填写姓名"),
    ("张3", "13812345678", "姓名里不能有数字"),
    ("张三明", "23812345678", "请输入 11 位手机号"),
])
def test_bad_input_is_refused_in_the_residents_language_and_nothing_is_stored(kiosk_client, run_in_app, name, mobile,
                                                                               message):
    course_id = run_in_app(new_course)
    response = sign_up(kiosk_client, course_id, name=name, mobile=mobile)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert rows(run_in_app, course_id) == []


def test_the_same_number_twice_is_one_row_and_says_so(kiosk_client, run_in_app):
    course_id = run_in_app(new_course, capacity=1)
    assert sign_up(kiosk_client, course_id).status_code == 200
    again = sign_up(kiosk_client, course_id, name="张三明", mobile="138 1234 5678")
    assert again.status_code == 422
    assert "已经报过这门课" in again.get_data(as_text=True)
    assert len(rows(run_in_app, course_id)) == 1


def test_read_only_browsers_cannot_sign_up(client, run_in_app):
    course_id = run_in_app(new_course)
    assert sign_up(client, course_id).status_code == 403
    assert rows(run_in_app, course_id) == []


def test_full_course_waitlists_and_a_cancel_promotes_the_first(kiosk_client, client, run_in_app):
    course_id = run_in_app(new_course, capacity=1)
    first = sign_up(kiosk_client, course_id, mobile="13800000001")
    second = sign_up(kiosk_client, course_id, name="李四", mobile="13800000002")
    third = sign_up(kiosk_client, course_id, name="王五", mobile="13800000003")
    assert "您是候补第 1 位" in second.get_data(as_text=True)
    assert "您是候补第 2 位" in third.get_data(as_text=True)
    code = re.search(r'id="signup-code">(\d{4}) (\d{4})<', first.get_data(as_text=True))
    code = code.group(1) + code.group(2)

    # Looking up shows where it stands, never the number.
    lookup = client.get(f"/c/main/classes/my?code={code}").get_data(as_text=True)
    assert "已确认座位" in lookup and "13800000001" not in lookup

    wrong = client.post("/c/main/classes/cancel", data={"code": code, "tail": "9999"}, headers=HTMX)
    assert wrong.status_code == 422 and "对不上" in wrong.get_data(as_text=True)
    assert [state for state, *_ in rows(run_in_app, course_id)] == ["confirmed", "waitlisted", "waitlisted"]

    # From a phone (no kiosk_client): the code and the last 4 digits are enough.
    done = client.post("/c/main/classes/cancel", data={"code": code, "tail": "0001"}, headers=HTMX)
    assert done.status_code == 200 and "已取消" in done.get_data(as_text=True)
    assert [state for state, *_ in rows(run_in_app, course_id)] == ["cancelled", "confirmed", "waitlisted"]
    # The cancelled row keeps no number: the same person may sign up again later.
    assert rows(run_in_app, course_id)[0][2] is None
    again = client.post("/c/main/classes/cancel", data={"code": code, "tail": "0001"}, headers=HTMX)
    assert again.status_code == 422


def test_the_live_seat_count_answers_204_until_something_changes(kiosk_client, client, run_in_app):
    course_id = run_in_app(new_course, capacity=3)
    page = client.get(f"/c/main/classes/{course_id}").get_data(as_text=True)
    poll = re.search(r'hx-get="([^"]*/seats\?v=\d+)"', page).group(1)
    assert client.get(poll).status_code == 204
    sign_up(kiosk_client, course_id)
    changed = client.get(poll)
    assert changed.status_code == 200
    assert re.search(r'id="seats-left">2<', changed.get_data(as_text=True))


def test_the_seat_poll_reads_only_what_the_seats_show(app, kiosk_client, client, run_in_app):
    course_id = run_in_app(new_course, capacity=3)
    poll = re.search(r'hx-get="([^"]*/seats\?v=\d+)"',
                     client.get(f"/c/main/classes/{course_id}").get_data(as_text=True)).group(1)
    sign_up(kiosk_client, course_id)
    statements = []

    def note(_connection, _cursor, statement, *_):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        changed = client.get(poll)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert changed.status_code == 200 and 'id="seats"' in changed.get_data(as_text=True)
    # The course page also reads its meetings (schedule, the next dates) and the expert
    # directory (is the teacher listed?); the seats it polls show neither.
    read = " ".join(statements)
    assert "class_courses" in read
    assert "class_sessions" not in read and "experts" not in read, statements


def test_a_lottery_course_collects_entries_then_publishes_a_verifiable_draw(kiosk_client, client, run_in_app):
    course_id = run_in_app(new_course, capacity=2, mode="lottery")
    commitment_before = run_in_app(lambda: services.seed_commitment(db.session.get(Course, course_id).draw_seed))
    assert commitment_before in client.get(f"/c/main/classes/{course_id}/draw").get_data(as_text=True)
    for index in range(5):
        response = sign_up(kiosk_client, course_id, name=f"居民{'甲乙丙丁戊'[index]}", mobile=f"1390000000{index}")
        assert "您已报名抽签" in response.get_data(as_text=True)
    assert run_in_app(services.draw, course_id, now=utcnow() + timedelta(days=4))
    page = client.get(f"/c/main/classes/{course_id}/draw").get_data(as_text=True)
    seed = run_in_app(lambda: db.session.get(Course, course_id).draw_seed)
    assert seed in page and "顺序完全一致" in page
    assert sorted(state for state, *_ in rows(run_in_app, course_id)) == ["confirmed"] * 2 + ["waitlisted"] * 3


def test_housekeeping_runs_once_per_period(app, run_in_app):
    from app import housekeeping

    now = utcnow()
    assert run_in_app(housekeeping.run_if_due, now) is not None
    assert run_in_app(housekeeping.run_if_due, now + timedelta(minutes=1)) is None
    assert run_in_app(housekeeping.run_if_due, now + timedelta(minutes=11)) is not None


# --- the console -------------------------------------------------------------------------

COURSE_FORM = {
    "title": "太极拳", "title_en": "Tai chi", "category": "fitness", "teacher": "赵老师", "venue": "一楼广场",
    "capacity": "2", "mode": "first_come", "signup_closes_at": "", "start_time": "07:30", "minutes": "60",
}


def _course_form(run_in_app, **changes):
    today, local_now = run_in_app(lambda: (site_today(), to_site(utcnow())))
    values = {**COURSE_FORM, "term_starts": (today + timedelta(days=7)).isoformat(),
              "term_ends": (today + timedelta(days=60)).isoformat(),
              "signup_opens_at": (local_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
              "signup_closes_at": (local_now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
              "weekdays": ["0", "3"]}
    values.update(changes)
    return values


def test_coordinators_create_open_and_edit_a_course(coordinator, client, run_in_app):
    bad = coordinator.post("/staff/classes/new", data=_course_form(run_in_app, term_ends="2020-01-01"))
    assert bad.status_code == 422 and "结课日期必须晚于开课日期" in bad.get_data(as_text=True)
    no_days = coordinator.post("/staff/classes/new", data=_course_form(run_in_app, weekdays=[], dates=""))
    assert no_days.status_code == 422
    assert run_in_app(lambda: db.session.scalar(select(func.count()).select_from(Course))) == 0

    created = coordinator.post("/staff/classes/new", data=_course_form(run_in_app, ))
    assert created.status_code == 303
    course_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/c/main/classes/{course_id}").status_code == 404  # a draft
    assert coordinator.post(f"/staff/classes/{course_id}/status/open").status_code == 303
    assert client.get(f"/c/main/classes/{course_id}").status_code == 200
    meetings = run_in_app(lambda: [to_site(m.starts_at) for m in db.session.get(Course, course_id).meetings])
    assert meetings and all(moment.weekday() in (0, 3) and moment.time() == time(7, 30) for moment in meetings)

    form = coordinator.get(f"/staff/classes/{course_id}/edit").get_data(as_text=True)
    assert 'value="太极拳"' in form and 'value="07:30"' in form
    edited = coordinator.post(f"/staff/classes/{course_id}/edit",
                              data=_course_form(run_in_app, capacity="5", weekdays=["2"]))
    assert edited.status_code == 303
    course = run_in_app(lambda: (db.session.get(Course, course_id).capacity,
                                 {to_site(m.starts_at).weekday() for m in db.session.get(Course, course_id).meetings}))
    assert course == (5, {2})


def test_assisted_sign_up_moves_and_exports_are_audited(coordinator, run_in_app):
    course_id = run_in_app(new_course, capacity=1)
    slips = []
    for name, mobile in (("赵一", "13700000001"), ("钱二", "13700000002"), ("孙三", "13700000003")):
        response = coordinator.post(f"/staff/classes/{course_id}/signups", data={"name": name, "mobile": mobile})
        assert response.status_code == 303 and "/slip" in response.headers["Location"]
        slips.append(coordinator.get(response.headers["Location"]).get_data(as_text=True))
    assert {source for *_, source in rows(run_in_app, course_id)} == {"assisted"}
    # The outcome and the code at once, on a slip to print: a seat, then waitlist places.
    codes = {name: code for name, code, *_ in run_in_app(lambda: [
        (s.name, s.code) for s in db.session.scalars(select(Signup).where(Signup.course_id == course_id))])}
    assert "报名成功，座位已确认。" in slips[0] and f"{codes['赵一'][:4]} {codes['赵一'][4:]}" in slips[0]
    assert "您是候补第 2 位" in slips[2] and f"{codes['孙三'][:4]} {codes['孙三'][4:]}" in slips[2]
    assert "<svg" in slips[2] and "13700000003" not in slips[2]
    waitlisted = run_in_app(lambda: [s.id for s in services.waitlist(course_id)])

    refused = coordinator.post(f"/staff/classes/signups/{waitlisted[1]}/move", data={"position": "1", "reason": ""})
    assert refused.status_code == 422 and "请写明调整原因" in refused.get_data(as_text=True)
    assert run_in_app(lambda: [s.id for s in services.waitlist(course_id)]) == waitlisted
    moved = coordinator.post(f"/staff/classes/signups/{waitlisted[1]}/move",
                             data={"position": "1", "reason": "行动不便，优先安排"})
    assert moved.status_code == 303
    assert run_in_app(lambda: [s.id for s in services.waitlist(course_id)]) == waitlisted[::-1]

    detail = coordinator.get(f"/staff/classes/{course_id}").get_data(as_text=True)
    assert "赵一" in detail and "137****0001" in detail and "13700000001" not in detail
    assert codes["孙三"] in detail.split('id="waitlist"')[1]  # the waitlist shows codes too
    csv_text = coordinator.get(f"/staff/classes/{course_id}/roster.csv").get_data(as_text=True)
    assert "赵一" in csv_text and "13700000001" in csv_text
    actions = run_in_app(lambda: [(a.action, a.actor_kind, a.detail) for a in db.session.scalars(
        select(AuditEntry).where(AuditEntry.area == "classes").order_by(AuditEntry.id))])
    names = [action for action, *_ in actions]
    assert names.count("signup-assisted") == 3
    assert "waitlist-moved" in names and "roster-viewed" in names and "roster-exported" in names
    move = next(detail for action, _kind, detail in actions if action == "waitlist-moved")
    assert "行动不便" in move
    assert all(kind == "staff" for action, kind, _detail in actions
               if action != "course-created" and action != "course-open")
    # Audit details never carry a full number.
    assert not any(re.search(r"\d{11}", detail) for *_, detail in actions)


def test_other_roles_cannot_see_rosters(staff_client, run_in_app):
    course_id = run_in_app(new_course)
    moderator = staff_client("mod", "moderator")
    assert moderator.get(f"/staff/classes/{course_id}").status_code == 403
    assert moderator.get(f"/staff/classes/{course_id}/roster.csv").status_code == 403


def _finished_course(run_in_app, ratings):
    """A course whose term ended yesterday, everyone present once, ratings from the first ones."""
    def build():
        now = utcnow()
        course_id = new_course(capacity=10, opens_in_days=-60, closes_in_days=-50, term_in_days=-43, weeks=6)
        codes = [services.sign_up(course_id, f"学员{'甲乙丙丁戊'[index]}", f"1360000000{index}", created_by="test",
                                  now=now - timedelta(days=55)).code for index in range(len(ratings) + 1)]
        services.sync_statuses()
        course = db.session.get(Course, course_id)
        for signup in services.roster(course_id):
            services.set_attendance(course.meetings[0].id, signup.id, "present", None)
        return course_id, codes

    course_id, codes = run_in_app(build)
    return course_id, codes


def test_attendees_rate_after_the_term_and_poor_courses_are_flagged(kiosk_client, coordinator, run_in_app):
    course_id, codes = _finished_course(run_in_app, [2, 3, 2])
    for code, stars in zip(codes, (2, 3, 2)):
        response = kiosk_client.post("/c/main/classes/rate",
                                     data={"code": code, "stars": str(stars), "comment": "教室太挤"}, headers=HTMX)
        assert response.status_code == 200, response.get_data(as_text=True)
    twice = kiosk_client.post("/c/main/classes/rate", data={"code": codes[0], "stars": "5"}, headers=HTMX)
    assert twice.status_code == 422
    listing = coordinator.get("/staff/classes").get_data(as_text=True)
    assert "考虑停开" in listing
    detail = coordinator.get(f"/staff/classes/{course_id}").get_data(as_text=True)
    assert "2.33" in detail and "教室太挤" in detail


def test_someone_who_never_attended_cannot_rate(kiosk_client, run_in_app):
    course_id, codes = _finished_course(run_in_app, [])
    run_in_app(lambda: (db.session.execute(db.delete(Attendance)), db.session.commit()))
    refused = kiosk_client.post("/c/main/classes/rate", data={"code": codes[0], "stars": "5"}, headers=HTMX)
    assert refused.status_code == 422 and "上过课的学员" in refused.get_data(as_text=True)


def test_personal_data_is_deleted_after_the_retention_period_and_counts_stay(app, run_in_app):
    course_id, codes = _finished_course(run_in_app, [5, 4])
    for code, stars in zip(codes, (5, 4)):
        run_in_app(services.rate, code, stars)
    term_ends = run_in_app(lambda: db.session.get(Course, course_id).term_ends)
    retention = app.config["CLASS_RETENTION_DAYS"]
    assert run_in_app(services.purge_personal_data, term_ends + timedelta(days=retention)) == 0
    assert run_in_app(services.purge_personal_data, term_ends + timedelta(days=retention + 1)) == 3
    left = run_in_app(lambda: [(s.name, s.mobile, s.mobile_tail, s.masked_name, s.state) for s in db.session.scalars(
        select(Signup).where(Signup.course_id == course_id))])
    assert left == [(None, None, None, "", "confirmed")] * 3
    assert run_in_app(lambda: services.rating_summary(course_id).count) == 2
    assert run_in_app(lambda: services.counts(course_id)["confirmed"]) == 3


def test_attendance_is_marked_per_meeting(coordinator, run_in_app):
    """Present, absent and not marked yet are three things; "all present" marks only those
    not marked yet; a one-meeting sign-in sheet prints."""
    course_id, _codes = _finished_course(run_in_app, [5])  # two sign-ups
    meeting_id, first, second = run_in_app(lambda: (db.session.get(Course, course_id).meetings[1].id,
                                                    *[signup.id for signup in services.roster(course_id)[:2]]))
    url = f"/staff/classes/attendance/{meeting_id}/{first}"
    response = coordinator.post(url, data={"mark": "present"}, headers=HTMX)
    assert response.status_code == 200 and 'aria-pressed="true"' in response.get_data(as_text=True)
    assert run_in_app(services.attendance, course_id)[(meeting_id, first)] is True
    absent = coordinator.post(url, data={"mark": "absent"}, headers=HTMX).get_data(as_text=True)
    assert "mark-absent" in absent and 'name="mark" value="unmarked"' in absent
    assert run_in_app(services.attendance, course_id)[(meeting_id, first)] is False
    assert coordinator.post(url, data={"mark": "maybe"}, headers=HTMX).status_code == 422

    assert coordinator.post(f"/staff/classes/meetings/{meeting_id}/all-present").status_code == 303
    marks = run_in_app(services.attendance, course_id)
    assert marks[(meeting_id, first)] is False and marks[(meeting_id, second)] is True  # the absence stays
    coordinator.post(url, data={"mark": "unmarked"}, headers=HTMX)
    assert (meeting_id, first) not in run_in_app(services.attendance, course_id)
    sheet = coordinator.get(f"/staff/classes/{course_id}/print", query_string={"meeting": meeting_id})
    assert sheet.status_code == 200 and "签到表" in sheet.get_data(as_text=True)
    assert coordinator.get(f"/staff/classes/{course_id}/print", query_string={"meeting": 99999}).status_code == 404


def test_a_needs_survey_from_staff_to_kiosk_to_chart(coordinator, kiosk_client, client, run_in_app):
    bad = coordinator.post("/staff/classes/surveys", data={"question": "下学期想学什么？", "options": "只有一个"})
    assert bad.status_code == 422 and "2 到 12 个选项" in bad.get_data(as_text=True)
    assert coordinator.post("/staff/classes/surveys", data={
        "question": "下学期想学什么？", "options": "太极拳\n烘焙\n摄影", "options_en": "Tai chi\nBaking\nPhotography",
        "question_en": "Which classes?"}).status_code == 303
    survey_id, options = run_in_app(lambda: (services.surveys()[0].id, [o.id for o in services.surveys()[0].options]))
    assert "下学期想学什么" not in client.get("/c/main/classes/survey").get_data(as_text=True)  # not published yet
    coordinator.post(f"/staff/classes/surveys/{survey_id}/published")
    page = client.get("/c/main/classes/survey", headers=EN).get_data(as_text=True)
    assert "Which classes?" in page and "Baking" in page
    assert kiosk_client.post(f"/c/main/classes/survey/{survey_id}", data={"option": []},
                             headers=HTMX).status_code == 422
    for chosen in ([options[0], options[1]], [options[1]], [options[1], options[2]]):
        assert kiosk_client.post(f"/c/main/classes/survey/{survey_id}", data={"option": [str(o) for o in chosen]},
                          headers=HTMX).status_code == 200
    assert client.post(f"/c/main/classes/survey/{survey_id}", data={"option": [str(options[0])]}).status_code == 403
    chart = coordinator.get("/staff/classes/surveys").get_data(as_text=True)
    assert "3 份回答" in chart
    assert re.search(r"烘焙</th><td><meter[^>]*value=\"3\"", chart)


def test_signing_up_outside_the_window_says_so_above_the_form(kiosk_client, run_in_app):
    course_id = run_in_app(new_course, opens_in_days=1, closes_in_days=3)
    response = sign_up(kiosk_client, course_id)
    assert response.status_code == 422
    assert re.search(r'<p class="error" role="alert">这门课现在不在报名时间内。</p>', response.get_data(as_text=True))
    assert rows(run_in_app, course_id) == []


def test_the_timetable_and_course_list_follow_changes_by_polling(kiosk_client, client, run_in_app):
    course_id = run_in_app(new_course, capacity=3, term_in_days=0)
    for url, region in (("/c/main/classes/", "week"), ("/c/main/classes/all", "course-list")):
        page = client.get(url).get_data(as_text=True)
        poll = re.search(r'hx-get="(/c/main/classes/live\?[^"]+)"', page).group(1).replace("&amp;", "&")
        assert client.get(poll).status_code == 204
        assert sign_up(kiosk_client, course_id, mobile=f"138123456{len(region):02d}").status_code == 200
        changed = client.get(poll)
        assert changed.status_code == 200 and f'id="{region}"' in changed.get_data(as_text=True)
    # A new day redraws the timetable even when no course changed.
    version = run_in_app(services.version)
    assert client.get(f"/c/main/classes/live?view=week&v={version}-2000-01-01").status_code == 200


def test_roster_exports_read_back_with_chinese_headers_and_codes_as_text(coordinator, run_in_app):
    """CSV and Excel in the console's language; a code with a leading zero keeps it, in the
    CSV's text and as a text cell in the workbook; a name never becomes a formula."""
    import csv
    import io

    from openpyxl import load_workbook

    course_id = run_in_app(new_course, capacity=1)
    for name, mobile in (("赵一", "13700000001"), ("=钱二", "13700000002")):
        coordinator.post(f"/staff/classes/{course_id}/signups", data={"name": name, "mobile": mobile})

    def zero_code():
        signup = db.session.scalar(select(Signup).where(Signup.course_id == course_id, Signup.name == "赵一"))
        signup.code = "03095178"
        db.session.commit()
    run_in_app(zero_code)

    csv_response = coordinator.get(f"/staff/classes/{course_id}/roster.csv")
    assert csv_response.mimetype == "text/csv" and csv_response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:7] == ["报名码", "居民姓名", "手机", "状态", "来源", "候补位置", "报名时间"]
    assert rows[1][:5] == ["03095178", "赵一", "13700000001", "已确认座位", "工作人员代报"]
    assert rows[2][1] == "'=钱二" and rows[2][3] == "候补中" and rows[2][5] == "1"

    book = load_workbook(io.BytesIO(coordinator.get(f"/staff/classes/{course_id}/roster.xlsx").data))
    sheet = book.active
    assert [cell.value for cell in sheet[1]][:3] == ["报名码", "居民姓名", "手机"]
    assert sheet["A2"].value == "03095178" and sheet["A2"].data_type == "s"
    assert sheet["C2"].value == "13700000001" and sheet["C2"].data_type == "s"
    assert sheet["B3"].value == "=钱二" and sheet["B3"].data_type == "s"  # text, not a formula
    english = coordinator.get(f"/staff/classes/{course_id}/roster.csv", headers={"Accept-Language": "en"})
    assert english.get_data(as_text=True).lstrip("\ufeff").startswith("Code,Resident's name,Mobile,State")
