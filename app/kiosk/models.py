from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db


class Kiosk(CommunityScoped, db.Model):
    """An enrolled screen. Its browser holds a device token; the table holds only the hash."""

    __tablename__ = "kiosks"
    __table_args__ = (Index("ix_kiosks_community", "community_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(lengths.KIOSK_NAME))
    # Unset until the kiosk's browser picks its token up, and again once revoked.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    last_page: Mapped[str | None] = mapped_column(String(lengths.PAGE_PATH))


class KioskPairing(db.Model):
    """A pairing code shown by a browser that is not yet a kiosk.

    The browser holds a claim cookie whose hash is stored here; staff who type the code
    attach a Kiosk to the pairing, and the browser collects its device token on the next poll.
    No community_id: the browser belongs to none until staff enroll it, and the Kiosk they
    attach carries its community.
    """

    __tablename__ = "kiosk_pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    claim_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id", ondelete="CASCADE"))


class Handoff(CommunityScoped, db.Model):
    """A form a resident began at a kiosk and carries on on their phone.

    The kiosk shows a QR code of a link holding a random token (only its hash is stored);
    the first phone to open the link gets the form with what was typed, once. What the
    phone sends counts against the kiosk that made the link.
    """

    __tablename__ = "kiosk_handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id", ondelete="CASCADE"), index=True)
    form: Mapped[str] = mapped_column(String(30))
    path: Mapped[str] = mapped_column(String(200))
    # What was typed, as JSON: only the form's own fields, never its CSRF token.
    fields: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class KioskDay(CommunityScoped, db.Model):
    """How long a kiosk was online on one of the site's days: the time between its
    heartbeats, added up while it stayed online (the monthly summary's uptime)."""

    __tablename__ = "kiosk_days"
    __table_args__ = (UniqueConstraint("kiosk_id", "day", name="uq_kiosk_days"),
                      Index("ix_kiosk_days_community", "community_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id", ondelete="CASCADE"))
    day: Mapped[date]
    online_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
