from flask import abort, current_app, g, render_template, request
from htmx_flask import make_response

from .. import housekeeping
from ..clock import utcnow
from ..i18n import current_locale
from ..notices import services as notices
from ..web import page_or_fragment, reload_or_back
from . import bp, devices, services
from .access import can_act
from .forms import LanguageForm, LargeTextForm
from .tiles import available_tiles

NOTICES_ON_HOME = 3
TEN_YEARS = 10 * 365 * 24 * 3600


@bp.before_app_request
def identify_kiosk():
    if request.endpoint == "static":
        return
    g.kiosk = devices.kiosk_for_token(request.cookies.get(devices.DEVICE_COOKIE))


@bp.get("/")
def home():
    return page_or_fragment(
        "kiosk/home.html",
        {"notices-strip": "kiosk/_notices_strip.html"},
        tiles=available_tiles(),
        notices=notices.current_notices(current_locale(), limit=NOTICES_ON_HOME),
    )


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    services.choose_locale(form.locale.data)
    return reload_or_back(form.next.data)


@bp.post("/large-text")
def toggle_large_text():
    form = LargeTextForm()
    if not form.validate_on_submit():
        abort(400)
    services.toggle_large_text()
    return reload_or_back(form.next.data)


def _device_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Strict",
                        secure=request.is_secure)


@bp.post("/device/pairing")
def pairing():
    """Polled by a browser that is not a kiosk: its code, or its new device token."""
    if g.kiosk is not None:
        return make_response("", 200, refresh=True)
    state = devices.pairing_for(request.cookies.get(devices.CLAIM_COOKIE))
    if state.device_token:
        response = make_response("", 200, refresh=True)
        _device_cookie(response, devices.DEVICE_COOKIE, state.device_token, TEN_YEARS)
        response.delete_cookie(devices.CLAIM_COOKIE)
        return response
    if state.code is None:  # another poll from this browser is collecting the token
        return make_response("", 204)
    response = make_response(render_template("kiosk/_pairing.html", pairing_code=state.code))
    if state.new_claim:
        _device_cookie(response, devices.CLAIM_COOKIE, state.new_claim,
                       int(devices.PAIRING_LIFETIME.total_seconds()))
    return response


@bp.post("/device/heartbeat")
def heartbeat():
    """An enrolled kiosk is alive and shows this page; a revoked one reloads read-only."""
    if g.kiosk is None:
        response = make_response("", 200, refresh=True)
        response.delete_cookie(devices.DEVICE_COOKIE)  # revoked: the token is of no use now
        return response
    current = request.htmx.current_url or ""
    # The page's path only: a query string may hold a code a resident looked up.
    devices.heartbeat(g.kiosk, "/" + current.split("/", 3)[3].split("?")[0] if current.count("/") >= 3 else None)
    housekeeping.run_if_due()
    return "", 204


@bp.get("/healthz")
def health():
    return {"ok": True}


@bp.app_context_processor
def kiosk_context():
    return {
        "large_text": services.large_text(),
        "now": utcnow(),
        "here": request.full_path.rstrip("?") if request else "/",
        "kiosk": g.get("kiosk"),
        "can_act": can_act(),
        "heartbeat_seconds": current_app.config["KIOSK_HEARTBEAT_SECONDS"],
        "pairing_poll_seconds": current_app.config["KIOSK_PAIRING_POLL_SECONDS"],
    }
