"""Lotteries without a browser: entries only inside the window, a draw anyone can repeat
from the published seed (whose SHA-256 was shown before), and a record that notices tampering."""

import hashlib
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.classes import services
from app.classes.models import Course, Signup
from app.clock import from_site, site_today
from app.extensions import db
from tests.classes.test_services import NOT_OPEN, refused

CAPACITY = 5
ENTRIES = 30


def lottery_course() -> dict:
    """An opened lottery course; its id and, in stored UTC, moments around its entry window."""
    today = site_today()
    opens = datetime.combine(today + timedelta(days=1), time(9, 0))
    closes = datetime.combine(today + timedelta(days=3), time(18, 0))
    course = services.save_course(None, services.CourseData(
        title="亲子绘本共读", category="family", teacher="陈老师", venue="阅览室", capacity=CAPACITY,
        term_starts=today + timedelta(days=10), term_ends=today + timedelta(days=60),
        signup_opens_at=opens, signup_closes_at=closes, mode="lottery", weekdays=(0, 2), start_time=time(9, 30)))
    services.set_status(course.id, "open")
    return {"id": course.id, "before_open": from_site(opens) - timedelta(minutes=1),
            "during": from_site(opens) + timedelta(hours=1), "last_moment": from_site(closes) - timedelta(seconds=1),
            "after_close": from_site(closes) + timedelta(minutes=5)}


def mobile(n: int) -> str:
    return f"137{n:08d}"


def enter(course_id: int, n: int, now: datetime) -> services.Outcome:
    return services.sign_up(course_id, "刘德华", mobile(n), created_by="kiosk:1", now=now)


def drawn_rows(course_id: int) -> list[tuple]:
    return db.session.execute(select(Signup.id, Signup.entry_ref, Signup.state, Signup.queue_key, Signup.drawn_rank,
                                     Signup.confirmed_at)
                              .where(Signup.course_id == course_id).order_by(Signup.id)).all()


def course_state(course_id: int) -> tuple:
    db.session.expire_all()
    return db.session.execute(select(Course.taken, Course.status, Course.drawn_at, Course.arrivals, Course.draw_seed)
                              .where(Course.id == course_id)).one()


@pytest.fixture
def entered(app):
    """A lottery course with 30 entries, not yet drawn: (moments, seed commitment shown before the draw)."""
    with app.app_context():
        moments = lottery_course()
        course = db.session.get(Course, moments["id"])
        assert services.phase(course, moments["during"]) == "open"
        commitment = services.seed_commitment(course.draw_seed)
        outcomes = [enter(moments["id"], n, moments["during"] if n < ENTRIES else moments["last_moment"])
                    for n in range(1, ENTRIES + 1)]
        assert {o.state for o in outcomes} == {"entered"} and {o.position for o in outcomes} == {None}
        assert course_state(moments["id"])[:3] == (0, "open", None)
        assert services.phase(db.session.get(Course, moments["id"]), moments["after_close"]) == "drawing"
    return moments, commitment


def test_entries_are_refused_outside_the_window(app):
    with app.app_context():
        moments = lottery_course()
        with refused(NOT_OPEN):
            enter(moments["id"], 1, moments["before_open"])
        enter(moments["id"], 2, moments["during"])
        with refused(NOT_OPEN):
            enter(moments["id"], 3, moments["after_close"])
        assert [(row.entry_ref is not None, row.state) for row in drawn_rows(moments["id"])] == [(True, "entered")]
        # Before the draw there is nothing to verify and no draw to make.
        assert services.draw(moments["id"], now=moments["last_moment"]) is False
        assert course_state(moments["id"])[2] is None


def test_the_draw_gives_seats_in_an_order_anyone_can_repeat_from_the_seed(app, entered):
    moments, commitment = entered
    course_id = moments["id"]
    with app.app_context():
        assert services.draw(course_id, now=moments["after_close"]) is True
        taken, status, drawn_at, _arrivals, seed = course_state(course_id)
        assert (taken, status, drawn_at) == (CAPACITY, "full", moments["after_close"])
        # The seed published now is the one whose fingerprint was shown while entries were open.
        assert hashlib.sha256(seed.encode()).hexdigest() == commitment

        rows = sorted(drawn_rows(course_id), key=lambda row: row.drawn_rank)
        assert [row.drawn_rank for row in rows] == list(range(1, ENTRIES + 1))
        assert all(row.queue_key == row.drawn_rank for row in rows)
        assert [row.state for row in rows] == ["confirmed"] * CAPACITY + ["waitlisted"] * (ENTRIES - CAPACITY)
        assert all((row.confirmed_at is not None) == (row.state == "confirmed") for row in rows)
        # Repeated here with hashlib alone, not with the app's draw_order.
        refs = [row.entry_ref for row in rows]
        assert len(set(refs)) == ENTRIES
        assert refs == sorted(refs, key=lambda ref: hashlib.sha256(f"{seed}:{ref}".encode()).hexdigest())
        assert [s.entry_ref for s in services.waitlist(course_id)] == refs[CAPACITY:]
        assert services.verify_draw(course_id) is True

        # A second draw (the clock's job and staff racing, say) changes nothing.
        before = drawn_rows(course_id), course_state(course_id)
        assert services.draw(course_id, now=moments["after_close"] + timedelta(hours=1)) is False
        assert services.draw(course_id, now=moments["after_close"]) is False
        assert (drawn_rows(course_id), course_state(course_id)) == before

        # After the draw, newcomers queue behind everyone drawn; no new entries.
        late = enter(course_id, ENTRIES + 1, moments["after_close"] + timedelta(hours=2))
        assert (late.state, late.position) == ("waitlisted", ENTRIES - CAPACITY + 1)
        assert services.find_signup(late.code).entry_ref is None

        # Changing one recorded rank is noticed.
        db.session.execute(update(Signup).where(Signup.id == rows[0].id).values(drawn_rank=ENTRIES + 1))
        db.session.commit()
        assert services.verify_draw(course_id) is False


def test_the_public_record_shows_the_fingerprint_before_and_the_seed_after(app, client, entered, run_in_app):
    moments, commitment = entered
    course_id = moments["id"]
    seed = run_in_app(lambda: db.session.get(Course, course_id).draw_seed)

    before = client.get(f"/c/main/classes/{course_id}/draw")
    assert before.status_code == 200
    assert commitment in before.text and seed not in before.text
    assert f'/c/main/classes/{course_id}/draw' in client.get(f"/c/main/classes/{course_id}").text

    assert run_in_app(services.draw, course_id, now=moments["after_close"]) is True
    after = client.get(f"/c/main/classes/{course_id}/draw", headers={"Accept-Language": "en"})
    assert after.status_code == 200
    assert f'id="draw-seed">{seed}<' in after.text and commitment in after.text
    assert "gives the same order" in after.text
    refs = run_in_app(lambda: [s.entry_ref for s in services.draw_result(course_id)])
    assert after.text.index(refs[0]) < after.text.index(refs[1]) < after.text.index(refs[-1])


def test_after_the_draw_latecomers_queue_until_staff_close_sign_up(app, entered, run_in_app):
    moments, _commitment = entered
    course_id, after = moments["id"], moments["after_close"]

    def check():
        assert services.draw(course_id, now=after)
        late = services.sign_up(course_id, "晚来者", "13900009999", created_by="test", now=after)
        assert late.state == "waitlisted"
        assert late.position == ENTRIES - CAPACITY + 1
        services.set_status(course_id, "close", now=after + timedelta(minutes=1))
        assert services.phase(db.session.get(Course, course_id), after + timedelta(minutes=2)) == "closed"
        with pytest.raises(services.ClassError):
            services.sign_up(course_id, "再晚者", "13900009998", created_by="test", now=after + timedelta(minutes=2))
    run_in_app(check)
