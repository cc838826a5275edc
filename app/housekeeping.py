"""Work the clock decides: lottery draws, term statuses, deleting expired personal data.

There is no scheduler on a community center's server, so enrolled kiosks' heartbeats
run it at most every HOUSEKEEPING_MINUTES (one conditional UPDATE elects one runner
across workers); `flask housekeeping` runs it at once, e.g. from cron. No page view runs
it: a GET changes nothing (tests/test_get_is_safe.py), and pages read what the clock
decides from the clock (classes.services.phase), not from housekeeping having run.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from .clock import utcnow
from .extensions import db
from .models import SiteFlag

LAST_RUN = "housekeeping_at"
log = logging.getLogger(__name__)


def run(now: datetime | None = None) -> dict[str, int]:
    """Every community's upkeep, each in its own scope; the counts summed."""
    from sqlalchemy import select

    from .communities import scope
    from .communities.models import Community

    now = now or utcnow()
    done: Counter[str] = Counter()
    for community_id in db.session.scalars(select(Community.id).order_by(Community.id)).all():
        with scope.within(community_id):
            done.update(run_in_community(now))
    return dict(done)


def run_in_community(now: datetime) -> dict[str, int]:
    from .cases import services as cases
    from .classes import services as classes
    from .experts import services as experts
    from .kiosk import handoff
    from .friends import services as friends
    from .limits import clear_past_windows

    return {**classes.housekeeping(now), "requests purged": experts.purge_requests(now),
            **friends.housekeeping(now), "phone handoffs purged": handoff.purge(now),
            "cases closed unanswered": cases.close_unanswered(now),
            "case contacts purged": cases.purge_contacts(now), "rate windows cleared": clear_past_windows()}


def _claim(now: datetime) -> bool:
    """True for exactly one caller per period: the one whose UPDATE moved the mark."""
    cutoff = (now - timedelta(minutes=current_app.config["HOUSEKEEPING_MINUTES"])).isoformat()
    claimed = db.session.execute(update(SiteFlag).where(SiteFlag.key == LAST_RUN, SiteFlag.value <= cutoff)
                                 .values(value=now.isoformat())).rowcount
    if not claimed and db.session.get(SiteFlag, LAST_RUN) is None:
        db.session.add(SiteFlag(key=LAST_RUN, value=now.isoformat()))
        claimed = 1
    try:
        db.session.commit()
    except IntegrityError:  # another worker inserted the mark first
        db.session.rollback()
        return False
    return bool(claimed)


def run_if_due(now: datetime | None = None) -> dict[str, int] | None:
    now = now or utcnow()
    if not _claim(now):
        return None
    try:
        return run(now)
    except Exception:  # upkeep must never break the heartbeat that carried it
        db.session.rollback()
        log.exception("housekeeping failed")
        return None
