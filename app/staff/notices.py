"""The committee's notices as staff write them: showing, scheduled and lately ended ones;
write, edit, end now, delete. Every change leaves an audit entry."""

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..clock import to_site, utcnow
from ..errors import Refused
from ..notices import services as notices
from ..web import found_or_404
from . import bp
from .access import staff_required
from .forms import ActionForm, NoticeForm

NOTICE_WRITERS = ("moderator", "coordinator")
STATE_LABELS = {"showing": _l("Showing"), "scheduled": _l("Scheduled"), "ended": _l("Ended")}
SECTION_LABELS = {"showing": _l("Showing now"), "scheduled": _l("Scheduled"),
                  "ended": _l("Ended in the last %(n)d days", n=notices.ENDED_LISTED_DAYS)}


def _notice_or_404(notice_id: int):
    return found_or_404(notices.get_notice(notice_id))


@bp.get("/notices")
@staff_required(*NOTICE_WRITERS)
def notices_index(error: str | None = None, status: int = 200):
    return render_template("staff/notices.html", groups=notices.staff_notices(), state_labels=STATE_LABELS,
                           section_labels=SECTION_LABELS, action_form=ActionForm(), error=error), status


def _notice_form(notice=None) -> NoticeForm:
    if request.method == "POST":
        return NoticeForm()
    if notice is not None:
        return NoticeForm(data=notices.form_data(notice))
    return NoticeForm(formdata=None, urgency="normal", starts_at=to_site(utcnow()).replace(second=0, microsecond=0))


def _edit(notice=None):
    form = _notice_form(notice)
    if form.validate_on_submit():
        data = notices.NoticeData(
            title=form.title.data, body=form.body.data or "", title_en=form.title_en.data or "",
            body_en=form.body_en.data or "", urgency=form.urgency.data, starts_at=form.starts_at.data,
            ends_at=form.ends_at.data)
        try:
            notices.save_notice(notice.id if notice else None, data, staff_id=current_user.id)
        except Refused as error:
            getattr(form, error.field, form.title).errors.append(str(error))
        else:
            return redirect(url_for("staff.notices_index"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("staff/notice_form.html", form=form, notice=notice), status


@bp.get("/notices/new")
@staff_required(*NOTICE_WRITERS)
def new_notice():
    return _edit()


@bp.post("/notices")
@staff_required(*NOTICE_WRITERS)
def create_notice():
    return _edit()


@bp.get("/notices/<int:notice_id>/edit")
@staff_required(*NOTICE_WRITERS)
def edit_notice(notice_id: int):
    return _edit(_notice_or_404(notice_id))


@bp.post("/notices/<int:notice_id>")
@staff_required(*NOTICE_WRITERS)
def update_notice(notice_id: int):
    return _edit(_notice_or_404(notice_id))


@bp.post("/notices/<int:notice_id>/end")
@staff_required(*NOTICE_WRITERS)
def end_notice(notice_id: int):
    _notice_or_404(notice_id)
    try:
        notices.end_notice(notice_id, staff_id=current_user.id)
    except Refused as error:
        return notices_index(error=str(error), status=422)
    return redirect(url_for("staff.notices_index"), code=303)


@bp.post("/notices/<int:notice_id>/delete")
@staff_required(*NOTICE_WRITERS)
def delete_notice(notice_id: int):
    _notice_or_404(notice_id)
    try:
        notices.delete_notice(notice_id)
    except Refused as error:  # deleted by someone else a moment ago
        return notices_index(error=str(error), status=422)
    return redirect(url_for("staff.notices_index"), code=303)
