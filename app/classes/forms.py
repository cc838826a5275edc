from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..kiosk.handoff import HandoffForm, declare_form


class SignupForm(Form):
    name = StringField(_l("Your name"), validators=[
        DataRequired(message=_l("Please enter your name.")), Length(max=lengths.NAME)])
    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(message=_l("Please enter an 11-digit mobile number."))])


class CancelForm(Form):
    code = StringField(_l("Sign-up code"), validators=[DataRequired(message=_l("Please enter the 8-digit code."))])
    tail = StringField(_l("Last 4 digits of the mobile number"), validators=[
        DataRequired(message=_l("Please enter the last 4 digits.")),
        Length(min=4, max=4, message=_l("Please enter the last 4 digits."))])


class RateForm(Form):
    code = StringField(_l("Sign-up code"), validators=[DataRequired(message=_l("Please enter the 8-digit code."))])
    stars = RadioField(_l("How was the course?"), coerce=int,
                       choices=[SelectChoice(n, str(n)) for n in range(5, 0, -1)],
                       validators=[DataRequired(message=_l("Please choose 1 to 5 stars."))])
    comment = TextAreaField(_l("A comment (optional)"), validators=[Optional(), Length(max=lengths.COMMENT)])


class LookupForm(Form):
    class Meta:
        csrf = False  # looking up a sign-up changes nothing

    code = StringField(_l("Sign-up code"))


# What a kiosk may hand on to a phone (app/kiosk/handoff.py); consent boxes never are.
declare_form("class-signup", HandoffForm("classes.signup_form", ("classes.sign_up",), ("name", "mobile")))
declare_form("class-survey", HandoffForm("classes.survey", ("classes.answer_survey",), ("option",), many=("option",)))
