from flask_babel import lazy_gettext as _l
from wtforms import (DateField, DateTimeLocalField, HiddenField, IntegerField, PasswordField, RadioField,
                     SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..errors import Refused
from ..forms import Form
from ..notices.services import BODY_EN_MAX, BODY_MAX, TITLE_EN_MAX, TITLE_MAX, URGENCIES
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


class SignInForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password, again"),
                            validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])
    submit = SubmitField(_l("Change password"))


class NewAccountForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    display_name = StringField(_l("Name shown in the console"), validators=[DataRequired(), Length(max=80)])
    roles = _roles_field()
    submit = SubmitField(_l("Create account"))


class AccountForm(Form):
    display_name = StringField(_l("Name shown in the console"), validators=[DataRequired(), Length(max=80)])
    roles = _roles_field()
    submit = SubmitField(_l("Save"))


class ActionForm(Form):
    """A button that changes something: only the CSRF token travels."""


class EnrollKioskForm(Form):
    code = StringField(_l("Pairing code shown on the screen"), validators=[DataRequired(), Length(min=6, max=12)])
    name = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=60)],
                       description=_l("Where it stands, e.g. “Lobby, left”"))
    submit = SubmitField(_l("Add kiosk"))


class RenameKioskForm(Form):
    name = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=60)])
    submit = SubmitField(_l("Rename"))


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    person = SelectField(_l("Person"), choices=[], validators=[Optional()], coerce=str)
    area = SelectField(_l("Area"), choices=[], validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


class CourseForm(Form):
    """A course as coordinators write it; times are the center's local times."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=60)])
    title_en = StringField(_l("Title in English (optional)"), validators=[Optional(), Length(max=80)])
    category = SelectField(_l("Category"), choices=[])
    teacher = StringField(_l("Teacher"), validators=[DataRequired(), Length(max=40)],
                          description=_l("As residents see it, e.g. 王老师"))
    teacher_expert_id = SelectField(_l("Teacher in the expert directory (optional)"), coerce=int, choices=[], default=0)
    venue = StringField(_l("Room"), validators=[DataRequired(), Length(max=60)])
    venue_en = StringField(_l("Room in English (optional)"), validators=[Optional(), Length(max=80)])
    capacity = IntegerField(_l("Seats"), validators=[DataRequired(), NumberRange(min=1, max=500)])
    mode = SelectField(_l("How seats are given"), choices=[])
    term_starts = DateField(_l("Term starts"), validators=[DataRequired()])
    term_ends = DateField(_l("Term ends"), validators=[DataRequired()])
    signup_opens_at = DateTimeLocalField(_l("Sign-up opens"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M")
    signup_closes_at = DateTimeLocalField(_l("Sign-up closes"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M",
                                          description=_l("For a lottery: when entries close and the draw is made."))
    weekdays = CheckboxesField(_l("Every week on"), choices=[], coerce=int, validators=[Optional()])
    dates = TextAreaField(_l("Or on these dates"), validators=[Optional(), Length(max=4000)],
                          description=_l("One date per line, e.g. 2026-12-05."))
    start_time = TimeField(_l("Starts at"), validators=[DataRequired()])
    minutes = IntegerField(_l("Minutes per class"), default=90, validators=[DataRequired(), NumberRange(min=15, max=480)])
    eligibility = StringField(_l("Who can join (e.g. minimum age)"), validators=[Optional(), Length(max=120)])
    eligibility_en = StringField(_l("Who can join, in English"), validators=[Optional(), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    description_en = TextAreaField(_l("Description in English (optional)"), validators=[Optional(), Length(max=3000)])
    submit = SubmitField(_l("Save"))


class AssistedSignupForm(Form):
    name = StringField(_l("Resident's name"), validators=[DataRequired(), Length(max=20)])
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Sign up on their behalf"))


class SurveyForm(Form):
    question = StringField(_l("Question"), validators=[DataRequired(), Length(max=120)])
    question_en = StringField(_l("Question in English (optional)"), validators=[Optional(), Length(max=160)])
    options = TextAreaField(_l("Choices, one per line"), validators=[DataRequired(), Length(max=1000)])
    options_en = TextAreaField(_l("Choices in English, one per line, same order (optional)"),
                               validators=[Optional(), Length(max=1500)])
    submit = SubmitField(_l("Create survey"))


class ExpertForm(Form):
    name = StringField(_l("Full name (staff only)"), validators=[DataRequired(), Length(max=20)])
    mobile = StringField(_l("Mobile number (staff only)"), validators=[DataRequired(), Length(max=20)])
    display_name = StringField(_l("Name shown on the kiosk"), validators=[Optional(), Length(max=20)],
                               description=_l("As the expert agreed, e.g. 张老师 or 王*兰; empty: the name masked."))
    skill_ids = CheckboxesField(_l("Skills"), choices=[], coerce=int,
                                validators=[DataRequired(message=_l("Please choose at least one skill."))])
    intro = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=300)])
    intro_en = TextAreaField(_l("Introduction in English (optional)"), validators=[Optional(), Length(max=500)])
    availability = StringField(_l("Usually available"), validators=[Optional(), Length(max=80)])
    availability_en = StringField(_l("Usually available, in English"), validators=[Optional(), Length(max=120)])
    weekly_cap = IntegerField(_l("Requests a week at most"), default=3, validators=[DataRequired(), NumberRange(1, 20)])
    consent_on = DateField(_l("Consent to be listed, given on"), validators=[DataRequired()])
    consent_scope = StringField(_l("What may be shown"), validators=[DataRequired(), Length(max=200)],
                                description=_l("e.g. surname and skills, introduction, times; no photo"))
    submit = SubmitField(_l("Save"))


class SkillForm(Form):
    name = StringField(_l("Skill"), validators=[DataRequired(), Length(max=20)])
    name_en = StringField(_l("Skill in English (optional)"), validators=[Optional(), Length(max=40)])
    category = SelectField(_l("Category"), choices=[])
    submit = SubmitField(_l("Add skill"))


# A reason or note typed in a console row's one-line box (maxlength 200 in its template).
# The wall's and the matchmaking board's services keep at most this much: longer is refused.
REASON_MAX = 200
LONG_REASON = _l("A reason has at most %(n)d characters.", n=REASON_MAX)
LONG_NOTE = _l("A note has at most %(n)d characters.", n=REASON_MAX)


def within_limit(text: str | None, message, field: str) -> str:
    """A reason or note as typed; Refused, for that field, when longer than REASON_MAX."""
    text = text or ""
    if len(" ".join(text.split())) > REASON_MAX:
        raise Refused(message, field)
    return text


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
        DataRequired(message=_l("Please write the notice's title.")), _at_most(TITLE_MAX)])
    body = TextAreaField(_l("Notice text"), validators=[Optional(), _at_most(BODY_MAX)], filters=[_one_newline])
    title_en = StringField(_l("Notice title in English (optional)"), validators=[Optional(), _at_most(TITLE_EN_MAX)])
    body_en = TextAreaField(_l("Notice text in English (optional)"), validators=[Optional(), _at_most(BODY_EN_MAX)],
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
