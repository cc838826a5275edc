"""Cases: a resident's problem from intake to a checked-back close.

A case belongs to its community. What the district keeps once for every community (the
categories' defaults, the handling units, the calendar's working days) has no community;
a community's changes to a category are its own rows.
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db

# received: waiting for its handler to accept (签收), or for the dispatcher to route it;
# accepted: the handler took it, the clock runs; in_progress: being worked on; resolved: the
# handler says it is done, waiting for the resident's check back; closed: finished (see
# close_reason); returned: the handler sent it back to the dispatcher (退单); reopened: the
# resident said it is not fixed (or not satisfied), the handler works on it again.
STATES = ("received", "accepted", "in_progress", "resolved", "closed", "returned", "reopened")
OPEN_STATES = ("received", "accepted", "in_progress", "returned", "reopened")
# Where a case came in.
CHANNELS = ("kiosk", "phone", "walk_in", "phone_call", "visit", "patrol", "hotline")
STAFF_CHANNELS = ("walk_in", "phone_call", "visit", "patrol", "hotline")
# Who handles it, nearest first: the grid worker, the residents' committee (居委会) itself,
# the property company, a district department.
HANDLER_LEVELS = ("grid", "committee", "property", "department")
UNIT_KINDS = ("property", "department")
CLOSE_REASONS = ("fixed", "not_ours", "duplicate", "long_term")
SATISFACTION = ("satisfied", "basic", "unsatisfied")
# What a timeline step notes beside its text (a level and a unit's name, a date).
DETAIL = 80


class Grid(CommunityScoped, db.Model):
    """A grid (网格) of the neighbourhood, and the staff member who works it."""

    __tablename__ = "case_grids"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_case_grids_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(lengths.GRID_NAME))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    # The order staff give the grids; equal positions read by name.
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    worker = relationship("StaffMember", lazy="joined")


class Unit(db.Model):
    """A district department or a property company: it handles the cases routed to it,
    from any community. Its staff are accounts with ``unit_id`` set."""

    __tablename__ = "case_units"
    __table_args__ = (CheckConstraint(f"kind IN {UNIT_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(lengths.UNIT_NAME), unique=True)
    kind: Mapped[str] = mapped_column(String(12), default="department")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Category(db.Model):
    """A kind of problem, as the district sets it for every community (each may change it)."""

    __tablename__ = "case_categories"
    __table_args__ = (CheckConstraint(f"first_handler IN {HANDLER_LEVELS}", name="first_handler"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(lengths.CATEGORY_KEY), unique=True)
    name: Mapped[str] = mapped_column(String(lengths.CATEGORY_NAME))
    name_en: Mapped[str] = mapped_column(String(lengths.CATEGORY_NAME_EN), default="")
    # The tile's icon (templates/macros/icons.html).
    icon: Mapped[str] = mapped_column(String(20), default="problem")
    first_handler: Mapped[str] = mapped_column(String(12), default="grid")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("case_units.id", ondelete="SET NULL"))
    # The deadline from acceptance: working days, or hours for urgent categories.
    deadline_days: Mapped[int] = mapped_column(default=5)
    urgent_hours: Mapped[int | None]
    # Shown on the wall only if staff choose (e.g. neighbour disputes): private by default.
    private: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class CategoryOverride(CommunityScoped, db.Model):
    """A community's own rule for a district category: what is set here wins."""

    __tablename__ = "case_category_overrides"
    __table_args__ = (UniqueConstraint("community_id", "category_id", name="uq_case_category_overrides"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("case_categories.id", ondelete="CASCADE"))
    first_handler: Mapped[str | None] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("case_units.id", ondelete="SET NULL"))
    deadline_days: Mapped[int | None]
    urgent_hours: Mapped[int | None]
    private: Mapped[bool | None]
    active: Mapped[bool | None]


class CalendarDay(db.Model):
    """A day the calendar library does not know yet (the State Council publishes each year's
    holidays in November): a holiday on a weekday, or a make-up workday (调休) at a weekend.
    District-wide, without community_id: the national calendar is the same for every community."""

    __tablename__ = "case_calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(lengths.CALENDAR_NOTE), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(CommunityScoped, db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"state IN {STATES}", name="state"),
        CheckConstraint(f"channel IN {CHANNELS}", name="channel"),
        UniqueConstraint("community_id", "receipt_code", name="uq_cases_receipt_code"),
        Index("ix_cases_state", "community_id", "state", "created_at"),
        Index("ix_cases_due", "community_id", "state", "due_at"),
        Index("ix_cases_unit", "unit_id", "state"),
        Index("ix_cases_place", "community_id", "category_id", "grid_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What staff and units call it: random, so that no one can count or guess cases.
    number: Mapped[str] = mapped_column(String(10), unique=True)
    # What the resident keeps (the wall card of a public case has the same code).
    receipt_code: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(12))
    category_id: Mapped[int] = mapped_column(ForeignKey("case_categories.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("case_grids.id", ondelete="SET NULL"))
    place: Mapped[str] = mapped_column(String(lengths.LOCATION), default="")
    # As the resident said it: staff read it on request (audited); the public never does.
    text: Mapped[str] = mapped_column(Text)
    # With personal numbers masked: what staff lists show.
    masked_text: Mapped[str] = mapped_column(Text)
    # A number for a call-back, if the resident left one: shown on request, audited.
    contact: Mapped[str] = mapped_column(String(lengths.CONTACT), default="")
    reported_by: Mapped[str] = mapped_column(String(30))
    hotline_number: Mapped[str] = mapped_column(String(lengths.HOTLINE_NUMBER), default="")
    hotline_due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(12), default="received")
    # Where it is now: a level of HANDLER_LEVELS, and the unit for property and department.
    handler_level: Mapped[str | None] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("case_units.id", ondelete="SET NULL"))
    # Sent beyond the community (to a property company or a department) at any time.
    escalated: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    first_accepted_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    extension_until: Mapped[datetime | None]
    extension_reason: Mapped[str] = mapped_column(String(lengths.REASON), default="")
    extended: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None]
    # Resolved or closed after its due time (fixed when it is resolved).
    late: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(12))
    close_note: Mapped[str] = mapped_column(String(lengths.REASON), default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    reply: Mapped[str] = mapped_column(Text, default="")
    reopen_count: Mapped[int] = mapped_column(default=0)
    fixed: Mapped[bool | None]
    satisfaction: Mapped[str | None] = mapped_column(String(12))
    checked_back_at: Mapped[datetime | None]
    me_too: Mapped[int] = mapped_column(default=0)
    # The wall card that shows it publicly (a public category's case, once a moderator approves).
    post_id: Mapped[int | None] = mapped_column(ForeignKey("wall_posts.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")
    grid: Mapped[Grid | None] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CaseEvent(CommunityScoped, db.Model):
    """One dated step of a case: who did what. Public steps make the resident's timeline;
    internal notes never leave the console."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "community_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    # The staff member, or None for a resident (at a kiosk or phone) or the system.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(12))
    public: Mapped[bool] = mapped_column(default=True)
    # What the step says: the public reply, the reason, the note.
    text: Mapped[str] = mapped_column(Text, default="")
    # For public steps: the handler level or new due date, shown with the step.
    detail: Mapped[str] = mapped_column(String(DETAIL), default="")

    staff = relationship("StaffMember", lazy="joined")


class CaseSupport(CommunityScoped, db.Model):
    """A resident's "me too" on an open case: once per kiosk or phone."""

    __tablename__ = "case_supports"
    __table_args__ = (UniqueConstraint("case_id", "supporter", name="uq_case_supports"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    supporter: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
