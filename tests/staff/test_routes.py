"""Staff sign-in and sign-out at /staff/."""

import pytest

from app.staff.services import create_staff

PASSWORD = "a long staff passphrase"


@pytest.fixture
def member_id(run_in_app):
    return run_in_app(create_staff, "zhao", PASSWORD, roles=("moderator",), display_name="赵老师")


def test_sign_in_and_out(client, member_id):
    assert "工作人员登录" in client.get("/staff/").get_data(as_text=True)
    response = client.post("/staff/sign-in", data={"username": "Zhao ", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    assert "已登录：赵老师。" in client.get("/staff/").get_data(as_text=True)

    assert client.post("/staff/sign-out").status_code == 303
    assert "工作人员登录" in client.get("/staff/").get_data(as_text=True)


def test_wrong_password_is_refused_in_the_users_language(client, member_id):
    for language, text in [("zh-CN", "用户名和密码不匹配。"), ("en", "That username and password do not match.")]:
        response = client.post("/staff/sign-in", data={"username": "zhao", "password": "wrong password!"},
                               headers={"Accept-Language": language})
        assert response.status_code == 422
        assert text in response.get_data(as_text=True)
    response = client.post("/staff/sign-in", data={"username": "nobody", "password": PASSWORD})
    assert response.status_code == 422
    assert "工作人员登录" in client.get("/staff/").get_data(as_text=True)


def test_empty_form_gets_field_errors(client):
    response = client.post("/staff/sign-in", data={}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.count('aria-invalid="true"') == 2 and body.count("该字段是必填字段。") == 2


def test_disabled_account_cannot_sign_in_or_stay_signed_in(app, client, member_id):
    from app.extensions import db
    from app.staff.models import StaffMember

    client.post("/staff/sign-in", data={"username": "zhao", "password": PASSWORD})
    with app.app_context():
        db.session.get(StaffMember, member_id).enabled = False
        db.session.commit()
    assert "工作人员登录" in client.get("/staff/").get_data(as_text=True)
    assert client.post("/staff/sign-in", data={"username": "zhao", "password": PASSWORD}).status_code == 422


def test_signing_out_is_never_a_get(client, member_id):
    client.post("/staff/sign-in", data={"username": "zhao", "password": PASSWORD})
    assert client.get("/staff/sign-out").status_code == 405
    assert "赵老师" in client.get("/staff/").get_data(as_text=True)
