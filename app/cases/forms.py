from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..i18n import localized
from ..inputs import int_or_none
from ..kiosk.handoff import HandoffForm, declare_form
from .labels import SATISFACTION_LABELS
from .models import SATISFACTION


def _optional_int(value):
    if isinstance(value, int):
        return value
    return int_or_none(value) if value not in (None, "") else None


class CaseForm(Form):
    """A resident's problem at the kiosk (or on the phone it was handed to)."""

    category = RadioField(_l("What is the problem about?"), coerce=_optional_int,
                          validators=[DataRequired(message=_l("Please choose what the problem is about."))])
    grid = SelectField(_l("Which grid?"), coerce=_optional_int, validators=[Optional()])
    place = StringField(_l("Where? (building, unit or place)"), validators=[Optional(), Length(max=lengths.LOCATION)])
    text = TextAreaField(_l("What is the problem?"), validators=[
        DataRequired(message=_l("Please say what the problem is.")),
        Length(max=lengths.TEXT, message=_l("A message has at most %(max)d characters."))])
    contact = StringField(_l("A phone number for the call-back (optional, never shown)"),
                          validators=[Optional(), Length(max=lengths.CONTACT)])

    def offer(self, rules, grids) -> "CaseForm":
        self.category.choices = [SelectChoice(rule.id, localized(rule.category, "name")) for rule in rules]
        self.grid.choices = [SelectChoice("", _l("Not sure"))] + [SelectChoice(grid.id, grid.name) for grid in grids]
        return self


class LookupForm(Form):
    class Meta:
        csrf = False  # looking up a receipt changes nothing

    code = StringField(_l("Receipt code"), validators=[DataRequired(), Length(min=8, max=12)])


class CheckBackForm(Form):
    code = StringField(_l("Receipt code"), validators=[DataRequired(), Length(min=8, max=12)])
    fixed = RadioField(_l("Is the problem fixed?"),
                       choices=[SelectChoice("yes", _l("Yes, fixed")), SelectChoice("no", _l("No, not fixed"))],
                       validators=[DataRequired(message=_l("Please say whether the problem is fixed."))])
    satisfaction = RadioField(_l("How satisfied are you?"),
                              choices=[SelectChoice(s, SATISFACTION_LABELS[s]) for s in SATISFACTION],
                              validators=[DataRequired(message=_l("Please choose how satisfied you are."))])


# What a kiosk may hand on to a phone (app/kiosk/handoff.py).
declare_form("case-report", HandoffForm("cases.new", ("cases.create",), ("category", "grid", "place", "text")))
