from flask import abort, current_app, request

from ..clock import utcnow
from ..i18n import current_locale
from ..notices import services as notices
from ..web import page_or_fragment, reload_or_back
from . import bp, services
from .forms import LanguageForm, LargeTextForm
from .tiles import available_tiles

NOTICES_ON_HOME = 3


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


@bp.get("/healthz")
def health():
    return {"ok": True, "version": current_app.config.get("VERSION", "dev")}


@bp.app_context_processor
def kiosk_context():
    return {
        "large_text": services.large_text(),
        "now": utcnow(),
        "here": request.full_path.rstrip("?") if request else "/",
    }
