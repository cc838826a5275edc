"""The committee's notices as staff write them: showing, scheduled and lately ended ones;
write, edit, end now, delete. Every change leaves an audit entry."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import DateTimeLocalField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from .. import lengths
from ..clock import to_site, utcnow
from ..errors import Refused
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..notices import services as notices
from ..notices.services import URGENCIES
from ..web import found_or_404
from . import bp
from .access import staff_required
from .forms import ActionForm

# --- forms -------------------------------------------------------------------------------

def _at_most(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(n)d characters.", n=limit))


def _one_newline(text: str | None) -> str | None:
    """Browsers count a line break as one character against maxlength, and send it as two."""
    return text.replace("\r\n", "\n") if text else text


def _site_time_field(label, *validators, **kwargs) -> DateTimeLocalField:
    """A datetime-local input in the center's time; browsers send it with or without seconds."""
    return DateTimeLocalField(label, validators=list(validators), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                              invalid_value_message=_l("Please give a date and a time, e.g. 2026-12-05 14:30."),
                              **kwargs)


class NoticeForm(Form):
    """A notice as staff write it; times are the center's local times."""

    title = StringField(_l("Notice title"), validators=[
        DataRequired(message=_l("Please write the notice's title.")), _at_most(lengths.NOTICE_TITLE)])
    body = TextAreaField(_l("Notice text"),
                         validators=[Optional(), _at_most(lengths.NOTICE_BODY)], filters=[_one_newline])
    title_en = StringField(_l("Notice title in English (optional)"),
                           validators=[Optional(), _at_most(lengths.NOTICE_TITLE_EN)])
    body_en = TextAreaField(_l("Notice text in English (optional)"),
                            validators=[Optional(), _at_most(lengths.NOTICE_BODY_EN)],
                            filters=[_one_newline])
    urgency = RadioField(_l("Urgency"), default="normal", validate_choice=False, choices=[
        SelectChoice("normal", _l("Normal — in the kiosk's notices")),
        SelectChoice("urgent", _l("Urgent — a banner on top of every kiosk screen"))],
        validators=[AnyOf(URGENCIES, message=_l("Please choose normal or urgent."))])
    # InputRequired, not DataRequired: a malformed time keeps its own message.
    starts_at = _site_time_field(_l("Shows from"), InputRequired(message=_l("Please give the time it starts showing.")))
    ends_at = _site_time_field(_l("Shows until"), Optional(),
                               description=_l("Empty: until ended by hand. An urgent notice needs an end time."))
    submit = SubmitField(_l("Save"))

    def notice_data(self) -> notices.NoticeData:
        """The notice as the service takes it (times still the center's local ones)."""
        return notices.NoticeData(
            title=self.title.data, body=self.body.data or "", title_en=self.title_en.data or "",
            body_en=self.body_en.data or "", urgency=self.urgency.data, starts_at=self.starts_at.data,
            ends_at=self.ends_at.data)


# --- views -------------------------------------------------------------------------------

NOTICE_WRITERS = ("moderator", "coordinator")
STATE_LABELS = {"showing": _l("Showing"), "scheduled": _l("Scheduled"), "ended": _l("Ended")}
SECTION_LABELS = {"showing": _l("Showing now"), "scheduled": _l("Scheduled"),
                  "ended": _l("Ended in the last %(n)d days", n=notices.ENDED_LISTED_DAYS)}


def _notice_or_404(notice_id: int):
    return found_or_404(notices.get_notice(notice_id))


@bp.get("/notices")
@staff_required(*NOTICE_WRITERS)
def notices_index(error: str | None = None, status: int = 200):
    return render_template("staff/notices.html", groups=notices.staff_notices(), notice_state_labels=STATE_LABELS,
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
        try:
            notices.save_notice(notice.id if notice else None, form.notice_data(), staff_id=current_user.id)
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
