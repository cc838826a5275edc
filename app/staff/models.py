from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import lengths
from ..clock import utcnow
from ..extensions import db

ROLES = ("admin", "moderator", "coordinator", "matchmaker")


class StaffMember(UserMixin, db.Model):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(lengths.USERNAME), unique=True)
    display_name: Mapped[str] = mapped_column(String(lengths.STAFF_NAME))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Space-separated subset of ROLES.
    roles: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    # Set by the session loader: the server-side session this request runs in.
    session_key = None

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; others need one of the roles named."""
        held = self.role_set
        return "admin" in held or bool(held.intersection(roles))

    @property
    def is_active(self) -> bool:
        return self.enabled

    def get_id(self) -> str | None:
        # Flask-Login keeps this in the cookie: the session's key, never the member's id,
        # so ending the server-side session ends the sign-in.
        return self.session_key


class StaffSession(db.Model):
    """A signed-in browser. The cookie holds the key; the table holds only its hash."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_member", "member_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(lengths.USER_AGENT), default="")

    member: Mapped[StaffMember] = relationship()


class SignInThrottle(db.Model):
    """Sign-in attempts charged to one username from one client address, in the window
    that began with the first of them; a good sign-in from that address deletes the row."""

    __tablename__ = "sign_in_throttles"

    username: Mapped[str] = mapped_column(String(lengths.USERNAME), primary_key=True)
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failed_at: Mapped[datetime | None]
