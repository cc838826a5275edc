"""Staff account rules, sessions and sign-in throttling, without HTTP."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.audit import AuditEntry
from app.clock import utcnow
from app.extensions import db
from app.security import token_digest
from app.staff import services
from app.staff.models import SignInThrottle, StaffSession
from tests.factories import STAFF_PASSWORD, staff_member


@pytest.mark.parametrize("password", ["short", "password1234", "123456789012", "qwertyuiop123",
                                      "aaaaaaaaaaaaaaaa", "zhao12345678", "iloveyou1234", "woaini520520",
                                      "1qaz2wsx3edc", "passw0rdpassw0rd"])
def test_weak_passwords_are_refused(app, password):
    with app.app_context(), pytest.raises(services.StaffError):
        services.create_staff("zhao", password, roles=("moderator",))


@pytest.mark.parametrize("password", ["correct horse battery staple", "我家门口的梧桐树又开花了",
                                      "Lobby-kiosk 7 teapots", "tU4#pL9v@Qm2"])
def test_long_passphrases_are_accepted(app, password):
    with app.app_context():
        assert services.create_staff("zhao", password, roles=("moderator",))


def test_roles_must_be_known_and_present(app):
    with app.app_context():
        with pytest.raises(services.StaffError):
            services.create_staff("a", STAFF_PASSWORD, roles=("janitor",))
        with pytest.raises(services.StaffError):
            services.create_staff("a", STAFF_PASSWORD, roles=())


def test_admin_passes_every_role_check_others_only_their_own(app):
    with app.app_context():
        admin = services.get_member(staff_member("boss", "admin"))
        both = services.get_member(staff_member("li", "moderator", "matchmaker"))
        assert admin.has_role("coordinator") and admin.has_role("matchmaker")
        assert both.has_role("matchmaker") and both.has_role("moderator", "coordinator")
        assert not both.has_role("coordinator") and not both.has_role("admin")


def test_sign_in_opens_a_session_with_a_fresh_key(app):
    with app.app_context():
        staff_member("zhao", "moderator")
        first = services.sign_in("zhao", STAFF_PASSWORD)
        second = services.sign_in(" ZHAO ", STAFF_PASSWORD)
        assert first.member and second.member and first.session_key != second.session_key
        stored = list(db.session.scalars(select(StaffSession.key_hash)))
        assert first.session_key not in stored and len(stored) == 2
        assert services.load_session(first.session_key).username == "zhao"
        assert services.load_session("not-a-key") is None


def _age_session(key, *, idle=timedelta(0), age=timedelta(0)):
    now = utcnow()
    db.session.execute(update(StaffSession).where(StaffSession.key_hash == token_digest(key))
                       .values(last_seen_at=now - idle, created_at=now - age))
    db.session.commit()


def test_sessions_end_after_30_idle_minutes_or_12_hours(app):
    with app.app_context():
        staff_member("zhao", "moderator")
        idle = services.sign_in("zhao", STAFF_PASSWORD).session_key
        _age_session(idle, idle=timedelta(minutes=29))
        assert services.load_session(idle) is not None  # and this use refreshes it
        _age_session(idle, idle=timedelta(minutes=31))
        assert services.load_session(idle) is None
        _age_session(idle)  # ended sessions stay ended
        assert services.load_session(idle) is None

        busy = services.sign_in("zhao", STAFF_PASSWORD).session_key
        _age_session(busy, idle=timedelta(minutes=1), age=timedelta(hours=11, minutes=59))
        assert services.load_session(busy) is not None
        _age_session(busy, idle=timedelta(minutes=1), age=timedelta(hours=12, minutes=1))
        assert services.load_session(busy) is None


def test_disabling_and_password_changes_end_sessions(app):
    with app.app_context():
        staff_member("boss", "admin")
        member_id = staff_member("zhao", "moderator")
        laptop = services.sign_in("zhao", STAFF_PASSWORD).session_key
        phone = services.sign_in("zhao", STAFF_PASSWORD).session_key
        member = services.load_session(laptop)
        services.change_own_password(member, STAFF_PASSWORD, "a brand new passphrase here")
        assert services.load_session(laptop) is not None  # the browser that changed it stays
        assert services.load_session(phone) is None
        assert services.sign_in("zhao", STAFF_PASSWORD).member is None
        with pytest.raises(services.StaffError):
            services.change_own_password(services.load_session(laptop), "wrong", "another fine passphrase")

        services.set_enabled(member_id, False)
        assert services.load_session(laptop) is None
        assert services.sign_in("zhao", "a brand new passphrase here").member is None
        services.set_enabled(member_id, True)
        assert services.sign_in("zhao", "a brand new passphrase here").member is not None


def test_the_last_admin_cannot_be_disabled_or_demoted(app):
    with app.app_context():
        boss = staff_member("boss", "admin")
        with pytest.raises(services.StaffError):
            services.set_enabled(boss, False)
        with pytest.raises(services.StaffError):
            services.update_member(boss, display_name="Boss", roles=("moderator",))
        staff_member("deputy", "admin")
        services.update_member(boss, display_name="Boss", roles=("moderator",))
        assert services.get_member(boss).role_set == {"moderator"}


def test_failed_sign_ins_slow_down_but_never_lock_for_good(app):
    with app.app_context():
        staff_member("zhao", "moderator")
        waits = [services.sign_in("zhao", "wrong guess number one").retry_after for _ in range(3)]
        assert waits == [0, 0, 2]  # the first few are free, then the wait doubles
        refused = services.sign_in("zhao", STAFF_PASSWORD)
        # Even the right password waits, unchecked and uncounted.
        assert refused.member is None and refused.refused and refused.retry_after > 0
        assert db.session.scalar(select(SignInThrottle.failures)) == 3

        later = utcnow() + timedelta(seconds=3)
        assert services.sign_in_wait("zhao", "", now=later) == 0
        # Doubling waits, capped at 5 minutes.
        for count, expected in [(4, 4), (5, 8), (10, 256), (20, 300)]:
            assert services._failure_delay(count) == expected
        # Other accounts are not slowed down by attacks on this one.
        staff_member("qian", "moderator")
        assert services.sign_in("qian", STAFF_PASSWORD).member is not None
        assert services.sign_in("zhao", STAFF_PASSWORD, now=later).member is not None


def test_a_good_sign_in_clears_the_failures(app):
    with app.app_context():
        staff_member("zhao", "moderator")
        services.sign_in("zhao", "wrong guess number one")
        assert services.sign_in("zhao", STAFF_PASSWORD).member is not None
        assert db.session.scalar(select(SignInThrottle).where(SignInThrottle.username == "zhao")) is None


def test_account_changes_sign_ins_and_failures_are_audited(app):
    with app.app_context():
        member_id = staff_member("zhao", "moderator")
        services.sign_in("zhao", "wrong guess number one")
        member = services.sign_in("zhao", STAFF_PASSWORD).member
        services.update_member(member_id, display_name="赵老师", roles=("moderator", "matchmaker"))
        services.set_password(member_id, "another fine passphrase")
        services.sign_out(member)
        actions = [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions == ["account-created", "sign-in-failed", "signed-in", "account-changed",
                           "password-changed", "signed-out"]
        details = " ".join(db.session.scalars(select(AuditEntry.detail)))
        assert "passphrase" not in details and "wrong guess" not in details


def test_background_polls_do_not_keep_a_session_alive(app):
    with app.app_context():
        staff_member("zhao", "moderator")
        key = services.sign_in("zhao", STAFF_PASSWORD).session_key
    for headers, refreshed in [({services.POLL_HEADER: "1"}, False), ({}, True)]:
        with app.app_context():
            _age_session(key, idle=timedelta(minutes=20))
        with app.test_request_context("/staff/nav", headers=headers):
            assert services.load_session(key) is not None
            idle = utcnow() - db.session.scalar(select(StaffSession.last_seen_at))
            assert (idle < timedelta(minutes=1)) is refreshed
