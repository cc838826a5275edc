from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..kiosk.handoff import HandoffForm, declare_form
from .labels import NEED_LABELS
from .models import NEEDS


class AskForm(Form):
    needs = SelectMultipleField(_l("What do you need?"), choices=[SelectChoice(n, NEED_LABELS[n]) for n in NEEDS],
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                validators=[DataRequired(message=_l("Please tap what you need."))])
    # Its length is checked by services.ask, whose message names the limit.
    text = TextAreaField(_l("In a few words (optional)"), validators=[Optional()],
                         render_kw={"maxlength": lengths.TEXT})
    name = StringField(_l("Your name"), validators=[DataRequired(message=_l("Please enter your name.")),
                                                    Length(max=lengths.NAME)])
    mobile = StringField(_l("Mobile number"), validators=[
        DataRequired(message=_l("Please enter an 11-digit mobile number."))])


class ReceiptForm(Form):
    class Meta:
        csrf = False  # looking up a request changes nothing

    code = StringField(_l("Receipt code"))


# What a kiosk may hand on to a phone (app/kiosk/handoff.py); consent boxes never are.
declare_form("expert-request", HandoffForm("experts.ask_form", ("experts.ask",), ("needs", "text", "name", "mobile"),
                                            many=("needs",)))
