"""The expert directory through HTTP: the kiosk's search, cards and requests, and the
coordinators' experts, skills and inbox — with contact details kept off public pages."""

import re
from datetime import date, timedelta

from sqlalchemy import select

from app.audit import AuditEntry
from app.clock import utcnow
from app.experts import services
from app.experts.models import HelpRequest, SearchKey
from app.extensions import db

HTMX = {"HX-Request": "true"}
EXPERT_MOBILE = "13912345601"


def directory(cap: int = 3) -> dict:
    """Two calligraphers and a photographer; their ids by display name."""
    skills = {skill.name: skill.id for skill in services.save_skills(
        [("书法", "calligraphy", "Calligraphy"), ("摄影", "photography", "Photography")])}
    experts = services.save_experts([
        (None, services.ExpertData(name="王秀兰", mobile=EXPERT_MOBILE, display_name="王老师",
                                   skill_ids=[skills["书法"]],
                                   consent_on=date(2026, 1, 5), consent_scope="称呼和技能", intro="写楷书四十年",
                                   intro_en="Forty years of regular script", weekly_cap=cap)),
        (None, services.ExpertData(name="谢玉", mobile="13912345602", display_name="谢老师", skill_ids=[skills["书法"]],
                                   consent_on=date(2026, 1, 5), consent_scope="称呼和技能")),
        (None, services.ExpertData(name="曾国平", mobile="13912345603", display_name="", skill_ids=[skills["摄影"]],
                                   consent_on=date(2026, 1, 5), consent_scope="姓氏和技能")),
    ])
    return {expert.display_name: expert.id for expert in experts}




def names(page: str) -> list[str]:
    return re.findall(r'class="expert-name">([^<]+)<', page)


def ask(client, expert_id, **changes):
    data = {"needs": ["learn"], "text": "想学写毛笔字", "name": "林芳", "mobile": "13612345678", **changes}
    return client.post(f"/c/main/experts/{expert_id}/ask", data=data, headers={**HTMX, "HX-Target": "ask-form"})


def test_taps_narrow_the_cards_and_contacts_never_show(client, run_in_app):
    ids = run_in_app(directory)
    page = client.get("/c/main/experts/").get_data(as_text=True)
    assert sorted(names(page)) == sorted(["王老师", "谢老师", "曾*平"])  # an empty display name is masked
    for url in ("/c/main/experts/", f"/c/main/experts/{ids['王老师']}", f"/c/main/experts/{ids['王老师']}/ask",
                "/c/main/experts/?q=sf"):
        body = client.get(url).get_data(as_text=True)
        assert EXPERT_MOBILE not in body and "王秀兰" not in body and "曾国平" not in body, url
    tap = client.get("/c/main/experts/?q=sf", headers={**HTMX, "HX-Target": "expert-list"})
    assert tap.get_data(as_text=True).startswith('<section id="expert-list"')
    assert sorted(names(tap.get_data(as_text=True))) == ["王老师", "谢老师"]
    # A masked name is found by what it shows (曾 by z or c, then 平), never by the hidden part.
    assert names(client.get("/c/main/experts/?q=zp").get_data(as_text=True)) == ["曾*平"]
    assert names(client.get("/c/main/experts/?q=cp").get_data(as_text=True)) == ["曾*平"]
    assert names(client.get("/c/main/experts/?q=zgp").get_data(as_text=True)) == []
    assert names(client.get("/c/main/experts/?q=摄影").get_data(as_text=True)) == ["曾*平"]
    assert names(client.get("/c/main/experts/?q=sfx").get_data(as_text=True)) == []
    assert names(client.get("/c/main/experts/?category=photography").get_data(as_text=True)) == ["曾*平"]
    english = client.get(f"/c/main/experts/{ids['王老师']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Forty years of regular script" in english and "Calligraphy" in english


def test_more_matches_than_a_page_says_so_only_when_true(client, run_in_app):
    def many(count):
        skill = services.save_skills([("书法", "calligraphy", "")])[0]
        services.save_experts([(None, services.ExpertData(
            name=f"孙{given}", mobile=f"1391234{index:04d}", display_name=f"孙{given}", skill_ids=[skill.id],
            consent_on=date(2026, 1, 1), consent_scope="称呼"))
            for index, given in enumerate("一二三四五六七八九十百千万亿兆京"[:count])])

    run_in_app(many, services.PAGE_SIZE)
    exactly = client.get("/c/main/experts/?q=s").get_data(as_text=True)
    assert len(names(exactly)) == services.PAGE_SIZE and 'class="hint more"' not in exactly
    run_in_app(lambda: services.save_experts([(None, services.ExpertData(
        name="孙多", mobile="13912349999", display_name="孙多", skill_ids=[services.skills()[0].id],
        consent_on=date(2026, 1, 1), consent_scope="称呼"))]))
    more = client.get("/c/main/experts/?q=s").get_data(as_text=True)
    assert len(names(more)) == services.PAGE_SIZE and 'class="hint more"' in more


def test_asking_for_help_gives_a_receipt_and_the_weekly_cap_holds(kiosk_client, client, run_in_app):
    ids = run_in_app(directory, 2)
    bad = ask(kiosk_client, ids["王老师"], needs=[], mobile="123")
    assert bad.status_code == 422
    assert "请点选您需要什么" in bad.get_data(as_text=True)
    for field, value, message in (("mobile", "12345", "请输入 11 位手机号"), ("name", "林2", "姓名里不能有数字"),
                                  ("text", "长" * 201, "最多 200 个字")):
        refused = ask(kiosk_client, ids["王老师"], **{field: value})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), field
    assert run_in_app(lambda: db.session.scalar(select(db.func.count()).select_from(HelpRequest))) == 0
    assert client.post(f"/c/main/experts/{ids['王老师']}/ask", data={"needs": ["learn"], "name": "林芳",
                                                              "mobile": "13612345678"}).status_code == 403
    first = ask(kiosk_client, ids["王老师"])
    assert first.status_code == 200
    code = "".join(re.search(r'id="request-code">(\d{4}) (\d{4})<', first.get_data(as_text=True)).groups())
    assert ask(kiosk_client, ids["王老师"], mobile="13612345679").status_code == 200
    full = ask(kiosk_client, ids["王老师"], mobile="13612345670")
    assert full.status_code == 422 and "这周" in full.get_data(as_text=True)
    assert ask(kiosk_client, ids["谢老师"]).status_code == 200  # another expert has room
    page = client.get(f"/c/main/experts/{ids['王老师']}").get_data(as_text=True)
    assert 'id="ask-for-help"' not in page
    status = client.get(f"/c/main/experts/receipt?code={code}").get_data(as_text=True)
    assert 'id="request-state"' in status and "林芳" not in status and "13612345678" not in status


def test_a_hidden_expert_leaves_the_kiosk_and_the_search(coordinator, client, run_in_app):
    ids = run_in_app(directory)
    assert coordinator.post(f"/staff/experts/{ids['王老师']}/hide").status_code == 303
    assert client.get(f"/c/main/experts/{ids['王老师']}").status_code == 404
    assert names(client.get("/c/main/experts/?q=sf").get_data(as_text=True)) == ["谢老师"]
    assert run_in_app(lambda: db.session.scalar(select(db.func.count()).select_from(SearchKey)
                                                .where(SearchKey.expert_id == ids["王老师"]))) == 0
    coordinator.post(f"/staff/experts/{ids['王老师']}/list")
    assert sorted(names(client.get("/c/main/experts/?q=sf").get_data(as_text=True))) == ["王老师", "谢老师"]


def test_coordinators_add_experts_with_consent_and_views_are_audited(coordinator, client, run_in_app):
    skill_id = run_in_app(lambda: services.save_skill("编织", "crafts", "Knitting").id)
    form = {"name": "仇海燕", "mobile": "13912340001", "display_name": "仇*燕", "skill_ids": [str(skill_id)],
            "weekly_cap": "3", "consent_on": "2026-11-01", "consent_scope": "称呼和技能"}
    refused = coordinator.post("/staff/experts/new", data={**form, "consent_scope": ""})
    assert refused.status_code == 422
    future = coordinator.post("/staff/experts/new",
                              data={**form, "consent_on": (date.today() + timedelta(days=9)).isoformat()})
    assert future.status_code == 422
    assert coordinator.post("/staff/experts/new", data=form).status_code == 303
    assert names(client.get("/c/main/experts/?q=qy").get_data(as_text=True)) == ["仇*燕"]
    assert names(client.get("/c/main/experts/?q=bz").get_data(as_text=True)) == ["仇*燕"]
    expert_id = run_in_app(lambda: services.find_expert("仇海燕").id)
    edit = coordinator.get(f"/staff/experts/{expert_id}/edit").get_data(as_text=True)
    assert "13912340001" in edit
    actions = run_in_app(lambda: [entry.action for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.area == "experts"))])
    assert "expert-created" in actions and "expert-viewed" in actions
    assert coordinator.post("/staff/experts/skills", data={"name": "编织", "category": "crafts"}).status_code == 422


def test_the_inbox_moves_requests_on_without_changing_their_expert(coordinator, kiosk_client, run_in_app):
    ids = run_in_app(directory)
    ask(kiosk_client, ids["王老师"])
    request_id = run_in_app(lambda: db.session.scalar(select(HelpRequest.id)))
    # The expert is hidden meanwhile: saving a new state must not pass the request to anyone.
    run_in_app(services.set_listed, ids["王老师"], False)
    inbox = coordinator.get("/staff/experts/requests").get_data(as_text=True)
    assert "林芳" in inbox and "13612345678" in inbox
    saved = coordinator.post(f"/staff/experts/requests/{request_id}",
                             data={"state": "contacted", "expert_id": "", "note": "已电话联系"})
    assert saved.status_code == 303
    assert run_in_app(lambda: (db.session.get(HelpRequest, request_id).state,
                               db.session.get(HelpRequest, request_id).expert_id)) == ("contacted", ids["王老师"])
    passed = coordinator.post(f"/staff/experts/requests/{request_id}",
                              data={"state": "assigned", "expert_id": str(ids["谢老师"])})
    assert passed.status_code == 303
    assert run_in_app(lambda: db.session.get(HelpRequest, request_id).expert_id) == ids["谢老师"]
    coordinator.post(f"/staff/experts/requests/{request_id}", data={"state": "done", "expert_id": ""})
    closed = coordinator.post(f"/staff/experts/requests/{request_id}", data={"state": "assigned", "expert_id": ""})
    assert closed.status_code == 422
    actions = run_in_app(lambda: [entry.action for entry in db.session.scalars(
        select(AuditEntry).where(AuditEntry.area == "experts"))])
    assert {"requests-viewed", "request-contacted", "request-assigned", "request-done"} <= set(actions)


def test_closed_requests_lose_their_personal_data_after_the_retention_period(app, kiosk_client, run_in_app):
    ids = run_in_app(directory)
    ask(kiosk_client, ids["王老师"])
    request_id = run_in_app(lambda: db.session.scalar(select(HelpRequest.id)))
    run_in_app(services.update_request, request_id, "done")
    days = app.config["DIRECTORY_RETENTION_DAYS"]
    assert run_in_app(services.purge_requests, utcnow() + timedelta(days=days - 1)) == 0
    assert run_in_app(services.purge_requests, utcnow() + timedelta(days=days + 1)) == 1
    assert run_in_app(lambda: (db.session.get(HelpRequest, request_id).name,
                               db.session.get(HelpRequest, request_id).mobile,
                               db.session.get(HelpRequest, request_id).state)) == (None, None, "done")


def test_other_roles_cannot_open_the_inbox(staff_client):
    moderator = staff_client("mod", "moderator")
    assert moderator.get("/staff/experts/requests").status_code == 403
    assert moderator.get("/staff/experts").status_code == 403
