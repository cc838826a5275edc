"""The message wall: posting with automatic checks, the public list, reports, receipts,
and every moderator action (each audited, each bumping the wall's version when the
kiosks' view changes)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, lengths
from ..errors import Refused
from ..clock import utcnow
from ..extensions import db
from ..boards import board_version, bump_version
from ..i18n import lazy_gettext as _l
from ..transitions import allowed, apply, transition
from ..people import mask_numbers_in_text
from . import checks
from .models import KINDS, REPORT_REASONS, STATES, WORD_ACTIONS, KindSetting, Post, PostReport, WatchedWord

BOARD = "wall"
PAGE_SIZE = 20
DUPLICATE_WINDOW = timedelta(minutes=5)
REPORTS_TO_HIDE = 3
# A number split over several posts: the same device's last few posts are read with each new one.
RECENT_POSTS = 3
RECENT_WINDOW = timedelta(minutes=30)


class WallError(Refused):
    """A post or action was refused; the message is shown to the person who tried."""

    default_field = "text"


@dataclass(frozen=True)
class Receipt:
    code: str
    state: str
    kind: str
    post_id: int


# --- posting ------------------------------------------------------------------------------

def _watched() -> list[tuple[str, str]]:
    return [(key, action) for key, action in db.session.execute(select(WatchedWord.key, WatchedWord.action))]


def _publish_first(kind: str) -> bool:
    setting = db.session.scalar(select(KindSetting).where(KindSetting.kind == kind))
    return bool(setting and setting.publish_first)


def _new_receipt_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def _recent_posts(posted_by: str) -> list[str]:
    """What the device's last few posts show, oldest first, field by field."""
    rows = db.session.execute(
        select(Post.public_text, Post.nickname, Post.location)
        .where(Post.posted_by == posted_by, Post.created_at > utcnow() - RECENT_WINDOW)
        .order_by(Post.id.desc()).limit(RECENT_POSTS)
    ).all()
    return [part for row in reversed(rows) for part in row]


def create_post(kind: str, text: str, *, nickname: str = "", location: str = "", posted_by: str,
                receipt_code: str | None = None) -> Receipt:
    """Check and store a post; it goes up at once only where its kind publishes first. A
    problem's card (app/cases) brings its case's receipt code, kept unless another post has it."""
    text = (text or "").strip()
    nickname = " ".join((nickname or "").split())
    location = " ".join((location or "").split()) if kind == "problem" else ""
    if kind not in KINDS:
        raise WallError(_l("Please choose what kind of message this is."), "kind")
    if not text:
        raise WallError(_l("Please write your message."))
    if len(text) > lengths.TEXT:
        raise WallError(_l("A message has at most %(n)d characters.", n=lengths.TEXT))
    if len(nickname) > lengths.NICKNAME:
        raise WallError(_l("A nickname has at most %(n)d characters.", n=lengths.NICKNAME), "nickname")
    if len(location) > lengths.LOCATION:
        raise WallError(_l("A place has at most %(n)d characters.", n=lengths.LOCATION), "location")

    # Checked as the card shows them: a number split between text, nickname and place is one.
    fields = [text, nickname, location]
    result = checks.check(checks.together(fields), _watched())
    if result.blocked_by:
        raise WallError(_l("This message cannot go on the wall. Please say it in other words, "
                           "or talk to a member of staff."))
    reasons = result.reasons
    # A number completed by what the same device posted just before is held too.
    split = checks.numbers_across(_recent_posts(posted_by), fields)
    if split:
        reasons.append("split-number")
        result.hold = True
    public_text, nickname, location = checks.masked_parts(fields, checks.with_split(result.findings, split))
    text_key = hashlib.sha256(checks.word_key(text).encode()).hexdigest()
    now = utcnow()
    duplicate = db.session.scalar(
        select(Post.id).where(Post.text_key == text_key, Post.created_at > now - DUPLICATE_WINDOW).limit(1)
    )
    if duplicate:
        raise WallError(_l("The same message was just posted. It needs to be sent only once."))

    publish = not result.hold and _publish_first(kind)
    post = Post(
        kind=kind, text=text, public_text=public_text, text_key=text_key,
        nickname=nickname, location=location,
        state="held" if result.hold else "approved" if publish else "pending",
        check_reasons=" ".join(reasons)[:lengths.CHECK_REASONS],
        needs_review=True, posted_by=posted_by, created_at=now,
        published_at=now if publish else None,
    )
    for draw in range(5):
        post.receipt_code = receipt_code if receipt_code and draw == 0 else _new_receipt_code()
        db.session.add(post)
        try:
            db.session.flush()
            break
        except IntegrityError:  # that receipt code is taken: draw another
            db.session.rollback()
    else:
        raise RuntimeError("no free receipt code after 5 draws")
    audit.record("wall", "post-created", post, {"kind": kind, "state": post.state, "checks": post.check_reasons})
    if publish:
        bump_version(BOARD)
    db.session.commit()
    return Receipt(post.receipt_code, post.state, post.kind, post.id)


# --- the public wall ---------------------------------------------------------------------

def on_the_wall():
    """What the public wall shows: approved, and not hidden by residents' reports."""
    return and_(Post.state == "approved", Post.reports_hidden.is_(False))


@cache
def _wall_page(kind: bool, paging: bool):
    """The wall's page query for each shape, built once: the kind, the post to page on from
    and the size are bound values."""
    query = select(Post).where(on_the_wall())
    if kind:
        query = query.where(Post.kind == bindparam("kind"))
    if paging:
        query = query.where(Post.pinned.is_(False), Post.id < bindparam("before"))
    return query.order_by(Post.pinned.desc(), Post.id.desc()).limit(bindparam("size"))


def wall_page(kind: str | None = None, before: int | None = None, size: int = PAGE_SIZE) -> list[Post]:
    """Approved posts, pinned first, then newest; ``before`` pages on by id (unpinned only)."""
    values = {"size": size} | ({"kind": kind} if kind in KINDS else {}) | ({"before": before} if before else {})
    return list(db.session.scalars(_wall_page("kind" in values, "before" in values), values))


def version() -> int:
    return board_version(BOARD)


def public_post(post_id: int) -> Post | None:
    return db.session.scalar(select(Post).where(Post.id == post_id, on_the_wall()))


def receipt(code: str) -> Post | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 8:
        return None
    return db.session.scalar(select(Post).where(Post.receipt_code == code))


def report(post_id: int, reason: str, reporter: str) -> bool:
    """Record a report; the third reporter hides the post until a moderator looks. False if
    this reporter had reported it already."""
    if reason not in REPORT_REASONS:
        raise WallError(_l("Please choose a reason."), "reason")
    # Lock the post (PostgreSQL; SQLite has one writer anyway): two reports arriving
    # together are counted one after the other, so the third always hides it.
    post = db.session.scalar(select(Post).where(Post.id == post_id, on_the_wall()).with_for_update())
    if post is None:
        raise WallError(_l("That message is no longer on the wall."))
    db.session.add(PostReport(post_id=post.id, reporter=reporter, reason=reason))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    reporters = db.session.scalar(select(func.count()).select_from(PostReport).where(PostReport.post_id == post.id))
    db.session.execute(update(Post).where(Post.id == post.id).values(report_count=reporters))
    if reporters >= REPORTS_TO_HIDE:
        hidden = db.session.execute(
            update(Post).where(Post.id == post.id, Post.reports_hidden.is_(False)).values(reports_hidden=True)
        ).rowcount
        if hidden:
            bump_version(BOARD)
    audit.record("wall", "post-reported", post, {"reason": reason, "reporters": reporters})
    db.session.commit()
    return True


# --- moderation ----------------------------------------------------------------------------

QUEUE_FILTERS = ("waiting", "pending", "held", "reported", "published")
# Every post in any state can be found again: what is on the wall (pinned first), what was
# hidden or rejected (newest first), and a search over all of them.
BROWSE_FILTERS = ("on-wall", "hidden", "rejected")


def _queue_condition(which: str):
    waiting_states = Post.state.in_(("pending", "held"))
    reported = and_(Post.report_count > 0, Post.state == "approved", Post.needs_review.is_(True))
    published = and_(Post.state == "approved", Post.needs_review.is_(True))
    return {
        "waiting": or_(waiting_states, published, Post.reports_hidden.is_(True)),
        "pending": Post.state == "pending",
        "held": Post.state == "held",
        "reported": or_(reported, Post.reports_hidden.is_(True)),
        "published": published,
    }[which]


def queue(which: str = "waiting", limit: int = 100) -> list[Post]:
    """What moderators must look at, oldest first, so nothing waits for ever."""
    return list(db.session.scalars(
        select(Post).where(_queue_condition(which)).order_by(Post.created_at, Post.id).limit(limit)
    ))


def browse(which: str, limit: int = 100) -> list[Post]:
    """The posts of one state for moderators to find again: on the wall pinned first, then
    newest first."""
    state = {"on-wall": "approved", "hidden": "hidden", "rejected": "rejected"}[which]
    query = select(Post).where(Post.state == state)
    if which == "on-wall":
        query = query.order_by(Post.pinned.desc(), Post.published_at.desc(), Post.id.desc())
    else:
        query = query.order_by(Post.reviewed_at.desc(), Post.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def search(words: str, *, post_ids=(), posted_by=(), limit: int = 100) -> list[Post]:
    """Posts in any state, newest first, whose receipt code is the words, or whose shown
    text, nickname or place holds them, or which are among ``post_ids`` (a case's post) or
    were posted by one of ``posted_by`` (a kiosk's key)."""
    words = (words or "").strip()[: lengths.SEARCH]
    if not words:
        return []
    found = [Post.receipt_code == words.replace(" ", "")]
    found += [column.contains(words, autoescape=True) for column in (Post.public_text, Post.nickname, Post.location)]
    if post_ids:
        found.append(Post.id.in_(list(post_ids)))
    if posted_by:
        found.append(Post.posted_by.in_(list(posted_by)))
    return list(db.session.scalars(
        select(Post).where(or_(*found)).order_by(Post.created_at.desc(), Post.id.desc()).limit(limit)))


def waiting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Post).where(_queue_condition("waiting")))


def get_post(post_id: int) -> Post | None:
    return db.session.get(Post, post_id)


# Which moderator action each state of a post allows, and the state it leads to. A rejected
# post stays rejected (its resident has read why, and may post again); a post taken down
# comes back only by restoring it.
POST_ACTIONS = {
    "approve": transition(("pending", "held", "approved"), "approved",
                          refusal=_l("Only a post waiting for review or on the wall can be approved.")),
    "reject": transition(("pending", "held"), "rejected",
                         refusal=_l("Only a post waiting for review can be rejected.")),
    "hide": transition(("approved",), "hidden", refusal=_l("Only a post on the wall can be hidden.")),
    "restore": transition(("hidden",), "approved", refusal=_l("Only a post that was hidden can be restored.")),
    "pin": transition(("approved",), refusal=_l("Only a post on the wall can be pinned or unpinned.")),
    "unpin": transition(("approved",), refusal=_l("Only a post on the wall can be pinned or unpinned.")),
    "public-text": transition(STATES),
}


def allowed_actions(post: Post) -> frozenset[str]:
    """What a moderator can do to the post now: the table's actions for its state, but no
    approving a post that is on the wall, reviewed and shown (nothing is left to approve)."""
    actions = allowed(POST_ACTIONS, post.state)
    if post.state == "approved" and not post.needs_review and not post.reports_hidden:
        actions -= {"approve"}
    return actions


def _moderate(post_id: int, action: str, audit_action: str, detail=None, *, public_change: bool = True,
              **values) -> Post:
    """Apply a moderator's action while the post's state allows it, audit it and commit.
    Refused, with nothing changed or audited, when the table does not allow it."""
    rule = POST_ACTIONS[action]
    post = apply(Post, post_id, rule, WallError, "state", reviewed_at=utcnow(), **values)
    audit.record("wall", audit_action, post, detail)
    if public_change:
        bump_version(BOARD)
    db.session.commit()
    return post


def _reviewed_by(staff_id: int | None) -> dict:
    return {"reviewed_by": staff_id, "needs_review": False}


def approve(post_id: int, staff_id: int | None) -> Post:
    post = get_post(post_id)
    was_public = post is not None and post.state == "approved" and not post.reports_hidden
    return _moderate(post_id, "approve", "post-approved", public_change=not was_public,
                     published_at=func.coalesce(Post.published_at, utcnow()), reports_hidden=False,
                     **_reviewed_by(staff_id))


def approve_many(post_ids: list[int], staff_id: int | None) -> int:
    """Approve the ticked posts the table allows; the others (rejected or hidden meanwhile) stay."""
    approved = 0
    for post_id in post_ids:
        try:
            approve(post_id, staff_id)
        except WallError:
            continue
        approved += 1
    return approved


def reject(post_id: int, staff_id: int | None, reason: str) -> Post:
    reason = " ".join((reason or "").split())[:lengths.REASON]
    if not reason:
        raise WallError(_l("Please give a reason, so that the resident can be told."), "reason")
    return _moderate(post_id, "reject", "post-rejected", {"reason": reason}, reject_reason=reason,
                     **_reviewed_by(staff_id))


def hide(post_id: int, staff_id: int | None) -> Post:
    return _moderate(post_id, "hide", "post-hidden", **_reviewed_by(staff_id))


def restore(post_id: int, staff_id: int | None) -> Post:
    return _moderate(post_id, "restore", "post-restored", reports_hidden=False, **_reviewed_by(staff_id))


def set_pinned(post_id: int, pinned: bool) -> Post:
    return _moderate(post_id, "pin" if pinned else "unpin", "post-pinned" if pinned else "post-unpinned",
                     pinned=pinned)


def set_public_text(post_id: int, public_text: str) -> Post:
    """Adjust what the wall shows (e.g. mask a name); numbers stay masked whatever is typed."""
    public_text = (public_text or "").strip()
    if not public_text or len(public_text) > lengths.PUBLIC_TEXT:
        raise WallError(_l("A message has at most %(n)d characters.", n=lengths.PUBLIC_TEXT), "public_text")
    return _moderate(post_id, "public-text", "post-masking-adjusted", public_text=mask_numbers_in_text(public_text))


def case_changed(post_id: int) -> None:
    """A problem card's case moved on: the kiosks showing the card show its new state."""
    if public_post(post_id) is not None:
        bump_version(BOARD)


# --- watched words and kind settings -------------------------------------------------------

def watched_words() -> list[WatchedWord]:
    return list(db.session.scalars(select(WatchedWord).order_by(WatchedWord.action, WatchedWord.word)))


def add_watched_word(word: str, action: str) -> int:
    word = " ".join((word or "").split())
    key = checks.word_key(word)
    if action not in WORD_ACTIONS:
        raise WallError(_l("Choose what happens to a post with this word."), "action")
    if not key or len(word) > lengths.WORD:
        raise WallError(_l("A watched word has 1 to %(n)d characters.", n=lengths.WORD), "word")
    if db.session.scalar(select(WatchedWord.id).where(WatchedWord.key == key)):
        raise WallError(_l("That word is watched already."), "word")
    watched = WatchedWord(word=word, key=key, action=action)
    db.session.add(watched)
    audit.record("wall", "word-added", watched, {"action": action})
    db.session.commit()
    return watched.id


def remove_watched_word(word_id: int) -> None:
    watched = db.session.get(WatchedWord, word_id)
    if watched is not None:
        audit.record("wall", "word-removed", watched, {"action": watched.action})
        db.session.delete(watched)
        db.session.commit()


def kind_settings() -> dict[str, bool]:
    stored = {row.kind: row.publish_first for row in db.session.scalars(select(KindSetting))}
    return {kind: stored.get(kind, False) for kind in KINDS}


def set_publish_first(kind: str, publish_first: bool) -> None:
    if kind not in KINDS:
        raise WallError(_l("Please choose what kind of message this is."), "kind")
    setting = db.session.scalar(select(KindSetting).where(KindSetting.kind == kind)) or KindSetting(kind=kind)
    setting.publish_first = publish_first
    db.session.add(setting)
    audit.record("wall", "kind-setting-changed", detail={"kind": kind, "publish_first": publish_first})
    db.session.commit()


def oldest_age(now: datetime | None = None) -> timedelta | None:
    oldest = db.session.scalar(select(func.min(Post.created_at)).where(_queue_condition("waiting")))
    return (now or utcnow()) - oldest if oldest else None
