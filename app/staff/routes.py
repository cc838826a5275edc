from datetime import datetime, time, timedelta

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import to_utc
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from .. import audit
from ..inputs import int_or_none
from ..kiosk import devices
from ..web import found_or_404, local_target, page_or_fragment
from . import bp, nav, services
from .access import staff_required
from .forms import (AccountForm, ActionForm, AuditFilterForm, ChangePasswordForm, EnrollKioskForm,
                    NewAccountForm, RenameKioskForm, SignInForm)


@bp.app_context_processor
def console_context():
    # A function, not values: the counts are queried only by the pages that show the
    # navigation, not by every row an htmx action re-renders.
    return {"console_nav": nav.for_page}


# --- signing in and out ------------------------------------------------------------------

@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("staff/sign_in.html", form=SignInForm(next=request.args.get("next")))
    return render_template("staff/home.html", kiosks=devices.kiosk_statuses())


@bp.post("/sign-in")
def sign_in():
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("staff/sign_in.html", form=form), 422
    result = services.sign_in(form.username.data, form.password.data)
    if result.member is None:
        # A refused try was never checked: its password may have been right.
        messages = [] if result.refused else [_("That username and password do not match.")]
        if result.retry_after:
            messages.append(_("Please wait %(seconds)d seconds before trying again.", seconds=result.retry_after))
        form.password.errors.append(" ".join(messages))
        return render_template("staff/sign_in.html", form=form), 429 if result.refused else 422, \
            ({"Retry-After": str(result.retry_after)} if result.retry_after else {})
    # A fresh session at sign-in: nothing from before it carries over.
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(result.member)
    return redirect(local_target(form.next.data, "staff.home"), code=303)


@bp.post("/sign-out")
@staff_required()
def sign_out():
    logout_user()  # ends the server-side session too (access.end_server_session)
    return redirect(url_for("staff.home"), code=303)


@bp.get("/nav")
@staff_required()
def nav_badges():
    """Polled by the console: 204 while the counts are unchanged."""
    items = nav.entries()
    current = nav.version(items)
    if request.args.get("v") == current:
        return "", 204
    return render_template("staff/_nav.html", nav_items=items, nav_version=current)


@bp.get("/password")
@staff_required()
def password_form():
    return render_template("staff/password.html", form=ChangePasswordForm(), changed=False)


@bp.post("/password")
@staff_required()
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(current_user, form.current.data, form.new.data)
        except services.StaffError as error:
            form.new.errors.append(str(error))
        else:
            return render_template("staff/password.html", form=None, changed=True)
    return render_template("staff/password.html", form=form, changed=False), 422


# --- accounts (admins) -------------------------------------------------------------------

def _accounts_page(new_form=None, *, created=None, password=None, status=200, error=None):
    return render_template(
        "staff/accounts.html", members=services.members(), new_form=new_form or NewAccountForm(formdata=None),
        action_form=ActionForm(), created=created, password=password, error=error,
    ), status


@bp.get("/accounts")
@staff_required("admin")
def accounts():
    return _accounts_page()


@bp.post("/accounts")
@staff_required("admin")
def create_account():
    form = NewAccountForm()
    if form.validate_on_submit():
        password = services.generate_password()
        try:
            services.create_staff(form.username.data, password, roles=form.roles.data,
                                  display_name=form.display_name.data)
        except services.StaffError as error:
            form.username.errors.append(str(error))
        else:
            return _accounts_page(created=form.username.data.strip().lower(), password=password)
    return _accounts_page(form, status=422)


def _member_or_404(member_id: int):
    return found_or_404(services.get_member(member_id))


@bp.get("/accounts/<int:member_id>")
@staff_required("admin")
def account(member_id: int):
    member = _member_or_404(member_id)
    form = AccountForm(formdata=None, display_name=member.display_name, roles=sorted(member.role_set))
    return render_template("staff/account.html", member=member, form=form)


@bp.post("/accounts/<int:member_id>")
@staff_required("admin")
def edit_account(member_id: int):
    member = _member_or_404(member_id)
    form = AccountForm()
    if form.validate_on_submit():
        try:
            services.update_member(member.id, display_name=form.display_name.data, roles=form.roles.data)
        except services.StaffError as error:
            form.roles.errors.append(str(error))
        else:
            return redirect(url_for("staff.accounts"), code=303)
    return render_template("staff/account.html", member=member, form=form), 422


@bp.post("/accounts/<int:member_id>/enabled")
@staff_required("admin")
def set_account_enabled(member_id: int):
    member = _member_or_404(member_id)
    try:
        services.set_enabled(member.id, request.form.get("enabled") == "1")
    except services.StaffError as error:
        return _accounts_page(error=str(error), status=422)
    return redirect(url_for("staff.accounts"), code=303)


@bp.post("/accounts/<int:member_id>/password")
@staff_required("admin")
def reset_password(member_id: int):
    member = _member_or_404(member_id)
    password = services.generate_password()
    services.set_password(member.id, password)
    return _accounts_page(created=member.username, password=password)


# --- kiosks (admins) ---------------------------------------------------------------------

def _kiosks_page(form=None, status=200, *, added=None, error=None):
    return page_or_fragment(
        "staff/kiosks.html", {"kiosk-list": "staff/_kiosk_list.html"},
        kiosks=devices.kiosk_statuses(include_revoked=True), form=form or EnrollKioskForm(formdata=None),
        action_form=ActionForm(), added=added, error=error,
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
            return _kiosks_page(added=kiosk_id)
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
        return _kiosks_page()
    return _kiosks_page(status=422, error=_("A kiosk's name has 1 to 60 characters."))


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@staff_required("admin")
def revoke_kiosk(kiosk_id: int):
    kiosk = _kiosk_or_404(kiosk_id)
    devices.revoke(kiosk.id)
    return _kiosks_page()


@bp.post("/kiosks/revoke-all")
@staff_required("admin")
def revoke_all_kiosks():
    devices.revoke_all()
    return _kiosks_page()


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
