from wtforms import HiddenField
from wtforms.validators import AnyOf

from ..config import LOCALES
from ..forms import Form


class LanguageForm(Form):
    locale = HiddenField(validators=[AnyOf(LOCALES)])
    next = HiddenField()


class LargeTextForm(Form):
    next = HiddenField()
