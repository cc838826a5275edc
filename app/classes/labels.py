"""What residents and staff read for each category, phase, state and source."""

from ..i18n import lazy_gettext as _l, lazy_pgettext

CATEGORY_LABELS = {
    "calligraphy": _l("Calligraphy & painting"),
    "music": _l("Music & dance"),
    "reading": _l("Reading"),
    "family": _l("Family & parenting"),
    "law": _l("Law"),
    "fitness": _l("Fitness"),
    "children": _l("Children"),
    "elderly": _l("Elderly"),
    "other": _l("Other"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "open": lazy_pgettext("course", "Open"),
    "full": _l("Full"),
    "running": _l("Running"),
    "finished": _l("Finished"),
    "dropped": _l("Dropped"),
}
PHASE_LABELS = {
    **STATUS_LABELS,
    "open": _l("Sign-up open"),
    "upcoming": _l("Sign-up opens soon"),
    "closed": _l("Sign-up closed"),
    "drawing": _l("Draw coming"),
    "full": _l("Full: waitlist open"),
    "running": lazy_pgettext("course", "In progress"),
}
MODE_LABELS = {
    "first_come": _l("First come, first served"),
    "lottery": _l("Lottery"),
}
STATE_LABELS = {
    "entered": _l("In the draw"),
    "confirmed": _l("Seat confirmed"),
    "waitlisted": _l("On the waitlist"),
    "cancelled": _l("Cancelled"),
}
SOURCE_LABELS = {
    "kiosk": _l("Kiosk"),
    "phone": _l("Phone"),
    "assisted": _l("Assisted by staff"),
}
WEEKDAY_LABELS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
