"""The attract loop a kiosk shows after minutes untouched on the home screen: recent posts,
this week's coming classes, the expert of the day and the notices."""

import re
from datetime import date, datetime, time, timedelta

from app.classes import services as classes
from app.classes.models import Meeting
from app.clock import from_site, site_today, to_site, utcnow
from app.experts import services as experts
from app.extensions import db
from app.notices import services as notices
from app.wall import services as wall

EN = {"Accept-Language": "en"}


def course_meeting(title: str, *local_starts: datetime, draft: bool = False) -> int:
    """A course whose own term starts next week, meeting also at these site-local times."""
    today, local_now = site_today(), to_site(utcnow())
    course = classes.save_course(None, classes.CourseData(
        title=title, title_en="", category="calligraphy", teacher="王老师", venue="二楼",
        capacity=10, mode="first_come", term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=20),
        signup_opens_at=local_now - timedelta(days=1), signup_closes_at=local_now + timedelta(days=3),
        weekdays=(1,), start_time=time(9, 30), minutes=90))
    if not draft:
        classes.set_status(course.id, "open")
    for starts in local_starts:
        db.session.add(Meeting(course_id=course.id, starts_at=from_site(starts), minutes=1))
    db.session.commit()
    return course.id


def listed_experts(*names: str) -> list[int]:
    skill = experts.save_skills([("书法", "calligraphy", "Calligraphy")])[0]
    return [expert.id for expert in experts.save_experts([
        (None, experts.ExpertData(name=f"{name}某", mobile=f"139123456{index:02d}", display_name=name,
                                    skill_ids=[skill.id], consent_on=date(2026, 1, 5), consent_scope="称呼和技能"))
        for index, name in enumerate(names)])]


def test_the_attract_loop_shows_approved_posts_coming_classes_the_expert_of_the_day_and_notices(app, client,
                                                                                              run_in_app):
    with app.app_context():
        shown = wall.create_post("wish", "希望楼下多放几张长椅", nickname="老周", posted_by="kiosk:1")
        wall.approve(wall.receipt(shown.code).id, None)
        wall.create_post("wish", "还没审核的留言", posted_by="kiosk:1")
        monday = datetime.combine(site_today() - timedelta(days=site_today().weekday()), time.min)
        # Monday 00:00 and Sunday 23:58: only the week's first and last two minutes would upset this.
        course_meeting("周一零点的课", monday)  # this week, but over
        course_meeting("周日深夜的课", monday + timedelta(days=6, hours=23, minutes=58))
        course_meeting("下周的课", monday + timedelta(days=7, hours=9))
        course_meeting("草稿里的课", monday + timedelta(days=6, hours=23, minutes=58), draft=True)
    listed = run_in_app(listed_experts, "王老师", "谢老师", "曾老师")
    run_in_app(experts.set_listed, listed[1], False)
    now = utcnow()
    run_in_app(notices.add_notice, "周六社区义诊", starts_at=now - timedelta(hours=1))
    run_in_app(notices.add_notice, "明天停水", urgent=True, starts_at=now - timedelta(hours=2),
               ends_at=now + timedelta(hours=5))
    run_in_app(notices.add_notice, "下周的通知", starts_at=now + timedelta(days=3))
    run_in_app(notices.add_notice, "结束的通知", starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))

    response = client.get("/c/main/attract")
    loop = response.get_data(as_text=True)
    assert response.status_code == 200 and loop.count('<div class="attract-loop"') == 1
    assert "<html" not in loop and "<main" not in loop  # a fragment for #attract
    assert "希望楼下多放几张长椅" in loop and "老周" in loop and "还没审核的留言" not in loop
    assert "周日深夜的课" in loop
    assert "周一零点的课" not in loop and "下周的课" not in loop and "草稿里的课" not in loop
    of_the_day = run_in_app(lambda: experts.expert_of_the_day(site_today()).display_name)
    assert of_the_day in ("王老师", "曾老师")
    assert re.findall(r'class="slide-name">([^<]+)<', loop) == [of_the_day]
    assert "谢老师" not in loop
    assert loop.index("明天停水") < loop.index("周六社区义诊")
    assert "下周的通知" not in loop and "结束的通知" not in loop


def test_the_attract_loop_says_something_when_the_boards_are_empty(client):
    loop = client.get("/c/main/attract", headers=EN).get_data(as_text=True)
    for message in ("Leave a wish, a thank-you or a problem", "No more classes this week",
                    "Neighbours who can help", "No notices right now."):
        assert message in loop


def test_the_expert_of_the_day_stays_all_day_and_takes_listed_experts_in_turn(run_in_app):
    ids = run_in_app(listed_experts, "王老师", "谢老师", "曾老师", "林老师")
    hidden = ids[2]
    run_in_app(experts.set_listed, hidden, False)
    listed = [expert_id for expert_id in ids if expert_id != hidden]

    def on(day: date) -> int:
        return run_in_app(lambda: experts.expert_of_the_day(day).id)

    start = date(2026, 3, 2)
    days = [on(start + timedelta(days=offset)) for offset in range(9)]
    assert days == [on(start + timedelta(days=offset)) for offset in range(9)]  # the same all day
    assert hidden not in days
    for offset in range(0, 9, 3):
        assert sorted(days[offset:offset + 3]) == sorted(listed)  # each listed one in every three days
    assert days[:3] == days[3:6] == days[6:9]

    for expert_id in listed:
        run_in_app(experts.set_listed, expert_id, False)
    assert run_in_app(experts.expert_of_the_day, start) is None


