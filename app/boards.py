"""Board versions: a counter per board that kiosks poll, and kept pages are keyed by, to
learn whether anything changed."""

from sqlalchemy import (ColumnElement, ForeignKey, String, bindparam, event, exists, func, insert, literal, select,
                        update)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .communities import scope
from .communities.models import Community, CommunityScoped
from .extensions import db


class BoardVersion(CommunityScoped, db.Model):
    """A counter per board, bumped by every change a kiosk shows: polls compare it."""

    __tablename__ = "board_versions"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    board: Mapped[str] = mapped_column(String(20), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


def bump_version(board: str) -> None:
    """Count one change to a board of the scope's community, in the caller's transaction
    (the caller commits)."""
    _bump_in(db.session, board, scope.current_community_id())


_VERSION = select(BoardVersion.version).where(BoardVersion.board == bindparam("board"))


def board_version(board: str) -> int:
    return db.session.scalar(_VERSION, {"board": board}) or 0


def board_version_of(board: str):
    """`board_version(board)` as a scalar subquery of a community's id: what app/polls.py
    compares an unchanged poll with, before Flask."""

    def version(community_id, **_view_args) -> ColumnElement:
        return func.coalesce(select(BoardVersion.version).where(
            BoardVersion.community_id == community_id, BoardVersion.board == board).scalar_subquery(), 0)

    return version


# --- boards whose version follows their tables ---------------------------------------------------
#
# The wall bumps its version where it changes a post. Other boards name the tables they show
# (`follows`): any write to one of them, through the session, counts as a change to the
# board, for the written row's community, when the transaction commits: rows added, changed
# or deleted at a flush, and UPDATE/DELETE/INSERT statements (for the scope's community, or
# for every community inside `scope.across`). A write is never forgotten; a write that shows
# nothing only costs a kept page its next render.

_FOLLOWED: dict[str, set[str]] = {}  # table name → the boards that show its rows
_PENDING = "linli_board_changes"
EVERY_COMMUNITY = None


def follows(board: str, *tables: str) -> None:
    """Board `board` shows rows of these tables: writing to any of them bumps its version."""
    for table in tables:
        _FOLLOWED.setdefault(table, set()).add(board)


def followed(table: str) -> bool:
    """Whether a board shows this table's rows (writes to it bump the board's version)."""
    return table in _FOLLOWED


def _note(session, table: str, community_id) -> None:
    for board in _FOLLOWED.get(table, ()):
        session.info.setdefault(_PENDING, set()).add((board, community_id))


@event.listens_for(Session, "after_flush")
def _rows_written(session, _context) -> None:
    if not _FOLLOWED:
        return
    for instances, changed in ((session.new, False), (session.deleted, False), (session.dirty, True)):
        for instance in instances:
            table = getattr(instance, "__tablename__", None)
            if table in _FOLLOWED and (not changed or session.is_modified(instance)):
                _note(session, table, getattr(instance, "community_id", EVERY_COMMUNITY))


@event.listens_for(Session, "do_orm_execute")
def _statement_writes(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is None or table.name not in _FOLLOWED:
        return
    current = scope.current_scope()
    _note(state.session, table.name, current.community_id if current is not None else EVERY_COMMUNITY)


@event.listens_for(Session, "before_commit")
def _bump_followed(session) -> None:
    if _FOLLOWED and (session.new or session.deleted or session.dirty):
        session.flush()  # what is still to be written is noted too
    if not session.info.get(_PENDING):
        return
    current = scope.current_scope()
    here = current.community_id if current is not None and current.across is None else EVERY_COMMUNITY
    for board, community_id in sorted(session.info.pop(_PENDING, ()), key=lambda item: (item[0], item[1] or 0)):
        if community_id is not EVERY_COMMUNITY and community_id == here:
            _bump_in(session, board, community_id)
            continue
        with scope.across("a board's version follows writes to its tables, in the row's community"):
            _bump_in(session, board, community_id)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session) -> None:
    session.info.pop(_PENDING, None)


def _bump_in(session, board: str, community_id) -> None:
    """One more on the board's counter of a community (or of every community), which starts
    at 1 where the community has none yet."""
    where = [BoardVersion.board == board]
    if community_id is not EVERY_COMMUNITY:
        where.append(BoardVersion.community_id == community_id)
    bumped = session.execute(update(BoardVersion).where(*where).values(version=BoardVersion.version + 1)).rowcount
    if bumped and community_id is not EVERY_COMMUNITY:
        return
    missing = select(Community.id, literal(board), literal(1)).where(~exists().where(
        BoardVersion.community_id == Community.id, BoardVersion.board == board))
    if community_id is not EVERY_COMMUNITY:
        missing = missing.where(Community.id == community_id)
    session.execute(insert(BoardVersion).from_select(["community_id", "board", "version"], missing))
