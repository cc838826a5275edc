from flask import abort, render_template

from ..i18n import current_locale
from ..kiosk.page_cache import shown_on_every_page
from ..web import page_or_fragment, poll
from . import bp, services


@bp.get("/")
def index():
    return page_or_fragment("notices/index.html", notices=services.current_notices(current_locale()))


@bp.get("/<int:notice_id>")
def show(notice_id: int):
    notice = services.showing_notice(notice_id, current_locale())
    if notice is None:
        abort(404)
    return page_or_fragment("notices/show.html", notice=notice)


@bp.get("/urgent")
def urgent():
    """Polled by every kiosk screen: 204 while its urgent banner is still right."""
    locale = current_locale()
    return poll(services.urgent_version(locale),
                lambda: render_template("notices/_urgent.html", urgent=services.urgent_banner(locale)))


@shown_on_every_page
def _urgent_banner_version():
    """Every kiosk and phone page draws the banner: kept pages are keyed by its version."""
    return services.urgent_version(current_locale())


@bp.app_context_processor
def urgent_banner_context():
    # Every kiosk page draws the urgent banner, read only when a template asks for it.
    return {"urgent_banner": lambda: services.urgent_banner(current_locale())}
