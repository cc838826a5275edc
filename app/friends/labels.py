"""What residents and the matchmaker read for genders, ages, wishes and interests."""

from ..i18n import lazy_gettext as _l

GENDER_LABELS = {"female": _l("Woman"), "male": _l("Man")}
LOOKING_LABELS = {
    "friends": _l("Friends"),
    "partner": _l("A partner"),
    "companion": _l("Company for activities"),
}
INTEREST_LABELS = {
    "reading": _l("Reading"), "music": _l("Music"), "dance": _l("Dance"), "sports": _l("Sports"),
    "walking": _l("Walking"), "travel": _l("Travel"), "cooking": _l("Cooking"), "chess": _l("Chess and cards"),
    "calligraphy": _l("Calligraphy"), "photography": _l("Photography"), "films": _l("Films"),
    "gardening": _l("Gardening"), "pets": _l("Pets"), "volunteering": _l("Volunteering"),
}
CARD_STATE_LABELS = {
    "pending": _l("Waiting for the matchmaker"),
    "approved": _l("On the board"),
    "rejected": _l("Not approved"),
    "expired": _l("Expired"),
}
INTEREST_STATE_LABELS = {
    "new": _l("New"),
    "asked": _l("Waiting for an answer"),
    "agreed": _l("Both agreed"),
    "declined": _l("Declined"),
}


def age_label(band: str) -> str:
    """30-34 → 30–34 (a number range reads the same in both languages)."""
    return band.replace("-", "–")

# The anonymous counts the board keeps (friends_tallies), as the console shows them.
TALLY_LABELS = {
    "introductions": _l("Introductions made"),
    "cards-withdrawn": _l("Cards withdrawn by their owners"),
    "cards-deleted": _l("Cards deleted by staff"),
    "cards-pending-deleted": _l("Cards deleted unreviewed past their time"),
    "cards-approved-deleted": _l("Cards deleted past their time"),
    "cards-rejected-deleted": _l("Rejected cards deleted past their time"),
    "cards-expired-deleted": _l("Expired cards deleted"),
    "interests-deleted": _l("Requests deleted with their cards"),
}
