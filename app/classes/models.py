from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, and_, false, true
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db

CATEGORIES = ("calligraphy", "music", "reading", "family", "law", "fitness", "children", "elderly", "other")
# draft: being prepared; open: taking sign-ups (or lottery entries); full: every seat taken,
# the waitlist still open; running: the term has begun; finished: the term is over;
# dropped: cancelled by staff (e.g. poorly rated), kept for the record.
STATUSES = ("draft", "open", "full", "running", "finished", "dropped")
MODES = ("first_come", "lottery")
# entered: in a lottery not yet drawn; confirmed: has a seat; waitlisted: in line for one;
# cancelled: withdrawn by the resident or staff.
SIGNUP_STATES = ("entered", "confirmed", "waitlisted", "cancelled")
# Where a sign-up was made; every source has the same standing.
SOURCES = ("kiosk", "phone", "assisted")
SURVEY_STATES = ("draft", "published", "closed")


class Course(CommunityScoped, db.Model):
    __tablename__ = "class_courses"
    __table_args__ = (
        CheckConstraint(f"category IN {CATEGORIES}", name="category"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"mode IN {MODES}", name="mode"),
        # The seat rule itself: no update can take more seats than there are.
        CheckConstraint("taken >= 0 AND taken <= capacity", name="seats"),
        Index("ix_class_courses_listed", "community_id", "term_ends", "status", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(lengths.COURSE_TITLE))
    title_en: Mapped[str] = mapped_column(String(lengths.COURSE_TITLE_EN), default="")
    category: Mapped[str] = mapped_column(String(12))
    teacher: Mapped[str] = mapped_column(String(lengths.TEACHER))
    # The expert from the directory who teaches it, if any (their card lists the course).
    teacher_expert_id: Mapped[int | None] = mapped_column(ForeignKey("directory_experts.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(lengths.VENUE))
    venue_en: Mapped[str] = mapped_column(String(lengths.VENUE_EN), default="")
    eligibility: Mapped[str] = mapped_column(String(lengths.ELIGIBILITY), default="")
    eligibility_en: Mapped[str] = mapped_column(String(lengths.ELIGIBILITY_EN), default="")
    capacity: Mapped[int]
    term_starts: Mapped[date]
    term_ends: Mapped[date]
    signup_opens_at: Mapped[datetime]
    signup_closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="draft")
    mode: Mapped[str] = mapped_column(String(10), default="first_come")
    # One sign-up (or lottery entry) per household from residents' bound phones.
    one_per_household: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Confirmed seats; changed only by conditional UPDATEs (see services/signups.py).
    taken: Mapped[int] = mapped_column(default=0)
    # Every sign-up or entry gets the next number: the order people arrived in.
    arrivals: Mapped[int] = mapped_column(default=0)
    # Bumped by every change the kiosk shows: the live seat count answers 204 otherwise.
    revision: Mapped[int] = mapped_column(default=0)
    # The lottery's seed: chosen when the course is created, its SHA-256 shown while entries
    # are open, the seed itself published with the result, so anyone can check the order.
    draw_seed: Mapped[str | None] = mapped_column(String(64))
    drawn_at: Mapped[datetime | None]
    drop_reason: Mapped[str] = mapped_column(String(lengths.REASON), default="")
    # When sign-ups' names and numbers were deleted (counts stay).
    purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    meetings: Mapped[list["Meeting"]] = relationship(
        order_by="Meeting.starts_at", cascade="all, delete-orphan", passive_deletes=True)

    @hybrid_property
    def lottery_pending(self) -> bool:
        """A lottery not drawn yet: people enter the draw instead of taking seats in turn."""
        return self.mode == "lottery" and self.drawn_at is None

    @lottery_pending.inplace.expression
    @classmethod
    def _lottery_pending_expression(cls):
        return and_(cls.mode == "lottery", cls.drawn_at.is_(None))

    @hybrid_property
    def awaiting_draw(self) -> bool:
        """A published lottery not drawn yet: the draw can be made (early, by staff)."""
        return self.lottery_pending and self.status == "open"

    @awaiting_draw.inplace.expression
    @classmethod
    def _awaiting_draw_expression(cls):
        return and_(cls.lottery_pending, cls.status == "open")

    def signup_offer(self, phase: str) -> str:
        """What signing up gives in this phase (see services.phase): an "entry" to a draw
        not made yet, a place on the "waitlist" when every seat is taken, or a "seat"."""
        if self.lottery_pending:
            return "entry"
        return "waitlist" if phase == "full" else "seat"


class Meeting(CommunityScoped, db.Model):
    """One meeting of a course; weekly times are expanded into these when saved."""

    # The table keeps its first name (class_sessions), as does Attendance.session_id.
    __tablename__ = "class_sessions"
    __table_args__ = (Index("ix_class_sessions_starts", "community_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("class_courses.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(default=90)


class Signup(CommunityScoped, db.Model):
    __tablename__ = "class_signups"
    __table_args__ = (
        CheckConstraint(f"state IN {SIGNUP_STATES}", name="state"),
        CheckConstraint(f"source IN {SOURCES}", name="source"),
        # One sign-up per number per course, however many requests race.
        UniqueConstraint("course_id", "mobile", name="uq_class_signups_course_mobile"),
        UniqueConstraint("course_id", "entry_ref", name="uq_class_signups_course_entry_ref"),
        # A one-per-household course: the household acting ("household:12") while the
        # sign-up is active, so two phones of one household at once cannot both get in.
        UniqueConstraint("course_id", "household_once", name="uq_class_signups_course_household"),
        UniqueConstraint("community_id", "code", name="uq_class_signups_code"),
        Index("ix_class_signups_queue", "course_id", "state", "queue_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("class_courses.id", ondelete="CASCADE"))
    # Personal data: deleted (set to NULL) a set number of days after the term ends.
    name: Mapped[str | None] = mapped_column(String(lengths.NAME))
    mobile: Mapped[str | None] = mapped_column(String(11))
    mobile_tail: Mapped[str | None] = mapped_column(String(4))
    # What public screens show instead of the name (张*明).
    masked_name: Mapped[str] = mapped_column(String(lengths.NAME))
    code: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), default="kiosk")
    # The arrival number (course.arrivals) for first-come; the drawn rank after a lottery;
    # staff moves swap these. The waitlist is ordered by it.
    queue_key: Mapped[int]
    arrival: Mapped[int]
    # A public random reference for a lottery entry (the code stays private): the draw
    # sorts entries by SHA-256 of "<seed>:<entry_ref>".
    entry_ref: Mapped[str | None] = mapped_column(String(8))
    # Place in the lottery's drawn order (1 = drawn first); None outside a draw.
    drawn_rank: Mapped[int | None]
    created_by: Mapped[str] = mapped_column(String(30))
    household_once: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class Attendance(CommunityScoped, db.Model):
    __tablename__ = "class_attendance"
    __table_args__ = (UniqueConstraint("session_id", "signup_id", name="uq_class_attendance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Meeting attended (the column keeps the table's first name).
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    signup_id: Mapped[int] = mapped_column(ForeignKey("class_signups.id", ondelete="CASCADE"), index=True)
    # Present, or marked absent; no row at all is not marked yet.
    present: Mapped[bool] = mapped_column(default=True, server_default=true())
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(CommunityScoped, db.Model):
    __tablename__ = "class_ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        UniqueConstraint("signup_id", name="uq_class_ratings_signup"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("class_courses.id", ondelete="CASCADE"), index=True)
    # Kept when personal data is deleted: the rating stays, anonymous.
    signup_id: Mapped[int | None] = mapped_column(ForeignKey("class_signups.id", ondelete="SET NULL"))
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(String(lengths.COMMENT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Survey(CommunityScoped, db.Model):
    """A needs survey: one multiple-choice question residents answer at the kiosk."""

    __tablename__ = "class_surveys"
    __table_args__ = (
        CheckConstraint(f"state IN {SURVEY_STATES}", name="state"),
        Index("ix_class_surveys_community", "community_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(lengths.SURVEY_QUESTION))
    question_en: Mapped[str] = mapped_column(String(lengths.SURVEY_QUESTION_EN), default="")
    state: Mapped[str] = mapped_column(String(10), default="draft")
    responses: Mapped[int] = mapped_column(default=0)
    # One answer per household from residents' bound phones (SurveyHousehold holds who answered).
    one_per_household: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    options: Mapped[list["SurveyOption"]] = relationship(
        order_by="SurveyOption.position", cascade="all, delete-orphan", passive_deletes=True)


class SurveyOption(CommunityScoped, db.Model):
    __tablename__ = "class_survey_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("class_surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(lengths.SURVEY_OPTION))
    label_en: Mapped[str] = mapped_column(String(lengths.SURVEY_OPTION_EN), default="")
    votes: Mapped[int] = mapped_column(default=0)


class SurveyHousehold(CommunityScoped, db.Model):
    """That a household answered a one-per-household survey; never what it answered."""

    __tablename__ = "class_survey_households"
    __table_args__ = (UniqueConstraint("survey_id", "household_id", name="uq_class_survey_households"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("class_surveys.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
