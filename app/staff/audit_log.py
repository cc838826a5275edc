"""The audit log in the console (admins): newest first, filtered by person, area and days,
older entries by keyset. The log itself is app/audit.py's."""

from datetime import datetime, time, timedelta

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import format_datetime, to_utc
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from .. import audit
from ..clock import to_site, utcnow
from ..exports import KINDS, Table, download
from ..extensions import db
from ..forms import Form
from ..i18n import lazy_gettext as _l, lazy_pgettext
from ..inputs import int_or_none
from ..web import page_or_fragment
from .access import staff_required
from . import bp, labels
from .labels import ACTOR_KINDS, AREA_LABELS

# --- forms -------------------------------------------------------------------------------

class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    person = SelectField(_l("Person"), choices=[], validators=[Optional()], coerce=str)
    area = SelectField(_l("Area"), choices=[], validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


# --- audit log (admins) ------------------------------------------------------------------

def _filters(form: AuditFilterForm) -> dict:
    form.person.choices = [SelectChoice("", _("Everyone"))] + [
        SelectChoice(key, name if name != key.partition(":")[0] else ACTOR_KINDS.get(name, name))
        for key, name in audit.actors()]
    form.area.choices = [SelectChoice("", _("All areas"))] + [SelectChoice(area, AREA_LABELS[area])
                                                               for area in audit.AREAS]
    if not form.validate():
        return {}
    return {
        "actor": form.person.data or None,
        "area": form.area.data or None,
        # Filter dates are the site's days; the log is in UTC.
        "since": to_utc(datetime.combine(form.since.data, time())) if form.since.data else None,
        "until": to_utc(datetime.combine(form.until.data + timedelta(days=1), time())) if form.until.data else None,
    }


@bp.get("/audit")
@staff_required("admin")
def audit_log():
    form = AuditFilterForm(request.args)
    filters = _filters(form)
    before = request.args.get("before", type=int_or_none)
    entries = audit.browse(before=before, **filters)
    older_url = None
    if len(entries) == audit.PAGE_SIZE:
        older_url = url_for("staff.audit_log", **{**request.args.to_dict(), "before": entries[-1].id})
    exports = {kind: url_for("staff.audit_file", kind=kind, **{key: value for key, value in request.args.items()
                                                                if key != "before"}) for kind in KINDS}
    return page_or_fragment("staff/audit.html", {"audit-rows": "staff/_audit_rows.html"},
                            form=form, entries=entries, older_url=older_url, exports=exports)


# The most rows one export holds: a year of a busy community's log.
EXPORT_ROWS = 50_000


@bp.get("/audit.<any(csv, xlsx):kind>")
@staff_required("admin")
def audit_file(kind: str):
    """The filtered log as a file, newest first, in the console's language."""
    entries = audit.browse(**_filters(AuditFilterForm(request.args)), limit=EXPORT_ROWS)
    table = Table(_l("Audit log"), [_l("When"), _l("Who"), _l("Area"), _l("Action"), _l("Record"), _l("Detail"),
                                    lazy_pgettext("network address", "From")])
    for entry in entries:
        table.rows.append([
            format_datetime(entry.at, "yyyy-MM-dd HH:mm:ss"),
            entry.actor_name or str(ACTOR_KINDS.get(entry.actor_kind, "")),
            str(AREA_LABELS.get(entry.area, entry.area)), str(labels.action(entry.action)),
            labels.target(entry.target_type, entry.target_id), labels.detail(entry.detail, entry.area),
            entry.ip or ""])
    audit.record("staff", "audit-exported", detail={"rows": len(entries), "format": kind})
    db.session.commit()
    return download(table, kind, f"{_l('Audit log')}-{to_site(utcnow()):%Y%m%d}")
