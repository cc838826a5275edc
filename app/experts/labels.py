"""What residents and staff read for each category, need and request state."""

from ..i18n import lazy_gettext as _l, lazy_pgettext

CATEGORY_LABELS = {
    "calligraphy": _l("Calligraphy & painting"),
    "literature": _l("Literature"),
    "photography": _l("Photography"),
    "music": _l("Singing & music"),
    "dance": _l("Dance"),
    "law": _l("Law & policy"),
    "crafts": _l("Knitting & crafts"),
    "repairs": _l("Small repairs"),
    "health": _l("Health"),
    "other": _l("Other"),
}
NEED_LABELS = {
    "learn": _l("Learn from them"),
    "question": _l("Ask a question"),
    "home": _l("Help at home"),
    "event": _l("Help with an event"),
    "other": _l("Something else"),
}
REQUEST_STATE_LABELS = {
    "new": _l("Received: staff will call you"),
    "assigned": _l("Staff are asking the expert"),
    "contacted": _l("Staff have put you in touch"),
    "done": _l("Done"),
    "declined": _l("Could not be arranged"),
}

# The help inbox's first tab: every request not finished or declined.
OPEN_REQUESTS = lazy_pgettext("help requests", "Open")
