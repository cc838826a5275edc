"""Courses, sign-ups, waitlists, lotteries, attendance, ratings and needs surveys."""

from .signups import *  # noqa: F403
