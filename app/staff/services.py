"""Staff accounts: creation, passwords (argon2id), sign-in."""

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..clock import utcnow
from ..extensions import db
from .models import ROLES, StaffMember

MIN_PASSWORD_LENGTH = 12
hasher = PasswordHasher()


@cache
def _unknown_user_hash() -> str:
    """Verifying against this when the username is unknown keeps both answers equally slow."""
    return hasher.hash(secrets.token_hex(16))


class StaffError(ValueError):
    """A rule about staff accounts was broken; the message is shown to the user."""


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_staff(username: str, password: str, roles=("admin",), display_name: str | None = None) -> int:
    username = username.strip().lower()
    if not username or len(username) > 40:
        raise StaffError(_l("A username has 1 to 40 characters."))
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise StaffError(_l("Unknown role: %(role)s", role=", ".join(sorted(unknown))))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(_l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if db.session.scalar(select(StaffMember.id).where(StaffMember.username == username)):
        raise StaffError(_l("That username is taken."))
    member = StaffMember(
        username=username,
        display_name=display_name or username,
        password_hash=hasher.hash(password),
        roles=" ".join(role for role in ROLES if role in roles),
    )
    db.session.add(member)
    db.session.commit()
    return member.id


def any_admin() -> bool:
    return bool(db.session.scalar(
        select(func.count()).select_from(StaffMember).where(StaffMember.roles.contains("admin"))
    ))


def authenticate(username: str, password: str) -> StaffMember | None:
    """The enabled staff member with these credentials, or None."""
    member = db.session.scalar(
        select(StaffMember).where(StaffMember.username == username.strip().lower())
    )
    try:
        hasher.verify(member.password_hash if member else _unknown_user_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if member is None or not member.enabled:
        return None
    if hasher.check_needs_rehash(member.password_hash):
        member.password_hash = hasher.hash(password)
    member.last_sign_in_at = utcnow()
    db.session.commit()
    return member


def load_member(member_id: str) -> StaffMember | None:
    if not member_id.isdigit():
        return None
    member = db.session.get(StaffMember, int(member_id))
    return member if member and member.enabled else None
