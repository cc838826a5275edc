"""Site-wide tables, and the import of every area's models (Alembic sees them all)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .clock import utcnow
from .extensions import db


class SiteFlag(db.Model):
    """One-off facts about this install, e.g. when the demo content was loaded. The install's,
    not a community's: no community_id."""

    __tablename__ = "site_flags"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


from . import audit as _audit, boards as _boards, limits as _limits
from .communities import models as _communities
from .classes import models as _classes
from .experts import models as _experts
from .friends import models as _friends
from .households import models as _households
from .kiosk import models as _kiosk
from .notices import models as _notices
from .staff import models as _staff
from .wall import models as _wall
