"""Kiosks in the console (admins): enrol a screen by its pairing code, rename it, revoke one
or all. The work is app/kiosk/devices.py's."""

from flask import redirect, request, url_for
from flask_babel import gettext as _
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import lengths
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..kiosk import devices
from ..web import found_or_404, page_or_fragment
from . import bp
from .access import staff_required
from .forms import ActionForm, confirm_page

# --- forms -------------------------------------------------------------------------------

class EnrollKioskForm(Form):
    code = StringField(_l("Pairing code shown on the screen"), validators=[DataRequired(), Length(min=6, max=12)])
    name = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=lengths.KIOSK_NAME)],
                       description=_l("Where it stands, e.g. “Lobby, left”"))
    submit = SubmitField(_l("Add kiosk"))


class RenameKioskForm(Form):
    name = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=lengths.KIOSK_NAME)])
    submit = SubmitField(_l("Rename"))


# --- kiosks (admins) ---------------------------------------------------------------------

def _kiosks_page(form=None, status=200, *, error=None):
    return page_or_fragment(
        "staff/kiosks.html", {"kiosk-list": "staff/_kiosk_list.html"},
        kiosks=devices.kiosk_statuses(include_revoked=True), form=form or EnrollKioskForm(formdata=None),
        action_form=ActionForm(), added=request.args.get("added", type=int),
        error=error,
    ), status


@bp.get("/kiosks")
@staff_required("admin")
def kiosks():
    return _kiosks_page()


@bp.post("/kiosks")
@staff_required("admin")
def enroll_kiosk():
    form = EnrollKioskForm()
    if form.validate_on_submit():
        try:
            kiosk_id = devices.enroll(form.code.data, form.name.data)
        except devices.DeviceError as error:
            form.code.errors.append(str(error))
        else:
            return redirect(url_for("staff.kiosks", added=kiosk_id), code=303)
    return _kiosks_page(form, status=422)


def _kiosk_or_404(kiosk_id: int):
    return found_or_404(devices.get_kiosk(kiosk_id))


@bp.post("/kiosks/<int:kiosk_id>/name")
@staff_required("admin")
def rename_kiosk(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    form = RenameKioskForm()
    if form.validate_on_submit():
        try:
            devices.rename(kiosk.id, form.name.data)
        except devices.DeviceError as error:
            return _kiosks_page(status=422, error=str(error))
        return _back_to_kiosks()
    return _kiosks_page(status=422, error=_("A kiosk's name has 1 to %(n)d characters.", n=lengths.KIOSK_NAME))


def _back_to_kiosks():
    """The list again: swapped in place for htmx, else by a redirect (a reload posts nothing)."""
    if request.htmx:
        return _kiosks_page()
    return redirect(url_for("staff.kiosks"), code=303)


@bp.get("/kiosks/<int:kiosk_id>/revoke")
@staff_required("admin")
def confirm_revoke_kiosk(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    return confirm_page(_l("Revoke the kiosk “%(name)s”?", name=kiosk.name),
                        _l("The screen stops acting as a kiosk at its next check, within seconds: it shows the "
                           "boards read-only and a pairing code. To use it again, pair it anew."),
                        button=_l("Revoke this kiosk"), back=url_for("staff.kiosks"))


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@staff_required("admin")
def revoke_kiosk(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    devices.revoke(kiosk.id)
    return redirect(url_for("staff.kiosks"), code=303)


@bp.get("/kiosks/revoke-all")
@staff_required("admin")
def confirm_revoke_all_kiosks():
    return confirm_page(_l("Revoke all kiosks?"),
                        _l("Every kiosk (%(num)d now) stops acting as a kiosk at its next check: residents can no "
                           "longer post, sign up or ask from any of them. Each must be paired anew.",
                           num=len(devices.kiosk_statuses())),
                        button=_l("Revoke all kiosks"), back=url_for("staff.kiosks"))


@bp.post("/kiosks/revoke-all")
@staff_required("admin")
def revoke_all_kiosks():
    devices.revoke_all()
    return redirect(url_for("staff.kiosks"), code=303)
