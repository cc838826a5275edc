"""Courses, sign-ups, waitlists, lotteries, attendance, ratings and needs surveys.

One module per feature, layered so that each imports only those above it: common, phases,
signups, lottery, reading, courses, rosters, ratings, retention, needs_surveys. Callers
import this package and write `services.sign_up(...)`; the names are re-exported here.
"""

from .common import ClassError, staff_reason
from .phases import phase, seats_left, signup_window_open, term_end_utc, term_start_utc
from .signups import (ACTIVE_STATES, CODE_DIGITS, SIGNUP_ACTIONS, Outcome, allowed_actions, allowed_or_refused,
                      cancel, cancel_by_staff, find_signup, get_signup, promote_from_waitlist, sign_up, waitlist,
                      waitlist_position)
from .lottery import close_entries, draw, draw_due, draw_order, draw_result, entries, seed_commitment, verify_draw
from .reading import (LISTED_AFTER_TERM, Day, Slot, category_counts, counts, get_course, meetings_held,
                      public_course, public_course_as_read, public_courses,
                      revision, revision_of, status_of, taught_by, teacher_state_of, upcoming_meetings,
                      version, version_of, waitlist_counts, week)
from .courses import (MAX_MEETINGS, CourseData, form_data, meeting_times, save_course, schedule, set_status,
                      staff_courses, sync_statuses)
from .rosters import (MARKS, attendance, get_meeting, mark_all_present, move_on_waitlist, record_roster_view, roster,
                      roster_table, set_attendance)
from .ratings import RatingOverview, RatingSummary, rate, rating_eligible, rating_overview, rating_summary
from .retention import housekeeping, purge_personal_data
from .needs_surveys import answer_survey, get_survey, published_survey, save_survey, set_survey_state, surveys

__all__ = [
    "ClassError", "staff_reason",
    "phase", "seats_left", "signup_window_open", "term_end_utc", "term_start_utc",
    "ACTIVE_STATES", "CODE_DIGITS", "SIGNUP_ACTIONS", "Outcome", "allowed_actions", "allowed_or_refused", "cancel",
    "cancel_by_staff", "find_signup", "get_signup", "promote_from_waitlist", "sign_up", "waitlist",
    "waitlist_position",
    "close_entries", "draw", "draw_due", "draw_order", "draw_result", "entries", "seed_commitment", "verify_draw",
    "LISTED_AFTER_TERM", "Day", "Slot", "category_counts", "counts", "get_course", "meetings_held",
    "public_course", "public_course_as_read",
    "public_courses", "revision", "revision_of", "status_of", "taught_by", "teacher_state_of", "upcoming_meetings",
    "version", "version_of", "waitlist_counts", "week",
    "MAX_MEETINGS", "CourseData", "form_data", "meeting_times", "save_course", "schedule", "set_status",
    "staff_courses", "sync_statuses",
    "MARKS", "attendance", "get_meeting", "mark_all_present", "move_on_waitlist", "record_roster_view", "roster",
    "roster_table", "set_attendance",
    "RatingOverview", "RatingSummary", "rate", "rating_eligible", "rating_overview", "rating_summary",
    "housekeeping", "purge_personal_data",
    "answer_survey", "get_survey", "published_survey", "save_survey", "set_survey_state", "surveys",
]
