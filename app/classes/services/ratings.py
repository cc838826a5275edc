"""Ratings: people who attended rate a finished course; staff see what to consider dropping."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ... import lengths
from ...extensions import db
from ...i18n import lazy_gettext as _l
from ..models import Attendance, Course, Rating, Signup
from .common import ClassError
from .phases import phase
from .signups import allowed_actions, find_signup


def rating_eligible(signup: Signup, now: datetime | None = None) -> bool:
    course = db.session.get(Course, signup.course_id)
    if "rate" not in allowed_actions(signup) or phase(course, now) != "finished":
        return False
    attended = db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.signup_id == signup.id, Attendance.present))
    already = db.session.scalar(select(func.count()).select_from(Rating).where(Rating.signup_id == signup.id))
    return attended > 0 and not already


def rate(code: str, stars: int, comment: str = "", *, now: datetime | None = None) -> Rating:
    signup = find_signup(code)
    if signup is None:
        raise ClassError(_l("No sign-up has this code."), "code")
    if not 1 <= (stars or 0) <= 5:
        raise ClassError(_l("Please choose 1 to 5 stars."), "stars")
    comment = " ".join((comment or "").split())
    if len(comment) > lengths.COMMENT:
        raise ClassError(_l("A comment has at most %(n)d characters.", n=lengths.COMMENT), "comment")
    if db.session.scalar(select(func.count()).select_from(Rating).where(Rating.signup_id == signup.id)):
        raise ClassError(_l("This sign-up has already rated the course. Thank you!"), "code")
    if not rating_eligible(signup, now):
        raise ClassError(_l("Courses are rated after the term, by people who attended."), "code")
    rating = Rating(course_id=signup.course_id, signup_id=signup.id, stars=stars, comment=comment)
    db.session.add(rating)
    # The course page shows the ratings once the term is over: a change it shows.
    db.session.execute(update(Course).where(Course.id == signup.course_id).values(revision=Course.revision + 1),
                       execution_options={"synchronize_session": False})
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ClassError(_l("This sign-up has already rated the course. Thank you!"), "code") from None
    return rating


@dataclass(frozen=True)
class RatingSummary:
    count: int
    mean: float | None
    distribution: dict[int, int]
    comments: list[str]
    consider_dropping: bool


def rating_summary(course_id: int) -> RatingSummary:
    ratings = list(db.session.scalars(select(Rating).where(Rating.course_id == course_id).order_by(Rating.id.desc())))
    distribution = dict.fromkeys(range(5, 0, -1), 0)
    for rating in ratings:
        distribution[rating.stars] += 1
    mean = sum(rating.stars for rating in ratings) / len(ratings) if ratings else None
    config = current_app.config
    flagged = mean is not None and len(ratings) >= config["CLASS_RATINGS_MINIMUM"] \
        and mean < config["CLASS_DROP_THRESHOLD"]
    return RatingSummary(len(ratings), mean, distribution, [r.comment for r in ratings if r.comment], flagged)


@dataclass(frozen=True)
class RatingOverview:
    count: int
    mean: float
    consider_dropping: bool


def rating_overview() -> dict[int, RatingOverview]:
    """Every rated course's count and mean, in one grouped query (the console's list)."""
    config = current_app.config
    rows = db.session.execute(select(Rating.course_id, func.count(), func.avg(Rating.stars)).group_by(Rating.course_id))
    return {course_id: RatingOverview(count, float(mean), count >= config["CLASS_RATINGS_MINIMUM"]
                                      and float(mean) < config["CLASS_DROP_THRESHOLD"])
            for course_id, count, mean in rows}
