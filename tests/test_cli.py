"""`flask init` (what `make run` runs before serving) and `flask staff create`."""

import re

from sqlalchemy import func, select

from app.extensions import db
from app.notices.models import Notice
from app.staff import services as staff
from app.staff.models import StaffMember


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Notice)),
                db.session.scalar(select(func.count()).select_from(StaffMember)))


def test_first_start_loads_demo_content_and_prints_an_admin_password_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Loaded demo content." in first.output
    password = re.search(r"password: (\S+)", first.output).group(1)
    assert len(password) >= 16
    with app.app_context():
        admin = staff.sign_in("admin", password).member
        assert admin is not None and "admin" in admin.role_set
    notices, members = _counts(app)
    assert notices >= 3 and members == 1

    second = runner.invoke(args=["init"])
    assert second.exit_code == 0, second.output
    assert "password" not in second.output and "demo" not in second.output
    assert _counts(app) == (notices, members)


def test_demo_content_is_bilingual(app, client):
    app.test_cli_runner().invoke(args=["init"])
    chinese = client.get("/c/main/notices/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    english = client.get("/c/main/notices/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "防范电信诈骗" in chinese
    assert "Beware of phone fraud" in english and "防范电信诈骗" not in english


def test_init_without_demo_still_creates_the_admin(app):
    result = app.test_cli_runner().invoke(args=["init", "--no-demo", "--admin", "zhang"])
    assert result.exit_code == 0 and "username: zhang" in result.output
    assert _counts(app) == (0, 1)


def test_staff_create_with_a_piped_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "Li.Wei", "--role", "moderator", "--role", "matchmaker",
                                 "--password-stdin"], input="correct horse battery staple\n")
    assert result.exit_code == 0, result.output
    assert "correct horse" not in result.output
    with app.app_context():
        member = staff.sign_in("li.wei", "correct horse battery staple").member
        assert member.role_set == {"moderator", "matchmaker"}
        assert member.password_hash.startswith("$argon2id$")


def test_staff_create_refuses_weak_passwords_and_taken_names(app):
    # The command line speaks the site's language (zh_Hans by default).
    runner = app.test_cli_runner()
    short = runner.invoke(args=["staff", "create", "wang", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "密码至少需要 12 个字符" in short.output
    common = runner.invoke(args=["staff", "create", "wang", "--password-stdin"], input="qwertyuiop123\n")
    assert common.exit_code != 0 and "太常见" in common.output
    assert _counts(app) == (0, 0)
    generated = runner.invoke(args=["staff", "create", "wang"])
    assert generated.exit_code == 0 and "Password (shown once):" in generated.output
    again = runner.invoke(args=["staff", "create", "WANG"])
    assert again.exit_code != 0 and "这个用户名已被使用" in again.output
    assert _counts(app) == (0, 1)
