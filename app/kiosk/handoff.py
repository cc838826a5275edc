"""Continue on my phone: a form begun at a kiosk, carried on on the resident's phone.

The kiosk sends what was typed; it is kept with a random token whose hash is stored, and
the kiosk shows a QR code of ``/c/<slug>/h/<token>``. The first phone to open the link, within
HANDOFF_LINK_MINUTES, gets the same form with those fields filled in; any later opening is
refused. For HANDOFF_PHONE_MINUTES the phone may then send that one form, and what it
sends counts as the kiosk's (its rate limits, its name on the post). What was typed is
deleted once the phone has sent it, and the whole record by housekeeping soon after.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app, g, request, session
from sqlalchemy import delete, select, update
from werkzeug.exceptions import HTTPException

from ..clock import utcnow
from ..extensions import db
from ..security import token_digest
from ..web import page_path
from .models import Handoff, Kiosk

if TYPE_CHECKING:
    from .devices import EnrolledKiosk

SESSION_KEY = "handoff"
# A typed field is never longer than this; anything longer is cut, not stored whole.
MAX_FIELD = 2000


@dataclass(frozen=True)
class HandoffForm:
    page: str                 # the endpoint that shows the form
    actions: tuple[str, ...]  # the endpoints it is sent to
    fields: tuple[str, ...]
    many: tuple[str, ...] = ()  # fields with several values (check boxes)


# Each board declares its forms that may continue on a phone, beside its form classes.
# Consent and age boxes are never listed: the resident ticks them where they send.
FORMS: dict[str, HandoffForm] = {}


def declare_form(key: str, spec: HandoffForm) -> None:
    """Let the form behind ``key`` (as the kiosk's button posts it) continue on a phone."""
    if FORMS.get(key, spec) != spec:
        raise ValueError(f"handoff form {key!r} is declared twice")
    FORMS[key] = spec


def _route(path: str) -> tuple[str, dict] | None:
    """The endpoint and arguments a local GET path leads to, if any."""
    adapter = current_app.url_map.bind("localhost")
    try:
        return adapter.match(path.split("?", 1)[0], method="GET")
    except HTTPException:
        return None


def form_page(form_key: str, current_url: str | None) -> str | None:
    """The path (with its query) of the kiosk page showing the form, if it is that form's page."""
    path = page_path(current_url)
    if path is None:
        return None
    found = _route(path)
    return path[:200] if found and found[0] == FORMS[form_key].page else None


def start(kiosk: "EnrolledKiosk", form_key: str, path: str, form_data) -> tuple[Handoff, str]:
    """Keep what was typed for the phone; the new record and the token for its link."""
    spec = FORMS[form_key]
    fields = {name: ([value[:MAX_FIELD] for value in form_data.getlist(name)][:50] if name in spec.many
                     else form_data.get(name, "")[:MAX_FIELD])
              for name in spec.fields}
    token = secrets.token_urlsafe(16)
    now = utcnow()
    handoff = Handoff(token_hash=token_digest(token), kiosk_id=kiosk.id, form=form_key, path=path,
                      fields=json.dumps(fields, ensure_ascii=False), created_at=now,
                      expires_at=now + timedelta(minutes=current_app.config["HANDOFF_LINK_MINUTES"]))
    db.session.add(handoff)
    db.session.commit()
    return handoff, token


def opened(handoff_id: int, kiosk: "EnrolledKiosk") -> bool | None:
    """Whether the kiosk's link was opened on a phone; None if it is not this kiosk's."""
    handoff = db.session.get(Handoff, handoff_id)
    if handoff is None or handoff.kiosk_id != kiosk.id:
        return None
    return handoff.opened_at is not None


def open_link(token: str) -> Handoff | None:
    """The first opening of a live link wins (one conditional UPDATE); the phone's session
    remembers it. None for a used, expired, unknown or revoked kiosk's link."""
    now = utcnow()
    live_kiosks = select(Kiosk.id).where(Kiosk.token_hash.is_not(None))
    handoff_id = db.session.execute(
        update(Handoff)
        .where(Handoff.token_hash == token_digest(token), Handoff.opened_at.is_(None), Handoff.expires_at > now,
               Handoff.kiosk_id.in_(live_kiosks))
        .values(opened_at=now).returning(Handoff.id)
    ).scalar_one_or_none()
    db.session.commit()
    if handoff_id is None:
        return None
    session[SESSION_KEY] = handoff_id
    return db.session.get(Handoff, handoff_id)


def link_exists(token: str) -> bool:
    """Whether this community made a link with this token (used, expired or not)."""
    return db.session.scalar(select(Handoff.id).where(Handoff.token_hash == token_digest(token))) is not None


def current() -> Handoff | None:
    """This phone's handoff, while it may still send its form."""
    if "handoff" not in g:
        g.handoff = None
        handoff_id = session.get(SESSION_KEY)
        if handoff_id is not None:
            handoff = db.session.get(Handoff, handoff_id)
            window = timedelta(minutes=current_app.config["HANDOFF_PHONE_MINUTES"])
            if (handoff is None or handoff.sent_at is not None or handoff.opened_at is None
                    or handoff.opened_at < utcnow() - window
                    or db.session.get(Kiosk, handoff.kiosk_id).token_hash is None):  # kiosk revoked
                session.pop(SESSION_KEY, None)
            else:
                g.handoff = handoff
    return g.handoff


def _same_target(handoff: Handoff) -> bool:
    """The request is for the form the link named: the same course, expert or card."""
    spec = FORMS[handoff.form]
    if request.endpoint not in (spec.page, *spec.actions):
        return False
    found = _route(handoff.path)
    arguments = found[1] if found else {}
    view_args = request.view_args or {}
    return all(view_args.get(name, value) == value for name, value in arguments.items())


def kiosk_acting_for_phone() -> int | None:
    """The kiosk a phone acts for on this request: its handoff's form, and only that."""
    handoff = current()
    if handoff is None or not _same_target(handoff):
        return None
    if request.method == "POST":
        g.handoff_sending = handoff.id
    return handoff.kiosk_id


def prefill(form_key: str) -> dict:
    """What was typed at the kiosk, for the phone's copy of the form; {} elsewhere."""
    handoff = current()
    if handoff is None or handoff.form != form_key or not _same_target(handoff):
        return {}
    return {name: value for name, value in json.loads(handoff.fields).items() if value}


def on_phone() -> bool:
    return current() is not None


def finish(response):
    """After the phone's form was accepted: forget what was typed, and the link."""
    handoff_id = g.get("handoff_sending")
    if handoff_id is not None and response.status_code < 400:
        db.session.execute(update(Handoff).where(Handoff.id == handoff_id).values(sent_at=utcnow(), fields="{}"))
        db.session.commit()
        session.pop(SESSION_KEY, None)
    return response


def purge(now: datetime | None = None) -> int:
    """Delete handoffs no phone can use any more, with whatever was typed in them."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["HANDOFF_PHONE_MINUTES"])
    result = db.session.execute(delete(Handoff).where(Handoff.expires_at < cutoff))
    db.session.commit()
    return result.rowcount
