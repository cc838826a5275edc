"""What residents read for each kind, state, status and reason."""

from ..i18n import lazy_gettext as _l

KIND_LABELS = {
    "wish": _l("Wish"),
    "greeting": _l("Greeting"),
    "thanks": _l("Thanks"),
    "suggestion": _l("Suggestion"),
    "problem": _l("Problem"),
}
REASON_LABELS = {
    "offensive": _l("Offensive"),
    "personal": _l("Personal information"),
    "spam": _l("Advertising or spam"),
    "other": _l("Something else"),
}
STATE_LABELS = {
    "pending": _l("Waiting for staff to read it"),
    "held": _l("Waiting for staff to read it"),
    "approved": _l("On the wall"),
    "rejected": _l("Not put on the wall"),
    "hidden": _l("Taken down"),
}
CHECK_LABELS = {
    "mobile": _l("mobile number"),
    "id-number": _l("ID number"),
    "long-number": _l("long number"),
    "split-number": _l("number split over posts"),
}

# What a watched word makes the checks do to a post that holds it.
WORD_ACTION_LABELS = {
    "block": _l("Refuse the post"),
    "hold": _l("Hold it for review"),
    "flag": _l("Flag it for moderators"),
}
