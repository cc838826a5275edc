"""Staff accounts: admins list, add, edit, disable them and reset their passwords; every
member changes their own password."""

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from .. import lengths
from ..forms import Form
from ..web import found_or_404
from . import bp, services
from .access import staff_required
from .forms import ActionForm, CheckboxesField
from .models import ROLES

# --- forms -------------------------------------------------------------------------------

ROLE_LABELS = {
    "admin": _l("Admin — everything, including accounts and kiosks"),
    "moderator": _l("Moderator — message wall, notices, and dispatching cases"),
    "coordinator": _l("Coordinator — classes and experts"),
    "matchmaker": _l("Matchmaker — the matchmaking board"),
    "grid-worker": _l("Grid worker — the cases of their grids, on a phone"),
}


def _roles_field():
    return CheckboxesField(_l("Roles"), choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
                           validators=[DataRequired(message=_l("Choose at least one role."))])


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=lengths.PASSWORD_TYPED)])
    confirm = PasswordField(_l("New password, again"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])
    submit = SubmitField(_l("Change password"))


class NewAccountForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=lengths.USERNAME)])
    display_name = StringField(_l("Name shown in the console"),
                               validators=[DataRequired(), Length(max=lengths.STAFF_NAME)])
    roles = _roles_field()
    submit = SubmitField(_l("Create account"))


class AccountForm(Form):
    display_name = StringField(_l("Name shown in the console"),
                               validators=[DataRequired(), Length(max=lengths.STAFF_NAME)])
    roles = _roles_field()
    submit = SubmitField(_l("Save"))


# --- one's own password ------------------------------------------------------------------

@bp.get("/password")
@staff_required()
def password_form():
    return render_template("staff/password.html", form=ChangePasswordForm(), changed=False)


@bp.post("/password")
@staff_required()
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(current_user, form.current.data, form.new.data)
        except services.StaffError as error:
            form.new.errors.append(str(error))
        else:
            return render_template("staff/password.html", form=None, changed=True)
    return render_template("staff/password.html", form=form, changed=False), 422


# --- accounts (admins) -------------------------------------------------------------------

def _accounts_page(new_form=None, *, created=None, password=None, status=200, error=None):
    return render_template(
        "staff/accounts.html", members=services.members(), new_form=new_form or NewAccountForm(formdata=None),
        action_form=ActionForm(), created=created, password=password, error=error,
    ), status


@bp.get("/accounts")
@staff_required("admin")
def accounts():
    return _accounts_page()


@bp.post("/accounts")
@staff_required("admin")
def create_account():
    form = NewAccountForm()
    if form.validate_on_submit():
        password = services.generate_password()
        try:
            services.create_staff(form.username.data, password, roles=form.roles.data,
                                  display_name=form.display_name.data)
        except services.StaffError as error:
            form.username.errors.append(str(error))
        else:
            return _accounts_page(created=form.username.data.strip().lower(), password=password)
    return _accounts_page(form, status=422)


def _member_or_404(member_id: int):
    return found_or_404(services.get_member(member_id))


@bp.get("/accounts/<int:member_id>")
@staff_required("admin")
def account(member_id: int):
    member = _member_or_404(member_id)
    form = AccountForm(formdata=None, display_name=member.display_name, roles=sorted(member.role_set))
    return render_template("staff/account.html", member=member, form=form)


@bp.post("/accounts/<int:member_id>")
@staff_required("admin")
def edit_account(member_id: int):
    member = _member_or_404(member_id)
    form = AccountForm()
    if form.validate_on_submit():
        try:
            services.update_member(member.id, display_name=form.display_name.data, roles=form.roles.data)
        except services.StaffError as error:
            form.roles.errors.append(str(error))
        else:
            return redirect(url_for("staff.accounts"), code=303)
    return render_template("staff/account.html", member=member, form=form), 422


@bp.post("/accounts/<int:member_id>/enabled")
@staff_required("admin")
def set_account_enabled(member_id: int):
    member = _member_or_404(member_id)
    try:
        services.set_enabled(member.id, request.form.get("enabled") == "1")
    except services.StaffError as error:
        return _accounts_page(error=str(error), status=422)
    return redirect(url_for("staff.accounts"), code=303)


@bp.post("/accounts/<int:member_id>/password")
@staff_required("admin")
def reset_password(member_id: int):
    member = _member_or_404(member_id)
    password = services.generate_password()
    services.set_password(member.id, password)
    return _accounts_page(created=member.username, password=password)
