"""The wall through HTTP: the kiosk's list, posting, live polls, reports, receipts and
the moderators' queue."""

import json
import re

import pytest

from markupsafe import escape

from sqlalchemy import select

from app.cases import services as cases
from app.cases.models import Case, Category
from app.cases.services import Step
from app.extensions import db
from app.kiosk.devices import DEVICE_COOKIE
from app.staff.models import StaffMember
from app.wall import services
from tests.factories import enrolled_kiosk, staff_member
from tests.xss_payloads import XSS_PAYLOADS

HTMX = {"HX-Request": "true"}


@pytest.fixture
def kiosks(app, run_in_app):
    """Three enrolled kiosk clients."""
    clients = []
    for name in ("A", "B", "C"):
        _kiosk_id, token = run_in_app(enrolled_kiosk, name)
        client = app.test_client()
        client.set_cookie(DEVICE_COOKIE, token)
        clients.append(client)
    return clients


@pytest.fixture
def moderator(staff_client):
    return staff_client("mod", "moderator", display_name="审核员小李")


FORM = {**HTMX, "HX-Target": "wall-form"}  # what htmx sends when the form posts itself


def send(client, kind="wish", text="希望楼下多放几张长椅", **extra):
    return client.post("/c/main/wall/posts", data={"kind": kind, "text": text, **extra}, headers=FORM)


def receipt_code(response) -> str:
    return re.search(r'id="receipt-code">(\d{4}) (\d{4})<', response.get_data(as_text=True)).expand(r"\1\2")


def approved(run_in_app, code):
    post = run_in_app(services.receipt, code)
    run_in_app(services.approve, post.id, None)
    return post.id


def test_posting_from_a_kiosk_gives_a_receipt(kiosks):
    response = send(kiosks[0])
    assert response.status_code == 200
    assert "您的回执码" in response.get_data(as_text=True)
    assert response.get_data(as_text=True).lstrip().startswith('<section id="wall-form"')
    trigger = json.loads(response.headers["HX-Trigger"])
    assert set(trigger) == {"wall-post-created"} and response.headers["HX-Trigger"].isascii()


def test_a_browser_that_is_not_a_kiosk_cannot_post(client):
    response = send(client)
    assert response.status_code == 403 and "这个屏幕只能浏览信息" in response.get_data(as_text=True)


def test_invalid_posts_come_back_with_localized_errors(kiosks):
    response = kiosks[0].post("/c/main/wall/posts", data={"text": ""}, headers={**FORM, "Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please choose what kind of message this is." in body and "Please write your message." in body
    assert body.lstrip().startswith('<form id="wall-form"')
    chinese = send(kiosks[0], text="字" * 201)
    assert chinese.status_code == 422 and "留言最多 200 个字" in chinese.get_data(as_text=True)


def test_posting_is_limited_per_kiosk(kiosks):
    statuses = [send(kiosks[0], text=f"第{n}个心愿").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]
    assert send(kiosks[1], text="另一台大屏的心愿").status_code == 200


def test_the_wall_shows_approved_posts_and_filters_by_kind(client, kiosks, run_in_app):
    wish = receipt_code(send(kiosks[0], "wish", "希望有个读书会"))
    thanks = receipt_code(send(kiosks[0], "thanks", "谢谢物业"))
    receipt_code(send(kiosks[0], "suggestion", "还没审核的建议"))
    approved(run_in_app, wish)
    approved(run_in_app, thanks)
    page = client.get("/c/main/wall/").get_data(as_text=True)
    assert "希望有个读书会" in page and "谢谢物业" in page and "还没审核的建议" not in page
    only_thanks = client.get("/c/main/wall/?kind=thanks", headers={**HTMX, "HX-Target": "wall-list"})
    body = only_thanks.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="wall-list"') and "谢谢物业" in body and "读书会" not in body


def test_live_poll_answers_204_until_something_changes(client, kiosks, run_in_app):
    page = client.get("/c/main/wall/").get_data(as_text=True)
    poll = re.search(r'hx-get="(/c/main/wall/live\?v=\d+)"', page).group(1)
    assert client.get(poll).status_code == 204
    code = receipt_code(send(kiosks[0]))
    assert client.get(poll).status_code == 204  # a pending post changes nothing on the wall
    approved(run_in_app, code)
    changed = client.get(poll)
    assert changed.status_code == 200 and "希望楼下多放几张长椅" in changed.get_data(as_text=True)
    fresh_poll = re.search(r'hx-get="(/c/main/wall/live\?v=\d+)"', changed.get_data(as_text=True)).group(1)
    assert fresh_poll != poll and client.get(fresh_poll).status_code == 204


def test_older_posts_load_by_keyset(client, app, run_in_app):
    with app.app_context():
        for number in range(25):
            receipt = services.create_post("wish", f"心愿第{number:02d}号", posted_by="kiosk:1")
            services.approve(services.receipt(receipt.code).id, None)
    page = client.get("/c/main/wall/").get_data(as_text=True)
    more = re.search(r'hx-get="(/c/main/wall/more\?before=\d+)"', page).group(1).replace("&amp;", "&")
    assert "心愿第24号" in page and "心愿第04号" not in page
    rest = client.get(more).get_data(as_text=True)
    assert "心愿第04号" in rest and "心愿第00号" in rest and "心愿第24号" not in rest
    assert 'id="load-more"' not in rest


def test_three_kiosks_reporting_hide_a_post(client, kiosks, run_in_app):
    post_id = approved(run_in_app, receipt_code(send(kiosks[0], "suggestion", "这条会被举报")))
    reasons = client.get(f"/c/main/wall/posts/{post_id}/report").get_data(as_text=True)
    assert reasons.count('name="reason"') == 4
    for kiosk in kiosks:
        response = kiosk.post(f"/c/main/wall/posts/{post_id}/report", data={"reason": "spam"}, headers=HTMX)
        assert response.status_code == 200 and "工作人员会查看" in response.get_data(as_text=True)
    assert "这条会被举报" not in client.get("/c/main/wall/").get_data(as_text=True)
    assert client.post(f"/c/main/wall/posts/{post_id}/report", data={"reason": "spam"}).status_code == 403


def test_a_problems_card_and_receipt_show_its_cases_status_and_reply(app, client, kiosks, run_in_app):
    """A problem reported at the kiosk is a case (app/cases) whose card goes on the wall: the
    card and the wall's receipt show the case's public status and staff's public reply."""
    with app.app_context():
        lighting = db.session.scalar(select(Category.id).where(Category.key == "lighting"))
    kiosks[0].post("/c/main/cases/", data={"category": lighting, "text": "单元门禁坏了", "place": "9号楼"},
                   headers={**HTMX, "HX-Target": "case-form"})
    code = run_in_app(lambda: db.session.scalar(select(Case.receipt_code)))
    pending = client.get("/c/main/wall/receipt", query_string={"code": code}).get_data(as_text=True)
    assert "等待工作人员查看" in pending and "已受理" in pending
    approved(run_in_app, code)
    with app.app_context():
        mod = db.session.get(StaffMember, staff_member("mod2", "moderator"))
        case_id = cases.by_receipt(code).id
        cases.act(case_id, mod, Step(action="route", level="committee", reply="已通知物业维修"))
        cases.act(case_id, mod, Step(action="accept"))
    result = client.get("/c/main/wall/receipt", query_string={"code": f"{code[:4]} {code[4:]}"},
                        headers={**HTMX, "HX-Target": "receipt-result"}).get_data(as_text=True)
    assert result.lstrip().startswith('<section id="receipt-result"')
    assert "已签收" in result and "单元门禁坏了" in result
    card = client.get("/c/main/wall/").get_data(as_text=True)
    assert "已签收" in card and "已通知物业维修" in card
    unknown = client.get("/c/main/wall/receipt", query_string={"code": "1234"}).get_data(as_text=True)
    assert "没有这个回执码的留言" in unknown


def test_moderator_queue_approve_reject_and_bulk(kiosks, moderator, client):
    held = receipt_code(send(kiosks[0], "wish", "联系我 13812345678"))
    plain = receipt_code(send(kiosks[0], "wish", "普通心愿一"))
    other = receipt_code(send(kiosks[0], "wish", "普通心愿二"))
    queue = moderator.get("/staff/wall").get_data(as_text=True)
    assert "<mark>138****5678</mark>" in queue and "13812345678" not in queue
    assert '<mark class="reason">手机号</mark>' in queue
    ids = [int(i) for i in re.findall(r'id="row-(\d+)"', queue)]
    assert len(ids) == 3

    row = moderator.post(f"/staff/wall/{ids[0]}/reject", data={"reason": ""}, headers=HTMX)
    assert row.status_code == 422 and "请填写理由" in row.get_data(as_text=True)
    row = moderator.post(f"/staff/wall/{ids[0]}/reject", data={"reason": "请勿留电话"}, headers=HTMX)
    assert row.status_code == 200 and row.get_data(as_text=True).lstrip().startswith(
        f'<article class="queue-row state-rejected" id="row-{ids[0]}"')
    bulk = moderator.post("/staff/wall/approve-many", data={"post": [str(i) for i in ids[1:]]},
                          headers={**HTMX, "HX-Target": "wall-queue"})
    assert bulk.status_code == 200 and "没有待处理的留言" in bulk.get_data(as_text=True)
    wall = client.get("/c/main/wall/").get_data(as_text=True)
    assert "普通心愿一" in wall and "普通心愿二" in wall and "138****5678" not in wall
    rejected = client.get("/c/main/wall/receipt", query_string={"code": held}).get_data(as_text=True)
    assert "未上墙" in rejected and "请勿留电话" in rejected
    assert plain != other


def test_moderator_settings_and_no_problems_through_the_wall(moderator, kiosks):
    # Saved: back to the settings page by a redirect, so that a reload sends nothing again.
    added = moderator.post("/staff/wall/settings/words", data={"word": "加微信", "action": "flag"})
    assert added.status_code == 303 and added.headers["Location"].endswith("/staff/wall/settings")
    duplicate = moderator.post("/staff/wall/settings/words", data={"word": "加 微 信", "action": "hold"})
    # Refused: the page again, with the message, and its own address for the browser to show.
    assert duplicate.status_code == 422 and 'data-page-url="/staff/wall/settings"' in duplicate.get_data(as_text=True)
    assert moderator.post("/staff/wall/settings/kinds", data={"publish_first": ["greeting"]}).status_code == 303
    assert send(kiosks[0], "greeting", "冬至快乐").status_code == 200
    assert "冬至快乐" in moderator.get("/staff/wall?show=published").get_data(as_text=True)
    # Problems are cases now: the wall's form offers no such kind.
    refused = send(kiosks[0], "problem", "路灯不亮", location="2号楼")
    assert refused.status_code == 422 and "路灯不亮" not in moderator.get("/staff/wall").get_data(as_text=True)


def test_markup_in_posts_is_escaped_everywhere(app, client, moderator, run_in_app):
    """Every payload, approved, appears escaped on the kiosk, in the console and on its
    receipt (tests/e2e/test_wall.py checks that Chromium runs none of them)."""
    codes = []
    with app.app_context():
        for number, payload in enumerate(XSS_PAYLOADS):
            receipt = services.create_post("wish", f"{payload} #{number}", nickname="<b>x</b>", posted_by="kiosk:1")
            codes.append(receipt.code)
    queue = moderator.get("/staff/wall").get_data(as_text=True)
    for code in codes:
        approved(run_in_app, code)
    pages = [queue, moderator.get("/staff/wall?show=held").get_data(as_text=True)]
    wall = client.get("/c/main/wall/").get_data(as_text=True)
    pages.append(wall)
    while (more := re.search(r'hx-get="(/c/main/wall/more\?before=\d+)"', pages[-1])):
        pages.append(client.get(more.group(1)).get_data(as_text=True))
    pages += [client.get("/c/main/wall/receipt", query_string={"code": code}).get_data(as_text=True) for code in codes]
    everything = "\n".join(pages)
    for number, payload in enumerate(XSS_PAYLOADS):
        shown = escape(f"{payload} #{number}")
        assert everything.count(str(shown)) >= 2, payload  # the wall and its receipt, at least
        if "<" in payload or '"' in payload:
            assert payload not in everything, payload  # never as raw markup
    assert "<b>x</b>" not in everything


def test_every_post_can_be_found_again_in_any_state(kiosks, moderator, run_in_app):
    """A hidden post is under Hidden and a pinned one under On the wall after a reload, and
    the search finds posts by receipt code, text, nickname and kiosk, in any state."""
    hidden = receipt_code(send(kiosks[0], "wish", "希望周末有书法课", nickname="老周"))
    pinned = receipt_code(send(kiosks[1], "greeting", "大家新年好"))
    hidden_id, pinned_id = approved(run_in_app, hidden), approved(run_in_app, pinned)
    assert moderator.post(f"/staff/wall/{hidden_id}/hide", headers=HTMX).status_code == 200
    assert moderator.post(f"/staff/wall/{pinned_id}/pin", headers=HTMX).status_code == 200

    waiting = moderator.get("/staff/wall").get_data(as_text=True)
    assert "希望周末有书法课" not in waiting and "大家新年好" not in waiting
    hidden_tab = moderator.get("/staff/wall?show=hidden").get_data(as_text=True)
    assert f'id="row-{hidden_id}"' in hidden_tab and "恢复" in hidden_tab and "大家新年好" not in hidden_tab
    on_wall = moderator.get("/staff/wall?show=on-wall").get_data(as_text=True)
    assert on_wall.index(f'id="row-{pinned_id}"') < on_wall.index("</main>") and "取消置顶" in on_wall
    # Who posted it reads as the kiosk's name, never its code.
    assert "大屏：A" in hidden_tab and "kiosk:" not in hidden_tab and "昵称：老周" in hidden_tab

    for words, expected in ((hidden, hidden_id), (hidden[:4] + " " + hidden[4:], hidden_id), ("书法", hidden_id),
                            ("老周", hidden_id), ("B", pinned_id)):
        found = moderator.get("/staff/wall", query_string={"q": words}).get_data(as_text=True)
        assert expected in [int(i) for i in re.findall(r'id="row-(\d+)"', found)], words
    by_kiosk = [int(i) for i in re.findall(r'id="row-(\d+)"', moderator.get(
        "/staff/wall", query_string={"q": "A"}).get_data(as_text=True))]
    assert hidden_id in by_kiosk and pinned_id not in by_kiosk
    nothing = moderator.get("/staff/wall", query_string={"q": "没有这样的留言"}).get_data(as_text=True)
    assert 'id="row-' not in nothing and "没有符合的留言" in nothing

    assert moderator.post(f"/staff/wall/{hidden_id}/restore", headers=HTMX).status_code == 200
    assert moderator.post(f"/staff/wall/{pinned_id}/unpin", headers=HTMX).status_code == 200
    assert 'id="row-' not in moderator.get("/staff/wall?show=hidden").get_data(as_text=True)
    assert run_in_app(lambda: services.get_post(pinned_id).pinned) is False
