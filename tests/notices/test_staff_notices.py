"""Notices in the staff console: writing, editing, ending and deleting them, the rules a
notice must keep, who may do it, the audit trail, and the kiosks' urgent banner noticing."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.clock import to_site, utcnow
from app.extensions import db
from app.notices import services
from app.notices.models import Notice
from app.staff.models import StaffMember

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
SITE_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local input sends


@pytest.fixture
def moderator(staff_client):
    return staff_client("mod", "moderator", display_name="审核员小李")


def site_input(run_in_app, moment: datetime) -> str:
    """A stored (UTC) time as a staff member types it: the site's local time."""
    return run_in_app(to_site, moment).strftime(SITE_INPUT)


def form(run_in_app, **changes) -> dict:
    now = utcnow()
    values = {"title": "周六社区义诊", "body": "一楼大厅，9点到11点。", "title_en": "", "body_en": "",
              "urgency": "normal", "starts_at": site_input(run_in_app, now - timedelta(minutes=5)), "ends_at": ""}
    values.update(changes)
    return values


def notices_by_title(run_in_app) -> dict[str, dict]:
    def read():
        return {notice.title: {column: getattr(notice, column) for column in
                               ("id", "body", "title_en", "body_en", "urgency", "starts_at", "ends_at", "updated_by",
                                "updated_at")}
                for notice in db.session.scalars(select(Notice))}
    return run_in_app(read)


def audit_actions(run_in_app) -> list[tuple[str, str, int | None, str]]:
    return run_in_app(lambda: [(entry.action, entry.actor_name, entry.target_id, entry.detail) for entry in
                               db.session.scalars(select(AuditEntry).where(AuditEntry.area == "notices")
                                                  .order_by(AuditEntry.id))])


def counts(run_in_app) -> tuple[int, int]:
    return run_in_app(lambda: (db.session.scalar(select(func.count()).select_from(Notice)),
                               db.session.scalar(select(func.count()).select_from(AuditEntry))))


def staff_id(run_in_app, username: str) -> int:
    return run_in_app(lambda: db.session.scalar(select(StaffMember.id).where(StaffMember.username == username)))


def checked_urgency(page: str) -> str:
    return re.search(r'<input checked id="urgency-\d" name="urgency"[^>]* value="(\w+)">', page).group(1)


def section(page: str, state: str) -> str:
    return re.search(rf'<table class="table" id="notices-{state}">(.*?)</table>', page, re.S).group(1)


def add(run_in_app, title: str, *, starts_in: timedelta, ends_in: timedelta | None = None, urgent=False) -> int:
    now = utcnow()
    return run_in_app(services.add_notice, title, "正文", urgent=urgent, starts_at=now + starts_in,
                      ends_at=now + ends_in if ends_in is not None else None)


# --- writing -------------------------------------------------------------------------------

def test_a_moderator_writes_a_normal_notice_and_the_kiosk_shows_it(moderator, client, run_in_app):
    new = moderator.get("/staff/notices/new", headers=EN)
    assert new.status_code == 200
    page = new.get_data(as_text=True)
    # The start defaults to now, in the site's time, to the minute.
    default = re.search(r'id="starts_at" name="starts_at" required type="datetime-local" value="([^"]+)"',
                        page).group(1)
    assert abs(datetime.strptime(default, SITE_INPUT) - run_in_app(to_site, utcnow())) < timedelta(minutes=2)
    assert checked_urgency(page) == "normal"

    response = moderator.post("/staff/notices", data=form(run_in_app, title_en="Free health check"))
    assert response.status_code == 303 and response.headers["Location"] == "/staff/notices"
    saved = notices_by_title(run_in_app)["周六社区义诊"]
    assert saved["urgency"] == "normal" and saved["ends_at"] is None and saved["body_en"] is None
    assert saved["updated_by"] == staff_id(run_in_app, "mod")
    assert "周六社区义诊" in client.get("/c/main/notices/", headers=ZH).get_data(as_text=True)
    assert "Free health check" in client.get("/c/main/notices/", headers=EN).get_data(as_text=True)
    assert audit_actions(run_in_app)[0][:3] == ("notice-created", "审核员小李", saved["id"])

    listing = moderator.get("/staff/notices", headers=EN).get_data(as_text=True)
    assert "周六社区义诊" in section(listing, "showing") and "Free health check" in section(listing, "showing")


def test_an_urgent_notice_reaches_the_banner_and_its_times_are_stored_in_utc(coordinator, run_in_app):
    before = run_in_app(services.urgent_version, "zh_Hans")
    response = coordinator.post("/staff/notices", data=form(
        run_in_app, title="明天停水", urgency="urgent", starts_at="2026-01-05T08:00", ends_at="2099-01-05T14:30"))
    assert response.status_code == 303
    saved = notices_by_title(run_in_app)["明天停水"]
    # Typed in Asia/Shanghai (UTC+8), stored as naive UTC.
    assert saved["starts_at"] == datetime(2026, 1, 5, 0, 0)
    assert saved["ends_at"] == datetime(2099, 1, 5, 6, 30)
    assert saved["urgency"] == "urgent"
    assert [notice.title for notice in run_in_app(services.urgent_notices, "zh_Hans")] == ["明天停水"]
    assert run_in_app(services.urgent_version, "zh_Hans") != before

    # Shown in site time on the list and in the edit form.
    listing = coordinator.get("/staff/notices", headers=EN).get_data(as_text=True)
    assert "1/5/26, 8:00\u202fAM" in section(listing, "showing")
    edit = coordinator.get(f"/staff/notices/{saved['id']}/edit").get_data(as_text=True)
    assert 'value="2026-01-05T08:00"' in edit and 'value="2099-01-05T14:30"' in edit
    assert checked_urgency(edit) == "urgent"


def test_seconds_from_a_browser_are_accepted(moderator, run_in_app):
    response = moderator.post("/staff/notices", data=form(run_in_app, starts_at="2026-01-05T08:00:30"))
    assert response.status_code == 303
    assert notices_by_title(run_in_app)["周六社区义诊"]["starts_at"] == datetime(2026, 1, 5, 0, 0, 30)


# --- editing -------------------------------------------------------------------------------

def test_editing_an_urgent_notice_changes_the_banner_version(moderator, coordinator, run_in_app):
    notice_id = add(run_in_app, "停水通知", starts_in=-timedelta(hours=1), ends_in=timedelta(hours=5), urgent=True)
    before = run_in_app(services.urgent_version, "zh_Hans")
    data = form(run_in_app, title="停水通知（时间调整）", urgency="urgent",
                starts_at=site_input(run_in_app, utcnow() - timedelta(hours=1)),
                ends_at=site_input(run_in_app, utcnow() + timedelta(hours=8)))
    response = coordinator.post(f"/staff/notices/{notice_id}", data=data)
    assert response.status_code == 303
    saved = notices_by_title(run_in_app)["停水通知（时间调整）"]
    assert saved["id"] == notice_id and saved["updated_by"] == staff_id(run_in_app, "coord")
    assert run_in_app(services.urgent_version, "zh_Hans") != before
    assert [notice.title for notice in run_in_app(services.urgent_notices, "zh_Hans")] == ["停水通知（时间调整）"]
    action, actor, target, detail = audit_actions(run_in_app)[-1]
    assert (action, actor, target) == ("notice-saved", "课程专员小王", notice_id) and "时间调整" in detail

    # Making it normal takes it off the banner.
    moderator.post(f"/staff/notices/{notice_id}", data={**data, "urgency": "normal"})
    assert run_in_app(services.urgent_notices, "zh_Hans") == []
    assert notices_by_title(run_in_app)["停水通知（时间调整）"]["updated_by"] == staff_id(run_in_app, "mod")


def test_a_missing_notice_is_not_found(moderator):
    assert moderator.get("/staff/notices/999/edit").status_code == 404
    assert moderator.post("/staff/notices/999", data={"title": "x"}).status_code == 404
    assert moderator.post("/staff/notices/999/end").status_code == 404
    assert moderator.post("/staff/notices/999/delete").status_code == 404


# --- ending and deleting -------------------------------------------------------------------

def test_ending_now_takes_a_notice_off_the_kiosks(moderator, client, run_in_app):
    notice_id = add(run_in_app, "紧急停电", starts_in=-timedelta(hours=1), ends_in=timedelta(hours=5), urgent=True)
    before = run_in_app(services.urgent_version, "zh_Hans")
    written = notices_by_title(run_in_app)["紧急停电"]["updated_at"]
    response = moderator.post(f"/staff/notices/{notice_id}/end")
    assert response.status_code == 303
    saved = notices_by_title(run_in_app)["紧急停电"]
    assert abs(saved["ends_at"] - utcnow()) < timedelta(minutes=1) and saved["updated_at"] > written
    assert saved["updated_by"] == staff_id(run_in_app, "mod")
    assert run_in_app(services.urgent_notices, "zh_Hans") == []
    assert run_in_app(services.urgent_version, "zh_Hans") != before
    assert client.get(f"/c/main/notices/{notice_id}").status_code == 404
    assert audit_actions(run_in_app)[-1][:3] == ("notice-ended", "审核员小李", notice_id)

    listing = moderator.get("/staff/notices", headers=EN).get_data(as_text=True)
    assert "紧急停电" in section(listing, "ended") and "紧急停电" not in section(listing, "showing")

    stored = counts(run_in_app)
    again = moderator.post(f"/staff/notices/{notice_id}/end", headers=EN)
    assert again.status_code == 422 and "This notice has already ended." in again.get_data(as_text=True)
    assert counts(run_in_app) == stored
    assert notices_by_title(run_in_app)["紧急停电"]["ends_at"] == saved["ends_at"]


def test_ending_a_scheduled_notice_means_it_never_shows(moderator, run_in_app):
    notice_id = add(run_in_app, "下周讲座", starts_in=timedelta(days=3))
    assert moderator.post(f"/staff/notices/{notice_id}/end").status_code == 303
    saved = notices_by_title(run_in_app)["下周讲座"]
    assert saved["starts_at"] == saved["ends_at"] and saved["ends_at"] <= utcnow()
    assert run_in_app(services.current_notices, "zh_Hans", now=utcnow() + timedelta(days=4)) == []


def test_the_end_happens_once_in_the_database(app, run_in_app):
    notice_id = add(run_in_app, "通知", starts_in=-timedelta(hours=1))
    first = utcnow()
    run_in_app(services.end_notice, notice_id, now=first)
    with pytest.raises(services.NoticeError):
        run_in_app(services.end_notice, notice_id, now=first + timedelta(seconds=1))
    assert notices_by_title(run_in_app)["通知"]["ends_at"] == first


def test_deleting_removes_the_notice_and_the_audit_keeps_its_title(coordinator, client, run_in_app):
    notice_id = add(run_in_app, "重复的通知", starts_in=-timedelta(hours=1), ends_in=timedelta(days=2), urgent=True)
    before = run_in_app(services.urgent_version, "zh_Hans")
    assert coordinator.post(f"/staff/notices/{notice_id}/delete").status_code == 303
    assert notices_by_title(run_in_app) == {}
    assert client.get(f"/c/main/notices/{notice_id}").status_code == 404
    assert run_in_app(services.urgent_version, "zh_Hans") != before
    action, actor, target, detail = audit_actions(run_in_app)[-1]
    assert (action, actor, target) == ("notice-deleted", "课程专员小王", notice_id) and "重复的通知" in detail


# --- the list ------------------------------------------------------------------------------

def test_the_list_shows_what_is_on_what_is_coming_and_what_ended_lately(moderator, run_in_app):
    add(run_in_app, "普通在播", starts_in=-timedelta(days=2))
    add(run_in_app, "紧急在播", starts_in=-timedelta(hours=1), ends_in=timedelta(hours=3), urgent=True)
    add(run_in_app, "明天开始", starts_in=timedelta(days=1), ends_in=timedelta(days=2))
    add(run_in_app, "后天开始", starts_in=timedelta(days=2))
    add(run_in_app, "上周结束", starts_in=-timedelta(days=10), ends_in=-timedelta(days=7))
    add(run_in_app, "很久以前", starts_in=-timedelta(days=90), ends_in=-timedelta(days=60))
    page = moderator.get("/staff/notices", headers=EN).get_data(as_text=True)

    def titles(state):
        return re.findall(r'/edit">([^<]+)</a>', section(page, state))

    assert titles("showing") == ["紧急在播", "普通在播"]  # urgent first
    assert titles("scheduled") == ["明天开始", "后天开始"]  # soonest first
    assert titles("ended") == ["上周结束"]  # older ones drop off the list
    assert "Urgent" in section(page, "showing") and "until ended by hand" in section(page, "scheduled")
    assert "End now" not in section(page, "ended")
    assert 'href="/staff/notices/new"' in page


def test_titles_are_shown_as_text(moderator, run_in_app):
    add(run_in_app, "<script>alert(1)</script>", starts_in=-timedelta(hours=1))
    page = moderator.get("/staff/notices").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- rules ---------------------------------------------------------------------------------

LATER = "2099-01-05T08:00"
EARLIER = "2099-01-05T07:59"


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"title": ""}, "title", "Please write the notice's title."),
    ({"title": "   "}, "title", "Please write the notice's title."),
    ({"title": "通" * 121}, "title", "At most 120 characters."),
    ({"body": "文" * 2001}, "body", "At most 2000 characters."),
    ({"title_en": "x" * 161}, "title_en", "At most 160 characters."),
    ({"body_en": "x" * 3001}, "body_en", "At most 3000 characters."),
    ({"starts_at": LATER, "ends_at": EARLIER}, "ends_at", "The end must come after the start."),
    ({"starts_at": LATER, "ends_at": LATER}, "ends_at", "The end must come after the start."),
    ({"urgency": "urgent", "ends_at": ""}, "ends_at", "An urgent notice needs an end time"),
    ({"urgency": "panic"}, "urgency", "Please choose normal or urgent."),
    ({"urgency": ""}, "urgency", "Please choose normal or urgent."),
    ({"starts_at": ""}, "starts_at", "Please give the time it starts showing."),
    ({"starts_at": "tomorrow"}, "starts_at", "Please give a date and a time, e.g. 2026-12-05 14:30."),
    ({"starts_at": "2026-13-45T25:00"}, "starts_at", "Please give a date and a time"),
    ({"ends_at": "2026-02-30T10:00"}, "ends_at", "Please give a date and a time"),
    ({"starts_at": "0001-01-01T00:00"}, "starts_at", "Please give a date and a time"),
])
def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(moderator, run_in_app, changes, field, message):
    notice_id = add(run_in_app, "原来的标题", starts_in=-timedelta(hours=1), ends_in=timedelta(hours=2), urgent=True)
    stored = counts(run_in_app), notices_by_title(run_in_app)
    for url in ("/staff/notices", f"/staff/notices/{notice_id}"):
        response = moderator.post(url, data=form(run_in_app, **changes), headers=EN)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, url
        # The message sits with its field, and the field is marked invalid.
        block = re.search(rf'<p class="field">(?:(?!</p>).)*? id="{field}".*?</p>', page, re.S).group(0)
        assert 'aria-invalid="true"' in block and 'class="error"' in block, url
        if message:
            assert message in block, url
        assert (counts(run_in_app), notices_by_title(run_in_app)) == stored, url


def test_text_is_tidied_before_it_is_stored(moderator, run_in_app):
    body = "第一行\r\n" * 500  # 2,000 characters as the browser counts them, 2,500 as sent
    response = moderator.post("/staff/notices", data=form(
        run_in_app, title="  停水 \t 通知 ", body=body, title_en="\tWater  cut", body_en=" "))
    assert response.status_code == 303
    saved = notices_by_title(run_in_app)["停水 通知"]
    assert saved["body"] == ("第一行\n" * 500).strip() and saved["title_en"] == "Water cut"
    assert saved["body_en"] is None


@pytest.mark.parametrize("changes", [{"title": "停\x00水"}, {"title_en": "Water\x07 cut"}, {"body_en": "\x00"},
                                     {"body": "停水\u202e通知"}, {"title": "停水\n通知"}])
def test_control_characters_and_line_breaks_in_a_title_are_refused(moderator, run_in_app, changes):
    stored = counts(run_in_app)
    response = moderator.post("/staff/notices", data=form(run_in_app, **changes), headers=EN)
    assert response.status_code == 422
    assert "cannot be used" in response.get_data(as_text=True) or "one line" in response.get_data(as_text=True)
    assert counts(run_in_app) == stored


def test_errors_are_in_the_staff_members_language(moderator, run_in_app):
    response = moderator.post("/staff/notices", data=form(run_in_app, title="通" * 121), headers=ZH)
    assert response.status_code == 422 and "最多 120 个字。" in response.get_data(as_text=True)


def test_rules_hold_for_any_caller(run_in_app):
    start = datetime(2099, 1, 5, 8, 0)
    with pytest.raises(services.NoticeError) as refused:
        run_in_app(services.save_notice, None, services.NoticeData(title="停水", starts_at=start, urgency="urgent"))
    assert refused.value.field == "ends_at"
    with pytest.raises(services.NoticeError) as refused:
        run_in_app(services.save_notice, None, services.NoticeData(title="停水", starts_at=start,
                                                                   ends_at=start - timedelta(hours=1)))
    assert refused.value.field == "ends_at"
    with pytest.raises(services.NoticeError) as refused:
        run_in_app(services.save_notice, None, services.NoticeData(title="x" * 121, starts_at=start))
    assert refused.value.field == "title"
    assert counts(run_in_app) == (0, 0)


# --- who may -------------------------------------------------------------------------------

def test_moderators_and_coordinators_write_notices_matchmakers_do_not(staff_client, moderator, coordinator, run_in_app):
    notice_id = add(run_in_app, "通知", starts_in=-timedelta(hours=1))
    matchmaker = staff_client("match", "matchmaker")
    assert matchmaker.get("/staff/notices").status_code == 403
    assert matchmaker.get("/staff/notices/new").status_code == 403
    assert matchmaker.post("/staff/notices", data=form(run_in_app, title="红娘的通知")).status_code == 403
    assert matchmaker.post(f"/staff/notices/{notice_id}/end").status_code == 403
    assert matchmaker.post(f"/staff/notices/{notice_id}/delete").status_code == 403
    assert set(notices_by_title(run_in_app)) == {"通知"} and audit_actions(run_in_app) == []
    assert 'href="/staff/notices"' not in matchmaker.get("/staff/").get_data(as_text=True)

    for member, title in ((moderator, "审核员的通知"), (coordinator, "专员的通知")):
        assert 'href="/staff/notices"' in member.get("/staff/").get_data(as_text=True)
        assert member.get("/staff/notices").status_code == 200
        assert member.post("/staff/notices", data=form(run_in_app, title=title)).status_code == 303
    assert set(notices_by_title(run_in_app)) == {"通知", "审核员的通知", "专员的通知"}


def test_signed_out_visitors_are_sent_to_sign_in(client, run_in_app):
    response = client.get("/staff/notices")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/?next=")
    assert client.post("/staff/notices", data=form(run_in_app)).status_code == 401
    assert counts(run_in_app) == (0, 0)
