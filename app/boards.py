"""Board versions: a counter per board that kiosks poll to learn whether anything changed."""

from sqlalchemy import ColumnElement, ForeignKey, String, func, select, update
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


def board_version_of(board: str):
    """`board_version(board)` as a scalar subquery of a community's id: what app/polls.py
    compares an unchanged poll with, before Flask."""

    def version(community_id) -> ColumnElement:
        return func.coalesce(select(BoardVersion.version).where(
            BoardVersion.community_id == community_id, BoardVersion.board == board).scalar_subquery(), 0)

    return version
