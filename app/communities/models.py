"""A community, its old slugs, and the column every board table carries."""

import json
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .. import lengths
from ..clock import utcnow
from ..extensions import db


class Community(db.Model):
    """One community (社区): its own boards, kiosks and staff, on a platform it may share."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The short name in public and phone URLs: /c/<slug>/.
    slug: Mapped[str] = mapped_column(String(lengths.SLUG), unique=True)
    name: Mapped[str] = mapped_column(String(lengths.COMMUNITY_NAME))
    name_en: Mapped[str] = mapped_column(String(lengths.COMMUNITY_NAME_EN), default="")
    # This community's own settings, as JSON: only those that differ from the district's.
    settings: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def overrides(self) -> dict:
        try:
            value = json.loads(self.settings or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class CommunitySlug(db.Model):
    """A slug a community no longer goes by (renamed, or merged into another): its links
    still work, redirected to the community that holds its records now."""

    __tablename__ = "community_slugs"

    slug: Mapped[str] = mapped_column(String(lengths.SLUG), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DistrictSetting(db.Model):
    """A value the district sets for every community that sets none (JSON)."""

    __tablename__ = "district_settings"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CommunityScoped:
    """Mixin for every table whose rows belong to one community. Queries of these models
    are scoped by app.communities.scope; new rows take the scope's community."""

    @declared_attr
    def community_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), nullable=False)


class CodeAlias(CommunityScoped, db.Model):
    """A resident's code that a merge had to change (the community merged into already used
    it): the old code still finds the record through the old community's links."""

    __tablename__ = "community_code_aliases"
    __table_args__ = (UniqueConstraint("community_id", "former_slug", "kind", "old_code",
                                       name="uq_community_code_aliases_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    former_slug: Mapped[str] = mapped_column(String(lengths.SLUG))
    # What the code opens: "post" (a wall receipt), "signup", "request" (a help request), "card".
    kind: Mapped[str] = mapped_column(String(10))
    old_code: Mapped[str] = mapped_column(String(8))
    new_code: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
