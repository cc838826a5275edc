"""The console's base: signing in and out, the home page, the navigation and its poll.
Each area's console views are in their own module beside this one (see __init__.py)."""

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..inputs import int_or_none
from ..kiosk import devices
from ..web import local_target, poll
from . import bp, nav, services
from .access import staff_required
from .forms import SignInForm


@bp.app_context_processor
def console_context():
    # A function, not values: the counts are queried only by the pages that show the
    # navigation, not by every row an htmx action re-renders.
    return {"console_nav": nav.for_page, "working_places": _working_places}


def _working_places():
    """The communities the signed-in person may switch to (the switcher shows with two or more)."""
    return services.communities_of(current_user) if current_user.is_authenticated else []


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


@bp.post("/community")
@staff_required()
def switch_community():
    """Work in another of one's communities: the console then shows only that one."""
    try:
        services.switch_community(current_user, int_or_none(request.form.get("community_id")) or 0)
    except services.StaffError as error:
        return render_template("staff/home.html", kiosks=devices.kiosk_statuses(), error=str(error)), 422
    return redirect(url_for("staff.home"), code=303)


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
    return poll(current, lambda: render_template("staff/_nav.html", nav_items=items, nav_version=current))
