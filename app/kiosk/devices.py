"""Kiosk devices: pairing codes, enrollment, device tokens, heartbeats, revocation.

A browser becomes a kiosk in three steps: it shows a pairing code (and holds a claim
cookie); staff type the code and name the kiosk; on its next poll the browser swaps the
claim for a device token in an HttpOnly, SameSite=Strict cookie.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from blinker import Namespace
from flask import g, has_request_context, request
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, lengths
from ..communities import routing, scope
from ..communities.models import Community
from ..clock import to_site, utcnow
from ..driver_reads import stored_time
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..security import token_digest
from .models import Kiosk, KioskDay, KioskPairing

DEVICE_COOKIE = "linli_kiosk"
CLAIM_COOKIE = "linli_pairing"
# No 0/O, 1/I/L: the code is read off a screen and typed by staff.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
PAIRING_LIFETIME = timedelta(minutes=15)
ONLINE_WITHIN = timedelta(minutes=2)
# A heartbeat writes at most this often, whatever the kiosk's interval.
SEEN_RESOLUTION = timedelta(seconds=10)

# Sent with the kiosk after each heartbeat: upkeep above the boards listens (app/home).
heartbeat_received = Namespace().signal("kiosk-heartbeat-received")


class DeviceError(ValueError):
    """A rule about kiosks was broken; the message is shown to staff."""


@dataclass(frozen=True)
class KioskStatus:
    id: int
    name: str
    online: bool
    waiting_for_pickup: bool
    revoked: bool
    last_seen_at: datetime | None
    last_page: str | None
    enrolled_at: datetime | None


@dataclass(frozen=True)
class EnrolledKiosk:
    """The kiosk making a request, as the request reads it: its row, read by the device
    token's digest with the community the path names, in one go (app/communities/routing.py)."""

    id: int
    name: str
    community_id: int
    revoked_at: datetime | None
    last_seen_at: datetime | None
    last_page: str | None


# Built once: read on every request a kiosk makes.
_BY_TOKEN = select(Kiosk.id, Kiosk.name, Kiosk.community_id, Kiosk.revoked_at, Kiosk.last_seen_at,
                   Kiosk.last_page).where(Kiosk.token_hash == bindparam("token_hash"))


def _enrolled(row) -> EnrolledKiosk | None:
    if row is None:
        return None
    return EnrolledKiosk(row[0], row[1], row[2], stored_time(row[3]), stored_time(row[4]), row[5])


@routing.device_reader(DEVICE_COOKIE, lambda: _BY_TOKEN)
def _keep_kiosk(row) -> None:
    """The kiosk routing read for this request."""
    g.current_kiosk = _enrolled(row)


def kiosk_for_token(token: str | None) -> EnrolledKiosk | None:
    """The kiosk holding this device token, in whichever community it was enrolled: the
    token is what tells which community the request is for."""
    if not token:
        return None
    with scope.across("a kiosk's device token names its community"):
        return _enrolled(db.session.execute(_BY_TOKEN, {"token_hash": token_digest(token)}).first())


def current_kiosk() -> EnrolledKiosk | None:
    """The enrolled kiosk making this request, or None. Routing reads it with the request's
    community; a request routing did not read it for reads it here, on first use."""
    if not has_request_context():
        return None
    if "current_kiosk" not in g:
        g.current_kiosk = kiosk_for_token(request.cookies.get(DEVICE_COOKIE))
    return g.current_kiosk


def community_slug(kiosk: EnrolledKiosk) -> str:
    """The slug of the community the kiosk belongs to (its pages are under /c/<slug>/)."""
    return db.session.get(Community, kiosk.community_id).slug


@routing.device_community_loader
def _kiosk_community() -> int | None:
    kiosk = current_kiosk()
    return kiosk.community_id if kiosk is not None and kiosk.revoked_at is None else None


@audit.device_actor_loader
def _acting_kiosk() -> audit.Actor | None:
    """What the audit log records as the actor of a kiosk's request."""
    kiosk = current_kiosk()
    return ("kiosk", kiosk.id, kiosk.name) if kiosk is not None else None


# --- the browser's side --------------------------------------------------------------

@dataclass(frozen=True)
class PairingState:
    code: str | None = None
    new_claim: str | None = None       # set a claim cookie with this value
    device_token: str | None = None    # enrolled: set the device cookie with this value


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def pairing_for(claim: str | None) -> PairingState:
    """What a not-yet-enrolled browser shows: its current code, or its new device token."""
    now = utcnow()
    pairing = None
    if claim:
        pairing = db.session.scalar(select(KioskPairing).where(KioskPairing.claim_hash == token_digest(claim)))
    if pairing is not None and pairing.kiosk_id is not None:
        return _collect_token(pairing, now)
    if pairing is not None and pairing.expires_at > now:
        return PairingState(code=pairing.code)
    db.session.execute(delete(KioskPairing).where(
        KioskPairing.expires_at <= now, KioskPairing.kiosk_id.is_(None)))
    claim = secrets.token_urlsafe(24)
    for _ in range(5):
        pairing = KioskPairing(code=_new_code(), claim_hash=token_digest(claim), expires_at=now + PAIRING_LIFETIME)
        db.session.add(pairing)
        try:
            db.session.commit()
        except IntegrityError:  # the code is in use: draw again
            db.session.rollback()
            continue
        return PairingState(code=pairing.code, new_claim=claim)
    raise RuntimeError("no free pairing code after 5 draws")


def _collect_token(pairing: KioskPairing, now: datetime) -> PairingState:
    # The browser is no kiosk yet: the pairing says which kiosk, and so which community.
    with scope.across("a pairing names the kiosk it became"):
        community_id = db.session.scalar(select(Kiosk.community_id).where(Kiosk.id == pairing.kiosk_id))
    with scope.within(community_id):
        return _hand_over_token(pairing, now)


def _hand_over_token(pairing: KioskPairing, now: datetime) -> PairingState:
    kiosk = db.session.get(Kiosk, pairing.kiosk_id)
    # Two polls at once from one browser: only the one that removes the pairing gets a token.
    if not db.session.execute(delete(KioskPairing).where(KioskPairing.id == pairing.id)).rowcount:
        db.session.rollback()
        return PairingState()
    token = secrets.token_urlsafe(32)
    kiosk.token_hash = token_digest(token)
    kiosk.enrolled_at = now
    kiosk.last_seen_at = now
    audit.record("kiosks", "kiosk-token-collected", kiosk, actor=("kiosk", kiosk.id, kiosk.name))
    db.session.commit()
    return PairingState(device_token=token)


def heartbeat(kiosk: EnrolledKiosk, page: str | None) -> None:
    now = utcnow()
    page = (page or "")[:lengths.PAGE_PATH] or None
    if kiosk.last_seen_at and now - kiosk.last_seen_at < SEEN_RESOLUTION and kiosk.last_page == page:
        return
    if kiosk.last_seen_at and timedelta(0) < now - kiosk.last_seen_at <= ONLINE_WITHIN:
        _add_online_time(kiosk, now - kiosk.last_seen_at, to_site(now).date())
    db.session.execute(update(Kiosk).where(Kiosk.id == kiosk.id).values(last_seen_at=now, last_page=page))
    db.session.commit()


def _add_online_time(kiosk: EnrolledKiosk, online: timedelta, day) -> None:
    """The time since the kiosk's last heartbeat, while it stayed online, to its day."""
    seconds = int(online.total_seconds())
    added = db.session.execute(update(KioskDay).where(KioskDay.kiosk_id == kiosk.id, KioskDay.day == day)
                               .values(online_seconds=KioskDay.online_seconds + seconds)).rowcount
    if not added:
        try:
            with db.session.begin_nested():
                db.session.add(KioskDay(kiosk_id=kiosk.id, day=day, online_seconds=seconds,
                                        community_id=kiosk.community_id))
        except IntegrityError:  # two heartbeats at once: the other made the day's row
            db.session.execute(update(KioskDay).where(KioskDay.kiosk_id == kiosk.id, KioskDay.day == day)
                               .values(online_seconds=KioskDay.online_seconds + seconds))


# --- the staff's side ------------------------------------------------------------------

def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > lengths.KIOSK_NAME:
        raise DeviceError(_l("A kiosk's name has 1 to %(n)d characters.", n=lengths.KIOSK_NAME))
    return name


def enroll(code: str, name: str) -> int:
    """Attach a new kiosk to the browser showing this code; it enrolls on its next poll."""
    name = _clean_name(name)
    code = "".join(code.split()).upper()
    pairing = db.session.scalar(
        select(KioskPairing).where(KioskPairing.code == code, KioskPairing.expires_at > utcnow())
    )
    if pairing is None or pairing.kiosk_id is not None:
        raise DeviceError(_l("No screen is showing that code. Check the code in the screen's corner."))
    kiosk = Kiosk(name=name)
    db.session.add(kiosk)
    db.session.flush()
    claimed = db.session.execute(
        update(KioskPairing).where(KioskPairing.id == pairing.id, KioskPairing.kiosk_id.is_(None))
        .values(kiosk_id=kiosk.id)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise DeviceError(_l("No screen is showing that code. Check the code in the screen's corner."))
    audit.record("kiosks", "kiosk-enrolled", kiosk, {"name": name})
    db.session.commit()
    return kiosk.id


def rename(kiosk_id: int, name: str) -> None:
    kiosk = db.session.get(Kiosk, kiosk_id)
    old, kiosk.name = kiosk.name, _clean_name(name)
    audit.record("kiosks", "kiosk-renamed", kiosk, {"name": [old, kiosk.name]})
    db.session.commit()


def revoke(kiosk_id: int) -> None:
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk.revoked_at is None:
        kiosk.revoked_at = utcnow()
        kiosk.token_hash = None
        db.session.execute(delete(KioskPairing).where(KioskPairing.kiosk_id == kiosk.id))
        audit.record("kiosks", "kiosk-revoked", kiosk)
        db.session.commit()


def revoke_all() -> int:
    ids = list(db.session.scalars(select(Kiosk.id).where(Kiosk.revoked_at.is_(None))))
    now = utcnow()
    db.session.execute(update(Kiosk).where(Kiosk.id.in_(ids)).values(revoked_at=now, token_hash=None))
    db.session.execute(delete(KioskPairing).where(KioskPairing.kiosk_id.is_not(None)))
    audit.record("kiosks", "all-kiosks-revoked", detail={"count": len(ids)})
    db.session.commit()
    return len(ids)


def get_kiosk(kiosk_id: int) -> Kiosk | None:
    return db.session.get(Kiosk, kiosk_id)


def _status(kiosk: Kiosk, now: datetime) -> KioskStatus:
    return KioskStatus(
        id=kiosk.id, name=kiosk.name,
        online=bool(kiosk.token_hash and kiosk.last_seen_at and now - kiosk.last_seen_at <= ONLINE_WITHIN),
        waiting_for_pickup=kiosk.revoked_at is None and kiosk.enrolled_at is None,
        revoked=kiosk.revoked_at is not None,
        last_seen_at=kiosk.last_seen_at, last_page=kiosk.last_page, enrolled_at=kiosk.enrolled_at,
    )


def kiosk_statuses(include_revoked: bool = False, now: datetime | None = None) -> list[KioskStatus]:
    now = now or utcnow()
    query = select(Kiosk).order_by(Kiosk.revoked_at.is_not(None), Kiosk.name, Kiosk.id)
    if not include_revoked:
        query = query.where(Kiosk.revoked_at.is_(None))
    return [_status(kiosk, now) for kiosk in db.session.scalars(query)]


def offline_count(now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.scalar(
        select(func.count()).select_from(Kiosk).where(
            Kiosk.revoked_at.is_(None), Kiosk.enrolled_at.is_not(None),
            (Kiosk.last_seen_at.is_(None)) | (Kiosk.last_seen_at < now - ONLINE_WITHIN))
    )
