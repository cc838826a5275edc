from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..kiosk.handoff import HandoffForm, declare_form
from .labels import GENDER_LABELS, INTEREST_LABELS, LOOKING_LABELS, age_label
from .models import AGE_BANDS, GENDERS, INTERESTS, LOOKING_FOR

CHOOSE = _l("Please choose.")


class CardForm(Form):
    """The public part of a card; CardPrivateForm adds what only the matchmaker sees."""

    gender = RadioField(_l("I am"), choices=[SelectChoice(g, GENDER_LABELS[g]) for g in GENDERS],
                        validators=[DataRequired(message=CHOOSE)])
    age_band = RadioField(_l("Age"), choices=[SelectChoice(a, age_label(a)) for a in AGE_BANDS],
                          validators=[DataRequired(message=CHOOSE)])
    area = RadioField(_l("Where I live (area only)"), choices=[], validators=[DataRequired(message=CHOOSE)])
    interests = SelectMultipleField(_l("My interests (1 to 5)"),
                                    choices=[SelectChoice(i, INTEREST_LABELS[i]) for i in INTERESTS],
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                    validators=[DataRequired(message=CHOOSE)])
    looking_for = RadioField(_l("I am looking for"), choices=[SelectChoice(w, LOOKING_LABELS[w]) for w in LOOKING_FOR],
                             validators=[DataRequired(message=CHOOSE)])
    # Its length is checked by the service, whose message names the limit.
    intro = TextAreaField(_l("A few words about me (optional)"), validators=[Optional()],
                          render_kw={"maxlength": lengths.CARD_INTRO})


class CardPrivateForm(CardForm):
    real_name = StringField(_l("Your real name (the matchmaker only)"),
                            validators=[DataRequired(message=CHOOSE), Length(max=lengths.NAME)])
    mobile = StringField(_l("Mobile number (the matchmaker only)"), validators=[DataRequired(message=CHOOSE)])
    adult = BooleanField(_l("I am 18 or over."))
    consent_public = BooleanField(
        _l("I agree that my card (without my name or number) is shown on the kiosks for 90 days."))
    consent_matchmaker = BooleanField(_l("I agree that the matchmaker sees my name and number to put me in touch."))


class MeetForm(Form):
    own_code = StringField(_l("Your own card's code (if you have a card)"), validators=[Optional()])
    name = StringField(_l("Or your name"), validators=[Optional(), Length(max=lengths.NAME)])
    mobile = StringField(_l("and your mobile number"), validators=[Optional()])


class CodeForm(Form):
    class Meta:
        csrf = False  # looking up a card changes nothing

    code = StringField(_l("Card code"))


# What a kiosk may hand on to a phone (app/kiosk/handoff.py); consent boxes never are.
declare_form("friends-card", HandoffForm("friends.new", ("friends.create",),
                                        ("gender", "age_band", "area", "interests", "looking_for", "intro",
                                         "real_name", "mobile"), many=("interests",)))
declare_form("friends-meet", HandoffForm("friends.meet_form", ("friends.meet",), ("own_code", "name", "mobile")))
