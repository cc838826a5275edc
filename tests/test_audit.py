"""The audit log: masked numbers, filters, and the admin's view of it."""

from datetime import datetime

import pytest

from app import audit
from app.extensions import db
from tests.factories import STAFF_PASSWORD, staff_member


@pytest.mark.parametrize(("text", "masked"), [
    ("call 13812345678 now", "call 138****5678 now"),
    ("ID 11010519491231002X", "ID 110***********002X"),
    ("138 1234 5678", "138****5678"),
    ("landline 8888 6666", "landline ********"),       # 7+ digits: hidden whole in the log
    ("code 1234567", "code *******"),
    ("room 1203, building 7", "room 1203, building 7"),
    ("on 2026-03-01 at 12:30", "on 2026-03-01 at 12:30"),
])
def test_long_numbers_are_masked(text, masked):
    assert audit.mask_detail(text) == masked


def test_record_masks_and_browse_filters(app):
    with app.app_context():
        audit.record("wall", "post-held", detail={"reason": "phone 13912345678"}, actor=("staff", 7, "李"))
        audit.record("kiosks", "kiosk-renamed", actor=("kiosk", 3, "大厅"))
        entry = audit.record("staff", "signed-in", actor=("staff", 8, "王"))
        entry.at = datetime(2026, 1, 1, 12)
        db.session.commit()

        assert "13912345678" not in audit.browse()[-1].detail
        assert [e.action for e in audit.browse(actor="staff:7")] == ["post-held"]
        assert [e.action for e in audit.browse(area="kiosks")] == ["kiosk-renamed"]
        assert [e.action for e in audit.browse(until=datetime(2026, 1, 2))] == ["signed-in"]
        assert len(audit.browse(since=datetime(2026, 1, 2))) == 2
        newest = audit.browse(limit=1)
        assert [e.action for e in audit.browse(before=newest[0].id)] == ["kiosk-renamed", "post-held"]
        assert ("staff:7", "李") in audit.actors()


def test_admins_browse_the_log(app, run_in_app):
    run_in_app(staff_member, "boss", "admin", display_name="王主任")
    run_in_app(staff_member, "zhao", "moderator", display_name="赵老师")
    client = app.test_client()
    client.post("/staff/sign-in", data={"username": "zhao", "password": "wrong password"})
    client.post("/staff/sign-in", data={"username": "boss", "password": STAFF_PASSWORD})
    page = client.get("/staff/audit").get_data(as_text=True)
    # The actions in words, never their codes.
    for action, words in (("account-created", "创建了账号"), ("sign-in-failed", "登录失败"), ("signed-in", "登录")):
        assert words in page and action not in page
    only_boss = client.get("/staff/audit", query_string={"person": "staff:1"}).get_data(as_text=True)
    assert "<td>登录</td>" in only_boss and "登录失败" not in only_boss
    kiosks = client.get("/staff/audit", query_string={"area": "kiosks"}).get_data(as_text=True)
    assert "Nothing recorded that matches." in kiosks or "没有符合条件的记录" in kiosks
    rows = client.get("/staff/audit", headers={"HX-Request": "true", "HX-Target": "audit-rows"})
    assert rows.get_data(as_text=True).lstrip().startswith('<tbody id="audit-rows"')
    bad = client.get("/staff/audit", query_string={"since": "not-a-date"})
    assert bad.status_code == 200 and "<td>登录</td>" in bad.get_data(as_text=True)


def test_date_filters_are_the_sites_days(app, staff_client):
    client = staff_client("boss", "admin")
    with app.app_context():
        # 17:00 UTC on 1 January is 01:00 on 2 January in Asia/Shanghai.
        entry = audit.record("wall", "post-hidden", actor=("staff", 1, "王"))
        entry.at = datetime(2026, 1, 1, 17)
        db.session.commit()
    first = client.get("/staff/audit", query_string={"since": "2026-01-01", "until": "2026-01-01"})
    second = client.get("/staff/audit", query_string={"since": "2026-01-02", "until": "2026-01-02"})
    assert "隐藏了留言" not in first.get_data(as_text=True)
    assert "隐藏了留言" in second.get_data(as_text=True)


def test_the_log_exports_in_the_consoles_language(app, staff_client):
    import csv
    import io

    from openpyxl import load_workbook

    client = staff_client("boss", "admin")
    with app.app_context():
        audit.record("wall", "post-rejected", actor=("staff", 1, "王"), detail={"reason": "请勿留电话 13812345678"})
        db.session.commit()
    rows = list(csv.reader(io.StringIO(client.get("/staff/audit.csv", query_string={"area": "wall"})
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["时间", "人员", "栏目", "操作", "记录", "详情", "来源地址"]
    assert rows[1][1:5] == ["王", "留言墙", "退回了留言", ""] and rows[1][5] == "原因：请勿留电话 138****5678"
    book = load_workbook(io.BytesIO(client.get("/staff/audit.xlsx").data))
    values = [[cell.value for cell in row] for row in book.active.iter_rows()]
    assert values[0][3] == "操作" and ["留言墙", "退回了留言"] in [row[2:4] for row in values]
    assert all("{" not in str(cell) for row in values for cell in row if cell)
    with app.app_context():
        assert audit.browse(limit=1)[0].action == "audit-exported"
