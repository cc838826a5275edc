"""Time as the app stores it: naive UTC; Babel converts it to the site's zone for display."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo



def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def site_zone() -> ZoneInfo:
    """The community's time zone (its BABEL_DEFAULT_TIMEZONE setting)."""
    from .communities.settings import setting

    return ZoneInfo(setting("BABEL_DEFAULT_TIMEZONE"))


def to_site(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the site's naive local time."""
    return moment.replace(tzinfo=UTC).astimezone(site_zone()).replace(tzinfo=None)


def from_site(moment: datetime) -> datetime:
    """A naive local time at the site as stored (naive UTC)."""
    return moment.replace(tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None)


def site_today() -> date:
    return to_site(utcnow()).date()
