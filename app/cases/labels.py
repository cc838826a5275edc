"""What residents and staff read for a case's codes."""

from ..i18n import lazy_gettext as _l, lazy_pgettext

STATE_LABELS = {
    "received": lazy_pgettext("case", "Received"),
    "accepted": lazy_pgettext("case", "Accepted"),
    "in_progress": lazy_pgettext("case", "Being handled"),
    "resolved": lazy_pgettext("case", "Resolved, waiting for your answer"),
    "closed": lazy_pgettext("case", "Closed"),
    "returned": lazy_pgettext("case", "Sent back to the dispatcher"),
    "reopened": lazy_pgettext("case", "Reopened"),
}
# What the public reads: a case sent back is, for the resident, still received.
PUBLIC_STATE_LABELS = {**STATE_LABELS, "returned": STATE_LABELS["received"],
                       "resolved": lazy_pgettext("case", "Resolved")}
CHANNEL_LABELS = {
    "kiosk": _l("Kiosk"),
    "phone": _l("Phone (from a kiosk)"),
    "walk_in": _l("At the desk"),
    "phone_call": _l("Phone call"),
    "visit": _l("Door-to-door visit"),
    "patrol": _l("Grid patrol"),
    "hotline": _l("12345 hotline"),
}
LEVEL_LABELS = {
    "grid": _l("Grid worker"),
    "committee": _l("Residents' committee"),
    "property": _l("Property company"),
    "department": _l("District department"),
}
UNIT_KIND_LABELS = {"property": _l("Property company"), "department": _l("District department")}
CLOSE_LABELS = {
    "fixed": _l("Fixed"),
    "not_ours": _l("Not ours to handle"),
    "duplicate": _l("Same as another case"),
    "long_term": _l("Moved to a long-term plan"),
}
SATISFACTION_LABELS = {
    "satisfied": _l("Satisfied"),
    "basic": _l("Basically satisfied"),
    "unsatisfied": _l("Not satisfied"),
}
# The timeline's steps, as the resident and staff read them.
EVENT_LABELS = {
    "received": _l("Problem received"),
    "published": _l("Shown on the wall"),
    "not-published": _l("Not shown on the wall (the wall's checks)"),
    "routed": _l("Sent to its handler"),
    "accepted": _l("Accepted by the handler; due by"),
    "started": _l("Work started"),
    "returned": _l("Sent back to the dispatcher"),
    "extension-requested": _l("Extension asked for, until"),
    "extended": _l("Deadline extended to"),
    "extension-refused": _l("Extension refused"),
    "replied": _l("Reply"),
    "resolved": _l("Resolved"),
    "checked-back": _l("Resident's answer"),
    "reopened-by-resident": _l("Reopened after the resident's answer; due by"),
    "reopened": _l("Reopened; due by"),
    "reopened-to-route": _l("Reopened, to be sent to a handler"),
    "closed": _l("Closed"),
    "merged": _l("A duplicate was merged into this case"),
    "note": _l("Internal note"),
}
ACTION_LABELS = {
    "route": _l("Route"),
    "accept": _l("Accept the case"),
    "start": _l("Start work"),
    "return": _l("Send back to the dispatcher"),
    "request-extension": _l("Ask for an extension"),
    "approve-extension": _l("Approve the extension"),
    "refuse-extension": _l("Refuse the extension"),
    "resolve": _l("Resolve"),
    "check-back": _l("Record a phone call-back"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
}
LIST_LABELS = {
    "to-route": _l("To route"),
    "open": _l("All open"),
    "due-soon": _l("Due within a day"),
    "overdue": _l("Overdue"),
    "extensions": _l("Extensions to decide"),
    "resolved": _l("Waiting for check back"),
    "closed": _l("Closed"),
}
