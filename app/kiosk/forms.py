from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import AnyOf

from ..config import LOCALES


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[AnyOf(LOCALES)])
    next = HiddenField()


class LargeTextForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField(_l("Large text"))
