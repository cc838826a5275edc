from flask import abort

from ..i18n import current_locale
from ..web import page_or_fragment
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
