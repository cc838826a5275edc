"""What the attract loop shows: a few recent wall posts, this week's coming classes, an
expert of the day and the notices. Read when the loop starts, and again every few minutes
while it runs."""

from ..clock import site_today, to_site, utcnow
from ..classes import services as classes
from ..experts import services as experts
from ..notices import services as notices
from ..wall import services as wall

POSTS = 4
MEETINGS = 6
NOTICES = 3


def slides(locale: str) -> dict:
    now = to_site(utcnow())
    coming = [slot for day in classes.week() for slot in day.slots if slot.ends > now]
    return {
        "posts": wall.wall_page(size=POSTS),
        "meetings": coming[:MEETINGS],
        "expert": experts.expert_of_the_day(site_today()),
        "notices": notices.current_notices(locale, limit=NOTICES),
        "now": utcnow(),
    }
