"""Who may open a staff route: signed-in staff, holding one of the route's roles."""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user, user_logged_out
from htmx_flask import make_response

from ..communities import routing
from ..extensions import login
from . import bp, services


@login.user_loader
def load_user(session_key: str):
    return services.load_session(session_key)


@routing.staff_community_loader
def working_community() -> int | None:
    return current_user.working_community_id if current_user.is_authenticated else None


@user_logged_out.connect
def end_server_session(app, user=None, **extra):
    """Signing out, from the console or by a kiosk's idle reset, ends the session on the
    server, not only in the browser."""
    if user is not None and getattr(user, "session_key", None):
        services.sign_out(user)


@login.unauthorized_handler
def ask_to_sign_in():
    target = url_for("staff.home", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if request.htmx:
        return make_response("", 401, redirect=target)
    if request.method != "GET":
        abort(401)
    return redirect(target)


# An account whose password an admin gave out (a new account, a reset) opens only these
# until its holder has chosen a password of their own.
CHANGE_PASSWORD_FIRST = ("staff.password_form", "staff.change_password", "staff.sign_out", "staff.sign_in")


@bp.before_request
def change_password_first():
    if (not current_user.is_authenticated or not current_user.must_change_password
            or request.endpoint in CHANGE_PASSWORD_FIRST):
        return None
    target = url_for("staff.password_form")
    if request.htmx:
        return make_response("", 403, redirect=target)
    if request.method != "GET":
        abort(403)
    return redirect(target)


def staff_required(*roles: str):
    """Signed-in staff only; with roles, one of them (admins pass every check)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorate
