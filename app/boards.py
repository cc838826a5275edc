"""Board versions: a counter per board that kiosks poll to learn whether anything changed."""

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .communities.models import CommunityScoped
from .extensions import db


class BoardVersion(CommunityScoped, db.Model):
    """A counter per board, bumped by every change a kiosk shows: polls compare it."""

    __tablename__ = "board_versions"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    board: Mapped[str] = mapped_column(String(20), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


def bump_version(board: str) -> None:
    """Count one change to a board, in the caller's transaction (the caller commits)."""
    if not db.session.execute(
        update(BoardVersion).where(BoardVersion.board == board).values(version=BoardVersion.version + 1)
    ).rowcount:
        db.session.add(BoardVersion(board=board, version=1))


def board_version(board: str) -> int:
    return db.session.scalar(select(BoardVersion.version).where(BoardVersion.board == board)) or 0
