"""A staff member's day in the console at a 1366x768 laptop, in Chinese, with a mouse and a
keyboard: the loops that used to end in dead ends (a hidden or pinned post lost from every
tab, a draw made before its advertised close, a destructive button that acts at once, a
reload that sends a form again) and the review queue's density."""

import subprocess
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.classes import services as classes
from app.classes.models import Course
from app.clock import site_today, to_site, utcnow
from app.kiosk.models import Kiosk
from app.staff.models import StaffMember
from app.wall.models import WatchedWord
from tests.e2e.helpers import RECEIPT_SHOWN, in_server_db, open_course, post_id, post_to_wall, publish
from tests.factories import enrolled_kiosk, staff_member


def _tag() -> str:
    return uuid.uuid4().hex[:6]


def _row(staff, post: int):
    return staff.locator(f"#row-{post}")


def _audited(server, action: str) -> int:
    return server.sql(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def _posts_on_reload(page) -> list[str]:
    """Reload the page; the methods of the requests the reload sent to the page's address."""
    sent = []
    page.on("request", lambda request: sent.append(request.method) if request.is_navigation_request() else None)
    page.reload()
    page.wait_for_load_state()
    return sent


def test_a_hidden_or_pinned_post_is_found_again_after_a_reload(staff, live_server):
    tag = _tag()
    hidden, hidden_receipt = publish(live_server, staff, "wish", f"希望周末开书法课 {tag}")
    pinned, _ = publish(live_server, staff, "greeting", f"祝大家冬至快乐 {tag}")

    # Hide one from the wall's list: after a reload it is in no tab of things to do...
    staff.goto("/staff/wall?show=on-wall")
    _row(staff, hidden).get_by_role("button", name="撤下", exact=True).click()
    expect(_row(staff, hidden)).to_have_class("queue-row state-hidden")
    staff.reload()
    expect(_row(staff, hidden)).to_have_count(0)
    staff.goto("/staff/wall")
    expect(_row(staff, hidden)).to_have_count(0)
    # ...but under Hidden, and by its receipt code typed as the resident reads it out.
    staff.get_by_role("link", name="已隐藏").click()
    expect(_row(staff, hidden)).to_be_visible()
    staff.locator("#wall-search").fill(f"{hidden_receipt[:4]} {hidden_receipt[4:]}")
    staff.locator("#wall-search").press("Enter")
    expect(_row(staff, hidden)).to_be_visible()
    expect(staff.locator("main")).not_to_contain_text("kiosk:")
    _row(staff, hidden).get_by_role("button", name="恢复", exact=True).click()
    expect(_row(staff, hidden)).to_have_class("queue-row state-approved")

    # Pin one; after a reload, find it by its words and unpin it.
    staff.goto("/staff/wall?show=on-wall")
    _row(staff, pinned).get_by_role("button", name="置顶", exact=True).click()
    expect(_row(staff, pinned).get_by_role("button", name="取消置顶", exact=True)).to_be_visible()
    staff.reload()
    staff.goto("/staff/wall")
    staff.locator("#wall-search").fill(f"冬至快乐 {tag}")
    staff.locator("#wall-search").press("Enter")
    expect(_row(staff, pinned)).to_contain_text("置顶")
    _row(staff, pinned).get_by_role("button", name="取消置顶", exact=True).click()
    expect(_row(staff, pinned).get_by_role("button", name="置顶", exact=True)).to_be_visible()
    staff.reload()
    expect(_row(staff, pinned).get_by_role("button", name="置顶", exact=True)).to_be_visible()


def test_destructive_actions_ask_first_and_a_reload_sends_nothing(staff, live_server, server_app):
    tag = _tag()
    with in_server_db(server_app):
        kiosk_id, _token = enrolled_kiosk(f"东门 {tag}")
        member_id = staff_member(f"helper-{tag}", "moderator", display_name=f"小帮手{tag}")

    # Revoking a kiosk, or all of them: a page naming what will happen, then the button.
    staff.goto("/staff/kiosks")
    staff.locator(f"#kiosk-{kiosk_id}").get_by_role("link", name="撤销…").click()
    expect(staff.locator("h1")).to_have_text(f"撤销大屏“东门 {tag}”？")
    assert live_server.sql(select(Kiosk.revoked_at).where(Kiosk.id == kiosk_id)) is None
    staff.get_by_role("link", name="取消").click()
    staff.get_by_role("link", name="撤销所有大屏…").click()
    expect(staff.locator("h1")).to_have_text("撤销所有大屏？")
    expect(staff.locator("main")).to_contain_text("每台都需要重新配对")
    staff.get_by_role("link", name="取消").click()
    assert live_server.sql(select(func.count()).select_from(Kiosk).where(Kiosk.revoked_at.is_not(None),
                                                                        Kiosk.id == kiosk_id)) == 0
    staff.locator(f"#kiosk-{kiosk_id}").get_by_role("link", name="撤销…").click()
    staff.locator("#confirm-button").click()
    expect(staff).to_have_url(f"{live_server.url}/staff/kiosks")
    expect(staff.locator(f"#kiosk-{kiosk_id}")).to_have_attribute("data-status", "revoked")
    revoked = _audited(live_server, "kiosk-revoked")
    assert "POST" not in _posts_on_reload(staff) and _audited(live_server, "kiosk-revoked") == revoked

    # Disabling an account and making a new password: each asks first; a reload afterwards
    # neither repeats the action nor shows the password again.
    staff.goto("/staff/accounts")
    row = staff.locator(f"#account-{member_id}")
    row.get_by_role("link", name="停用…").click()
    expect(staff.locator("h1")).to_have_text(f"停用 小帮手{tag} 的账号？")
    assert live_server.sql(select(StaffMember.enabled).where(StaffMember.id == member_id)) is True
    staff.locator("#confirm-button").click()
    expect(staff).to_have_url(f"{live_server.url}/staff/accounts")
    assert live_server.sql(select(StaffMember.enabled).where(StaffMember.id == member_id)) is False
    row.get_by_role("link", name="新密码…").click()
    expect(staff.locator("h1")).to_have_text(f"为 小帮手{tag} 生成新密码？")
    staff.locator("#confirm-button").click()
    expect(staff.locator("#password-once")).to_be_visible()
    changed = _audited(live_server, "password-changed")
    assert "POST" not in _posts_on_reload(staff)
    expect(staff.locator("#password-once")).to_have_count(0)
    assert _audited(live_server, "password-changed") == changed

    # A watched word: saved, then the settings page by its own address; a refused one shows
    # the page again with its message at that same address, so a reload sends nothing.
    staff.goto("/staff/wall/settings")
    staff.locator("#word").fill(f"加微信{tag}")
    staff.get_by_role("button", name="添加", exact=True).click()
    expect(staff).to_have_url(f"{live_server.url}/staff/wall/settings")
    words = live_server.sql(select(func.count()).select_from(WatchedWord))
    assert "POST" not in _posts_on_reload(staff)
    staff.locator("#word").fill(f"加 微 信{tag}")
    staff.get_by_role("button", name="添加", exact=True).click()
    expect(staff.locator("main [role=alert]")).to_be_visible()
    expect(staff).to_have_url(f"{live_server.url}/staff/wall/settings")
    assert "POST" not in _posts_on_reload(staff)
    assert live_server.sql(select(func.count()).select_from(WatchedWord)) == words


def test_a_lottery_is_not_drawn_before_its_advertised_close(staff, live_server, server_app, browser):
    with in_server_db(server_app):
        now = to_site(utcnow()).replace(microsecond=0)
        today = site_today()
        course = classes.save_course(None, classes.CourseData(
            title=f"健身营 {_tag()}", category="fitness", teacher="周教练", venue="健身室", capacity=2, mode="lottery",
            term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=30),
            signup_opens_at=now - timedelta(days=1), signup_closes_at=datetime.combine(today + timedelta(days=3),
                                                                                        time(9)),
            weekdays=(1,), start_time=time(19, 30)))
        classes.set_status(course.id, "open")
        course_id = course.id

    staff.goto(f"/staff/classes/{course_id}")
    staff.get_by_role("link", name="截止报名并抽签…").click()
    expect(staff.locator("h1")).to_have_text("抽签报名仍在进行")
    # The draw itself, sent anyway while the entries are open, is refused and changes nothing.
    token = staff.locator('form input[name="csrf_token"]').first.get_attribute("value")
    early = staff.request.post(f"/staff/classes/{course_id}/draw", form={"csrf_token": token})
    assert early.status == 422 and "请先截止报名" in early.text()
    assert live_server.sql(select(Course.drawn_at).where(Course.id == course_id)) is None

    staff.locator("#confirm-button").click()  # close the entries now
    expect(staff.locator("h1")).to_contain_text("抽签？")
    public = staff.context.new_page()
    public.goto(f"/c/main/classes/{course_id}")
    expect(public.locator("#seats")).to_contain_text("报名已于")
    public.close()
    staff.locator("#confirm-button").click()  # draw now
    expect(staff).to_have_url(f"{live_server.url}/staff/classes/{course_id}")
    assert live_server.sql(select(Course.drawn_at).where(Course.id == course_id)) is not None
    assert "POST" not in _posts_on_reload(staff)


def test_the_review_queue_fits_six_posts_on_a_laptop_and_a_moves_on(staff, live_server, tmp_path):
    tag = _tag()
    posted = [post_id(live_server, post_to_wall(staff, "wish", f"希望楼下多放几张长椅 {tag} 第{n}条"))
              for n in range(8)]
    staff.goto("/staff/wall?show=pending")
    expect(_row(staff, posted[0])).to_be_visible()
    shown = staff.evaluate("""() => Array.from(document.querySelectorAll('.queue-row')).filter(row => {
        const box = row.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight; }).length""")
    staff.screenshot(path=str(Path(tmp_path) / "queue-1366x768.png"))
    assert shown >= 6, f"only {shown} posts fully in a 1366x768 window"

    # Approving with the keyboard ("a") moves the keyboard on to the next post.
    rows = staff.locator("#queue-rows .queue-row")
    first_id = rows.nth(0).get_attribute("id")
    second_id = rows.nth(1).get_attribute("id")
    rows.nth(0).focus()
    staff.keyboard.press("a")
    expect(staff.locator(f"#{first_id}")).to_have_class("queue-row state-approved")
    expect(staff.locator(f"#{second_id}")).to_be_focused()

    # "Select all on this page" ticks every row; the bottom button approves them all.
    staff.locator("input[data-select-all]").check()
    ticked = staff.locator("#queue-rows input.row-tick:checked")
    expect(ticked).to_have_count(rows.count())
    staff.locator(".bulk-bottom button").click()
    for post in posted:
        expect(_row(staff, post)).to_have_count(0)
    assert "POST" not in _posts_on_reload(staff)


def test_assisted_sign_up_shows_the_code_at_once_and_prints_a_slip(staff, live_server, server_app, tmp_path):
    course_id = open_course(server_app, capacity=1, title=f"剪纸班 {_tag()}")
    for name, mobile in (("赵秀兰", "13911110001"), ("钱桂芳", "13911110002")):
        staff.goto(f"/staff/classes/{course_id}")
        staff.locator('input[name="name"]').fill(name)
        staff.locator('input[name="mobile"]').fill(mobile)
        staff.locator("#assisted-submit").click()
        expect(staff.locator("#slip-code")).to_have_text(RECEIPT_SHOWN)
    # The second is on the waitlist, told so with the place and the code, and a QR to keep.
    expect(staff.locator("#slip-outcome")).to_have_text("您在候补名单上。")
    expect(staff.locator("#slip-position")).to_have_text("您是候补第 1 位")
    code = staff.locator("#slip-code").inner_text().replace(" ", "")
    expect(staff.locator(".slip .qr svg")).to_have_count(1)
    assert "POST" not in _posts_on_reload(staff)
    # Printed, the slip holds the course and the code, and none of the console around it.
    pdf = Path(tmp_path) / "slip.pdf"
    staff.emulate_media(media="print")
    staff.pdf(path=str(pdf), format="A4")
    staff.emulate_media(media="screen")
    text = _pdf_text(pdf)
    assert code[:4] in text and "剪纸班" in text and "工作人员后台" not in text, text
    # The waitlist on the course page shows the code too.
    staff.goto(f"/staff/classes/{course_id}")
    expect(staff.locator("#waitlist")).to_contain_text(code)


def test_a_long_course_roster_prints_every_date(staff, live_server, server_app, tmp_path):
    """37 meetings (Mondays, Wednesdays and Fridays for a term): the printed roster goes on
    over several A4 pages, names and headers on each, and the PDF holds the last date."""
    with in_server_db(server_app):
        now = to_site(utcnow()).replace(microsecond=0)
        monday = site_today() + timedelta(days=7 - site_today().weekday())
        # Twelve weeks of three meetings, and the Monday after: 37.
        course = classes.save_course(None, classes.CourseData(
            title=f"太极拳 {_tag()}", category="fitness", teacher="赵老师", venue="一楼广场", capacity=5,
            term_starts=monday, term_ends=monday + timedelta(weeks=12), signup_opens_at=now - timedelta(days=1),
            signup_closes_at=now + timedelta(hours=12), weekdays=(0, 2, 4), start_time=time(7, 30), minutes=45))
        classes.set_status(course.id, "open")
        classes.sign_up(course.id, "欧阳建国", "13800001234", created_by="staff:test", source="assisted")
        meetings = [to_site(meeting.starts_at) for meeting in course.meetings]
        course_id, count = course.id, len(meetings)
    assert count == 37
    staff.goto(f"/staff/classes/{course_id}/print")
    pdf = Path(tmp_path) / "roster.pdf"
    staff.pdf(path=str(pdf), prefer_css_page_size=True)
    text = _pdf_text(pdf)
    assert meetings[-1].strftime("%m-%d") in text and meetings[0].strftime("%m-%d") in text
    pages = text.split("\f")
    printed = [page for page in pages if page.strip()]
    assert len(printed) >= 4, f"{len(printed)} pages for 37 dates"
    # Each page names the course and the resident, on one line.
    assert all("欧阳建国" in page and "太极拳" in page for page in printed), printed


def _pdf_text(path: Path) -> str:
    """The text of a PDF as poppler's pdftotext reads it (pages split by form feeds)."""
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_removing_an_expert_asks_first_and_the_printed_wall_list_has_no_buttons(staff, live_server, server_app,
                                                                                tmp_path):
    from app.experts import services as experts
    from app.experts.models import Expert

    tag = _tag()
    with in_server_db(server_app):
        skill = experts.save_skills([(f"修伞{tag}", "repairs", "Umbrella repair")])[0]
        expert_id = experts.save_experts([(None, experts.ExpertData(
            name="周建华", mobile="13912340000", display_name=f"周师傅{tag}", skill_ids=[skill.id],
            consent_on=site_today(), consent_scope="称呼"))])[0].id
    staff.goto("/staff/experts")
    row = staff.locator(f"#staff-expert-{expert_id}")
    row.get_by_text("删除…").click()
    second = row.get_by_role("button", name="永久删除，连同个人信息")
    expect(second).to_be_visible()
    assert live_server.sql(select(func.count()).select_from(Expert).where(Expert.id == expert_id)) == 1
    second.click()
    expect(staff.locator(f"#staff-expert-{expert_id}")).to_have_count(0)

    publish(live_server, staff, "greeting", f"新年快乐 {tag}")
    staff.goto("/staff/wall?show=on-wall")
    pdf = Path(tmp_path) / "wall.pdf"
    staff.pdf(path=str(pdf), format="A4")
    text = _pdf_text(pdf)
    assert f"新年快乐 {tag}" in text and "工作人员后台" not in text
    assert not any(word in text for word in ("撤下", "取消置顶", "全选本页", "搜索")), text[:400]
