from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import lengths
from ..clock import utcnow
from ..communities.models import CommunityScoped
from ..extensions import db

KINDS = ("wish", "greeting", "thanks", "suggestion", "problem")
# What a resident chooses on the wall's form: a problem is reported as a case (app/cases),
# whose card the wall shows when its category is public.
RESIDENT_KINDS = ("wish", "greeting", "thanks", "suggestion")
# pending: waiting for review; held: an automatic check stopped it; approved: on the wall;
# rejected: refused by a moderator; hidden: taken down by a moderator (restorable).
STATES = ("pending", "held", "approved", "rejected", "hidden")
WORD_ACTIONS = ("block", "hold", "flag")
REPORT_REASONS = ("offensive", "personal", "spam", "other")


class Post(CommunityScoped, db.Model):
    __tablename__ = "wall_posts"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint(f"state IN {STATES}", name="state"),
        # The kiosk's list: approved, not hidden by reports, pinned first, newest first.
        Index("ix_wall_posts_public", "community_id", "state", "reports_hidden", "pinned", "id"),
        Index("ix_wall_posts_public_kind", "community_id", "kind", "state", "reports_hidden", "pinned", "id"),
        Index("ix_wall_posts_duplicate", "community_id", "text_key", "created_at"),
        UniqueConstraint("community_id", "receipt_code", name="uq_wall_posts_receipt_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    # As written; shown only to moderators, with numbers masked.
    text: Mapped[str] = mapped_column(Text)
    # What the wall shows: the text with personal numbers masked, adjustable by moderators.
    public_text: Mapped[str] = mapped_column(Text)
    # Normalised text, to refuse the same message twice within minutes.
    text_key: Mapped[str] = mapped_column(String(64))
    nickname: Mapped[str] = mapped_column(String(lengths.NICKNAME), default="")
    location: Mapped[str] = mapped_column(String(lengths.LOCATION), default="")
    state: Mapped[str] = mapped_column(String(10), default="pending")
    # Why the automatic checks held or flagged it: "mobile id-number word:…".
    check_reasons: Mapped[str] = mapped_column(String(lengths.CHECK_REASONS), default="")
    # Published at once (kinds set to publish first): still to be reviewed.
    needs_review: Mapped[bool] = mapped_column(default=True)
    pinned: Mapped[bool] = mapped_column(default=False)
    reports_hidden: Mapped[bool] = mapped_column(default=False)
    report_count: Mapped[int] = mapped_column(default=0)
    receipt_code: Mapped[str] = mapped_column(String(8))
    posted_by: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    reject_reason: Mapped[str] = mapped_column(String(lengths.REASON), default="")


class PostReport(CommunityScoped, db.Model):
    __tablename__ = "wall_reports"
    # One report per post per kiosk, phone or staff member: three reporters hide a post.
    __table_args__ = (UniqueConstraint("post_id", "reporter", name="uq_wall_reports_post_reporter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("wall_posts.id", ondelete="CASCADE"))
    reporter: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchedWord(CommunityScoped, db.Model):
    __tablename__ = "wall_watched_words"
    __table_args__ = (UniqueConstraint("community_id", "key", name="uq_wall_watched_words_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(lengths.WORD))
    # Compared form (simplified, no spaces or punctuation): unique, so a word is listed once.
    key: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KindSetting(CommunityScoped, db.Model):
    """Per kind: review before publishing (the default) or publish at once, review after."""

    __tablename__ = "wall_kind_settings"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    publish_first: Mapped[bool] = mapped_column(default=False)
