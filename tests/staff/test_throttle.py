"""Sign-in throttling per username and client address: guesses slow down the address that
makes them, never the owner at another; a cap across addresses holds per username.

The real concurrent requests against gunicorn are in tests/e2e/test_sign_in_throttle.py.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.audit import AuditEntry
from app.clock import utcnow
from app.extensions import db
from app.staff import services
from app.staff.models import SignInThrottle
from tests.factories import STAFF_PASSWORD, staff_member

ATTACKER = "198.51.100.7"
OWNER = "192.0.2.10"
WRONG = "wrong guess number one"


@pytest.fixture
def member_id(run_in_app):
    return run_in_app(staff_member, "zhao", "moderator")


def attempt(app, password, address=ATTACKER, *, now=None, username="zhao"):
    """One sign-in from address: (signed in, seconds to wait, refused unchecked)."""
    with app.test_request_context("/staff/sign-in", method="POST", environ_base={"REMOTE_ADDR": address}):
        result = services.sign_in(username, password, now=now)
        return result.member is not None, result.retry_after, result.refused


def failures(app, address, username="zhao"):
    with app.app_context():
        return db.session.scalar(select(SignInThrottle.failures).where(
            SignInThrottle.username == username, SignInThrottle.address == address))


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, password=STAFF_PASSWORD):
    return client.post("/staff/sign-in", data={"username": "zhao", "password": password})


def test_guesses_from_one_address_never_keep_the_owner_out(app, member_id):
    attacker = client_at(app, ATTACKER)
    statuses = [sign_in(attacker, WRONG).status_code for _ in range(10)]
    assert statuses == [422] * 3 + [429] * 7
    assert sign_in(attacker).status_code == 429  # the right password, from the guessing address
    assert sign_in(client_at(app, OWNER)).status_code == 303
    # Signing in at one address leaves the guesses counted at the other.
    assert failures(app, ATTACKER) == 3 and failures(app, OWNER) is None


def test_the_owner_gets_in_past_the_cap_from_a_clean_address(app, member_id):
    now = utcnow()
    with app.app_context():
        db.session.add(SignInThrottle(username="zhao", address=ATTACKER, failures=150,
                                      window_started_at=now - timedelta(minutes=10), last_failed_at=now))
        db.session.commit()
    assert attempt(app, STAFF_PASSWORD)[2]  # refused
    assert attempt(app, STAFF_PASSWORD, OWNER) == (True, 0, False)


def test_an_address_waits_longer_after_each_failure_and_afresh_after_an_hour(app, member_id):
    start = utcnow()

    def at(seconds):
        return start + timedelta(seconds=seconds)

    assert [attempt(app, WRONG, now=start)[1] for _ in range(3)] == [0, 0, 2]
    assert attempt(app, STAFF_PASSWORD, now=at(1)) == (False, 1, True)  # the right password waits too
    assert attempt(app, WRONG, now=at(2)) == (False, 4, False)
    assert attempt(app, STAFF_PASSWORD, now=at(3)) == (False, 3, True)
    assert attempt(app, WRONG, now=at(6)) == (False, 8, False)
    assert attempt(app, WRONG, now=at(14)) == (False, 16, False)
    assert failures(app, ATTACKER) == 6  # refusals are not counted
    assert attempt(app, WRONG, now=at(3599)) == (False, 32, False)
    # The window began with the first failure; an hour on, the address starts afresh.
    assert [attempt(app, WRONG, now=at(3600))[1] for _ in range(3)] == [0, 0, 2]
    assert failures(app, ATTACKER) == 3


def test_waiting_out_the_delay_lets_the_right_password_in(app, member_id):
    attacker = client_at(app, ATTACKER)
    assert [sign_in(attacker, WRONG).status_code for _ in range(3)] == [422] * 3
    refused = sign_in(attacker)
    assert refused.status_code == 429 and refused.headers["Retry-After"] in ("1", "2")
    with app.app_context():
        db.session.execute(update(SignInThrottle).values(last_failed_at=utcnow() - timedelta(seconds=3)))
        db.session.commit()
    assert sign_in(attacker).status_code == 303
    assert failures(app, ATTACKER) is None


def _spread_failures(app, now, addresses=50, each=2):
    """addresses * each failures on zhao in the last half hour, none of them delayed."""
    with app.app_context():
        db.session.add_all(
            SignInThrottle(username="zhao", address=f"10.0.0.{i + 1}", failures=each,
                           window_started_at=now - timedelta(minutes=30) + timedelta(seconds=i),
                           last_failed_at=now - timedelta(minutes=20))
            for i in range(addresses))
        db.session.commit()


def test_the_cap_refuses_addresses_with_failures_only(app, member_id):
    now = utcnow()
    _spread_failures(app, now, addresses=50, each=2)  # 100: the cap
    for address in ("10.0.0.1", "10.0.0.50"):
        signed_in, wait, refused = attempt(app, STAFF_PASSWORD, address, now=now)
        # Until the oldest window (30 minutes ago) ends and the total drops under the cap.
        assert not signed_in and refused and wait == 30 * 60
    with app.app_context():
        assert services.sign_in_wait("zhao", "10.0.0.50", now=now + timedelta(minutes=30)) == 0
    # A clean address is still checked: a wrong guess counts (101), the right password gets in.
    assert attempt(app, WRONG, "192.0.2.77", now=now) == (False, 30 * 60, False)
    assert attempt(app, WRONG, "192.0.2.77", now=now)[2]
    assert attempt(app, STAFF_PASSWORD, OWNER, now=now) == (True, 0, False)
    # The cap is per username.
    with app.app_context():
        staff_member("qian", "moderator")
    assert attempt(app, STAFF_PASSWORD, "10.0.0.1", now=now, username="qian")[0]


def test_under_the_cap_an_address_with_failures_may_try(app, member_id):
    now = utcnow()
    _spread_failures(app, now, addresses=33, each=3)  # 99: one short of the cap
    assert attempt(app, WRONG, "10.0.0.1", now=now) == (False, 30 * 60, False)  # the 100th
    assert attempt(app, WRONG, "10.0.0.2", now=now)[2]


def test_unknown_usernames_are_slowed_down_alike(app):
    assert [attempt(app, WRONG, username="nobody")[1] for _ in range(3)] == [0, 0, 2]
    assert attempt(app, WRONG, username="nobody")[2]


def test_counted_failures_are_audited_refusals_are_not(app, member_id):
    attacker = client_at(app, ATTACKER)
    for _ in range(5):
        sign_in(attacker, WRONG)
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sign-in-failed")))
    assert len(entries) == 3 and {entry.ip for entry in entries} == {ATTACKER}
