from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db

URGENCIES = ("normal", "urgent")


class Notice(CommunityScoped, db.Model):
    """A notice from the committee, written in Chinese with an optional English version."""

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint("urgency IN ('normal', 'urgent')", name="urgency"),
        Index("ix_notices_window", "community_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(lengths.NOTICE_TITLE))
    body: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str | None] = mapped_column(String(lengths.NOTICE_TITLE_EN))
    body_en: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Changes with every edit: kiosks' urgent-notice polls compare it (see services.urgent_version).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The staff member who wrote it last; None for notices loaded by `flask init`.
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
