"""The moderators' side of the message wall: one queue and its settings (a problem card's
case is worked in the cases console)."""

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from htmx_flask import make_response

from ..clock import utcnow
from ..errors import Refused
from ..inputs import int_or_none
from ..wall import services as wall
from ..wall.labels import CHECK_LABELS
from ..wall.models import KINDS, WORD_ACTIONS
from ..web import events, found_or_404, page_or_fragment
from . import bp
from .access import staff_required
from .forms import LONG_REASON, ActionForm, within_limit

MODERATORS = ("moderator",)
WORD_ACTION_LABELS = {
    "block": _l("Refuse the post"),
    "hold": _l("Hold it for review"),
    "flag": _l("Flag it for moderators"),
}
QUEUE_LABELS = {
    "waiting": _l("Everything waiting"),
    "pending": _l("To review"),
    "held": _l("Held by the checks"),
    "reported": _l("Reported"),
    "published": _l("Published, to review"),
}


def _labels():
    """What the console's wall pages need beyond the wall's own labels (every template reads
    the kinds, states, statuses and reasons as `labels.wall.*`, app/labels.py)."""
    return {"check_labels": CHECK_LABELS, "queue_labels": QUEUE_LABELS,
            "word_action_labels": WORD_ACTION_LABELS, "now": utcnow(), "action_form": ActionForm()}


def _queue_filter() -> str:
    which = request.args.get("show", "waiting")
    return which if which in wall.QUEUE_FILTERS else "waiting"


@bp.get("/wall")
@staff_required(*MODERATORS)
def wall_queue():
    which = _queue_filter()
    return page_or_fragment("staff/wall.html", {"wall-queue": "staff/_wall_queue.html"},
                            posts=wall.queue(which), show=which, filters=wall.QUEUE_FILTERS, **_labels())


def _post_or_404(post_id: int):
    return found_or_404(wall.get_post(post_id))


def _row(post, *, error: str | None = None, status: int = 200):
    """The post's row in the queue, as it is now; htmx swaps it in place."""
    body = render_template("staff/_wall_row.html", post=post, error=error, **_labels())
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
    which = _queue_filter()
    return page_or_fragment("staff/wall.html", {"wall-queue": "staff/_wall_queue.html"},
                            posts=wall.queue(which), show=which, filters=wall.QUEUE_FILTERS, error=error,
                            **_labels()), 422 if error else 200


@bp.get("/wall/settings")
@staff_required(*MODERATORS)
def wall_settings(error: str | None = None, status: int = 200):
    return render_template("staff/wall_settings.html", words=wall.watched_words(), word_actions=WORD_ACTIONS,
                           settings=wall.kind_settings(), kinds=KINDS, error=error, **_labels()), status


@bp.post("/wall/settings/words")
@staff_required(*MODERATORS)
def add_watched_word():
    try:
        wall.add_watched_word(request.form.get("word", ""), request.form.get("action", ""))
    except wall.WallError as error:
        return wall_settings(error=str(error), status=422)
    return wall_settings()


@bp.post("/wall/settings/words/<int:word_id>/remove")
@staff_required(*MODERATORS)
def remove_watched_word(word_id: int):
    wall.remove_watched_word(word_id)
    return wall_settings()


@bp.post("/wall/settings/kinds")
@staff_required(*MODERATORS)
def set_kind_settings():
    chosen = set(request.form.getlist("publish_first"))
    for kind in KINDS:
        wall.set_publish_first(kind, kind in chosen)
    return wall_settings()
