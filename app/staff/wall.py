"""The moderators' side of the message wall: one queue and its settings (a problem card's
case is worked in the cases console)."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from htmx_flask import make_response

from .. import lengths
from ..cases import services as cases
from ..clock import utcnow
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..kiosk.models import Kiosk
from ..errors import Refused
from ..inputs import int_or_none
from ..wall import services as wall
from ..wall.labels import CHECK_LABELS, WORD_ACTION_LABELS
from ..wall.models import KINDS, WORD_ACTIONS
from ..web import events, found_or_404, page_or_fragment
from . import bp
from .access import staff_required
from .forms import LONG_REASON, ActionForm, within_limit
from .sources import sources

MODERATORS = ("moderator",)
QUEUE_LABELS = {
    "waiting": _l("Everything waiting"),
    "pending": _l("To review"),
    "held": _l("Held by the checks"),
    "reported": _l("Reported"),
    "published": _l("Published, to review"),
}


BROWSE_LABELS = {
    "on-wall": _l("On the wall"),
    "hidden": _l("Hidden"),
    "rejected": _l("Rejected"),
}


def _labels():
    """What the console's wall pages need beyond the wall's own labels (every template reads
    the kinds, states, statuses and reasons as `labels.wall.*`, app/labels.py)."""
    return {"check_labels": CHECK_LABELS, "queue_labels": {**QUEUE_LABELS, **BROWSE_LABELS},
            "word_action_labels": WORD_ACTION_LABELS, "now": utcnow(), "action_form": ActionForm(),
            "filters": wall.QUEUE_FILTERS + wall.BROWSE_FILTERS}


def _queue_filter() -> str:
    which = request.args.get("show", "waiting")
    return which if which in wall.QUEUE_FILTERS + wall.BROWSE_FILTERS else "waiting"


def _listed(which: str, words: str):
    """The posts a tab or a search lists, each with who posted it in words."""
    if words:
        kiosks = db.session.scalars(select(Kiosk.id).where(Kiosk.name.contains(words, autoescape=True)))
        case = cases.by_number(words)
        posts = wall.search(words, post_ids=[case.post_id] if case and case.post_id else [],
                            posted_by=[f"kiosk:{kiosk_id}" for kiosk_id in kiosks])
    elif which in wall.BROWSE_FILTERS:
        posts = wall.browse(which)
    else:
        posts = wall.queue(which)
    return {"posts": posts, "sources": sources([post.posted_by for post in posts]), "cases_of": cases.by_post(posts),
            "show": which, "q": words}


@bp.get("/wall")
@staff_required(*MODERATORS)
def wall_queue():
    words = request.args.get("q", "").strip()[: lengths.SEARCH]
    return page_or_fragment("staff/wall.html", {"wall-queue": "staff/_wall_queue.html"},
                            **_listed(_queue_filter(), words), **_labels())


def _post_or_404(post_id: int):
    return found_or_404(wall.get_post(post_id))


def _row(post, *, error: str | None = None, status: int = 200):
    """The post's row in the queue, as it is now; htmx swaps it in place."""
    body = render_template("staff/_wall_row.html", post=post, error=error, sources=sources([post.posted_by]),
                           cases_of=cases.by_post([post]), **_labels())
    return events(make_response(body, status), wall_post_moderated={"id": post.id})


ACTIONS = {
    "approve": lambda post, form: wall.approve(post.id, current_user.id),
    "reject": lambda post, form: wall.reject(post.id, current_user.id,
                                             within_limit(form.get("reason"), LONG_REASON, "reason")),
    "hide": lambda post, form: wall.hide(post.id, current_user.id),
    "restore": lambda post, form: wall.restore(post.id, current_user.id),
    "pin": lambda post, form: wall.set_pinned(post.id, True),
    "unpin": lambda post, form: wall.set_pinned(post.id, False),
    "public-text": lambda post, form: wall.set_public_text(post.id, form.get("public_text", "")),
}


@bp.post("/wall/<int:post_id>/<action>")
@staff_required(*MODERATORS)
def moderate_post(post_id: int, action: str):
    post = _post_or_404(post_id)
    if action not in ACTIONS:
        abort(404)
    try:
        post = ACTIONS[action](post, request.form)
    except Refused as error:
        return _row(post, error=str(error), status=422)
    if not request.htmx:  # a browser without scripts: back to the list it came from
        return redirect(url_for("staff.wall_queue", show=_queue_filter()), code=303)
    return _row(post)


@bp.post("/wall/approve-many")
@staff_required(*MODERATORS)
def approve_many():
    ids = [int_or_none(value) for value in request.form.getlist("post")]
    error = None
    if None in ids:  # no row's tick box sends that
        error = _l("Please tick posts in the list.")
    else:
        wall.approve_many(ids, current_user.id)
        if not request.htmx:
            return redirect(url_for("staff.wall_queue", show=_queue_filter()), code=303)
    return page_or_fragment("staff/wall.html", {"wall-queue": "staff/_wall_queue.html"},
                            **_listed(_queue_filter(), ""), error=error, **_labels()), 422 if error else 200


@bp.get("/wall/settings")
@staff_required(*MODERATORS)
def wall_settings(error: str | None = None, status: int = 200):
    return render_template("staff/wall_settings.html", words=wall.watched_words(), word_actions=WORD_ACTIONS,
                           settings=wall.kind_settings(), kinds=KINDS, error=error, **_labels()), status


def _back_to_settings():
    return redirect(url_for("staff.wall_settings"), code=303)


@bp.post("/wall/settings/words")
@staff_required(*MODERATORS)
def add_watched_word():
    try:
        wall.add_watched_word(request.form.get("word", ""), request.form.get("action", ""))
    except wall.WallError as error:
        return wall_settings(error=str(error), status=422)
    return _back_to_settings()


@bp.post("/wall/settings/words/<int:word_id>/remove")
@staff_required(*MODERATORS)
def remove_watched_word(word_id: int):
    wall.remove_watched_word(word_id)
    return _back_to_settings()


@bp.post("/wall/settings/kinds")
@staff_required(*MODERATORS)
def set_kind_settings():
    chosen = set(request.form.getlist("publish_first"))
    for kind in KINDS:
        wall.set_publish_first(kind, kind in chosen)
    return _back_to_settings()
