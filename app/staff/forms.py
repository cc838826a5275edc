from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .models import ROLES

ROLE_LABELS = {
    "admin": _l("Admin — everything, including accounts and kiosks"),
    "moderator": _l("Moderator — message wall and notices"),
    "coordinator": _l("Coordinator — classes and experts"),
    "matchmaker": _l("Matchmaker — the matchmaking board"),
}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _roles_field():
    return CheckboxesField(_l("Roles"), choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
                           validators=[DataRequired(message=_l("Choose at least one role."))])


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password, again"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])
    submit = SubmitField(_l("Change password"))


class NewAccountForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    display_name = StringField(_l("Name shown in the console"), validators=[DataRequired(), Length(max=80)])
    roles = _roles_field()
    submit = SubmitField(_l("Create account"))


class AccountForm(FlaskForm):
    display_name = StringField(_l("Name shown in the console"), validators=[DataRequired(), Length(max=80)])
    roles = _roles_field()
    submit = SubmitField(_l("Save"))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class EnrollKioskForm(FlaskForm):
    code = StringField(_l("Pairing code shown on the screen"), validators=[DataRequired(), Length(min=6, max=12)])
    name = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=60)],
                       description=_l("Where it stands, e.g. “Lobby, left”"))
    submit = SubmitField(_l("Add kiosk"))


class RenameKioskForm(FlaskForm):
    name = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=60)])
    submit = SubmitField(_l("Rename"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    person = SelectField(_l("Person"), choices=[], validators=[Optional()], coerce=str)
    area = SelectField(_l("Area"), choices=[], validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
