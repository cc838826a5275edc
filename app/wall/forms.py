from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..kiosk.handoff import HandoffForm, declare_form
from .labels import KIND_LABELS, REASON_LABELS
from .models import REPORT_REASONS, RESIDENT_KINDS


class PostForm(Form):
    kind = RadioField(_l("What kind of message?"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in RESIDENT_KINDS],
                      validators=[DataRequired(message=_l("Please choose what kind of message this is."))])
    text = TextAreaField(_l("Your message"), validators=[
        DataRequired(message=_l("Please write your message.")),
        Length(max=lengths.TEXT, message=_l("A message has at most %(max)d characters."))])
    nickname = StringField(_l("Nickname (optional)"), validators=[Optional(), Length(max=lengths.NICKNAME)])


class ReportForm(Form):
    reason = RadioField(_l("Why should staff look at this?"),
                        choices=[SelectChoice(r, REASON_LABELS[r]) for r in REPORT_REASONS],
                        validators=[DataRequired(message=_l("Please choose a reason."))])


class ReceiptForm(Form):
    class Meta:
        csrf = False  # looking up a receipt changes nothing

    code = StringField(_l("Receipt code"), validators=[DataRequired(), Length(min=8, max=12)])


# What a kiosk may hand on to a phone (app/kiosk/handoff.py); consent boxes never are.
declare_form("wall-post", HandoffForm("wall.new", ("wall.create",), ("kind", "text", "nickname")))
