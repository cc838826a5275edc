from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

from ..config import LOCALES


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[AnyOf(LOCALES)])
    next = HiddenField()


class LargeTextForm(FlaskForm):
    next = HiddenField()
