"""Console forms shared by several console modules, and the sign-in form of the console's
base (routes.py). Each area's own forms are at the top of its console module
(app/staff/<area>.py), under "# --- forms"."""

from flask import render_template
from wtforms import HiddenField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from .. import lengths
from ..errors import Refused
from ..forms import Form
from ..i18n import lazy_gettext as _l


class CheckboxesField(SelectMultipleField):
    """A choice of several, as a list of checkboxes (roles, weekdays, skills)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=lengths.USERNAME)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=lengths.PASSWORD_TYPED)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ActionForm(Form):
    """A button that changes something: only the CSRF token travels."""


# A reason typed in a console row's one-line box (its maxlength is lengths.REASON too).
# The wall's and the matchmaking board's services keep at most this much: longer is refused.
LONG_REASON = _l("A reason has at most %(n)d characters.", n=lengths.REASON)


def within_limit(text: str | None, message, field: str, limit: int = lengths.REASON) -> str:
    """A reason or note as typed; Refused, for that field, when longer than its limit."""
    text = text or ""
    if len(" ".join(text.split())) > limit:
        raise Refused(message, field)
    return text


def confirm_page(title, *consequences, button, back: str, danger: bool = True, action: str | None = None,
                 fields: dict | None = None, error=None):
    """The second step before an action that cannot be undone: a page naming what will
    happen, whose button posts to ``action`` (by default the page's own address)."""
    return render_template("staff/confirm.html", title=title, consequences=consequences, button=button,
                           back=back, danger=danger, action=action, fields=fields, error=error,
                           action_form=ActionForm())
