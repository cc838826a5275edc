"""Who may act at the kiosk: an enrolled kiosk, signed-in staff, a phone bound to a household
of the community (app/households), or a phone carrying on a form from a kiosk (handoff.py).
Other browsers read only."""

import re
from functools import wraps

from flask import g, render_template, request
from flask_login import current_user

from ..households.services import acting_household, current_phone
from ..limits import rate_limited
from . import handoff
from .devices import current_kiosk


def actor_key() -> str | None:
    """The name rate limits count under: the device, the staff member, the household whose
    phone this is, or the kiosk whose form a phone carries on (that form only)."""
    kiosk = current_kiosk()
    if kiosk is not None:
        return f"kiosk:{kiosk.id}"
    if current_user.is_authenticated:
        return f"staff:{current_user.id}"
    household_id = acting_household()
    if household_id is not None:
        return f"household:{household_id}"
    kiosk_id = handoff.kiosk_acting_for_phone()
    return f"kiosk:{kiosk_id}" if kiosk_id is not None else None


# What phones' browsers (WeChat's among them) say they are; a lobby kiosk runs a desktop browser.
_PHONE_BROWSER = re.compile(r"Mobile|Android|iPhone|MicroMessenger")


def phone_layout() -> bool:
    """Whether pages take the phone's layout: a browser that is no kiosk, and is bound to a
    household or says it is a phone. Other browsers get the kiosk's (a screen being set up
    shows its pairing code there)."""
    if "phone_layout" not in g:
        g.phone_layout = current_kiosk() is None and (
            current_phone() is not None or says_phone())
    return g.phone_layout


def says_phone() -> bool:
    """Whether the browser says it is a phone's."""
    return bool(_PHONE_BROWSER.search(request.user_agent.string))


def resident_key() -> str:
    """Who a resident's code counts against: the device or staff member, else the address
    (a phone with no kiosk form to carry on)."""
    return actor_key() or f"ip:{request.remote_addr}"


def _lookup_key() -> str | None:
    return resident_key() if request.args.get("code") else None


def code_lookup_limited(view):
    """Looking something up by its code (a receipt, a sign-up, a card): limited per device,
    so codes cannot be guessed one after another. Opening the empty form is not counted."""
    return rate_limited("code-lookup", "60 per 10 minutes", _lookup_key)(view)


def can_act() -> bool:
    return actor_key() is not None


def acting_device_required(limit_name: str | None = None, limit: str = "10 per minute"):
    """Refuse read-only browsers with a friendly 403; optionally rate-limit per device."""

    def decorate(view):
        limited = rate_limited(limit_name, limit, actor_key)(view) if limit_name else view

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can_act():
                return render_template("kiosk/_read_only.html"), 403
            return limited(*args, **kwargs)

        return wrapped

    return decorate
