"""The district console: communities (create, rename), who works where, urgent notices for
many lobbies at once, the district's settings and every community's own, and the figures
across communities. District admins do everything here; district viewers read the figures;
a community's admins edit their own community's settings."""

from functools import wraps

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import audit, lengths
from ..clock import to_site, utcnow
from ..communities import services as communities, settings
from ..communities.routing import current_community
from ..district import services as district
from ..errors import Refused
from ..extensions import db
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..staff.models import DISTRICT_ROLES, ROLES
from . import bp
from .access import staff_required
from .accounts import ROLE_LABELS
from .forms import ActionForm, CheckboxesField
from .notices import NoticeForm

DISTRICT_ROLE_LABELS = {
    "district-admin": _l("District admin — communities, staff, district notices, everything"),
    "district-viewer": _l("District viewer — figures across communities, no personal data"),
    "supervisor": _l("Supervisor (纪检) — every community's overdue cases, read-only"),
}

# --- forms -------------------------------------------------------------------------------


class CommunityForm(Form):
    name = StringField(_l("Community name"), validators=[DataRequired(), Length(max=lengths.COMMUNITY_NAME)])
    name_en = StringField(_l("Name in English (optional)"),
                          validators=[Optional(), Length(max=lengths.COMMUNITY_NAME_EN)])
    slug = StringField(_l("Short name in links"), validators=[DataRequired(), Length(max=lengths.SLUG)],
                       description=_l("Lower-case letters, digits and hyphens: its pages are /c/<short name>/."))


class AssignForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=lengths.USERNAME)])
    community = SelectField(_l("Community"), coerce=int, validate_choice=False)
    roles = CheckboxesField(_l("Roles"), choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
                            description=_l("None: the person no longer works in that community."))


class DistrictRolesForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=lengths.USERNAME)])
    roles = CheckboxesField(_l("District roles"),
                            choices=[SelectChoice(role, DISTRICT_ROLE_LABELS[role]) for role in DISTRICT_ROLES])


class DistrictNoticeForm(NoticeForm):
    everywhere = BooleanField(_l("Every community"), default=True)
    communities = CheckboxesField(_l("Or only these communities"), coerce=int, validate_choice=False)


def district_required(*roles: str):
    """District staff only: a district admin, or one of the district roles named."""

    def decorate(view):
        @wraps(view)
        @staff_required()
        def wrapped(*args, **kwargs):
            held = current_user.district_roles
            if "district-admin" not in held and not held.intersection(roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = ("district-admin", *roles)
        return wrapped

    return decorate


# --- the district page -------------------------------------------------------------------

def _choices():
    return [(community.id, community.name) for community in communities.communities()]


def _notice_form() -> DistrictNoticeForm:
    if request.method == "POST" and request.endpoint == "staff.send_district_notice":
        form = DistrictNoticeForm()
    else:
        start = to_site(utcnow()).replace(second=0, microsecond=0)
        form = DistrictNoticeForm(formdata=None, urgency="urgent", starts_at=start, everywhere=True)
    form.communities.choices = _choices()
    return form


def _merge_form():
    form = MergeForm(formdata=None)
    form.source.choices = form.target.choices = _choices()
    return form


def _district_page(status=200, **forms):
    assign = forms.get("assign") or AssignForm(formdata=None)
    assign.community.choices = _choices()
    return render_template(
        "staff/district.html", places=district.places(),
        create_form=forms.get("create") or CommunityForm(formdata=None),
        rename_error=forms.get("rename_error"), assign_form=assign,
        roles_form=forms.get("roles") or DistrictRolesForm(formdata=None),
        notice_form=forms.get("notice") or _notice_form(), sent=request.args.get("sent", type=int),
        merge_form=forms.get("merge") or _merge_form(), delete_error=forms.get("delete_error"),
        deleted=request.args.get("deleted"), action_form=ActionForm(),
    ), status


@bp.get("/district")
@district_required()
def district_home():
    return _district_page()


@bp.post("/district/communities")
@district_required()
def create_community():
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            communities.create_community(form.slug.data, form.name.data, form.name_en.data or "")
        except Refused as error:
            getattr(form, error.field, form.name).errors.append(str(error))
        else:
            return redirect(url_for("staff.district_home"), code=303)
    return _district_page(422, create=form)


@bp.post("/district/communities/<int:community_id>")
@district_required()
def rename_community(community_id: int):
    if community_id not in dict(_choices()):
        abort(404)
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            communities.rename_community(community_id, slug=form.slug.data, name=form.name.data,
                                         name_en=form.name_en.data or "")
        except Refused as error:
            return _district_page(422, rename_error=(community_id, str(error)))
        return redirect(url_for("staff.district_home"), code=303)
    first = next(iter(form.errors.values()))[0]
    return _district_page(422, rename_error=(community_id, first))


@bp.post("/district/staff")
@district_required()
def assign_staff():
    form = AssignForm()
    form.community.choices = _choices()
    if form.validate_on_submit():
        try:
            district.assign(form.username.data, form.community.data, form.roles.data)
        except Refused as error:
            getattr(form, error.field, form.username).errors.append(str(error))
        else:
            return redirect(url_for("staff.district_home"), code=303)
    return _district_page(422, assign=form)


@bp.post("/district/roles")
@district_required()
def set_district_roles():
    form = DistrictRolesForm()
    if form.validate_on_submit():
        try:
            district.set_district_roles(form.username.data, form.roles.data)
        except Refused as error:
            getattr(form, error.field, form.username).errors.append(str(error))
        else:
            return redirect(url_for("staff.district_home"), code=303)
    return _district_page(422, roles=form)


@bp.post("/district/notices")
@district_required()
def send_district_notice():
    form = _notice_form()
    if form.validate_on_submit():
        try:
            sent = district.send_notice(form.notice_data(), None if form.everywhere.data else form.communities.data,
                                        staff_id=current_user.id)
        except Refused as error:
            getattr(form, error.field, form.title).errors.append(str(error))
        else:
            return redirect(url_for("staff.district_home", sent=len(sent)), code=303)
    return _district_page(422, notice=form)


# --- settings ----------------------------------------------------------------------------

def _settings_page(*, scope_name: str, action: str, own: dict, inherited, status=200, errors=None, typed=None):
    rows = []
    for name, setting in settings.SETTINGS.items():
        value = typed.get(name, "") if typed is not None else (settings.shown(name, own[name]) if name in own else "")
        rows.append({"name": name, "label": setting.label, "hint": setting.hint, "value": value,
                     "inherited": settings.shown(name, inherited(name)), "error": (errors or {}).get(name),
                     "multiline": name in ("FRIENDS_AREAS", "RATE_LIMITS")})
    return render_template("staff/settings.html", rows=rows, scope_name=scope_name, action=action,
                           action_form=ActionForm()), status


def _save_settings(save, page):
    try:
        save({name: request.form.get(name, "") for name in settings.SETTINGS})
    except settings.SettingsRefused as refused:
        return page(status=422, errors=refused.errors,
                    typed={name: request.form.get(name, "") for name in settings.SETTINGS})
    return None


def _community_settings_page(status=200, errors=None, typed=None):
    community = current_community()
    return _settings_page(scope_name=community.name, action=url_for("staff.save_community_settings"),
                          own=settings.own_values(community), inherited=settings.district_value,
                          status=status, errors=errors, typed=typed)


@bp.get("/settings")
@staff_required("admin")
def community_settings():
    return _community_settings_page()


@bp.post("/settings")
@staff_required("admin")
def save_community_settings():
    refused = _save_settings(lambda values: settings.save_community_settings(current_community().id, values),
                             _community_settings_page)
    return refused or redirect(url_for("staff.community_settings"), code=303)


def _district_settings_page(status=200, errors=None, typed=None):
    from flask import current_app

    return _settings_page(scope_name=_l("every community (district defaults)"),
                          action=url_for("staff.save_district_settings"),
                          own={name: settings.district_value(name) for name in settings.SETTINGS
                               if settings.district_value(name) != current_app.config[name]},
                          inherited=lambda name: current_app.config[name], status=status, errors=errors, typed=typed)


@bp.get("/district/settings")
@district_required()
def district_settings():
    return _district_settings_page()


@bp.post("/district/settings")
@district_required()
def save_district_settings():
    refused = _save_settings(settings.save_district_settings, _district_settings_page)
    return refused or redirect(url_for("staff.district_settings"), code=303)


# --- figures -----------------------------------------------------------------------------

@bp.get("/district/figures")
@district_required("district-viewer")
def district_figures():
    from ..district import figures

    table = figures.district_figures()
    audit.record("staff", "district-figures-read", None, {"communities": len(table.communities)})
    db.session.commit()
    return render_template("staff/district_figures.html", figures=table, figure_headers=figures.headers())


@bp.get("/district/figures.<any(csv, xlsx):kind>")
@district_required("district-viewer")
def district_figures_file(kind: str):
    from ..district import figures

    table = figures.district_figures()
    audit.record("staff", "district-figures-exported", None, {"communities": len(table.communities), "format": kind})
    db.session.commit()
    stamp = to_site(utcnow()).strftime("%Y%m%d-%H%M")
    if kind == "csv":
        body, mimetype = figures.figures_csv(table), "text/csv; charset=utf-8"
    else:
        body = figures.figures_xlsx(table)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="linli-figures-{stamp}.{kind}"'})


# --- merging, exporting, deleting ----------------------------------------------------------

class MergeForm(Form):
    source = SelectField(_l("Merge this community"), coerce=int, validate_choice=False)
    target = SelectField(_l("into this one, which stays"), coerce=int, validate_choice=False)
    confirm = StringField(_l("Type the short name of the community merged away to confirm"),
                          validators=[DataRequired(), Length(max=lengths.SLUG)])


class DeleteForm(Form):
    confirm = StringField(_l("Type its short name to confirm"), validators=[DataRequired(), Length(max=lengths.SLUG)])


@bp.post("/district/merge")
@district_required()
def merge_communities():
    from ..district import lifecycle

    form = MergeForm()
    form.source.choices = form.target.choices = _choices()
    if form.validate_on_submit():
        source = next((community for community in communities.communities() if community.id == form.source.data), None)
        if source is None or form.confirm.data.strip() != source.slug:
            form.confirm.errors.append(_l("Type the community's short name exactly to confirm."))
        else:
            try:
                report = lifecycle.merge(form.source.data, form.target.data)
            except Refused as error:
                form.source.errors.append(str(error))
            else:
                return render_template("staff/district_merged.html", report=report, source=source.slug)
    return _district_page(422, merge=form)


@bp.get("/district/communities/<int:community_id>/export")
@district_required()
def export_community(community_id: int):
    from ..district import lifecycle

    community = next((c for c in communities.communities() if c.id == community_id), None)
    if community is None:
        abort(404)
    stamp = to_site(utcnow()).strftime("%Y%m%d-%H%M")
    return Response(lifecycle.export(community_id), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="linli-{community.slug}-{stamp}.zip"'})


@bp.post("/district/communities/<int:community_id>/delete")
@district_required()
def delete_community(community_id: int):
    from ..district import lifecycle

    if community_id not in dict(_choices()):
        abort(404)
    form = DeleteForm()
    if form.validate_on_submit():
        try:
            backup = lifecycle.delete_community(community_id, form.confirm.data)
        except Refused as error:
            return _district_page(422, delete_error=(community_id, str(error)))
        return redirect(url_for("staff.district_home", deleted=backup), code=303)
    return _district_page(422, delete_error=(community_id, next(iter(form.errors.values()))[0]))
