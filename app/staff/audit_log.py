"""The audit log in the console (admins): newest first, filtered by person, area and days,
older entries by keyset. The log itself is app/audit.py's."""

from datetime import datetime, time, timedelta

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from .. import audit
from ..forms import Form
from ..inputs import int_or_none
from ..web import page_or_fragment
from . import bp
from .access import staff_required

# --- forms -------------------------------------------------------------------------------

class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    person = SelectField(_l("Person"), choices=[], validators=[Optional()], coerce=str)
    area = SelectField(_l("Area"), choices=[], validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


# --- audit log (admins) ------------------------------------------------------------------

@bp.get("/audit")
@staff_required("admin")
def audit_log():
    form = AuditFilterForm(request.args)
    form.person.choices = [SelectChoice("", _("Everyone"))] + [SelectChoice(key, name) for key, name in audit.actors()]
    form.area.choices = [SelectChoice("", _("All areas"))] + [SelectChoice(area, area) for area in audit.AREAS]
    filters = {}
    if form.validate():
        filters = {
            "actor": form.person.data or None,
            "area": form.area.data or None,
            # Filter dates are the site's days; the log is in UTC.
            "since": to_utc(datetime.combine(form.since.data, time())) if form.since.data else None,
            "until": to_utc(datetime.combine(form.until.data + timedelta(days=1), time()))
            if form.until.data else None,
        }
    before = request.args.get("before", type=int_or_none)
    entries = audit.browse(before=before, **filters)
    older_url = None
    if len(entries) == audit.PAGE_SIZE:
        older_url = url_for("staff.audit_log", **{**request.args.to_dict(), "before": entries[-1].id})
    return page_or_fragment("staff/audit.html", {"audit-rows": "staff/_audit_rows.html"},
                            form=form, entries=entries, older_url=older_url)
