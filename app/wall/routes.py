from flask import abort, render_template, request
from htmx_flask import make_response

from ..communities.routing import code_from_link
from ..clock import utcnow
from ..inputs import int_or_none
from ..boards import board_version_of
from ..kiosk import handoff
from ..kiosk.page_cache import cached_page
from ..kiosk.access import actor_key, acting_device_required, code_lookup_limited
from ..polls import fast_poll
from ..web import events, page_or_fragment, poll
from . import bp, services
from .forms import PostForm, ReceiptForm, ReportForm
from .models import KINDS


def _kind_filter() -> str | None:
    kind = request.args.get("kind")
    return kind if kind in KINDS else None


def _list_context(kind):
    posts = services.wall_page(kind)
    return {"posts": posts, "kind": kind, "version": services.version(), "now": utcnow(),
            "more_before": posts[-1].id if len(posts) == services.PAGE_SIZE else None}


@bp.get("/")
@cached_page(board_version_of(services.BOARD))  # every change the wall shows bumps it, as its poll needs
def index():
    kind = _kind_filter()
    return page_or_fragment("wall/index.html", {"wall-list": "wall/_list.html"}, **_list_context(kind))


fast_poll("/wall/live", board_version_of(services.BOARD), params=("kind",))


@bp.get("/live")
def live():
    """Polled by every kiosk showing the wall: 204 while nothing changed."""
    return poll(services.version(), lambda: render_template("wall/_list.html", **_list_context(_kind_filter())))


@bp.get("/more")
def more():
    kind = _kind_filter()
    posts = services.wall_page(kind, before=request.args.get("before", type=int_or_none))
    return render_template("wall/_more.html", posts=posts, kind=kind, now=utcnow(),
                           more_before=posts[-1].id if len(posts) == services.PAGE_SIZE else None)


@bp.get("/new")
def new():
    form = PostForm(formdata=None, data=handoff.prefill("wall-post") or {"kind": _kind_filter()})
    return page_or_fragment("wall/new.html", {"wall-form": "wall/_form.html"}, form=form)


@bp.post("/posts")
@acting_device_required("wall-post", "5 per 10 minutes")
def create():
    form = PostForm()
    if form.validate_on_submit():
        try:
            receipt = services.create_post(
                form.kind.data, form.text.data, nickname=form.nickname.data or "", posted_by=actor_key(),
            )
        except services.WallError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            response = make_response(page_or_fragment("wall/posted.html", {"wall-form": "wall/_posted.html"},
                                                      receipt=receipt))
            return events(response, wall_post_created={"receipt": receipt.code})
    return page_or_fragment("wall/new.html", {"wall-form": "wall/_form.html"}, form=form), 422


@bp.get("/posts/<int:post_id>/report")
def report_form(post_id: int):
    """The reasons to choose from, swapped into the card that asked."""
    post = services.public_post(post_id)
    if post is None:
        abort(404)
    return render_template("wall/_report.html", post=post, form=ReportForm(formdata=None))


@bp.post("/posts/<int:post_id>/report")
@acting_device_required("wall-report", "20 per hour")
def report(post_id: int):
    form = ReportForm()
    post = services.public_post(post_id)
    if post is None:
        abort(404)
    if not form.validate_on_submit():
        return render_template("wall/_report.html", post=post, form=form), 422
    try:
        services.report(post_id, form.reason.data, actor_key())
    except services.WallError as error:
        form.reason.errors.append(str(error))
        return render_template("wall/_report.html", post=post, form=form), 422
    return render_template("wall/_reported.html", post=post)


@bp.get("/receipt")
@code_lookup_limited
def receipt():
    form = ReceiptForm(request.args)
    post = services.receipt(code_from_link("post", form.code.data)) if request.args.get("code") else None
    looked_up = bool(request.args.get("code"))
    return page_or_fragment("wall/receipt.html", {"receipt-result": "wall/_receipt_result.html"},
                            form=form, post=post, looked_up=looked_up, now=utcnow())
