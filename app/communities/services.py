"""Creating and renaming communities (district admins, or `flask community create`).

A slug is what public and phone URLs carry (/c/<slug>/): lower-case letters, digits and
hyphens. A slug once used keeps leading to its community after a rename (community_slugs),
so links already pasted in WeChat groups keep working; it is never given to another.
"""

import re

from flask import g
from sqlalchemy import select

from .. import audit, lengths
from ..errors import Refused
from ..extensions import db
from . import scope
from ..i18n import lazy_gettext as _l
from .models import Community, CommunitySlug

SLUG_PATTERN = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{lengths.SLUG - 1}}}")
# Paths of the platform itself: never a community's slug.
RESERVED_SLUGS = frozenset({"static", "staff", "device", "handoff", "h", "healthz", "reset", "language",
                            "large-text", "district", "admin", "api"})


class CommunityError(Refused):
    """A rule about communities was broken; the message is shown to staff, for a field."""

    default_field = "name"


def _clean_name(name: str, limit: int, field: str, *, required: bool = True) -> str:
    name = " ".join((name or "").split())
    if (required and not name) or len(name) > limit:
        raise CommunityError(_l("A name has 1 to %(n)d characters.", n=limit) if required
                             else _l("At most %(n)d characters.", n=limit), field)
    return name


def _clean_slug(slug: str, community_id: int | None = None) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise CommunityError(_l("A short name of lower-case letters, digits and hyphens, such as xingfuli."), "slug")
    holder = db.session.scalar(select(Community.id).where(Community.slug == slug))
    former = db.session.get(CommunitySlug, slug)
    if (holder is not None and holder != community_id) or (former is not None and former.community_id != community_id):
        raise CommunityError(_l("That short name is taken."), "slug")
    return slug


def communities() -> list[Community]:
    return list(db.session.scalars(select(Community).order_by(Community.id)))


def by_slug(slug: str) -> Community | None:
    return db.session.scalar(select(Community).where(Community.slug == slug))


def create_community(slug: str, name: str, name_en: str = "") -> int:
    community = Community(slug=_clean_slug(slug), name=_clean_name(name, lengths.COMMUNITY_NAME, "name"),
                          name_en=_clean_name(name_en, lengths.COMMUNITY_NAME_EN, "name_en", required=False))
    db.session.add(community)
    db.session.flush()
    with scope.within(community.id):
        audit.record("staff", "community-created", community, {"slug": community.slug, "name": community.name})
        db.session.commit()
    return community.id


def rename_community(community_id: int, *, slug: str, name: str, name_en: str = "") -> None:
    """A new name or slug; the old slug keeps redirecting here."""
    community = db.session.get(Community, community_id)
    new_slug = _clean_slug(slug, community_id)
    changes = {}
    for field, value in (("name", _clean_name(name, lengths.COMMUNITY_NAME, "name")),
                         ("name_en", _clean_name(name_en, lengths.COMMUNITY_NAME_EN, "name_en", required=False)),
                         ("slug", new_slug)):
        if getattr(community, field) != value:
            changes[field] = [getattr(community, field), value]
    if "slug" in changes:
        db.session.merge(CommunitySlug(slug=community.slug, community_id=community.id))
        former = db.session.get(CommunitySlug, new_slug)
        if former is not None:  # taking back a slug it went by before
            db.session.delete(former)
    for field, (_old, value) in changes.items():
        setattr(community, field, value)
    with scope.within(community_id):
        if changes:
            audit.record("staff", "community-renamed", community, changes)
        db.session.commit()
    g.pop("community", None)  # the request's view of its community: read again
