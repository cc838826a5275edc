"""Household codes: issuing cards, binding phones, revoking them.

A card carries a code to type (10 letters and digits, about 49 bits) and a QR code of a
one-time link (128 bits). Both are derived from the site's secret key, the household and
the card's serial number, so a card can be printed again (a jammed printer) by staff who
may, audited; the table holds only their hashes. Opening the link, or typing the
code, binds the phone: it gets a device token of its own in a cookie (never the code).
A household holds at most MAX_PHONES live phones; a new card replaces the old one's code
and link, leaving bound phones bound; revoking a phone or the household makes it
read-only at its next request.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, has_request_context, request
from sqlalchemy import bindparam, func, select, update

from .. import audit, lengths
from ..clock import utcnow
from ..driver_reads import stored_time
from ..communities import routing, scope
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..security import token_digest
from .models import Household, HouseholdPhone

PHONE_COOKIE = "linli_phone"
# The session entry a phone's typed household codes are counted under before it is bound.
PHONE_KEY = "phone_key"
# No 0/O, 1/I/L: the code is read off a card and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # 31**10 ≈ 2**49.5
MAX_PHONES = 4
BATCH_MAX = 200


class HouseholdError(ValueError):
    """A rule about households was broken; the message is shown as it is."""


@dataclass(frozen=True)
class Card:
    """A household's card, as printed or shown once at the desk: the secrets are not kept."""

    household: Household
    code: str
    link_token: str

    @property
    def code_grouped(self) -> str:
        return f"{self.code[:5]}-{self.code[5:]}"


def normalise_code(typed: str) -> str:
    """A typed code as stored: letters upper-cased, spaces and hyphens dropped, and the
    letters a card never uses read as the digits they look like."""
    cleaned = "".join(ch for ch in (typed or "").upper() if ch.isalnum())
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def _clean_place(value: str, limit: int, message) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise HouseholdError(message)
    return value


def _derived(household: Household, what: str) -> bytes:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    message = f"household-card|{what}|{household.community_id}|{household.id}|{household.card_serial}"
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def card(household: Household) -> Card:
    """The household's current card (its code and link), as derived again for printing."""
    number = int.from_bytes(_derived(household, "code"), "big")
    code = ""
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        code += CODE_ALPHABET[digit]
    link_token = base64.urlsafe_b64encode(_derived(household, "link")[:16]).decode().rstrip("=")
    return Card(household, code, link_token)


def _new_card(household: Household, batch: int | None, now: datetime) -> Card:
    if household.id is None:
        db.session.flush()
    household.card_serial = (household.card_serial or 0) + 1
    issued = card(household)
    household.code_hash = token_digest(issued.code)
    household.link_hash = token_digest(issued.link_token)
    household.batch = batch
    household.card_issued_at = now
    return issued


def _place(building: str, unit: str) -> tuple[str, str]:
    building = _clean_place(building, lengths.BUILDING,
                            _l("A building has up to %(n)d characters.", n=lengths.BUILDING))
    if not building:
        raise HouseholdError(_l("Enter the building."))
    unit = _clean_place(unit, lengths.UNIT, _l("A unit has up to %(n)d characters.", n=lengths.UNIT))
    return building, unit


def issue(building: str, unit: str, count: int = 1) -> list[Card]:
    """New households in one building and unit, each with its card; count > 1 is a printed
    batch for door-to-door visits."""
    building, unit = _place(building, unit)
    if not 1 <= count <= BATCH_MAX:
        raise HouseholdError(_l("Print 1 to %(n)d cards at a time.", n=BATCH_MAX))
    now = utcnow()
    batch = None
    if count > 1:
        batch = (db.session.scalar(select(func.max(Household.batch))) or 0) + 1
    cards = []
    for _ in range(count):
        household = Household(building=building, unit=unit, created_at=now, card_serial=0)
        db.session.add(household)
        cards.append(_new_card(household, batch, now))
    db.session.flush()
    audit.record("households", "households-issued", detail={"building": building, "unit": unit, "count": count,
                                                            "batch": batch})
    db.session.commit()
    return cards


def new_card(household_id: int) -> Card:
    """A replacement card (lost, or given to a new family): the old code and link stop working."""
    household = db.session.get(Household, household_id)
    if household.revoked_at is not None:
        raise HouseholdError(_l("This household's code was revoked."))
    card = _new_card(household, None, utcnow())
    audit.record("households", "household-card-replaced", household)
    db.session.commit()
    return card


def move(household_id: int, building: str, unit: str) -> None:
    household = db.session.get(Household, household_id)
    old = (household.building, household.unit)
    household.building, household.unit = _place(building, unit)
    audit.record("households", "household-moved", household,
                 {"building": [old[0], household.building], "unit": [old[1], household.unit]})
    db.session.commit()


def revoke(household_id: int) -> None:
    """The household's code, link and phones stop working: its phones are read-only next time."""
    household = db.session.get(Household, household_id)
    if household.revoked_at is not None:
        return
    now = utcnow()
    household.revoked_at = now
    household.code_hash = household.link_hash = None
    db.session.execute(update(HouseholdPhone).where(HouseholdPhone.household_id == household.id,
                                                    HouseholdPhone.revoked_at.is_(None)).values(revoked_at=now))
    audit.record("households", "household-revoked", household)
    db.session.commit()


def revoke_phone(phone_id: int) -> HouseholdPhone:
    phone = db.session.get(HouseholdPhone, phone_id)
    if phone.revoked_at is None:
        phone.revoked_at = utcnow()
        audit.record("households", "household-phone-revoked", phone, {"household": phone.household_id})
        db.session.commit()
    return phone


# --- binding a phone ---------------------------------------------------------------------

def _bind(household: Household, how: str) -> str:
    live = db.session.scalar(select(func.count()).select_from(HouseholdPhone).where(
        HouseholdPhone.household_id == household.id, HouseholdPhone.revoked_at.is_(None)))
    if live >= MAX_PHONES:
        raise HouseholdError(_l("This household already has %(n)d phones. Ask staff to remove one first.",
                                n=MAX_PHONES))
    token = secrets.token_urlsafe(32)
    now = utcnow()
    phone = HouseholdPhone(household_id=household.id, token_hash=token_digest(token), bound_by=how,
                           bound_at=now, last_seen_at=now, community_id=household.community_id)
    db.session.add(phone)
    db.session.flush()
    audit.record("households", "household-phone-bound", phone, {"household": household.id, "by": how},
                 actor=("household", household.id, ""))
    db.session.commit()
    return token


def bind_with_code(typed: str) -> str:
    """The device token for a phone whose resident typed the household's code."""
    code = normalise_code(typed)
    household = None
    if len(code) == CODE_LENGTH:
        household = db.session.scalar(select(Household).where(Household.code_hash == token_digest(code),
                                                              Household.revoked_at.is_(None)))
    if household is None:
        raise HouseholdError(_l("No household has that code here. Check the code on your card."))
    return _bind(household, "code")


def household_for_link(token: str) -> Household | None:
    """The household whose card's link this is, while it is unused."""
    return db.session.scalar(select(Household).where(Household.link_hash == token_digest(token),
                                                     Household.revoked_at.is_(None)))


def bind_with_link(token: str) -> str:
    """The device token for the phone that scanned the card: the link works once (a
    conditional UPDATE: two phones scanning at once, one wins)."""
    household = household_for_link(token)
    if household is None or not db.session.execute(
            update(Household).where(Household.id == household.id, Household.link_hash == token_digest(token))
            .values(link_hash=None)).rowcount:
        db.session.rollback()
        raise HouseholdError(_l("This card's link was already used. Type the code printed on the card instead."))
    return _bind(household, "link")


# --- the phone making a request ------------------------------------------------------------

@dataclass(frozen=True)
class BoundPhone:
    id: int
    household_id: int
    community_id: int
    building: str
    unit: str
    live: bool  # False: the phone or its household was revoked
    last_seen_at: datetime | None = None


def _phone_by_token():
    return (select(HouseholdPhone.id, HouseholdPhone.household_id, HouseholdPhone.community_id,
                   Household.building, Household.unit, HouseholdPhone.revoked_at, Household.revoked_at,
                   HouseholdPhone.last_seen_at)
            .join(Household, Household.id == HouseholdPhone.household_id)
            .where(HouseholdPhone.token_hash == bindparam("token_hash")))


def _bound(row) -> BoundPhone | None:
    if row is None:
        return None
    return BoundPhone(row[0], row[1], row[2], row[3], row[4], live=row[5] is None and row[6] is None,
                      last_seen_at=stored_time(row[7]))


def phone_for_token(token: str | None) -> BoundPhone | None:
    """The phone holding this token, in whichever community its household is."""
    if not token:
        return None
    with scope.across("a phone's device token names its household's community"):
        return _bound(db.session.execute(_phone_by_token(), {"token_hash": token_digest(token)}).first())


@routing.device_reader(PHONE_COOKIE, _phone_by_token)
def _keep_phone(row) -> None:
    """The phone routing read for this request (app/communities/routing.py)."""
    g.household_phone = _bound(row)


def current_phone() -> BoundPhone | None:
    """The bound phone making this request (live or revoked), read once per request."""
    if not has_request_context():
        return None
    if "household_phone" not in g:
        g.household_phone = phone_for_token(request.cookies.get(PHONE_COOKIE))
    return g.household_phone


def acting_household() -> int | None:
    """The household this request acts for: a live phone, on its own community's pages."""
    phone = current_phone()
    if phone is None or not phone.live:
        return None
    current = scope.current_scope()
    if current is None or current.community_id != phone.community_id:
        return None
    if request.method == "POST" and not g.get("household_phone_seen"):
        g.household_phone_seen = True
        seen(phone)  # committed with what the phone sent
    return phone.household_id


# --- the console ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    phones: int


def households(search: str = "", *, include_revoked: bool = False) -> list[HouseholdRow]:
    live_phones = (select(func.count()).select_from(HouseholdPhone)
                   .where(HouseholdPhone.household_id == Household.id, HouseholdPhone.revoked_at.is_(None))
                   .scalar_subquery())
    query = select(Household, live_phones).order_by(Household.building, Household.unit, Household.id)
    if not include_revoked:
        query = query.where(Household.revoked_at.is_(None))
    words = search.split()
    for word in words:
        if word.isascii() and word.isdigit() and len(word) < 10:
            query = query.where((Household.id == int(word)) | Household.building.contains(word)
                                | Household.unit.contains(word))
        else:
            query = query.where(Household.building.contains(word) | Household.unit.contains(word))
    return [HouseholdRow(household, phones) for household, phones in db.session.execute(query.limit(500))]


def get_household(household_id: int) -> Household | None:
    return db.session.get(Household, household_id)


def phones(household_id: int) -> list[HouseholdPhone]:
    return list(db.session.scalars(select(HouseholdPhone).where(HouseholdPhone.household_id == household_id)
                                   .order_by(HouseholdPhone.revoked_at.is_not(None), HouseholdPhone.bound_at)))


def batch_households(batch: int) -> list[Household]:
    return list(db.session.scalars(select(Household).where(Household.batch == batch).order_by(Household.id)))


def names(household_ids) -> dict[int, str]:
    """What staff read for each household: "3号楼 2单元 · 12"."""
    ids = set(household_ids)
    if not ids:
        return {}
    return {household.id: f"{place(household)} · {household.id}" for household in db.session.execute(
        select(Household.id, Household.building, Household.unit).where(Household.id.in_(ids)))}


def place(record) -> str:
    """A household (or a bound phone) as a resident reads it: its building and unit."""
    return " ".join(part for part in (record.building, record.unit) if part)


SEEN_RESOLUTION = timedelta(hours=1)


def seen(phone: BoundPhone) -> None:
    """Remember when a phone last acted, to the hour: most of its requests write nothing."""
    now = utcnow()
    if phone.last_seen_at is not None and now - phone.last_seen_at < SEEN_RESOLUTION:
        return
    db.session.execute(update(HouseholdPhone).where(HouseholdPhone.id == phone.id).values(last_seen_at=now))
