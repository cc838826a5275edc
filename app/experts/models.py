from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db

CATEGORIES = ("calligraphy", "literature", "photography", "music", "dance", "law", "crafts", "repairs", "health",
              "other")
# listed: on the kiosk; hidden: off the kiosk at the expert's request or staff's decision.
EXPERT_STATES = ("listed", "hidden")
NEEDS = ("learn", "question", "home", "event", "other")
# new: waiting for staff; assigned: staff chose the expert to ask; contacted: staff reached
# the expert and the resident; done: help given; declined: could not be arranged.
REQUEST_STATES = ("new", "assigned", "contacted", "done", "declined")
OPEN_REQUEST_STATES = ("new", "assigned", "contacted")

expert_skills = Table(
    "directory_expert_skills", db.metadata,
    Column("expert_id", ForeignKey("directory_experts.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("directory_skills.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Skill(CommunityScoped, db.Model):
    """A skill residents can search for (书法, 摄影…); shared by the experts who have it."""

    __tablename__ = "directory_skills"
    __table_args__ = (
        CheckConstraint(f"category IN {CATEGORIES}", name="category"),
        UniqueConstraint("community_id", "name", name="uq_directory_skills_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(lengths.SKILL_NAME))
    name_en: Mapped[str] = mapped_column(String(lengths.SKILL_NAME_EN), default="")
    category: Mapped[str] = mapped_column(String(12))
    # Pinyin readings of the name (JSON), worked out when the skill is saved.
    readings: Mapped[str] = mapped_column(Text, default="[]")


class Expert(CommunityScoped, db.Model):
    __tablename__ = "directory_experts"
    __table_args__ = (
        CheckConstraint(f"state IN {EXPERT_STATES}", name="state"),
        Index("ix_directory_experts_listed", "community_id", "state", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Private: staff only (every view audited). The kiosk shows display_name.
    name: Mapped[str] = mapped_column(String(lengths.NAME))
    mobile: Mapped[str] = mapped_column(String(11))
    # What the public screen shows, as the expert agreed (e.g. 张老师, 王*兰).
    display_name: Mapped[str] = mapped_column(String(lengths.DISPLAY_NAME))
    intro: Mapped[str] = mapped_column(Text, default="")
    intro_en: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[str] = mapped_column(String(lengths.AVAILABILITY), default="")
    availability_en: Mapped[str] = mapped_column(String(lengths.AVAILABILITY_EN), default="")
    # Consent to be listed: when it was given and what may be shown.
    consent_on: Mapped[date]
    consent_scope: Mapped[str] = mapped_column(String(lengths.CONSENT_SCOPE))
    state: Mapped[str] = mapped_column(String(8), default="listed")
    weekly_cap: Mapped[int] = mapped_column(default=3)
    # Pinyin readings of the display name (JSON) and the list order they give, worked out
    # when the expert is saved.
    readings: Mapped[str] = mapped_column(Text, default="[]")
    sort_key: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    skills: Mapped[list[Skill]] = relationship(secondary=expert_skills, order_by=Skill.id)


class SearchKey(CommunityScoped, db.Model):
    """Every string of pad taps that finds a listed expert: initials and (partial) pinyin of
    the display name and of each skill, every reading of a surname with several. Computed
    when an expert or skill is saved (app/experts/pinyin.py); a tap reads one index range
    in list order and stops after a page, however many experts there are."""

    __tablename__ = "directory_search_keys"
    __table_args__ = (
        UniqueConstraint("key", "expert_id", name="uq_directory_search_keys"),
        Index("ix_directory_search_keys_order", "community_id", "key", "sort_key", "expert_id"),
        Index("ix_directory_search_keys_expert", "expert_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(lengths.SEARCH))
    sort_key: Mapped[str] = mapped_column(String(80))
    expert_id: Mapped[int] = mapped_column(ForeignKey("directory_experts.id", ondelete="CASCADE"))


class HelpRequest(CommunityScoped, db.Model):
    __tablename__ = "directory_requests"
    __table_args__ = (
        CheckConstraint(f"state IN {REQUEST_STATES}", name="state"),
        UniqueConstraint("community_id", "code", name="uq_directory_requests_code"),
        Index("ix_directory_requests_state", "community_id", "state", "id"),
        Index("ix_directory_requests_expert_week", "expert_id", "week_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("directory_experts.id", ondelete="SET NULL"))
    # The Monday of the week the request counts against the expert's weekly cap.
    week_of: Mapped[date]
    needs: Mapped[str] = mapped_column(String(60))  # space-separated NEEDS
    text: Mapped[str] = mapped_column(String(lengths.TEXT), default="")
    # Private: deleted when the request is closed for RETENTION days.
    name: Mapped[str | None] = mapped_column(String(lengths.NAME))
    mobile: Mapped[str | None] = mapped_column(String(11))
    state: Mapped[str] = mapped_column(String(10), default="new")
    staff_note: Mapped[str] = mapped_column(String(lengths.NOTE), default="")
    created_by: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]


class ExpertWeek(CommunityScoped, db.Model):
    """Requests counted against an expert's weekly cap: taken by a conditional UPDATE, as
    class seats are, so two kiosks cannot both get the last one."""

    __tablename__ = "directory_expert_weeks"

    expert_id: Mapped[int] = mapped_column(ForeignKey("directory_experts.id", ondelete="CASCADE"), primary_key=True)
    week_of: Mapped[date] = mapped_column(primary_key=True)
    taken: Mapped[int] = mapped_column(default=0)
