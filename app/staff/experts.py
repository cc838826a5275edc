"""The coordinators' side of the expert directory: experts with their consent, skills, and
the help-request inbox. Every view of contact details is audited."""

from flask import redirect, render_template, request, url_for
from flask_babel import format_datetime
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import lengths
from ..experts import services as experts
from ..clock import to_site, utcnow
from ..experts.labels import CATEGORY_LABELS, NEED_LABELS, REQUEST_STATE_LABELS
from ..exports import Table, download
from ..experts.models import CATEGORIES, REQUEST_STATES
from ..errors import Refused
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..inputs import int_or_none
from ..web import found_or_404
from . import bp
from .access import staff_required
from .labels import LIST_SEPARATOR
from .forms import ActionForm, CheckboxesField

# --- forms -------------------------------------------------------------------------------

class ExpertForm(Form):
    name = StringField(_l("Full name (staff only)"), validators=[DataRequired(), Length(max=lengths.NAME)])
    mobile = StringField(_l("Mobile number (staff only)"),
                         validators=[DataRequired(), Length(max=lengths.MOBILE_TYPED)])
    display_name = StringField(_l("Name shown on the kiosk"), validators=[Optional(), Length(max=lengths.DISPLAY_NAME)],
                               description=_l("As the expert agreed, e.g. 张老师 or 王*兰; empty: the name masked."))
    skill_ids = CheckboxesField(_l("Skills"), choices=[], coerce=int,
                                validators=[DataRequired(message=_l("Please choose at least one skill."))])
    intro = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=lengths.EXPERT_INTRO)])
    intro_en = TextAreaField(_l("Introduction in English (optional)"),
                             validators=[Optional(), Length(max=lengths.EXPERT_INTRO_EN)])
    availability = StringField(_l("Usually available"), validators=[Optional(), Length(max=lengths.AVAILABILITY)])
    availability_en = StringField(_l("Usually available, in English"),
                                  validators=[Optional(), Length(max=lengths.AVAILABILITY_EN)])
    weekly_cap = IntegerField(_l("Requests a week at most"), default=3, validators=[DataRequired(), NumberRange(1, 20)])
    consent_on = DateField(_l("Consent to be listed, given on"), validators=[DataRequired()])
    consent_scope = StringField(_l("What may be shown"), validators=[DataRequired(), Length(max=lengths.CONSENT_SCOPE)],
                                description=_l("e.g. surname and skills, introduction, times; no photo"))
    submit = SubmitField(_l("Save"))


class SkillForm(Form):
    name = StringField(_l("Skill"), validators=[DataRequired(), Length(max=lengths.SKILL_NAME)])
    name_en = StringField(_l("Skill in English (optional)"), validators=[Optional(), Length(max=lengths.SKILL_NAME_EN)])
    category = SelectField(_l("Category"), choices=[])
    submit = SubmitField(_l("Add skill"))


# --- views -------------------------------------------------------------------------------

COORDINATORS = ("coordinator",)
INBOX_FILTERS = ("open", *REQUEST_STATES)


def _expert_form(expert=None) -> ExpertForm:
    if request.method == "POST":
        form = ExpertForm()
    elif expert is not None:
        form = ExpertForm(obj=expert, skill_ids=[skill.id for skill in expert.skills])
    else:
        form = ExpertForm(formdata=None, weekly_cap=3)
    form.skill_ids.choices = [(skill.id, f"{skill.name} · {CATEGORY_LABELS[skill.category]}")
                              for skill in experts.skills()]
    return form


def _skill_form(form=None) -> SkillForm:
    form = form or SkillForm(formdata=None)
    form.category.choices = [(category, CATEGORY_LABELS[category]) for category in CATEGORIES]
    return form


@bp.get("/experts")
@staff_required(*COORDINATORS)
def experts_index(skill_form=None, status: int = 200):
    return render_template("staff/experts.html", experts=experts.staff_experts(), skill_form=_skill_form(skill_form),
                           action_form=ActionForm()), status


@bp.post("/experts/skills")
@staff_required(*COORDINATORS)
def add_skill():
    form = _skill_form(SkillForm())
    if form.validate_on_submit():
        try:
            experts.save_skill(form.name.data, form.category.data, form.name_en.data or "")
        except Refused as error:
            form.name.errors.append(str(error))
        else:
            return redirect(url_for("staff.experts_index"), code=303)
    return experts_index(skill_form=form, status=422)


def _edit(expert=None):
    form = _expert_form(expert)
    if form.validate_on_submit():
        data = experts.ExpertData(
            name=form.name.data, mobile=form.mobile.data, display_name=form.display_name.data or "",
            skill_ids=form.skill_ids.data, consent_on=form.consent_on.data, consent_scope=form.consent_scope.data,
            intro=form.intro.data or "", intro_en=form.intro_en.data or "", availability=form.availability.data or "",
            availability_en=form.availability_en.data or "", weekly_cap=form.weekly_cap.data)
        try:
            experts.save_expert(expert.id if expert else None, data)
        except Refused as error:
            getattr(form, error.field, form.name).errors.append(str(error))
        else:
            return redirect(url_for("staff.experts_index"), code=303)
    elif expert is not None and request.method == "GET":
        experts.record_view(expert, "expert-viewed")  # the form shows their full name and number
    return render_template("staff/expert_form.html", form=form, expert=expert), 422 if request.method == "POST" else 200


@bp.get("/experts/new")
@staff_required(*COORDINATORS)
def new_expert():
    return _edit()


@bp.post("/experts/new")
@staff_required(*COORDINATORS)
def create_expert():
    return _edit()


@bp.get("/experts/<int:expert_id>/edit")
@staff_required(*COORDINATORS)
def edit_expert(expert_id: int):
    return _edit(found_or_404(experts.get_expert(expert_id)))


@bp.post("/experts/<int:expert_id>/edit")
@staff_required(*COORDINATORS)
def update_expert(expert_id: int):
    return _edit(found_or_404(experts.get_expert(expert_id)))


@bp.post("/experts/<int:expert_id>/<action>")
@staff_required(*COORDINATORS)
def expert_action(expert_id: int, action: str):
    found_or_404(experts.get_expert(expert_id))
    if action == "hide":
        experts.set_listed(expert_id, False)
    elif action == "list":
        experts.set_listed(expert_id, True)
    elif action == "remove":
        experts.remove_expert(expert_id)
    else:
        found_or_404(None)
    return redirect(url_for("staff.experts_index"), code=303)


def _inbox_filter() -> str:
    which = request.args.get("show", "open")
    return which if which in INBOX_FILTERS else "open"


@bp.get("/experts/requests")
@staff_required(*COORDINATORS)
def expert_requests(error: str | None = None, status: int = 200):
    which = _inbox_filter()
    requests = experts.inbox(which)
    experts.record_view(None, "requests-viewed")  # residents' names and numbers are on the page
    return render_template("staff/expert_requests.html", requests=requests, show=which, filters=INBOX_FILTERS,
                           experts={expert.id: expert for expert in experts.staff_experts()},
                           action_form=ActionForm(), error=error), status


@bp.get("/experts/requests.<any(csv, xlsx):kind>")
@staff_required(*COORDINATORS)
def expert_requests_file(kind: str):
    """The help requests of the inbox's tab, for reporting upward: residents' names and
    numbers included (audited as a view of them)."""
    which = _inbox_filter()
    names = {expert.id: expert.display_name for expert in experts.staff_experts()}
    table = Table(_l("Help requests"), [
        _l("Receipt code"), _l("Asked at"), _l("Expert"), _l("Needs"), _l("What they wrote"), _l("Resident"),
        _l("Mobile"), _l("State"), _l("Note"), _l("Closed at")])
    for help in experts.inbox(which):
        table.rows.append([
            help.code, format_datetime(help.created_at, "yyyy-MM-dd HH:mm"), names.get(help.expert_id, ""),
            str(LIST_SEPARATOR).join(str(NEED_LABELS.get(need, need)) for need in help.needs.split()),
            help.text, help.name or "", help.mobile or "", str(REQUEST_STATE_LABELS[help.state]), help.staff_note,
            format_datetime(help.closed_at, "yyyy-MM-dd HH:mm") if help.closed_at else ""])
    experts.record_view(None, "requests-exported")
    return download(table, kind, f"{_l('Help requests')}-{to_site(utcnow()):%Y%m%d}")


@bp.post("/experts/requests/<int:request_id>")
@staff_required(*COORDINATORS)
def update_expert_request(request_id: int):
    found_or_404(experts.get_request(request_id))
    expert_id = request.form.get("expert_id", "")
    try:
        if expert_id and int_or_none(expert_id) is None:  # the list sends an expert's id, or nothing
            raise Refused(_l("Please choose an expert from the list."), "expert_id")
        experts.update_request(request_id, request.form.get("state", ""), note=request.form.get("note", ""),
                                 expert_id=int_or_none(expert_id))
    except Refused as error:
        return expert_requests(error=str(error), status=422)
    return redirect(url_for("staff.expert_requests", show=_inbox_filter()), code=303)
