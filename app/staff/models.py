from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import lengths
from ..clock import utcnow
from ..extensions import db

# What a person may do inside one community (a membership's roles).
# A grid worker works the cases routed to their grids (app/cases).
ROLES = ("admin", "moderator", "coordinator", "matchmaker", "grid-worker")
# What a person may do across the platform (the account's own roles): a district admin
# creates, renames and merges communities, assigns staff and sends district notices; a
# district viewer reads the figures across communities, no personal data; a supervisor (纪检)
# reads every community's overdue cases and changes nothing.
DISTRICT_ROLES = ("district-admin", "district-viewer", "supervisor")


class StaffMember(UserMixin, db.Model):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(lengths.USERNAME), unique=True)
    display_name: Mapped[str] = mapped_column(String(lengths.STAFF_NAME))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Space-separated subset of DISTRICT_ROLES; the roles in a community are memberships'.
    roles: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    # Set when an admin hands out the password (a new account, a reset): the holder must
    # choose their own at the next sign-in before anything else opens.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # Staff of a district department or property company: they work the cases routed to it,
    # from every community (app/cases).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("case_units.id", ondelete="SET NULL"))

    # Set by the session loader: the server-side session this request runs in, the
    # community it works in, and the roles the member holds there.
    session_key = None
    working_community_id = None
    community_roles = frozenset()

    @property
    def district_roles(self) -> frozenset[str]:
        return frozenset(self.roles.split())

    @property
    def role_set(self) -> frozenset[str]:
        """The roles held in the community being worked in."""
        return self.community_roles

    def has_role(self, *roles: str) -> bool:
        """A district admin and a community's admins may do everything there; others need
        one of the roles named."""
        if "district-admin" in self.district_roles:
            return True
        held = self.community_roles
        return "admin" in held or bool(held.intersection(roles))

    @property
    def is_active(self) -> bool:
        return self.enabled

    def get_id(self) -> str | None:
        # Flask-Login keeps this in the cookie: the session's key, never the member's id,
        # so ending the server-side session ends the sign-in.
        return self.session_key


class Membership(db.Model):
    """A person's place in one community, with the roles they hold there."""

    __tablename__ = "staff_memberships"
    __table_args__ = (UniqueConstraint("member_id", "community_id", name="uq_staff_memberships_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    # Space-separated subset of ROLES.
    roles: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())


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
    # The community this browser works in: the console shows it alone (a switcher changes it).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"))
    user_agent: Mapped[str] = mapped_column(String(lengths.USER_AGENT), default="")

    member: Mapped[StaffMember] = relationship()


class SignInThrottle(db.Model):
    """Sign-in attempts charged to one username from one client address, in the window
    that began with the first of them; a good sign-in from that address deletes the row.
    No community_id: staff sign in to the platform before any community is chosen, and a
    username is the district's."""

    __tablename__ = "sign_in_throttles"

    username: Mapped[str] = mapped_column(String(lengths.USERNAME), primary_key=True)
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failed_at: Mapped[datetime | None]
