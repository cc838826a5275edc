from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db


class Household(CommunityScoped, db.Model):
    """A household that residents' phones act for. Its building and unit (for grids and
    one-per-household rules) are all it holds: no names, no numbers.

    Its card carries a code to type and a QR code of a one-time link; only their hashes are
    stored (services.py derives them again for a reprint). A new card replaces both;
    revoking the household makes its phones read-only.
    """

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_community", "community_id", "building", "unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building: Mapped[str] = mapped_column(String(lengths.BUILDING))
    unit: Mapped[str] = mapped_column(String(lengths.UNIT), default="")
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The card's QR link: used once (then cleared), to bind the phone that scanned it.
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Bumped by every new card: the code and link are derived from it (services.card).
    card_serial: Mapped[int] = mapped_column(default=0)
    # The printed batch the current card came in (None: issued one at a time at the desk).
    batch: Mapped[int | None]
    card_issued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class HouseholdPhone(CommunityScoped, db.Model):
    """A phone bound to a household: it holds a device token in a cookie, the table its hash."""

    __tablename__ = "household_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How it was bound: "link" (the card's QR code) or "code" (typed).
    bound_by: Mapped[str] = mapped_column(String(10))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
