"""The audit log: who did what to which record, when (UTC) and from where.

Operation functions call record() before their single commit, so the entry and the
change it describes land together or not at all. Nothing recorded here may carry a raw
phone or ID number: detail text is masked on the way in, by the rule in app.people.
"""

import json
from collections.abc import Callable
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Index, String, Text, false, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .clock import utcnow
from .communities.models import CommunityScoped
from .extensions import db
from .inputs import int_or_none
from .people import find_numbers, mask_numbers_in_text

# Staff write notes and reasons by hand: a landline or a code in them is hidden too.
SHORTEST_NUMBER = 7


class AuditEntry(CommunityScoped, db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor", "community_id", "actor_kind", "actor_id", "id"),
        Index("ix_audit_entries_area", "community_id", "area", "id"),
        Index("ix_audit_entries_at", "community_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "staff", "kiosk" or "system" (the command line, scheduled jobs).
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    area: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(45))


def mask_detail(text: str) -> str:
    """The text with every number of 7 digits or more masked: 138****5678, a landline ********."""
    return mask_numbers_in_text(text, find_numbers(text, shortest_run=SHORTEST_NUMBER))


Actor = tuple[str, int | None, str]  # (kind, id, name)


def _no_device() -> Actor | None:
    return None


# Who acts when no staff member is signed in: the device making the request. The kiosk base
# registers its lookup (app/kiosk/devices.py), as Flask-Login's user loader does for staff,
# so the audit log sits below the kiosk base and imports nothing of it.
_device_actor: Callable[[], Actor | None] = _no_device


def device_actor_loader(lookup: Callable[[], Actor | None]) -> Callable[[], Actor | None]:
    global _device_actor
    _device_actor = lookup
    return lookup


def _actor() -> Actor:
    if has_request_context():
        if current_user and current_user.is_authenticated:
            return "staff", current_user.id, current_user.display_name
        device = _device_actor()
        if device is not None:
            return device
    return "system", None, ""


def record(area: str, action: str, target=None, detail=None, *, actor=None) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller commits.

    ``target`` is a model instance (its table and id are stored) or None; ``detail`` a
    short text or a JSON-able dict. ``actor`` overrides the request's (kind, id, name).
    """
    kind, actor_id, name = actor or _actor()
    if target is not None and getattr(target, "id", None) is None:
        db.session.flush()  # a record created in this transaction needs its id now
    if isinstance(detail, dict):
        detail = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    entry = AuditEntry(
        actor_kind=kind, actor_id=actor_id, actor_name=name or "",
        area=area, action=action,
        target_type=target.__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None),
        detail=mask_detail(detail or ""),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


AREAS = ("staff", "kiosks", "households", "notices", "wall", "cases", "classes", "experts", "friends")
PAGE_SIZE = 50


def browse(*, actor: str | None = None, area: str | None = None, since: datetime | None = None,
           until: datetime | None = None, before: int | None = None, limit: int = PAGE_SIZE) -> list[AuditEntry]:
    """Newest first; ``actor`` is "staff:<id>" or "kiosk:<id>"; keyset pagination by id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor:
        kind, _, actor_id = actor.partition(":")
        query = query.where(AuditEntry.actor_kind == kind)
        if not actor_id:
            query = query.where(AuditEntry.actor_id.is_(None))
        else:  # an id that is no number ("staff:²") names no one
            number = int_or_none(actor_id)
            query = query.where(AuditEntry.actor_id == number if number is not None else false())
    if area:
        query = query.where(AuditEntry.area == area)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    if before:
        query = query.where(AuditEntry.id < before)
    return list(db.session.scalars(query))


def actors() -> list[tuple[str, str]]:
    """Everyone who appears in the log, as (key, name) for a filter."""
    rows = db.session.execute(
        select(AuditEntry.actor_kind, AuditEntry.actor_id, func.max(AuditEntry.actor_name))
        .group_by(AuditEntry.actor_kind, AuditEntry.actor_id)
        .order_by(AuditEntry.actor_kind, func.max(AuditEntry.actor_name))
    )
    return [(f"{kind}:{actor_id if actor_id is not None else ''}", name or kind) for kind, actor_id, name in rows]
