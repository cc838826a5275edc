"""Where a record came from, in words: the keys stored with posts and cases ("kiosk:2",
"staff:3", "household:4", "demo") read as the kiosk's name or the staff member's, never as a code."""

from sqlalchemy import select

from ..extensions import db
from ..households.services import names as household_names
from ..i18n import lazy_gettext as _l
from ..inputs import int_or_none
from ..kiosk.models import Kiosk
from .models import StaffMember

FIXED = {
    "demo": _l("Demo content"),
    "seed": _l("Demo content"),
    "system": _l("The system"),
}


def sources(keys) -> dict[str, str]:
    """Each key with what staff read for it: "大屏：大厅左侧", "工作人员：王芳"."""
    wanted: dict[str, set[int]] = {"kiosk": set(), "staff": set(), "household": set()}
    for key in set(keys):
        kind, _, number = (key or "").partition(":")
        if kind in wanted and int_or_none(number) is not None:
            wanted[kind].add(int(number))
    kiosks = dict(db.session.execute(select(Kiosk.id, Kiosk.name).where(Kiosk.id.in_(wanted["kiosk"]))).all()) \
        if wanted["kiosk"] else {}
    staff = dict(db.session.execute(
        select(StaffMember.id, StaffMember.display_name).where(StaffMember.id.in_(wanted["staff"]))).all()) \
        if wanted["staff"] else {}
    households = household_names(wanted["household"])
    named = {}
    for key in set(keys):
        kind, _, number = (key or "").partition(":")
        number = int_or_none(number)
        if kind == "kiosk":
            named[key] = _l("Kiosk %(name)s", name=kiosks.get(number) or _l("(removed)"))
        elif kind == "household":
            named[key] = _l("Household phone: %(name)s", name=households.get(number) or _l("(removed)"))
        elif kind == "staff":
            named[key] = _l("Staff: %(name)s", name=staff.get(number) or _l("(removed)"))
        else:
            named[key] = FIXED.get(key, _l("Other"))
    return named
