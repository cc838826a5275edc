from flask import render_template

from .. import housekeeping
from ..i18n import current_locale
from ..boards import board_version_of
from ..kiosk.devices import heartbeat_received
from ..kiosk.page_cache import cached_page
from ..notices import services as notices
from ..web import page_or_fragment
from . import attract as attract_loop, bp
from .tiles import available_tiles

NOTICES_ON_HOME = 3


@bp.get("/")
@cached_page(board_version_of(notices.BOARD))  # the tiles are the app's; the notices strip follows its board
def index():
    return page_or_fragment(
        "home/index.html",
        {"notices-strip": "home/_notices_strip.html"},
        tiles=available_tiles(),
        notices=notices.current_notices(current_locale(), limit=NOTICES_ON_HOME),
    )


@bp.get("/attract")
def attract():
    """The loop a kiosk shows after minutes untouched on the home page."""
    return render_template("home/_attract.html", **attract_loop.slides(current_locale()))


@heartbeat_received.connect
def run_due_upkeep(_kiosk, **_):
    """Enrolled kiosks' heartbeats are the clock that runs housekeeping when it is due."""
    housekeeping.run_if_due()
