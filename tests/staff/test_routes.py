"""Staff sign-in and sign-out at /staff/, the console's sessions and account pages."""

import re

import pytest

from app.extensions import db
from app.staff import services
from app.staff.models import StaffMember
from tests.factories import STAFF_PASSWORD, staff_member

SESSION_COOKIE = "session"


@pytest.fixture
def member_id(run_in_app):
    return run_in_app(staff_member, "zhao", "moderator", display_name="赵老师")


@pytest.fixture
def admin_client(staff_client):
    return staff_client("boss", "admin", display_name="王主任")


def sign_in(client, username="zhao", password=STAFF_PASSWORD):
    return client.post("/staff/sign-in", data={"username": username, "password": password})


def cookie(client):
    return client.get_cookie(SESSION_COOKIE).value


def signed_in(client) -> bool:
    return "工作人员登录" not in client.get("/staff/").get_data(as_text=True)


def test_sign_in_and_out(client, member_id):
    assert not signed_in(client)
    response = sign_in(client, "Zhao ")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    assert "已登录：赵老师。" in client.get("/staff/").get_data(as_text=True)
    assert client.post("/staff/sign-out").status_code == 303
    assert not signed_in(client)


def test_sign_in_returns_to_the_page_asked_for(client, member_id):
    response = client.get("/staff/password")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/?next=/staff/password"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/staff/password"' in page
    response = client.post("/staff/sign-in", data={"username": "zhao", "password": STAFF_PASSWORD,
                                                   "next": "/staff/password"})
    assert response.headers["Location"] == "/staff/password"
    evil = client.post("/staff/sign-in", data={"username": "zhao", "password": STAFF_PASSWORD,
                                               "next": "https://evil.example/"})
    assert evil.headers["Location"] == "/staff/"


def test_session_cookie_flags(app, member_id):
    client = app.test_client()
    sign_in(client)
    set_cookie = [h for h in client.post("/staff/sign-out").headers.getlist("Set-Cookie") if h.startswith("session=")]
    https = app.test_client()
    response = https.post("/staff/sign-in", data={"username": "zhao", "password": STAFF_PASSWORD},
                          base_url="https://localhost")
    secure = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in secure and "SameSite=Lax" in secure and "Secure" in secure
    assert all("Secure" not in header for header in set_cookie)


def test_sign_in_starts_a_fresh_session(client, member_id):
    client.get("/c/main/")
    client.post("/language", data={"locale": "en"})
    before = cookie(client)
    sign_in(client)
    after = cookie(client)
    assert after != before
    # The language choice survives; nothing else from before signing in does.
    assert '<html lang="en"' in client.get("/staff/").get_data(as_text=True)


@pytest.mark.parametrize("how", ["sign-out", "disable", "password-change"])
def test_ending_a_session_makes_the_old_cookie_worthless(app, admin_client, member_id, how):
    victim = app.test_client()
    sign_in(victim)
    stolen = cookie(victim)
    if how == "sign-out":
        victim.post("/staff/sign-out")
    elif how == "disable":
        assert admin_client.post(f"/staff/accounts/{member_id}/enabled", data={"enabled": "0"}).status_code == 303
    else:
        assert admin_client.post(f"/staff/accounts/{member_id}/password").status_code == 303
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, stolen)
    assert not signed_in(replay)
    assert replay.get("/staff/password").status_code == 302


def test_wrong_password_is_refused_in_the_users_language(client, member_id):
    for language, text in [("zh-CN", "用户名和密码不匹配。"), ("en", "That username and password do not match.")]:
        response = client.post("/staff/sign-in", data={"username": "zhao", "password": "wrong password!"},
                               headers={"Accept-Language": language})
        assert response.status_code == 422
        assert text in response.get_data(as_text=True)
    assert sign_in(client, "nobody").status_code == 422
    assert not signed_in(client)


def test_repeated_failures_are_slowed_down(client, member_id):
    statuses = [sign_in(client, password="wrong password!").status_code for _ in range(2)]
    assert statuses == [422, 422]
    # The third wrong guess is checked, and says how long the next one must wait.
    third = sign_in(client, password="wrong password!")
    assert third.status_code == 422 and third.headers["Retry-After"] == "2"
    assert "用户名和密码不匹配" in third.get_data(as_text=True) and "请等" in third.get_data(as_text=True)
    # The fourth is refused unchecked: even the right password, without saying it is wrong.
    response = sign_in(client)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    body = response.get_data(as_text=True)
    assert "请等" in body and "用户名和密码不匹配" not in body
    assert not signed_in(client)


def test_empty_form_gets_field_errors(client):
    response = client.post("/staff/sign-in", data={}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.count('aria-invalid="true"') == 2 and body.count("该字段是必填字段。") == 2


def test_signing_out_is_never_a_get(client, member_id):
    sign_in(client)
    assert client.get("/staff/sign-out").status_code == 405
    assert signed_in(client)


def test_change_own_password(client, member_id):
    sign_in(client)
    weak = client.post("/staff/password", data={"current": STAFF_PASSWORD, "new": "password1234",
                                                "confirm": "password1234"})
    assert weak.status_code == 422 and "太常见" in weak.get_data(as_text=True)
    differ = client.post("/staff/password", data={"current": STAFF_PASSWORD, "new": "a new fine passphrase",
                                                  "confirm": "a new fine passphras"})
    assert differ.status_code == 422 and "两次输入的新密码不一样" in differ.get_data(as_text=True)
    ok = client.post("/staff/password", data={"current": STAFF_PASSWORD, "new": "a new fine passphrase",
                                              "confirm": "a new fine passphrase"})
    assert ok.status_code == 303 and "密码已修改" in client.get(ok.headers["Location"]).get_data(as_text=True)
    assert signed_in(client)


def test_admin_creates_an_account_and_sees_its_password_once(app, admin_client):
    response = admin_client.post("/staff/accounts", data={"username": "Sun", "display_name": "孙阿姨",
                                                          "roles": ["matchmaker", "coordinator"]})
    # A redirect to the list, which shows the password once: a reload shows it no more.
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/accounts")
    body = admin_client.get("/staff/accounts").get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', body).group(1)
    assert "孙阿姨" in body and password not in admin_client.get("/staff/accounts").get_data(as_text=True)
    # The newcomer signs in with it, and must choose their own before anything else opens.
    newcomer = app.test_client()
    assert sign_in(newcomer, "sun", password).status_code == 303
    for page in ("/staff/", "/staff/classes", "/staff/friends"):
        assert newcomer.get(page).headers.get("Location", "").endswith("/staff/password"), page
    assert newcomer.post("/staff/classes/new", data={}).status_code == 403
    changed = newcomer.post("/staff/password", data={"current": password, "new": "sunflower orchard lantern 2026",
                                                     "confirm": "sunflower orchard lantern 2026"})
    assert changed.status_code == 303 and newcomer.get("/staff/classes").status_code == 200
    with app.app_context():
        sun = db.session.query(StaffMember).filter_by(username="sun").one()
        assert services.get_member(sun.id).role_set == {"matchmaker", "coordinator"}

    again = admin_client.post("/staff/accounts", data={"username": "sun", "display_name": "x", "roles": ["admin"]})
    assert again.status_code == 422 and "这个用户名已被使用" in again.get_data(as_text=True)
    no_role = admin_client.post("/staff/accounts", data={"username": "li", "display_name": "x"})
    assert no_role.status_code == 422 and "请至少选择一个角色" in no_role.get_data(as_text=True)


def test_admin_edits_roles(app, admin_client, member_id):
    assert "赵老师" in admin_client.get(f"/staff/accounts/{member_id}").get_data(as_text=True)
    response = admin_client.post(f"/staff/accounts/{member_id}", data={"display_name": "赵老师",
                                                                       "roles": ["moderator", "matchmaker"]})
    assert response.status_code == 303
    with app.app_context():
        assert services.get_member(member_id).role_set == {"moderator", "matchmaker"}
    assert admin_client.get("/staff/accounts/999").status_code == 404


def test_console_nav_polls_with_a_version(admin_client):
    page = admin_client.get("/staff/").get_data(as_text=True)
    poll = re.search(r'hx-get="(/staff/nav\?v=\w+)"', page).group(1)
    assert admin_client.get(poll).status_code == 204
    changed = admin_client.get("/staff/nav?v=stale")
    assert changed.status_code == 200 and 'id="console-nav"' in changed.get_data(as_text=True)
