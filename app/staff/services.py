"""Staff accounts, passwords (argon2id), server-side sessions and sign-in throttling.

Every change to an account, and every sign-in and failed sign-in, writes an audit entry
in the same transaction.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context, request
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import audit, lengths
from ..clock import utcnow
from ..communities import scope
from ..communities.models import Community
from ..communities.routing import default_community_id
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..security import token_digest
from .models import DISTRICT_ROLES, ROLES, Membership, SignInThrottle, StaffMember, StaffSession

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# last_seen_at is written at most this often, not on every request.
SEEN_RESOLUTION = timedelta(seconds=60)
FAILURE_WINDOW = timedelta(hours=1)
MAX_FAILURES_PER_WINDOW = 100
FREE_FAILURES = 3
MAX_DELAY_SECONDS = 300
POLL_HEADER = "X-Linli-Poll"


def _hasher() -> PasswordHasher:
    """argon2id with the config's PASSWORD_HASH_PARAMETERS: argon2-cffi's own (RFC 9106's
    low-memory profile) unless set. A hash records its parameters, so a hash made with others
    still verifies, and is made again with these at the next sign-in."""
    return _hasher_with(tuple(sorted((current_app.config.get("PASSWORD_HASH_PARAMETERS") or {}).items())))


@cache
def _hasher_with(parameters: tuple) -> PasswordHasher:
    return PasswordHasher(**dict(parameters))


class StaffError(ValueError):
    """A rule about staff accounts was broken; the message is shown to the user."""


@dataclass(frozen=True)
class SignInResult:
    member: StaffMember | None = None
    session_key: str | None = None
    # Seconds to wait before the next try, when sign-in is being slowed down.
    retry_after: int = 0
    # The password was not checked at all: this address had to wait (it may have been right).
    refused: bool = False


def _unknown_user_hash() -> str:
    """Verifying against this when the username is unknown keeps both answers equally slow."""
    return _unknown_hash_for(_hasher())


@cache
def _unknown_hash_for(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_hex(16))


def _client() -> tuple[str | None, str]:
    if not has_request_context():
        return None, "command line"
    return request.remote_addr, (request.user_agent.string or "")[:lengths.USER_AGENT]


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def check_password_strength(password: str, *hints: str) -> None:
    """Refuse short, very common and easily guessed passwords; long passphrases pass."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(_l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(_l("A password has at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))
    from zxcvbn import zxcvbn  # loaded only where passwords are set, not in every request

    hints = [hint for hint in (*hints, "linli", current_app.config["SITE_NAME"]) if hint]
    if zxcvbn(password, user_inputs=hints)["score"] < 3:
        raise StaffError(_l("That password is too common or too easy to guess. "
                            "A few unrelated words make a strong one."))


def _clean_roles(roles, allowed=ROLES, *, required: bool = True) -> str:
    unknown = set(roles) - set(allowed)
    if unknown:
        raise StaffError(_l("Unknown role: %(role)s", role=", ".join(sorted(unknown))))
    if required and not roles:
        raise StaffError(_l("Choose at least one role."))
    return " ".join(role for role in allowed if role in roles)


def create_staff(username: str, password: str, roles=("admin",), display_name: str | None = None,
                 *, community_id: int | None = None, handed_out: bool = False) -> int:
    """A new account. Its community roles become a membership of ``community_id`` (the one
    being worked in when None); district roles are the account's own. A ``handed_out``
    password (an admin gives it to the person) must be changed at the first sign-in."""
    username = username.strip().lower()
    if not username or len(username) > lengths.USERNAME or any(ch.isspace() for ch in username):
        raise StaffError(_l("A username has 1 to %(n)d characters and no spaces.", n=lengths.USERNAME))
    district = _clean_roles([role for role in roles if role in DISTRICT_ROLES], DISTRICT_ROLES, required=False)
    role_text = _clean_roles([role for role in roles if role not in DISTRICT_ROLES], required=not district)
    check_password_strength(password, username, display_name or "")
    if db.session.scalar(select(StaffMember.id).where(StaffMember.username == username)):
        raise StaffError(_l("That username is taken."))
    member = StaffMember(
        username=username,
        display_name=(display_name or username).strip()[:lengths.STAFF_NAME],
        password_hash=_hasher().hash(password),
        roles=district,
        must_change_password=handed_out,
    )
    db.session.add(member)
    if role_text:
        db.session.flush()
        db.session.add(Membership(member_id=member.id, roles=role_text,
                                  community_id=community_id or scope.current_community_id()))
    detail = {"username": username, "roles": role_text}
    if district:
        detail["district_roles"] = district
    with scope.within(community_id or scope.current_community_id()):
        audit.record("staff", "account-created", member, detail)
        db.session.commit()
    return member.id


def any_admin() -> bool:
    """Whether anyone enabled can administer: a district admin, or a community's admin."""
    district = select(StaffMember.id).where(StaffMember.enabled.is_(True), StaffMember.roles.contains("district-admin"))
    local = (select(Membership.id).join(StaffMember, StaffMember.id == Membership.member_id)
             .where(StaffMember.enabled.is_(True), Membership.roles.contains("admin")))
    return bool(db.session.scalar(select(district.union_all(local).limit(1).subquery().c[0])))


def _membership(member_id: int, community_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(
        Membership.member_id == member_id, Membership.community_id == community_id))


def members() -> list[StaffMember]:
    """The people with a place in the community being worked in, with their roles there."""
    rows = db.session.execute(
        select(StaffMember, Membership.roles).join(Membership, Membership.member_id == StaffMember.id)
        .where(Membership.community_id == scope.current_community_id()).order_by(StaffMember.username))
    found = []
    for member, roles in rows:
        member.community_roles = frozenset(roles.split())
        found.append(member)
    return found


def get_member(member_id: int) -> StaffMember | None:
    """A person with a place in the community being worked in (no one else's account)."""
    member = db.session.get(StaffMember, member_id)
    membership = member and _membership(member.id, scope.current_community_id())
    if membership is None:
        return None
    member.community_roles = membership.role_set
    return member


def communities_of(member: StaffMember) -> list[Community]:
    """Where a person may work: their memberships', or every community for a district admin."""
    query = select(Community).order_by(Community.id)
    if "district-admin" not in member.district_roles:
        query = query.where(Community.id.in_(select(Membership.community_id).where(Membership.member_id == member.id)))
    return list(db.session.scalars(query))


def _working_community(member: StaffMember, preferred: int | None) -> int | None:
    places = [community.id for community in communities_of(member)]
    if preferred in places:
        return preferred
    return places[0] if places else None


def switch_community(member: StaffMember, community_id: int) -> None:
    """Work in another of one's communities, in this browser."""
    if _working_community(member, community_id) != community_id:
        raise StaffError(_l("You have no place in that community."))
    db.session.execute(update(StaffSession).where(StaffSession.key_hash == token_digest(member.session_key or ""))
                       .values(community_id=community_id))
    with scope.within(community_id):
        audit.record("staff", "community-switched", member)
        db.session.commit()


# --- sign-in, throttled per username and client address -----------------------------

def _failure_delay(count: int) -> int:
    """Seconds to wait after the count-th recent failure: none for the first few, then doubling."""
    if count < FREE_FAILURES:
        return 0
    return min(2 ** (count - FREE_FAILURES + 1), MAX_DELAY_SECONDS)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, math.ceil((moment - now).total_seconds()))


def _request_address() -> str:
    # "" without a request (the shell, tests): the column is part of the key, never NULL.
    return (_client()[0] or "")[:45]


def sign_in_wait(username: str, address: str | None = None, now: datetime | None = None) -> int:
    """Seconds before this username may be tried from this address (the request's when
    None) again; 0 when it may be tried now.

    An address with no failures in its window is never kept waiting, whatever happened
    elsewhere: the owner at another machine always gets in with the right password.
    """
    now = now or utcnow()
    address = _request_address() if address is None else address
    live = (SignInThrottle.username == username, SignInThrottle.failures > 0,
            SignInThrottle.window_started_at > now - FAILURE_WINDOW)
    own = db.session.execute(
        select(SignInThrottle.failures, SignInThrottle.window_started_at, SignInThrottle.last_failed_at)
        .where(*live, SignInThrottle.address == address)
    ).one_or_none()
    if own is None:
        return 0
    wait = _seconds_until(own.last_failed_at + timedelta(seconds=_failure_delay(own.failures)), now)
    excess = db.session.scalar(select(func.sum(SignInThrottle.failures)).where(*live)) - MAX_FAILURES_PER_WINDOW
    if excess >= 0:
        # Over the cap across all addresses: wait until enough of the oldest windows end to
        # bring the total under it, or this address's own window ends, whichever is first.
        oldest = db.session.execute(
            select(SignInThrottle.window_started_at, SignInThrottle.failures).where(*live)
            .order_by(SignInThrottle.window_started_at).limit(excess + 1)
        )
        for started, failures in oldest:  # noqa: B007  (the last window counted is used below)
            excess -= failures
            if excess < 0:
                break
        ends = min(started, own.window_started_at) + FAILURE_WINDOW
        wait = max(wait, _seconds_until(ends, now))
    return wait


def _charge(username: str, address: str, now: datetime) -> int:
    """Count an attempt before its password is checked (argon2 is slow): 0 when it was
    counted and may go ahead, else the seconds to wait, and nothing is counted.

    Each attempt on a username is decided in one short transaction that holds a lock on
    the username, so concurrent guesses from any number of workers are counted exactly,
    and the cap across addresses holds too (row locks could not cover new addresses).
    """
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended("linli sign-in " + username, 0))))
    # On SQLite this write comes first and takes the database's write lock, which serialises.
    insert = pg_insert if postgres else sqlite_insert
    db.session.execute(insert(SignInThrottle).values(
        username=username, address=address, failures=0, window_started_at=now).on_conflict_do_nothing())
    pair = (SignInThrottle.username == username, SignInThrottle.address == address)
    ended = SignInThrottle.window_started_at <= now - FAILURE_WINDOW
    db.session.execute(update(SignInThrottle).where(*pair, ended)
                       .values(failures=0, window_started_at=now, last_failed_at=None))
    # Other addresses' ended windows count no more; deleting them keeps the table small.
    db.session.execute(delete(SignInThrottle).where(
        SignInThrottle.username == username, SignInThrottle.address != address, ended))
    wait = sign_in_wait(username, address, now)
    if not wait:
        db.session.execute(update(SignInThrottle).where(*pair)
                           .values(failures=SignInThrottle.failures + 1, last_failed_at=now))
    db.session.commit()
    return wait


def sign_in(username: str, password: str, *, now: datetime | None = None) -> SignInResult:
    """Check credentials and open a server-side session; slow down repeated failures.

    Failures are counted per username and client address. A wrong guess never locks the
    account: the delay grows with the address's failures and ends with its window, and
    guesses from one address never keep the right password out at another.
    """
    username = username.strip().lower()[:lengths.USERNAME]
    now = now or utcnow()
    ip, agent = _client()
    address = _request_address()
    wait = _charge(username, address, now)
    if wait:
        return SignInResult(retry_after=wait, refused=True)
    member = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
    try:
        _hasher().verify(member.password_hash if member else _unknown_user_hash(), password)
        valid = member is not None and member.enabled
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid:
        # The attempt stays charged.
        audit.record("staff", "sign-in-failed", member, {"username": username},
                     actor=("system", None, ""))
        db.session.commit()
        return SignInResult(retry_after=sign_in_wait(username, address, now))
    if _hasher().check_needs_rehash(member.password_hash):
        member.password_hash = _hasher().hash(password)
    key = secrets.token_urlsafe(32)
    member.last_sign_in_at = utcnow()
    # Where the sign-in happens (a kiosk's community, or the first) if the person works there.
    request_scope = scope.current_scope()
    community_id = _working_community(member, request_scope.community_id if request_scope else None)
    db.session.add(StaffSession(key_hash=token_digest(key), member=member, ip=ip, user_agent=agent,
                                community_id=community_id))
    # Only this address starts afresh: guesses elsewhere stay counted.
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.username == username,
                                                    SignInThrottle.address == address))
    with scope.within(community_id or default_community_id()):
        audit.record("staff", "signed-in", member, actor=("staff", member.id, member.display_name))
        db.session.commit()
    member.session_key = key
    _work_in(member, community_id)
    return SignInResult(member=member, session_key=key)


def load_session(key: str) -> StaffMember | None:
    """The member signed in with this session key, if the session is still alive."""
    if not key:
        return None
    now = utcnow()
    session = db.session.scalar(
        select(StaffSession).where(StaffSession.key_hash == token_digest(key), StaffSession.ended_at.is_(None))
    )
    if session is None:
        return None
    member = session.member
    expired = now - session.last_seen_at > IDLE_TIMEOUT or now - session.created_at > ABSOLUTE_TIMEOUT
    if expired or not member.enabled:
        session.ended_at = now
        db.session.commit()
        return None
    # Background polls (the console's badges) are not the member at work: they must not
    # keep an unattended console signed in past the idle timeout.
    polled = has_request_context() and request.headers.get(POLL_HEADER) == "1"
    if not polled and now - session.last_seen_at > SEEN_RESOLUTION:
        session.last_seen_at = now
        db.session.commit()
    member.session_key = key
    _work_in(member, session.community_id)
    return member


def _work_in(member: StaffMember, community_id: int | None) -> None:
    """Note where the member works in this request and the roles they hold there."""
    member.working_community_id = community_id
    membership = community_id and _membership(member.id, community_id)
    member.community_roles = membership.role_set if membership else frozenset()


def _end_sessions(*conditions) -> int:
    result = db.session.execute(
        update(StaffSession).where(StaffSession.ended_at.is_(None), *conditions).values(ended_at=utcnow())
    )
    return result.rowcount


def sign_out(member: StaffMember) -> None:
    _end_sessions(StaffSession.key_hash == token_digest(member.session_key or ""))
    audit.record("staff", "signed-out", member)
    db.session.commit()


# --- account administration (admins) ---------------------------------------------------

def update_member(member_id: int, *, display_name: str, roles) -> None:
    """A person's name, and their roles in the community being worked in."""
    member = get_member(member_id)
    membership = _membership(member.id, scope.current_community_id())
    role_text = _clean_roles(roles)
    if "admin" not in role_text.split() and "admin" in membership.role_set and _last_admin(member):
        raise StaffError(_l("At least one enabled admin must remain."))
    changes = {}
    if member.display_name != display_name.strip()[:lengths.STAFF_NAME]:
        changes["display_name"] = [member.display_name, display_name.strip()[:lengths.STAFF_NAME]]
        member.display_name = display_name.strip()[:lengths.STAFF_NAME]
    if membership.roles != role_text:
        changes["roles"] = [membership.roles, role_text]
        membership.roles = role_text
    if changes:
        audit.record("staff", "account-changed", member, changes)
    db.session.commit()


def _last_admin(member: StaffMember) -> bool:
    """Whether no one else enabled administers the community being worked in."""
    others = db.session.scalar(
        select(func.count()).select_from(Membership).join(StaffMember, StaffMember.id == Membership.member_id)
        .where(Membership.community_id == scope.current_community_id(), StaffMember.id != member.id,
               StaffMember.enabled.is_(True), Membership.roles.contains("admin"))
    )
    return others == 0


def set_enabled(member_id: int, enabled: bool) -> None:
    """Disable (ending every session at once) or re-enable an account."""
    member = get_member(member_id)
    if not enabled and "admin" in member.role_set and _last_admin(member):
        raise StaffError(_l("At least one enabled admin must remain."))
    member.enabled = enabled
    if not enabled:
        _end_sessions(StaffSession.member_id == member.id)
    audit.record("staff", "account-enabled" if enabled else "account-disabled", member)
    db.session.commit()


def set_password(member_id: int, password: str, *, keep_session: str | None = None,
                 handed_out: bool = False) -> None:
    """Set a new password and end the member's other sessions; a ``handed_out`` one (an
    admin's reset) must be changed at the next sign-in."""
    member = db.session.get(StaffMember, member_id)
    check_password_strength(password, member.username, member.display_name)
    member.password_hash = _hasher().hash(password)
    member.must_change_password = handed_out
    conditions = [StaffSession.member_id == member.id]
    if keep_session:
        conditions.append(StaffSession.key_hash != token_digest(keep_session))
    _end_sessions(*conditions)
    audit.record("staff", "password-changed", member)
    db.session.commit()


def change_own_password(member: StaffMember, current: str, new: str) -> None:
    try:
        _hasher().verify(member.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise StaffError(_l("The current password is not right.")) from None
    set_password(member.id, new, keep_session=member.session_key)
