"""The kiosk base's views: screen preferences, the idle reset, pairing and heartbeats,
and the phone handoff. The home screen that sits above the boards is app/home."""

from urllib.parse import urlsplit

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.local import LocalProxy
from htmx_flask import make_response

from ..communities.settings import setting
from ..communities.routing import PREFIX
from ..extensions import csrf
from ..clock import utcnow
from ..web import events, page_path, phone_url, qr_svg, reload_or_back
from ..limits import rate_limited
from . import bp, devices, handoff, services
from .access import actor_key, can_act, phone_layout
from .devices import current_kiosk
from ..households.services import current_phone
from .forms import LanguageForm, LargeTextForm

TEN_YEARS = 10 * 365 * 24 * 3600


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    services.choose_locale(form.locale.data)
    return reload_or_back(form.next.data)


@bp.post("/reset")
@csrf.exempt  # starting over must always work, even with a stale page; it only forgets
def reset():
    """The idle reset: forget this screen's session (language, large text, a signed-in
    staff member) and start again on the home page. A staff sign-in ends on the server
    too, so the cookie of a kiosk left idle opens nothing."""
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("home.index"), code=303)


@bp.post("/handoff/<form_key>")
@rate_limited("handoff", "20 per 10 minutes", actor_key)
def handoff_start(form_key: str):
    """Continue on my phone: keep what was typed, and show the QR code of a one-time link
    in place of the form (so the kiosk no longer shows what was typed)."""
    kiosk = current_kiosk()
    if kiosk is None:
        return render_template("kiosk/_read_only.html"), 403
    if form_key not in handoff.FORMS:
        abort(404)
    path = handoff.form_page(form_key, request.htmx.current_url if request.htmx else request.referrer)
    # No phone address set, and the kiosk's own is not one to trust: no link to show.
    if path is None or phone_url("/") is None:
        return render_template("kiosk/_handoff.html", refused=True), 422
    record, token = handoff.start(kiosk, form_key, path, request.form)
    return render_template("kiosk/_handoff.html", handoff=record,
                           qr=qr_svg(phone_url(url_for("kiosk.handoff_open", token=token))),
                           minutes=current_app.config["HANDOFF_LINK_MINUTES"], refused=False)


@bp.get("/handoff/<int:handoff_id>")
def handoff_state(handoff_id: int):
    """Polled by the kiosk showing the QR code: 204 until a phone opens the link."""
    kiosk = current_kiosk()
    if kiosk is None:
        return render_template("kiosk/_read_only.html"), 403
    state = handoff.opened(handoff_id, kiosk)
    if state is None:
        abort(404)
    if not state:  # waiting for a phone, not a version of something shown: no token
        return "", 204
    return events(make_response(render_template("kiosk/_handoff_opened.html")), kiosk_handoff_opened={"id": handoff_id})


@bp.get(PREFIX + "/h/<token>")
def handoff_open(token: str):
    """The phone's side of the QR code: the form, filled in, the first time only."""
    record = handoff.open_link(token)
    if record is None:
        # Used or expired: "gone"; no link of this community's at all (another's, a typo): 404.
        return render_template("kiosk/handoff_refused.html"), 410 if handoff.link_exists(token) else 404
    return redirect(record.path, code=303)


@bp.after_app_request
def finish_handoff(response):
    return handoff.finish(response)


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


def _as_kiosk(kiosk):
    """A screen that has just become a kiosk reloads the page it shows, when that page is its
    own community's; another community's page would be a 404 to it, so it goes to / instead
    (which leads to its community's home)."""
    here = urlsplit(page_path(request.headers.get("HX-Current-URL"), query=False) or "/").path
    slug = devices.community_slug(kiosk)
    if here.startswith("/c/") and not here.startswith(f"/c/{slug}/"):
        return make_response("", 200, redirect="/")
    return make_response("", 200, refresh=True)


@bp.post("/device/pairing")
def pairing():
    """Polled by a browser that is not a kiosk: its code, or its new device token."""
    kiosk = current_kiosk()
    if kiosk is not None:
        return _as_kiosk(kiosk)
    state = devices.pairing_for(request.cookies.get(devices.CLAIM_COOKIE))
    if state.device_token:
        response = _as_kiosk(devices.kiosk_for_token(state.device_token))
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
    kiosk = current_kiosk()
    if kiosk is None:
        response = make_response("", 200, refresh=True)
        response.delete_cookie(devices.DEVICE_COOKIE)  # revoked: the token is of no use now
        return response
    # The page's path only: a query string may hold a code a resident looked up.
    devices.heartbeat(kiosk, page_path(request.htmx.current_url, query=False))
    devices.heartbeat_received.send(kiosk)
    return "", 204


@bp.get("/healthz")
def health():
    return {"ok": True}


def idle_settings() -> dict | None:
    """Idle reset and attract loop timings, for enrolled kiosks only: a phone or a home
    computer reading the boards never starts over by itself."""
    if current_kiosk() is None:
        return None
    config = current_app.config
    return {"idle": setting("KIOSK_IDLE_SECONDS"), "warn": config["KIOSK_IDLE_WARNING_SECONDS"],
            "attract": config["KIOSK_ATTRACT_SECONDS"],
            # Nothing to forget: default language and type size, nobody signed in.
            "fresh": not session.get("locale") and not session.get("large_text")
            and not current_user.is_authenticated}


@bp.app_context_processor
def kiosk_context():
    return {
        "idle_settings": idle_settings,
        "large_text": services.large_text(),
        "now": utcnow(),
        "here": request.full_path.rstrip("?") if request else "/",
        # Looked up when a template asks: a fragment that does not ask costs no query.
        "kiosk": LocalProxy(current_kiosk),
        "on_phone": handoff.on_phone,
        "can_act": LocalProxy(can_act),
        "phone_layout": LocalProxy(phone_layout),
        "household_phone": LocalProxy(current_phone),
        "heartbeat_seconds": current_app.config["KIOSK_HEARTBEAT_SECONDS"],
        "pairing_poll_seconds": current_app.config["KIOSK_PAIRING_POLL_SECONDS"],
    }
