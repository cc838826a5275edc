"""Household codes through HTTP: a phone binds by typing the code or opening the card's
link, then acts as a kiosk does, counted per household; limits, other communities,
revocation and one-per-household courses."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.classes import services as classes
from app.classes.models import Course, Signup
from app.clock import utcnow
from app.communities import routing, scope
from app.communities.models import Community
from app.extensions import db
from app.households import services
from app.households.models import Household, HouseholdPhone
from app.wall.models import Post
from tests.classes.test_routes import new_course

PHONE_UA = {"User-Agent": "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Mobile Safari/537.36 "
                          "MicroMessenger/8.0.44"}
HTMX = {"HX-Request": "true"}
WISH = {"kind": "wish", "text": "希望多种花"}


def issue(count=1, building="3号楼", unit="2单元"):
    return [(card.household.id, card.code, card.link_token) for card in services.issue(building, unit, count)]


def bound_phone(app, code: str, community: str = "main"):
    phone = app.test_client()
    response = phone.post(f"/c/{community}/households/", data={"code": code}, headers=PHONE_UA)
    assert response.status_code == 303, response.get_data(as_text=True)
    return phone


def test_cards_carry_codes_that_are_not_guessable_and_only_their_hashes_are_stored(run_in_app):
    cards = run_in_app(issue, 3)
    codes = [code for _id, code, _token in cards]
    assert len(set(codes)) == 3
    for code in codes:
        assert re.fullmatch(f"[{services.CODE_ALPHABET}]{{10}}", code)
    # 31 letters and digits, 10 of them: more than 40 bits.
    assert len(services.CODE_ALPHABET) ** services.CODE_LENGTH > 2 ** 49
    stored = run_in_app(lambda: [(h.code_hash, h.link_hash, h.building, h.unit, h.batch)
                                 for h in db.session.scalars(select(Household).order_by(Household.id))])
    for (code_hash, link_hash, building, unit, batch), (_id, code, token) in zip(stored, cards, strict=True):
        assert code not in (code_hash, link_hash) and token not in (code_hash, link_hash)
        assert (building, unit, batch) == ("3号楼", "2单元", 1)
    # A reprint derives the same card again.
    again = run_in_app(lambda: services.card(db.session.get(Household, cards[0][0])).code)
    assert again == cards[0][1]


def test_typing_the_code_binds_the_phone_with_its_own_cookie(app, run_in_app):
    [(household_id, code, _token)] = run_in_app(issue)
    phone = app.test_client()
    page = phone.get("/c/main/wall/new", headers=PHONE_UA)
    assert "households/" in page.get_data(as_text=True)  # told how to get a code
    assert phone.post("/c/main/wall/posts", data=WISH, headers=PHONE_UA).status_code == 403

    typed = f"{code[:5].lower()} - {code[5:]}"  # as a resident might type it
    response = phone.post("/c/main/households/", data={"code": typed}, headers=PHONE_UA)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{services.PHONE_COOKIE}=") and code not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    linked = phone.get(response.headers["Location"], headers=PHONE_UA).get_data(as_text=True)
    assert 'id="phone-linked"' in linked and "3号楼 2单元" in linked

    posted = phone.post("/c/main/wall/posts", data={"kind": "wish", "text": "希望小区多种些花草"}, headers=PHONE_UA)
    assert posted.status_code in (200, 303)
    assert run_in_app(lambda: db.session.scalar(select(Post.posted_by).order_by(Post.id.desc()))) \
        == f"household:{household_id}"


def test_the_cards_link_asks_first_then_binds_once(app, run_in_app):
    [(household_id, _code, token)] = run_in_app(issue)
    preview = app.test_client()  # WeChat fetches a link's preview: that binds nothing
    assert preview.get(f"/c/main/households/link/{token}").status_code == 200
    assert run_in_app(lambda: db.session.scalar(select(Household.link_hash).where(Household.id == household_id)))

    first = app.test_client()
    assert first.post(f"/c/main/households/link/{token}", headers=PHONE_UA).status_code == 303
    second = app.test_client()
    refused = second.post(f"/c/main/households/link/{token}", headers={**PHONE_UA, "Accept-Language": "en"})
    assert refused.status_code == 422
    assert "already used" in refused.get_data(as_text=True)
    assert second.get(f"/c/main/households/link/{token}").status_code == 410
    assert run_in_app(lambda: [phone.bound_by for phone in services.phones(household_id)]) == ["link"]


def test_wrong_codes_are_limited_per_phone_with_a_clear_wait(app, run_in_app):
    run_in_app(issue)
    phone = app.test_client()
    answers = [phone.post("/c/main/households/", data={"code": "ABCDE-FGHJK"},
                          headers={**PHONE_UA, "Accept-Language": "en"}) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [422] * 5 + [429]
    assert "No household has that code here" in answers[0].get_data(as_text=True)
    assert "Please wait" in answers[-1].get_data(as_text=True) and int(answers[-1].headers["Retry-After"]) > 0


def test_wrong_codes_are_limited_per_address_across_phones(app, run_in_app):
    run_in_app(issue)
    statuses = []
    for _ in range(31):  # a new phone (a new session) each time: only the address counts them all
        statuses.append(app.test_client().post("/c/main/households/", data={"code": "ABCDE-FGHJK"},
                                                headers=PHONE_UA).status_code)
    assert statuses[:30] == [422] * 30 and statuses[30] == 429


def test_a_code_of_one_community_does_nothing_in_another(app, run_in_app):
    def second_community():
        community = Community(slug="hepingli", name="和平里社区")
        db.session.add(community)
        db.session.commit()
        return community.id

    second = run_in_app(second_community)
    [(_id, code, token)] = run_in_app(issue)
    phone = app.test_client()
    assert phone.post("/c/hepingli/households/", data={"code": code}, headers=PHONE_UA).status_code == 422
    assert phone.post(f"/c/hepingli/households/link/{token}", headers=PHONE_UA).status_code == 422
    # Bound in its own community, the phone only reads the other's boards.
    phone = bound_phone(app, code)
    assert phone.post("/c/hepingli/wall/posts", data=WISH,
                      headers=PHONE_UA).status_code == 403
    assert run_in_app(lambda: _count_posts(second)) == 0


def _count_posts(community_id):
    with scope.within(community_id):
        return len(list(db.session.scalars(select(Post.id))))


def test_routing_reads_the_same_through_the_session_when_the_drivers_read_does_not_answer(app, run_in_app,
                                                                                         monkeypatch):
    # Routing reads the community and the phone in one go on the driver's connection; where
    # that read finds no answer, the same statements go through the session.
    [(household_id, code, _token)] = run_in_app(issue)
    phone = bound_phone(app, code)
    monkeypatch.setattr(routing, "read", lambda _engine, _asked: None)
    posted = phone.post("/c/main/wall/posts", data={"kind": "wish", "text": "希望楼道装个扶手"}, headers=PHONE_UA)
    assert posted.status_code in (200, 303)
    assert run_in_app(lambda: db.session.scalar(select(Post.posted_by).order_by(Post.id.desc()))) \
        == f"household:{household_id}"
    assert phone.get("/c/nowhere/wall/", headers=PHONE_UA).status_code == 404


def test_a_revoked_household_reads_only_from_its_next_request(app, run_in_app, staff_client):
    [(household_id, code, _token)] = run_in_app(issue)
    phone = bound_phone(app, code)
    desk = staff_client("desk", "moderator")
    assert desk.post(f"/staff/households/{household_id}/revoke").status_code == 303
    refused = phone.post("/c/main/wall/posts", data=WISH,
                         headers={**PHONE_UA, "Accept-Language": "en"})
    assert refused.status_code == 403 and "link it to your household" in refused.get_data(as_text=True)
    page = phone.get("/c/main/households/", headers={**PHONE_UA, "Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="phone-unlinked"' in page
    # The card no longer binds a phone either.
    assert app.test_client().post("/c/main/households/", data={"code": code}, headers=PHONE_UA).status_code == 422
    assert run_in_app(lambda: db.session.scalar(select(HouseholdPhone.revoked_at))) is not None


def test_staff_remove_one_phone_and_the_others_keep_acting(app, run_in_app, staff_client):
    [(household_id, code, _token)] = run_in_app(issue)
    first, second = bound_phone(app, code), bound_phone(app, code)
    desk = staff_client("desk", "coordinator")
    page = desk.get(f"/staff/households/{household_id}").get_data(as_text=True)
    phone_ids = [int(found) for found in re.findall(r'<tr id="phone-(\d+)"', page)]
    assert len(phone_ids) == 2
    assert desk.post(f"/staff/households/{household_id}/phones/{phone_ids[0]}/revoke").status_code == 303
    assert first.post("/c/main/wall/posts", data=WISH, headers=PHONE_UA).status_code == 403
    assert second.post("/c/main/wall/posts", data=WISH,
                       headers=PHONE_UA).status_code in (200, 303)


def test_a_household_links_a_few_phones_not_more(app, run_in_app):
    [(_id, code, _token)] = run_in_app(issue)
    for _ in range(services.MAX_PHONES):
        bound_phone(app, code)
    refused = app.test_client().post("/c/main/households/", data={"code": code},
                                     headers={**PHONE_UA, "Accept-Language": "en"})
    assert refused.status_code == 422 and "already has 4 phones" in refused.get_data(as_text=True)


def test_a_new_card_replaces_the_old_code_and_link(app, run_in_app, staff_client):
    [(household_id, code, token)] = run_in_app(issue)
    desk = staff_client("desk", "coordinator")
    assert desk.post(f"/staff/households/{household_id}/new-card").status_code == 303
    assert app.test_client().post("/c/main/households/", data={"code": code}, headers=PHONE_UA).status_code == 422
    assert app.test_client().post(f"/c/main/households/link/{token}", headers=PHONE_UA).status_code == 422
    card = desk.get(f"/staff/households/{household_id}/card").get_data(as_text=True)
    new_code = re.search(r'data-code="(\w+)"', card).group(1)
    assert new_code != code
    bound_phone(app, new_code)


def test_one_sign_up_per_household_even_from_two_phones(app, run_in_app):
    course_id = run_in_app(new_course, capacity=5)
    run_in_app(lambda: db.session.execute(update(Course).where(Course.id == course_id)
                                          .values(one_per_household=True)) and db.session.commit())
    [(household_id, code, _token)] = run_in_app(issue)
    first, second = bound_phone(app, code), bound_phone(app, code)
    url = f"/c/main/classes/{course_id}/sign-up"
    assert first.post(url, data={"name": "张三明", "mobile": "13812345678"},
                      headers={**HTMX, **PHONE_UA}).status_code == 200
    refused = second.post(url, data={"name": "张丽", "mobile": "13812345679"},
                          headers={**HTMX, **PHONE_UA, "Accept-Language": "en"})
    assert refused.status_code == 422
    assert "one sign-up per household" in refused.get_data(as_text=True)
    signups = run_in_app(lambda: [(s.source, s.created_by, s.household_once) for s in db.session.scalars(
        select(Signup).where(Signup.course_id == course_id))])
    assert signups == [("phone", f"household:{household_id}", f"household:{household_id}")]
    # Another household's phone gets in; a cancelled sign-up frees the household's place.
    [(_other, other_code, _t)] = run_in_app(issue)
    assert bound_phone(app, other_code).post(url, data={"name": "李四", "mobile": "13812340000"},
                                             headers={**HTMX, **PHONE_UA}).status_code == 200
    code_of_first = run_in_app(lambda: db.session.scalar(select(Signup.code).where(
        Signup.household_once == f"household:{household_id}")))
    run_in_app(classes.cancel, code_of_first, "5678")
    assert second.post(url, data={"name": "张丽", "mobile": "13812345679"},
                       headers={**HTMX, **PHONE_UA}).status_code == 200


def test_the_same_household_at_the_same_instant_gets_one_place(run_in_app):
    """The database's unique (course, household) holds when both checks pass at once."""
    course_id = run_in_app(new_course, capacity=5)

    def race():
        db.session.execute(update(Course).where(Course.id == course_id).values(one_per_household=True))
        db.session.commit()
        db.session.add(Signup(course_id=course_id, name="甲", mobile="13800000001", mobile_tail="0001",
                              masked_name="甲", code="11112222", state="confirmed", source="phone", queue_key=1,
                              arrival=1, created_by="household:9", household_once="household:9",
                              created_at=utcnow(), confirmed_at=utcnow()))
        db.session.commit()
        try:
            db.session.add(Signup(course_id=course_id, name="乙", mobile="13800000002", mobile_tail="0002",
                                  masked_name="乙", code="33334444", state="confirmed", source="phone", queue_key=2,
                                  arrival=2, created_by="household:9", household_once="household:9",
                                  created_at=utcnow() + timedelta(seconds=1), confirmed_at=utcnow()))
            db.session.commit()
        except Exception:  # noqa: BLE001  (the constraint's error, whichever the database)
            db.session.rollback()
            return "refused"
        return "stored"

    assert run_in_app(race) == "refused"


def test_a_phone_gets_the_phone_layout_and_a_kiosk_keeps_its_bar(app, run_in_app, kiosk_client):
    [(_id, code, _token)] = run_in_app(issue)
    unbound = app.test_client().get("/c/main/", headers=PHONE_UA).get_data(as_text=True)
    assert 'class="kiosk phone' in unbound and 'class="phone-bar"' in unbound
    assert 'id="pairing"' not in unbound  # a phone is never offered as a new kiosk
    phone = bound_phone(app, code)
    home = phone.get("/c/main/", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}).get_data(as_text=True)
    assert 'class="phone-bar"' in home and 'id="phone-household"' in home  # bound: a phone, whatever it says
    kiosk = kiosk_client.get("/c/main/", headers=PHONE_UA).get_data(as_text=True)
    assert 'class="kiosk-bar"' in kiosk and "phone-bar" not in kiosk
    desktop = app.test_client().get("/c/main/").get_data(as_text=True)
    assert 'class="kiosk-bar"' in desktop and 'id="pairing"' in desktop


def test_household_phones_are_named_in_the_console(app, run_in_app, staff_client):
    [(household_id, code, _token)] = run_in_app(issue)
    phone = bound_phone(app, code)
    phone.post("/c/main/wall/posts", data={"kind": "wish", "text": "希望小区多种些花草"}, headers=PHONE_UA)
    queue = staff_client("mod", "moderator").get("/staff/wall").get_data(as_text=True)
    assert "household:" not in queue
    assert f"3号楼 2单元 · {household_id}" in queue


def test_a_survey_takes_one_answer_per_household(app, run_in_app):
    def survey():
        made = classes.save_survey("下学期想学什么？", ["书法", "智能手机"], one_per_household=True)
        classes.set_survey_state(made.id, "published")
        return made.id, [option.id for option in made.options]

    survey_id, options = run_in_app(survey)
    [(_id, code, _token)] = run_in_app(issue)
    first, second = bound_phone(app, code), bound_phone(app, code)
    url = f"/c/main/classes/survey/{survey_id}"
    assert first.post(url, data={"option": options[0]}, headers={**HTMX, **PHONE_UA}).status_code == 200
    refused = second.post(url, data={"option": options[1]}, headers={**HTMX, **PHONE_UA, "Accept-Language": "en"})
    assert refused.status_code == 422 and "one answer per household" in refused.get_data(as_text=True)
    counted = run_in_app(lambda: [(option.label, option.votes) for option in classes.get_survey(survey_id).options])
    assert counted == [("书法", 1), ("智能手机", 0)]
