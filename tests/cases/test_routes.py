"""Cases at the kiosk through HTTP: reporting a problem with a category and a place, the
refusals of bad input, "me too" on an open case nearby, the receipt's public timeline (never
the reporter's number, an internal note or a staff member's name), the limit on lookups, the
resident's check back, and a wall card's progress page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.cases import services
from app.cases.models import Case, CaseEvent, CaseSupport, Category
from app.cases.services import Intake, Step
from app.clock import utcnow
from app.communities import scope
from app.communities.services import create_community
from app.extensions import db
from app.kiosk.devices import DEVICE_COOKIE
from app.staff.models import StaffMember
from app.wall import services as wall
from tests.factories import enrolled_kiosk, staff_member

HTMX = {"HX-Request": "true"}
FORM = {**HTMX, "HX-Target": "case-form"}  # what htmx sends when the form posts itself
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}
CONTACT = "13812345678"
NEW = "/c/main/cases/"


def category_id(run_in_app, key: str) -> int:
    return run_in_app(lambda: db.session.scalar(select(Category.id).where(Category.key == key)))


def receipt_code(response) -> str:
    return re.search(r'id="receipt-code">(\d{4}) (\d{4})<', response.get_data(as_text=True)).expand(r"\1\2")


def report(client, category, text="3号楼门口的路灯坏了", place="3号楼", headers=FORM, **extra):
    return client.post(NEW, data={"category": category, "text": text, "place": place, **extra}, headers=headers)


def stored(run_in_app):
    """Every case of the first community: (channel, category key, place, text, contact)."""
    return run_in_app(lambda: [(case.channel, case.category.key, case.place, case.text, case.contact)
                               for case in db.session.scalars(select(Case).order_by(Case.id))])


def case_by_code(run_in_app, code):
    return run_in_app(lambda: services.by_receipt(code).id)


@pytest.fixture
def app(make_app):
    """Room for many reports and answers from one kiosk (test_reports_are_limited_per_kiosk
    checks the limits as they stand)."""
    return make_app(RATE_LIMITS={"case-report": "200 per minute", "case-check-back": "200 per minute"})


@pytest.fixture
def other_kiosk(app, run_in_app):
    _kiosk_id, token = run_in_app(enrolled_kiosk, "二楼")
    client = app.test_client()
    client.set_cookie(DEVICE_COOKIE, token)
    return client


def staff_case(app, *, key="lighting", text="路灯不亮", place="5号楼", contact="", channel="walk_in"):
    """A case taken in at the desk of the first community (so no wall card): its id."""
    with app.app_context():
        category = db.session.scalar(select(Category).where(Category.key == key))
        return services.take_in(Intake(category_id=category.id, text=text, place=place, contact=contact),
                                channel=channel, reported_by="staff:0").id


def moderator(app) -> int:
    with app.app_context():
        return staff_member("mod", "moderator", display_name="调度员老周")


def act(app, case_id, member_id, **step):
    with app.app_context():
        member = db.session.get(StaffMember, member_id)
        services.act(case_id, member, Step(**step))


def resolved_case(app, *, reply="已更换灯泡", **case):
    """A case routed to the committee, accepted and resolved by the moderator: (id, code)."""
    case_id = staff_case(app, **case)
    mod = moderator(app)
    act(app, case_id, mod, action="route", level="committee")
    act(app, case_id, mod, action="accept")
    act(app, case_id, mod, action="resolve", reply=reply)
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert case.state == "resolved"
        return case_id, case.receipt_code


# --- reporting ----------------------------------------------------------------------------------

def test_a_kiosk_reports_a_problem_with_category_and_place(kiosk_client, run_in_app):
    lighting = category_id(run_in_app, "lighting")
    form = kiosk_client.get("/c/main/cases/new", headers=ZH).get_data(as_text=True)
    assert 'id="case-form"' in form and "路灯照明" in form and f'value="{lighting}"' in form

    response = report(kiosk_client, lighting, contact=CONTACT)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="case-form"')
    assert "谢谢！您反映的问题已受理。" in body and "您的回执码" in body
    code = receipt_code(response)
    assert len(code) == 8 and CONTACT not in body
    assert "cases-reported" in response.headers["HX-Trigger"]
    assert stored(run_in_app) == [("kiosk", "lighting", "3号楼", "3号楼门口的路灯坏了", CONTACT)]
    assert run_in_app(lambda: services.by_receipt(code).reported_by).startswith("kiosk:")


def test_a_whole_page_post_gets_the_whole_page(kiosk_client, run_in_app):
    response = report(kiosk_client, category_id(run_in_app, "roads"), headers=EN)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert "Thank you! Your problem is reported." in body and 'id="receipt-code"' in body


def test_a_browser_that_is_not_a_kiosk_cannot_report(client, run_in_app):
    response = report(client, category_id(run_in_app, "lighting"), headers=ZH)
    assert response.status_code == 403 and "这个屏幕只能浏览信息" in response.get_data(as_text=True)
    assert stored(run_in_app) == []
    page = client.get("/c/main/cases/new").get_data(as_text=True)
    assert 'id="case-form"' not in page


def _bad_reports(run_in_app):
    lighting = category_id(run_in_app, "lighting")
    return [
        ({"category": "", "text": "路灯坏了"}, "请选择问题的类别。", "Please choose what the problem is about."),
        ({"text": "路灯坏了"}, "请选择问题的类别。", "Please choose what the problem is about."),
        ({"category": "99999", "text": "路灯坏了"}, None, None),
        ({"category": "abc", "text": "路灯坏了"}, None, None),
        ({"category": "²", "text": "路灯坏了"}, None, None),
        ({"category": "9" * 30, "text": "路灯坏了"}, None, None),
        ({"category": str(lighting), "text": ""}, "请说明是什么问题。", "Please say what the problem is."),
        ({"category": str(lighting), "text": "   "}, "请说明是什么问题。", "Please say what the problem is."),
        ({"category": str(lighting), "text": "字" * 201}, "留言最多 200 个字。",
         "A message has at most 200 characters."),
        ({"category": str(lighting), "text": "路灯坏了", "place": "楼" * 41}, None, None),
        ({"category": str(lighting), "text": "路灯坏了", "grid": "99999"}, None, None),
        ({"category": str(lighting), "text": "路灯坏了", "contact": "12"}, None, None),
    ]


def test_bad_reports_come_back_with_localized_errors_and_store_nothing(kiosk_client, run_in_app):
    for data, chinese, english in _bad_reports(run_in_app):
        for headers, message in ((ZH, chinese), (EN, english)):
            response = kiosk_client.post(NEW, data=data, headers={**FORM, **headers})
            body = response.get_data(as_text=True)
            assert response.status_code == 422, data
            assert body.lstrip().startswith('<form id="case-form"'), data
            assert '<span class="error" role="alert">' in body or '<p class="error" role="alert">' in body, data
            if message:
                assert message in body, (data, message)
    assert stored(run_in_app) == []


def test_a_grid_value_that_is_no_id_reads_as_not_sure(kiosk_client, run_in_app):
    """The grid is optional ("not sure"): a value that is no id is taken as none, never stored."""
    response = report(kiosk_client, category_id(run_in_app, "lighting"), grid="abc")
    assert response.status_code == 200
    assert run_in_app(lambda: [case.grid_id for case in db.session.scalars(select(Case))]) == [None]


def test_an_unknown_category_is_refused_in_the_readers_language(kiosk_client, run_in_app):
    for value in ("99999", "abc", "²"):
        chinese = kiosk_client.post(NEW, data={"category": value, "text": "路灯坏了"},
                                    headers={**FORM, **ZH}).get_data(as_text=True)
        english = kiosk_client.post(NEW, data={"category": value, "text": "路灯坏了"},
                                    headers={**FORM, **EN}).get_data(as_text=True)
        chinese_errors = re.findall(r'class="error" role="alert">([^<]+)<', chinese)
        english_errors = re.findall(r'class="error" role="alert">([^<]+)<', english)
        assert chinese_errors and english_errors, value
        assert all(re.search(r"[\u4e00-\u9fff]", error) for error in chinese_errors), chinese_errors
        assert all(error.isascii() for error in english_errors), english_errors
    assert stored(run_in_app) == []


def test_the_same_report_twice_is_refused(kiosk_client, run_in_app):
    lighting = category_id(run_in_app, "lighting")
    assert report(kiosk_client, lighting).status_code == 200
    again = report(kiosk_client, lighting, headers={**FORM, **EN})
    assert again.status_code == 422 and "It needs to be sent only once." in again.get_data(as_text=True)
    assert len(stored(run_in_app)) == 1


def test_reports_and_answers_are_limited_per_kiosk(make_app):
    app = make_app()
    with app.app_context():
        lighting = db.session.scalar(select(Category.id).where(Category.key == "lighting"))
    kiosks = []
    for name in ("A", "B"):
        with app.app_context():
            _kiosk_id, token = enrolled_kiosk(name)
        kiosks.append(app.test_client())
        kiosks[-1].set_cookie(DEVICE_COOKIE, token)
    statuses = [report(kiosks[0], lighting, text=f"第{n}盏路灯坏了").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]
    assert report(kiosks[1], lighting, text="另一台屏幕的路灯").status_code == 200
    answers = [check_back(kiosks[1], "12345678", "yes", "satisfied").status_code for _ in range(11)]
    assert answers == [422] * 10 + [429]


def test_a_private_category_is_reported_but_not_sent_to_the_wall(kiosk_client, run_in_app):
    response = report(kiosk_client, category_id(run_in_app, "dispute"), text="楼上装修吵架")
    assert response.status_code == 200
    assert run_in_app(lambda: services.by_receipt(receipt_code(response)).post_id) is None
    public = report(kiosk_client, category_id(run_in_app, "noise"), text="广场舞太吵")
    assert run_in_app(lambda: services.by_receipt(receipt_code(public)).post_id) is not None


# --- "me too" -----------------------------------------------------------------------------------

def test_similar_lists_open_cases_of_the_category_at_the_place(app, client, run_in_app):
    case_id = staff_case(app, place="5号楼")
    lighting, roads = category_id(run_in_app, "lighting"), category_id(run_in_app, "roads")
    found = client.get("/c/main/cases/similar", query_string={"category": lighting, "place": "5号楼"}, headers=ZH)
    body = found.get_data(as_text=True)
    assert found.status_code == 200 and body.lstrip().startswith('<section id="case-similar"')
    assert f'id="similar-{case_id}"' in body and "这里已有人反映过" in body and "路灯不亮" not in body
    for query in ({"category": roads, "place": "5号楼"}, {"category": lighting, "place": "6号楼"},
                  {"category": lighting}, {"category": "abc", "place": "5号楼"}, {"category": "²"},
                  {"place": "5号楼"}, {"category": lighting, "grid": "abc", "place": "x" * 500}):
        other = client.get("/c/main/cases/similar", query_string=query)
        assert other.status_code == 200 and "similar-" not in other.get_data(as_text=True), query
    # The report form, opened with a category, shows the same place's cases once a place is typed.
    form = client.get("/c/main/cases/new", query_string={"category": lighting})
    assert form.status_code == 200


def test_a_closed_case_is_not_offered_as_similar(app, client, run_in_app):
    case_id = staff_case(app, place="5号楼")
    act(app, case_id, moderator(app), action="close", close_reason="not_ours", reason="请找燃气公司")
    found = client.get("/c/main/cases/similar",
                       query_string={"category": category_id(run_in_app, "lighting"), "place": "5号楼"})
    assert f'id="similar-{case_id}"' not in found.get_data(as_text=True)


def test_me_too_counts_once_per_kiosk(app, client, kiosk_client, other_kiosk, run_in_app):
    case_id = staff_case(app, place="5号楼")
    first = kiosk_client.post(f"/c/main/cases/{case_id}/me-too", headers={**HTMX, **ZH})
    assert first.status_code == 200 and "谢谢，已记上。" in first.get_data(as_text=True)
    assert "cases-me-too" in first.headers["HX-Trigger"]
    again = kiosk_client.post(f"/c/main/cases/{case_id}/me-too", headers={**HTMX, **EN})
    assert again.status_code == 200 and "This kiosk counted you already." in again.get_data(as_text=True)
    assert other_kiosk.post(f"/c/main/cases/{case_id}/me-too", headers=HTMX).status_code == 200
    counted = run_in_app(lambda: (db.session.get(Case, case_id).me_too, db.session.scalar(
        select(func.count()).select_from(CaseSupport).where(CaseSupport.case_id == case_id))))
    assert counted == (2, 2)
    assert client.post(f"/c/main/cases/{case_id}/me-too").status_code == 403
    assert kiosk_client.post("/c/main/cases/999999/me-too").status_code == 404
    assert kiosk_client.post("/c/main/cases/abc/me-too").status_code == 404
    assert kiosk_client.post(f"/c/main/cases/{'9' * 30}/me-too").status_code == 404
    listed = client.get("/c/main/cases/similar", query_string={"category": category_id(run_in_app, "lighting"),
                                                                "place": "5号楼"}, headers=EN)
    assert "2 neighbours too" in listed.get_data(as_text=True)


def test_me_too_on_a_closed_case_is_refused(app, kiosk_client):
    case_id = staff_case(app)
    act(app, case_id, moderator(app), action="close", close_reason="long_term", reason="明年改造计划")
    refused = kiosk_client.post(f"/c/main/cases/{case_id}/me-too", headers={**HTMX, **ZH})
    assert refused.status_code == 422 and "这个问题已经结案了。" in refused.get_data(as_text=True)


# --- the receipt --------------------------------------------------------------------------------

def test_the_receipt_shows_the_public_timeline_only(app, client, run_in_app):
    case_id = staff_case(app, text=f"路灯坏了，请回电 {CONTACT}", contact=CONTACT)
    mod = moderator(app)
    act(app, case_id, mod, action="route", level="committee", reply="已转居委会处理",
        note="内部备注：住户情绪激动")
    act(app, case_id, mod, action="accept")
    code = run_in_app(lambda: db.session.get(Case, case_id).receipt_code)

    response = client.get("/c/main/cases/receipt", query_string={"code": code}, headers=ZH)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    state = re.search(r'id="case-state">(.*?)</p>', body, re.S).group(1)
    assert "已签收" in state and "办结时限：" in state
    timeline = re.search(r'<ol class="case-timeline" id="case-timeline">(.*?)</ol>', body, re.S).group(1)
    assert timeline.count("<li") == 4  # received, routed, the reply, accepted
    assert "已转居委会处理" in body
    for secret in (CONTACT, "内部备注", "住户情绪激动", "调度员老周", "请回电", "138****5678"):
        assert secret not in body, secret

    spaced = client.get("/c/main/cases/receipt", query_string={"code": f"{code[:4]} {code[4:]}"},
                        headers={**HTMX, "HX-Target": "case-receipt", **EN})
    fragment = spaced.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="case-receipt"') and "Accepted" in fragment
    assert "Sent to its handler" in fragment and "Residents" in fragment


def test_a_returned_case_reads_as_received_to_the_public(app, client, run_in_app):
    case_id = staff_case(app)
    mod = moderator(app)
    act(app, case_id, mod, action="route", level="committee")
    act(app, case_id, mod, action="return", reason="不归我们管，退回调度")
    code = run_in_app(lambda: db.session.get(Case, case_id).receipt_code)
    body = client.get("/c/main/cases/receipt", query_string={"code": code}, headers=EN).get_data(as_text=True)
    assert "Received" in re.search(r'id="case-state">(.*?)</p>', body, re.S).group(1)
    assert "退回调度" not in body and "Sent back" not in body


def test_unknown_codes_say_no_such_receipt(client):
    for code in ("12345678", "1234", "abcdefgh", "²²²²²²²²", "1" * 200):
        response = client.get("/c/main/cases/receipt", query_string={"code": code}, headers=ZH)
        assert response.status_code == 200, code
        assert "没有这个回执码的问题反映" in response.get_data(as_text=True), code
    empty = client.get("/c/main/cases/receipt", headers=ZH)
    assert empty.status_code == 200 and "没有这个回执码" not in empty.get_data(as_text=True)


def test_a_receipt_of_another_community_is_no_such_receipt(app, client):
    with app.app_context():
        second = create_community("second", "第二社区")
        with scope.within(second):
            lighting = db.session.scalar(select(Category.id).where(Category.key == "lighting"))
            code = services.take_in(Intake(category_id=lighting, text="别的社区的路灯", place="1号楼"),
                                    channel="walk_in", reported_by="staff:0").receipt_code
    here = client.get("/c/main/cases/receipt", query_string={"code": code}, headers=EN).get_data(as_text=True)
    assert "No problem report has that receipt code." in here and 'id="case-state"' not in here
    there = client.get("/c/second/cases/receipt", query_string={"code": code}, headers=EN).get_data(as_text=True)
    assert 'id="case-state"' in there and "No problem report" not in there


def test_receipt_lookups_are_limited_per_device(app, client, kiosk_client):
    address = {"REMOTE_ADDR": "10.3.3.3"}
    answers = [client.get("/c/main/cases/receipt", query_string={"code": f"{n:08d}"},
                          environ_base=address).status_code for n in range(60)]
    assert answers == [200] * 60
    limited = client.get("/c/main/cases/receipt?code=12345678", environ_base=address, headers=ZH)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "请等" in limited.get_data(as_text=True)
    fragment = client.get("/c/main/cases/receipt?code=12345678", environ_base=address,
                          headers={**HTMX, "HX-Target": "case-receipt"})
    assert fragment.status_code == 429 and fragment.headers["HX-Reswap"] == "none"
    # The empty form still opens; another phone and a kiosk count for themselves.
    assert client.get("/c/main/cases/receipt", environ_base=address).status_code == 200
    assert app.test_client().get("/c/main/cases/receipt?code=12345678",
                                 environ_base={"REMOTE_ADDR": "10.4.4.4"}).status_code == 200
    assert kiosk_client.get("/c/main/cases/receipt?code=12345678", environ_base=address).status_code == 200


def test_receipt_lookups_share_the_limit_with_other_code_lookups(make_app):
    app = make_app(RATE_LIMITS={"code-lookup": "3 per 10 minutes"})
    phone = app.test_client()
    address = {"REMOTE_ADDR": "10.5.5.5"}
    assert phone.get("/c/main/wall/receipt?code=11111111", environ_base=address).status_code == 200
    assert [phone.get(f"/c/main/cases/receipt?code=2222222{n}", environ_base=address).status_code
            for n in range(3)] == [200, 200, 429]


# --- check back -----------------------------------------------------------------------------------

def check_back(client, code, fixed, satisfaction, headers=HTMX):
    return client.post("/c/main/cases/check-back", data={"code": code, "fixed": fixed, "satisfaction": satisfaction},
                       headers=headers)


def test_the_receipt_offers_the_check_back_to_a_kiosk_only(app, client, kiosk_client):
    _case_id, code = resolved_case(app)
    at_kiosk = kiosk_client.get("/c/main/cases/receipt", query_string={"code": code}, headers=ZH)
    body = at_kiosk.get_data(as_text=True)
    assert 'id="check-back"' in body and "已办结" in body and "已更换灯泡" in body
    browsing = client.get("/c/main/cases/receipt", query_string={"code": code}).get_data(as_text=True)
    assert 'id="check-back"' not in browsing


@pytest.mark.parametrize(("fixed", "satisfaction"), [("no", "satisfied"), ("yes", "unsatisfied"), ("no", "basic")])
def test_not_fixed_or_unsatisfied_reopens_the_case(app, kiosk_client, run_in_app, fixed, satisfaction):
    case_id, code = resolved_case(app)
    response = check_back(kiosk_client, code, fixed, satisfaction, headers={**HTMX, **ZH})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="case-receipt"')
    assert "重新办理中" in body and "根据居民回访重新办理" in body
    case = run_in_app(lambda: db.session.get(Case, case_id))
    assert (case.state, case.reopen_count, case.fixed, case.satisfaction) == (
        "reopened", 1, fixed == "yes", satisfaction)
    assert case.due_at is not None and case.checked_back_at is not None


def test_fixed_and_satisfied_closes_the_case(app, kiosk_client, run_in_app):
    case_id, code = resolved_case(app)
    response = check_back(kiosk_client, code, "yes", "satisfied", headers={**HTMX, **EN})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Closed" in body and "Satisfied" in body
    case = run_in_app(lambda: db.session.get(Case, case_id))
    assert (case.state, case.close_reason, case.satisfaction) == ("closed", "fixed", "satisfied")


def test_the_check_back_reopens_only_once(app, kiosk_client, run_in_app):
    case_id, code = resolved_case(app)
    assert check_back(kiosk_client, code, "no", "unsatisfied").status_code == 200
    mod = run_in_app(lambda: db.session.scalar(select(StaffMember.id).where(StaffMember.username == "mod")))
    act(app, case_id, mod, action="resolve", reply="这次彻底修好了")
    assert check_back(kiosk_client, code, "no", "unsatisfied").status_code == 200
    case = run_in_app(lambda: db.session.get(Case, case_id))
    assert (case.state, case.reopen_count) == ("closed", 1)


def test_answering_a_case_that_is_not_resolved_is_refused(app, kiosk_client, client, run_in_app):
    case_id = staff_case(app)
    code = run_in_app(lambda: db.session.get(Case, case_id).receipt_code)
    chinese = check_back(kiosk_client, code, "yes", "satisfied", headers={**HTMX, **ZH})
    assert chinese.status_code == 422 and "这个问题目前不需要您回访。" in chinese.get_data(as_text=True)
    english = check_back(kiosk_client, code, "no", "unsatisfied", headers={**HTMX, **EN})
    assert english.status_code == 422 and "This problem is not waiting for your answer." in english.get_data(
        as_text=True)
    assert run_in_app(lambda: (db.session.get(Case, case_id).state, db.session.get(Case, case_id).fixed)) == (
        "received", None)
    assert check_back(client, code, "yes", "satisfied").status_code == 403


def test_an_answer_after_the_window_is_refused(app, kiosk_client, run_in_app):
    case_id, code = resolved_case(app)

    def resolved_long_ago():
        db.session.execute(update(Case).where(Case.id == case_id).values(resolved_at=utcnow() - timedelta(days=8)))
        db.session.commit()

    run_in_app(resolved_long_ago)
    late = check_back(kiosk_client, code, "no", "unsatisfied", headers={**HTMX, **EN})
    assert late.status_code == 422 and "The time to answer has passed." in late.get_data(as_text=True)
    assert run_in_app(lambda: db.session.get(Case, case_id).state) == "resolved"


def test_bad_answers_are_refused_and_change_nothing(app, kiosk_client, run_in_app):
    case_id, code = resolved_case(app)
    for data, message in (
            ({"code": code, "satisfaction": "satisfied"}, "Please say whether the problem is fixed."),
            ({"code": code, "fixed": "maybe", "satisfaction": "satisfied"}, None),
            ({"code": code, "fixed": "yes"}, "Please choose how satisfied you are."),
            ({"code": code, "fixed": "yes", "satisfaction": "ecstatic"}, None),
            ({"code": "12345678", "fixed": "yes", "satisfaction": "satisfied"},
             "No problem report has that receipt code."),
            ({"code": "abc", "fixed": "yes", "satisfaction": "satisfied"}, None),
            ({"fixed": "yes", "satisfaction": "satisfied"}, None),
            ({"code": "1" * 5000, "fixed": "yes", "satisfaction": "satisfied"}, None)):
        response = kiosk_client.post("/c/main/cases/check-back", data=data, headers={**HTMX, **EN})
        assert response.status_code == 422, data
        body = response.get_data(as_text=True)
        assert 'class="error" role="alert"' in body, data
        if message:
            assert message in body, data
    case = run_in_app(lambda: db.session.get(Case, case_id))
    assert (case.state, case.fixed, case.satisfaction) == ("resolved", None, None)


# --- the wall card's progress ---------------------------------------------------------------------

def test_a_wall_cards_progress_page_shows_the_public_timeline(app, client, kiosk_client, run_in_app):
    response = report(kiosk_client, category_id(run_in_app, "lighting"), text="9号楼路灯一直闪")
    code = receipt_code(response)
    post_id = run_in_app(lambda: services.by_receipt(code).post_id)
    assert post_id is not None
    assert client.get(f"/c/main/cases/card/{post_id}").status_code == 404  # not approved yet
    run_in_app(wall.approve, post_id, None)
    case_id = case_by_code(run_in_app, code)
    act(app, case_id, moderator(app), action="route", level="committee", reply="已派电工", note="内部：电工周二到")

    page = client.get(f"/c/main/cases/card/{post_id}", headers=ZH)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="case-card"' in body and 'id="case-timeline"' in body
    assert "9号楼路灯一直闪" in body and "已派电工" in body and "已受理" in body
    assert "内部" not in body and "调度员老周" not in body
    wall_page = client.get("/c/main/wall/").get_data(as_text=True)
    assert "9号楼路灯一直闪" in wall_page

    run_in_app(wall.hide, post_id, None)  # taken off the wall: its progress page goes with it
    assert client.get(f"/c/main/cases/card/{post_id}").status_code == 404


def test_the_progress_page_is_for_problem_cards_only(app, client, run_in_app):
    with app.app_context():
        wish = wall.create_post("wish", "希望多种树", posted_by="kiosk:1")
        wall.approve(wall.receipt(wish.code).id, None)
        wish_id = wall.receipt(wish.code).id
    assert client.get(f"/c/main/cases/card/{wish_id}").status_code == 404
    for path in ("/c/main/cases/card/999999", "/c/main/cases/card/abc", f"/c/main/cases/card/{'9' * 30}"):
        assert client.get(path).status_code == 404, path


def test_a_card_of_another_community_is_not_found_here(app, client, run_in_app):
    with app.app_context():
        second = create_community("second", "第二社区")
        with scope.within(second):
            lighting = db.session.scalar(select(Category.id).where(Category.key == "lighting"))
            case = services.take_in(Intake(category_id=lighting, text="第二社区的路灯", place="1号楼"),
                                    channel="kiosk", reported_by="kiosk:99")
            post_id = case.post_id
            wall.approve(post_id, None)
    assert client.get(f"/c/second/cases/card/{post_id}").status_code == 200
    assert client.get(f"/c/main/cases/card/{post_id}").status_code == 404


def test_no_kiosk_page_names_the_reporter_or_shows_internal_steps(app, client, kiosk_client, run_in_app):
    response = report(kiosk_client, category_id(run_in_app, "sanitation"), text=f"垃圾没人收 {CONTACT}",
                      contact=CONTACT)
    code = receipt_code(response)
    post_id = run_in_app(lambda: services.by_receipt(code).post_id)
    run_in_app(wall.approve, post_id, None)
    case_id = case_by_code(run_in_app, code)
    act(app, case_id, moderator(app), action="route", level="committee", note="内部：联系了保洁")
    internal = run_in_app(lambda: db.session.scalars(select(CaseEvent.action).where(
        CaseEvent.case_id == case_id, CaseEvent.public.is_(False))).all())
    assert "note" in internal
    pages = [client.get("/c/main/cases/receipt", query_string={"code": code}).get_data(as_text=True),
             kiosk_client.get("/c/main/cases/receipt", query_string={"code": code}).get_data(as_text=True),
             client.get(f"/c/main/cases/card/{post_id}").get_data(as_text=True),
             client.get("/c/main/wall/").get_data(as_text=True),
             client.get("/c/main/cases/similar", query_string={
                 "category": category_id(run_in_app, "sanitation"), "place": "3号楼"}).get_data(as_text=True)]
    for page in pages:
        assert CONTACT not in page and "联系了保洁" not in page and "调度员老周" not in page
        assert "kiosk:" not in page
