"""Staff accounts: admins list, add, edit, disable them and reset their passwords; every
member changes their own password."""

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user
from wtforms import PasswordField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..web import found_or_404
from . import bp, services
from .access import staff_required
from .forms import ActionForm, CheckboxesField, confirm_page
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
    return render_template("staff/password.html", form=ChangePasswordForm(),
                           changed=request.args.get("changed") == "1")


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
            return redirect(url_for("staff.password_form", changed=1), code=303)
    return render_template("staff/password.html", form=form, changed=False), 422


# --- accounts (admins) -------------------------------------------------------------------

# A password an admin hands out is shown once: carried from the POST to the page after
# the redirect in the signed session cookie, and taken out of it as it is shown.
PASSWORD_ONCE = "password_once"


def _accounts_page(new_form=None, *, status=200, error=None):
    created, password = session.pop(PASSWORD_ONCE, None) or (None, None)
    return render_template(
        "staff/accounts.html", members=services.members(), new_form=new_form or NewAccountForm(formdata=None),
        action_form=ActionForm(), created=created, password=password, error=error,
    ), status


def _show_password_once(username: str, password: str):
    session[PASSWORD_ONCE] = (username, password)
    return redirect(url_for("staff.accounts"), code=303)


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
                                  display_name=form.display_name.data, handed_out=True)
        except services.StaffError as error:
            form.username.errors.append(str(error))
        else:
            return _show_password_once(form.username.data.strip().lower(), password)
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


@bp.get("/accounts/<int:member_id>/enabled")
@staff_required("admin")
def confirm_account_enabled(member_id: int):
    member = _member_or_404(member_id)
    back = url_for("staff.accounts")
    if member.enabled:
        return confirm_page(_l("Disable the account of %(name)s?", name=member.display_name),
                            _l("%(name)s is signed out everywhere at once and cannot sign in until an admin "
                               "enables the account again. What they did stays in the audit log.",
                               name=member.display_name),
                            button=_l("Disable the account"), back=back, fields={"enabled": "0"})
    return confirm_page(_l("Enable the account of %(name)s?", name=member.display_name),
                        _l("%(name)s can sign in again with their password.", name=member.display_name),
                        button=_l("Enable the account"), back=back, danger=False, fields={"enabled": "1"})


@bp.post("/accounts/<int:member_id>/enabled")
@staff_required("admin")
def set_account_enabled(member_id: int):
    member = _member_or_404(member_id)
    try:
        services.set_enabled(member.id, request.form.get("enabled") == "1")
    except services.StaffError as error:
        return _accounts_page(error=str(error), status=422)
    return redirect(url_for("staff.accounts"), code=303)


@bp.get("/accounts/<int:member_id>/password")
@staff_required("admin")
def confirm_reset_password(member_id: int):
    member = _member_or_404(member_id)
    return confirm_page(_l("Give %(name)s a new password?", name=member.display_name),
                        _l("Their present password stops working and they are signed out everywhere. The new one "
                           "is shown to you once; they choose their own when they next sign in.",
                           name=member.display_name),
                        button=_l("Make a new password"), back=url_for("staff.accounts"))


@bp.post("/accounts/<int:member_id>/password")
@staff_required("admin")
def reset_password(member_id: int):
    member = _member_or_404(member_id)
    password = services.generate_password()
    services.set_password(member.id, password, handed_out=True)
    return _show_password_once(member.username, password)
