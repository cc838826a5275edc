"""The matchmaking board through HTTP: leaving a card with its consents, review, requests
to meet, the owner's answers with their code, and the matchmaker's console."""

import re

from sqlalchemy import select

from app.extensions import db
from app.friends import services
from app.friends.models import Card, Interest

HTMX = {"HX-Request": "true"}
CARD = {"gender": "female", "age_band": "30-34", "area": "东区", "interests": ["reading", "films"],
        "looking_for": "partner", "intro": "喜欢看书看电影", "real_name": "周晓雯", "mobile": "13700001234",
        "adult": "y", "consent_public": "y", "consent_matchmaker": "y"}


def leave(client, **changes):
    data = {**CARD, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    return client.post("/c/main/friends/new", data=data, headers={**HTMX, "HX-Target": "card-form"})


def code_of(response) -> str:
    return "".join(re.search(r'id="card-code">(\d{4}) (\d{4})<', response.get_data(as_text=True)).groups())


def cards(run_in_app):
    return run_in_app(lambda: [(card.number, card.state) for card in db.session.scalars(select(Card))])


def test_a_card_needs_both_consents_an_adult_and_no_numbers_in_public(kiosk_client, run_in_app):
    for changes, message in (({"consent_public": None}, "请同意展示您的卡片"),
                             ({"consent_matchmaker": None}, "请同意红娘查看您的信息"),
                             ({"adult": None}, "年满 18 岁"),
                             ({"intro": "电话13800138000找我"}, "请不要写电话和身份证号"),
                             ({"interests": []}, "请选择"),
                             ({"area": "3号楼502"}, "不是有效的选择"),  # only listed areas, never a building
                             ({"mobile": "12345"}, "请输入 11 位手机号")):
        response = leave(kiosk_client, **changes)
        assert response.status_code == 422, changes
        assert message in response.get_data(as_text=True), changes
    assert cards(run_in_app) == []


def test_a_card_shows_only_once_approved_and_never_its_owner(kiosk_client, client, coordinator, staff_client,
                                                              run_in_app):
    response = leave(kiosk_client)
    assert response.status_code == 200
    code = code_of(response)
    (number, state), = cards(run_in_app)
    assert state == "pending" and f'id="card-{number}"' not in client.get("/c/main/friends/").get_data(as_text=True)
    assert client.get(f"/c/main/friends/{number}").status_code == 404
    assert coordinator.get("/staff/friends").status_code == 403  # a coordinator is not the matchmaker
    matchmaker = staff_client("hongniang", "matchmaker")
    queue = matchmaker.get("/staff/friends").get_data(as_text=True)
    assert "周晓雯" not in queue and "13700001234" not in queue and "喜欢看书看电影" in queue
    card_id = run_in_app(lambda: db.session.scalar(select(Card.id)))
    assert matchmaker.post(f"/staff/friends/cards/{card_id}/reject", data={"reason": ""}).status_code == 422
    assert matchmaker.post(f"/staff/friends/cards/{card_id}/approve").status_code == 303
    board = client.get("/c/main/friends/?gender=female&interest=films").get_data(as_text=True)
    assert f'id="card-{number}"' in board and "周晓雯" not in board and "13700001234" not in board
    assert f'id="card-{number}"' not in client.get("/c/main/friends/?gender=male").get_data(as_text=True)
    mine = client.get(f"/c/main/friends/mine?code={code}").get_data(as_text=True)
    assert "已展示" in mine and "周晓雯" not in mine


def test_meeting_needs_both_yeses_before_contacts_open(kiosk_client, client, staff_client, run_in_app):
    owner_code = code_of(leave(kiosk_client))
    matchmaker = staff_client("hongniang", "matchmaker")
    card_id, number = run_in_app(lambda: db.session.execute(select(Card.id, Card.number)).one())
    matchmaker.post(f"/staff/friends/cards/{card_id}/approve")
    assert client.post(f"/c/main/friends/{number}/meet",
                       data={"name": "高建军", "mobile": "13900005678"}).status_code == 403
    asked = kiosk_client.post(f"/c/main/friends/{number}/meet", data={"name": "高建军", "mobile": "13900005678"},
                              headers={**HTMX, "HX-Target": "meet-form"})
    assert asked.status_code == 200 and "已交给红娘" in asked.get_data(as_text=True)
    again = kiosk_client.post(f"/c/main/friends/{number}/meet", data={"name": "高建军", "mobile": "13900005678"},
                              headers={**HTMX, "HX-Target": "meet-form"})
    assert again.status_code == 422
    interest_id = run_in_app(lambda: db.session.scalar(select(Interest.id)))
    requests = matchmaker.get("/staff/friends/requests").get_data(as_text=True)
    assert "高建军" not in requests and "13900005678" not in requests and "13700001234" not in requests
    refused = matchmaker.get(f"/staff/friends/requests/{interest_id}/contacts")
    assert refused.status_code == 403 and "13900005678" not in refused.get_data(as_text=True)

    # The owner answers at the kiosk with their code; the asker's details stay hidden from them.
    mine = client.get(f"/c/main/friends/mine?code={owner_code}").get_data(as_text=True)
    assert "有人想认识您" in mine and "高建军" not in mine
    yes = kiosk_client.post(f"/c/main/friends/mine/answer/{interest_id}", data={"code": owner_code, "agreed": "yes"},
                            headers=HTMX)
    assert yes.status_code == 200 and "红娘会帮你们联系" in yes.get_data(as_text=True)
    contacts = matchmaker.get(f"/staff/friends/requests/{interest_id}/contacts").get_data(as_text=True)
    for detail in ("周晓雯", "13700001234", "高建军", "13900005678"):
        assert detail in contacts


def test_the_owner_renews_changes_and_withdraws_with_the_code(kiosk_client, client, staff_client, run_in_app):
    code = code_of(leave(kiosk_client))
    matchmaker = staff_client("hongniang", "matchmaker")
    card_id, number = run_in_app(lambda: db.session.execute(select(Card.id, Card.number)).one())
    matchmaker.post(f"/staff/friends/cards/{card_id}/approve")
    renewed = kiosk_client.post("/c/main/friends/mine/renew", data={"code": code}, headers=HTMX)
    assert renewed.status_code == 200 and "已续期 90 天" in renewed.get_data(as_text=True)
    wrong = kiosk_client.post("/c/main/friends/mine/renew", data={"code": "00000000"}, headers=HTMX)
    assert wrong.status_code == 422
    changed = kiosk_client.post("/c/main/friends/mine/edit", data={**CARD, "code": code, "intro": "周末去公园"},
                                headers=HTMX)
    assert changed.status_code == 200
    assert cards(run_in_app) == [(number, "pending")]  # read again before it goes back up
    assert client.get(f"/c/main/friends/{number}").status_code == 404
    gone = kiosk_client.post("/c/main/friends/mine/withdraw", data={"code": code}, headers=HTMX)
    assert gone.status_code == 200 and "信息已删除" in gone.get_data(as_text=True)
    assert cards(run_in_app) == []
    assert run_in_app(services.tallies)["cards-withdrawn"] == 1


def test_an_unknown_request_action_is_refused_and_records_nothing(kiosk_client, staff_client, run_in_app):
    from app.audit import AuditEntry

    leave(kiosk_client)
    matchmaker = staff_client("hongniang", "matchmaker")
    card_id, number = run_in_app(lambda: db.session.execute(select(Card.id, Card.number)).one())
    matchmaker.post(f"/staff/friends/cards/{card_id}/approve")
    kiosk_client.post(f"/c/main/friends/{number}/meet", data={"name": "高建军", "mobile": "13900005678"}, headers=HTMX)
    interest_id = run_in_app(lambda: db.session.scalar(select(Interest.id)))
    refused = matchmaker.post(f"/staff/friends/requests/{interest_id}", data={"action": "x" * 50})
    assert refused.status_code == 422
    assert run_in_app(lambda: db.session.scalar(select(db.func.count()).select_from(AuditEntry)
                                                .where(AuditEntry.action.like("interest-%")))) == 0


def test_a_card_never_reviewed_is_deleted_after_the_card_days(app, kiosk_client, run_in_app):
    from datetime import timedelta

    from app.clock import utcnow

    leave(kiosk_client)
    days = app.config["FRIENDS_CARD_DAYS"]
    assert run_in_app(services.housekeeping, utcnow() + timedelta(days=days - 1))["cards deleted"] == 0
    assert run_in_app(services.housekeeping, utcnow() + timedelta(days=days + 1))["cards deleted"] == 1
    assert cards(run_in_app) == []
    assert run_in_app(services.tallies)["cards-pending-deleted"] == 1
