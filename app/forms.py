"""The base of every form: rules each field of its kind keeps, whoever writes the form.

A one-line box refuses line breaks (a browser cannot type one there; a script can, and a
name with a line break breaks every page and CSV that shows it). A number box refuses
what PostgreSQL's INTEGER cannot hold. Control characters never get this far: app/inputs.py.
"""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import NumberRange, ValidationError

from .i18n import lazy_gettext as _l
from .inputs import DB_INT_MAX


class SingleLine:
    """Refuse a line break (\\r or \\n) in a one-line field."""

    message = _l("Please write this on one line.")

    def __call__(self, form, field):
        if isinstance(field.data, str) and ("\n" in field.data or "\r" in field.data):
            raise ValidationError(self.message)


def _fits_database(field) -> bool:
    return any(isinstance(validator, NumberRange) and validator.max is not None and validator.max <= DB_INT_MAX
               and validator.min is not None and validator.min >= -DB_INT_MAX - 1
               for validator in field.validators)


class Form(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            # A new list: the one given to the field's class is shared by every instance.
            if isinstance(field, StringField) and not isinstance(field, (TextAreaField, HiddenField)):
                # Hidden values are the page's, not typed: their views check them (local_target).
                field.validators = [*field.validators, SingleLine()]
            elif isinstance(field, IntegerField) and not _fits_database(field):
                field.validators = [*field.validators, NumberRange(min=-DB_INT_MAX - 1, max=DB_INT_MAX)]
            return field
