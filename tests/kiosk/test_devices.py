"""Pairing codes, enrollment, device cookies, heartbeats and revocation, through HTTP."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.audit import AuditEntry
from app.clock import utcnow
from app.extensions import db
from app.kiosk import devices
from app.kiosk.models import Kiosk, KioskPairing
from tests.factories import enrolled_kiosk

HTMX = {"HX-Request": "true"}


def pairing_code(client) -> str:
    response = client.post("/device/pairing", headers=HTMX)
    assert response.status_code == 200
    return re.search(r'id="pairing-code">(\w{6})<', response.get_data(as_text=True)).group(1)


def test_a_browser_shows_one_code_until_it_is_enrolled(app, client, run_in_app):
    page = client.get("/c/main/").get_data(as_text=True)
    assert 'id="pairing"' in page and 'id="heartbeat"' not in page
    code = pairing_code(client)
    assert set(code) <= set(devices.CODE_ALPHABET)
    assert pairing_code(client) == code  # the claim cookie keeps the same code
    claim = client.get_cookie(devices.CLAIM_COOKIE)
    assert claim.http_only and claim.same_site == "Strict"

    kiosk_id = run_in_app(devices.enroll, code.lower(), "  大厅   左侧 ")
    response = client.post("/device/pairing", headers=HTMX)
    assert response.headers["HX-Refresh"] == "true"
    device = client.get_cookie(devices.DEVICE_COOKIE)
    assert device.http_only and device.same_site == "Strict" and len(device.value) >= 40
    assert client.get_cookie(devices.CLAIM_COOKIE) is None

    page = client.get("/c/main/").get_data(as_text=True)
    assert 'id="heartbeat"' in page and 'id="pairing"' not in page
    with app.app_context():
        kiosk = db.session.get(Kiosk, kiosk_id)
        assert kiosk.name == "大厅 左侧" and kiosk.enrolled_at is not None
        assert kiosk.token_hash != device.value  # only the hash is stored
        assert db.session.scalar(select(KioskPairing)) is None


def test_codes_are_refused_when_wrong_expired_or_taken(app, client, run_in_app):
    code = pairing_code(client)
    with app.app_context():
        for bad in ("ZZZZZZ", ""):
            try:
                devices.enroll(bad, "大厅")
            except devices.DeviceError:
                pass
            else:
                raise AssertionError(f"{bad!r} was accepted")
        devices.enroll(code, "大厅")
        try:
            devices.enroll(code, "第二台")
        except devices.DeviceError:
            pass
        else:
            raise AssertionError("a code was used twice")
        assert len(db.session.scalars(select(Kiosk)).all()) == 1

    other = app.test_client()
    stale = pairing_code(other)
    with app.app_context():
        db.session.execute(update(KioskPairing).where(KioskPairing.code == stale)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    try:
        run_in_app(devices.enroll, stale, "过期")
    except devices.DeviceError:
        pass
    else:
        raise AssertionError("an expired code was accepted")
    assert pairing_code(other) != stale  # the screen draws a new code


def test_heartbeat_records_the_page_and_revocation_falls_back_to_read_only(app, client, run_in_app):
    kiosk_id, token = run_in_app(enrolled_kiosk)
    client.set_cookie(devices.DEVICE_COOKIE, token)
    response = client.post("/device/heartbeat", headers={**HTMX, "HX-Current-URL": "http://kiosk.lan/c/main/notices/3"})
    assert response.status_code == 204
    statuses = run_in_app(devices.kiosk_statuses)
    assert statuses[0].online and statuses[0].last_page == "/c/main/notices/3"

    run_in_app(devices.revoke, kiosk_id)
    assert client.post("/device/heartbeat", headers=HTMX).headers["HX-Refresh"] == "true"
    assert client.get_cookie(devices.DEVICE_COOKIE) is None
    page = client.get("/c/main/").get_data(as_text=True)
    assert 'id="pairing"' in page and 'id="heartbeat"' not in page
    assert run_in_app(devices.kiosk_statuses) == []
    assert run_in_app(devices.kiosk_statuses, include_revoked=True)[0].revoked


def test_online_means_a_heartbeat_within_two_minutes(app, run_in_app):
    run_in_app(enrolled_kiosk, "A")
    run_in_app(enrolled_kiosk, "B")
    with app.app_context():
        db.session.execute(update(Kiosk).where(Kiosk.name == "B")
                           .values(last_seen_at=utcnow() - timedelta(minutes=2, seconds=1)))
        db.session.commit()
        assert {s.name: s.online for s in devices.kiosk_statuses()} == {"A": True, "B": False}
        assert devices.offline_count() == 1
        assert devices.revoke_all() == 2
        assert devices.offline_count() == 0


def test_kiosk_changes_are_audited(app, run_in_app):
    kiosk_id, _token = run_in_app(enrolled_kiosk, "A")
    run_in_app(devices.rename, kiosk_id, "大厅右侧")
    run_in_app(devices.revoke, kiosk_id)
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.area == "kiosks")
                                          .order_by(AuditEntry.id)))
    assert actions == ["kiosk-enrolled", "kiosk-token-collected", "kiosk-renamed", "kiosk-revoked"]


def test_enroll_from_the_command_line(app, client):
    code = pairing_code(client)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kiosk", "enroll", code, "--name", "Lobby, left"])
    assert result.exit_code == 0, result.output
    assert client.post("/device/pairing", headers=HTMX).headers["HX-Refresh"] == "true"
    wrong = runner.invoke(args=["kiosk", "enroll", "ABCDEF", "--name", "x"])
    assert wrong.exit_code != 0 and "没有屏幕显示这个配对码" in wrong.output


def test_staff_console_enrolls_renames_and_revokes(client, staff_client):
    staff = staff_client("boss", "admin")
    code = pairing_code(client)
    wrong = staff.post("/staff/kiosks", data={"code": "QQQQQQ", "name": "大厅"})
    assert wrong.status_code == 422 and "没有屏幕显示这个配对码" in wrong.get_data(as_text=True)
    added = staff.post("/staff/kiosks", data={"code": code, "name": "大厅左侧"})
    assert added.status_code == 303
    assert 'data-status="waiting"' in staff.get(added.headers["Location"]).get_data(as_text=True)
    client.post("/device/pairing", headers=HTMX)
    listing = staff.get("/staff/kiosks", headers={**HTMX, "HX-Target": "kiosk-list"}).get_data(as_text=True)
    assert listing.startswith('<div id="kiosk-list"') and 'data-status="online"' in listing
    kiosk_id = int(re.search(r'id="kiosk-(\d+)"', listing).group(1))
    renamed = staff.post(f"/staff/kiosks/{kiosk_id}/name", data={"name": "大厅右侧"},
                         headers={**HTMX, "HX-Target": "kiosk-list"})
    assert "大厅右侧" in renamed.get_data(as_text=True)
    # Revoking asks first: a page naming the kiosk, whose button posts.
    asked = staff.get(f"/staff/kiosks/{kiosk_id}/revoke").get_data(as_text=True)
    assert "撤销大屏“大厅右侧”？" in asked and f'action="/staff/kiosks/{kiosk_id}/revoke"' in asked
    assert 'data-status="online"' in staff.get("/staff/kiosks").get_data(as_text=True)
    revoked = staff.post(f"/staff/kiosks/{kiosk_id}/revoke")
    assert revoked.status_code == 303
    assert 'data-status="revoked"' in staff.get(revoked.headers["Location"]).get_data(as_text=True)
    assert staff.post("/staff/kiosks/999/revoke").status_code == 404


def test_heartbeats_add_up_each_days_online_time(app, client, run_in_app):
    """The time between two heartbeats counts as online when the kiosk stayed online (within
    two minutes); a longer gap (the screen was off) adds nothing."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from app.extensions import db
    from app.kiosk.models import Kiosk, KioskDay

    kiosk_id, token = run_in_app(enrolled_kiosk)
    client.set_cookie(devices.DEVICE_COOKIE, token)

    def seen(ago: timedelta):
        db.session.execute(update(Kiosk).where(Kiosk.id == kiosk_id).values(last_seen_at=utcnow() - ago))
        db.session.commit()

    def online_seconds():
        return db.session.scalar(select(KioskDay.online_seconds).where(KioskDay.kiosk_id == kiosk_id))

    run_in_app(seen, timedelta(seconds=60))
    assert client.post("/device/heartbeat", headers=HTMX).status_code == 204
    assert 59 <= run_in_app(online_seconds) <= 61
    run_in_app(seen, timedelta(seconds=30))
    client.post("/device/heartbeat", headers=HTMX)
    assert 89 <= run_in_app(online_seconds) <= 92
    run_in_app(seen, timedelta(minutes=10))  # switched off in between
    client.post("/device/heartbeat", headers=HTMX)
    assert 89 <= run_in_app(online_seconds) <= 92
