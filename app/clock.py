"""Time as the app stores it: naive UTC; Babel converts it to the site's zone for display."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app



def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _configured_zone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# The zone of the community being worked in: app/communities/settings.py registers how to
# read it (a community's own, the district's, or the config's), as audit's device loader is.
_zone_name: Callable[[], str] = _configured_zone


def zone_loader(lookup: Callable[[], str]) -> Callable[[], str]:
    global _zone_name
    _zone_name = lookup
    return lookup


def site_zone() -> ZoneInfo:
    """The community's time zone (its BABEL_DEFAULT_TIMEZONE setting)."""
    return ZoneInfo(_zone_name())


def to_site(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the site's naive local time."""
    return moment.replace(tzinfo=UTC).astimezone(site_zone()).replace(tzinfo=None)


def from_site(moment: datetime) -> datetime:
    """A naive local time at the site as stored (naive UTC)."""
    return moment.replace(tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None)


def site_today() -> date:
    return to_site(utcnow()).date()
