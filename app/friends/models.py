from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db

GENDERS = ("female", "male")
# Adults only: the youngest band starts at 18.
AGE_BANDS = ("18-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64", "65-69", "70+")
LOOKING_FOR = ("friends", "partner", "companion")
INTERESTS = ("reading", "music", "dance", "sports", "walking", "travel", "cooking", "chess", "calligraphy",
             "photography", "films", "gardening", "pets", "volunteering")
# pending: waiting for the matchmaker; approved: on the kiosk until expires_at; rejected:
# refused with a reason (kept for the resident to read with the code); expired: off the
# kiosk, personal data deleted after the grace period. Withdrawn cards are deleted at once.
CARD_STATES = ("pending", "approved", "rejected", "expired")
# new: waiting for the matchmaker; asked: the matchmaker asked the card's owner; agreed:
# both sides agreed (contacts visible to the matchmaker); declined: either side said no.
INTEREST_STATES = ("new", "asked", "agreed", "declined")


class Card(CommunityScoped, db.Model):
    """A resident's friend-finding card. The public part shows on the kiosk once approved;
    the private part (real name, mobile) is seen by the matchmaker only, and only once
    both sides of an introduction agreed (every view audited)."""

    __tablename__ = "friends_cards"
    __table_args__ = (
        CheckConstraint(f"gender IN {GENDERS}", name="gender"),
        CheckConstraint(f"age_band IN {AGE_BANDS}", name="age_band"),
        CheckConstraint(f"looking_for IN {LOOKING_FOR}", name="looking_for"),
        CheckConstraint(f"state IN {CARD_STATES}", name="state"),
        UniqueConstraint("community_id", "number", name="uq_friends_cards_number"),
        UniqueConstraint("community_id", "code", name="uq_friends_cards_code"),
        Index("ix_friends_cards_public", "community_id", "state", "expires_at", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the kiosk shows: No. 0127. Never reused.
    number: Mapped[int] = mapped_column()
    gender: Mapped[str] = mapped_column(String(6))
    age_band: Mapped[str] = mapped_column(String(5))
    area: Mapped[str] = mapped_column(String(lengths.CARD_AREA))
    interests: Mapped[str] = mapped_column(String(200))  # space-separated INTERESTS
    looking_for: Mapped[str] = mapped_column(String(10))
    intro: Mapped[str] = mapped_column(String(lengths.CARD_INTRO), default="")
    # Private.
    real_name: Mapped[str] = mapped_column(String(lengths.NAME))
    mobile: Mapped[str] = mapped_column(String(11))
    code: Mapped[str] = mapped_column(String(8))
    consent_public_at: Mapped[datetime]
    consent_matchmaker_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8), default="pending")
    reject_reason: Mapped[str] = mapped_column(String(lengths.REASON), default="")
    created_by: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class Interest(CommunityScoped, db.Model):
    """ "I'd like to meet No. 0127": goes to the matchmaker, never to the card's owner."""

    __tablename__ = "friends_interests"
    __table_args__ = (
        CheckConstraint(f"state IN {INTEREST_STATES}", name="state"),
        Index("ix_friends_interests_state", "community_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("friends_cards.id", ondelete="CASCADE"), index=True)
    # Who asked: their own card, or a name and mobile (private).
    from_card_id: Mapped[int | None] = mapped_column(ForeignKey("friends_cards.id", ondelete="CASCADE"), index=True)
    from_name: Mapped[str | None] = mapped_column(String(lengths.NAME))
    from_mobile: Mapped[str | None] = mapped_column(String(11))
    state: Mapped[str] = mapped_column(String(8), default="new")
    requester_agreed: Mapped[bool] = mapped_column(default=True)  # asking is agreeing
    owner_agreed: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(lengths.NOTE), default="")
    created_by: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Tally(CommunityScoped, db.Model):
    """Anonymous counts that outlive deleted cards (cards withdrawn, expired, introductions)."""

    __tablename__ = "friends_tallies"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
