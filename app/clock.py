"""Time as the app stores it: naive UTC; Babel converts it to the site's zone for display."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
