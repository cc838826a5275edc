"""What the console shows for its own stored codes: staff roles, the audit log's areas,
actions, record types and detail fields, and the kiosk pages a screen reports showing.
Templates read them as `labels.staff.*` (app/labels.py)."""

import json

from flask import g
from sqlalchemy import select

from ..cases import labels as cases
from ..cases.models import Category
from ..classes import labels as classes
from ..experts import labels as experts
from ..extensions import db
from ..friends import labels as friends
from ..i18n import lazy_gettext as _l, lazy_pgettext, localized
from ..wall import labels as wall

LIST_SEPARATOR = lazy_pgettext("list separator", ", ")
FACT_SEPARATOR = lazy_pgettext("fact separator", "; ")
LABEL_COLON = lazy_pgettext("label colon", ": ")

ROLE_NAMES = {
    "admin": _l("Admin"),
    "moderator": _l("Moderator"),
    "coordinator": _l("Coordinator"),
    "matchmaker": _l("Matchmaker"),
    "grid-worker": _l("Grid worker"),
    "district-admin": _l("District admin"),
    "district-viewer": _l("District viewer"),
    "supervisor": _l("Supervisor"),
}

ACTOR_KINDS = {"staff": _l("Staff"), "kiosk": _l("Kiosk"), "household": _l("Household phone"),
               "system": _l("The system")}

AREA_LABELS = {
    "staff": _l("Staff and accounts"),
    "kiosks": _l("Kiosks"),
    "notices": _l("Notices"),
    "wall": _l("Message wall"),
    "cases": _l("Cases"),
    "classes": _l("Classes"),
    "experts": _l("Expert directory"),
    "friends": _l("Matchmaking"),
    "households": _l("Households"),
}

ACTION_LABELS = {
    # households
    "households-issued": _l("issued household codes"),
    "household-card-replaced": _l("made a new household card"),
    "household-card-viewed": _l("saw a household card"),
    "household-cards-printed": _l("printed household cards"),
    "household-moved": _l("changed a household's building or unit"),
    "household-revoked": _l("revoked a household's code"),
    "household-phone-bound": _l("linked a phone to its household"),
    "household-phone-revoked": _l("removed a household's phone"),
    # staff
    "account-created": _l("created an account"),
    "account-changed": _l("changed an account"),
    "account-enabled": _l("enabled an account"),
    "account-disabled": _l("disabled an account"),
    "password-changed": _l("changed a password"),
    "signed-in": _l("signed in"),
    "signed-out": _l("signed out"),
    "sign-in-failed": _l("failed to sign in"),
    "staff-assigned": _l("assigned staff to a community"),
    "unit-staff-set": _l("set a unit's staff"),
    "community-created": _l("created a community"),
    "community-renamed": _l("renamed a community"),
    "community-deleted": _l("deleted a community"),
    "community-exported": _l("exported a community"),
    "community-switched": _l("switched community"),
    "community-settings-changed": _l("changed a community's settings"),
    "communities-merged": _l("merged communities"),
    "district-settings-changed": _l("changed the district's settings"),
    "district-roles-changed": _l("changed district roles"),
    "district-figures-read": _l("read the district's figures"),
    "district-figures-exported": _l("exported the district's figures"),
    "audit-exported": _l("exported the audit log"),
    "backup-made": _l("made a backup"),
    "backup-downloaded": _l("downloaded a backup"),
    "backup-restored": _l("restored a backup"),
    # kiosks
    "kiosk-enrolled": _l("added a kiosk"),
    "kiosk-renamed": _l("renamed a kiosk"),
    "kiosk-revoked": _l("revoked a kiosk"),
    "all-kiosks-revoked": _l("revoked all kiosks"),
    "kiosk-token-collected": _l("kiosk joined"),
    # notices
    "notice-created": _l("created a notice"),
    "notice-saved": _l("changed a notice"),
    "notice-ended": _l("ended a notice"),
    "notice-deleted": _l("deleted a notice"),
    "district-notice-sent": _l("sent a district notice"),
    # wall
    "post-created": _l("posted on the wall"),
    "post-reported": _l("reported a post"),
    "post-approved": _l("approved a post"),
    "post-rejected": _l("rejected a post"),
    "post-hidden": _l("hid a post"),
    "post-restored": _l("restored a post"),
    "post-pinned": _l("pinned a post"),
    "post-unpinned": _l("unpinned a post"),
    "post-masking-adjusted": _l("changed what the wall shows of a post"),
    "word-added": _l("added a watched word"),
    "word-removed": _l("removed a watched word"),
    "kind-setting-changed": _l("changed the wall's settings"),
    # cases
    "case-received": _l("took in a case"),
    "case-opened": _l("opened a case"),
    "case-me-too": _l("added a “me too”"),
    "case-published": _l("put a case on the wall"),
    "case-contact-viewed": _l("saw a case's contact"),
    "case-checked-back": _l("checked back on a case"),
    "case-route": _l("routed a case"),
    "case-accept": _l("accepted a case"),
    "case-start": _l("started work on a case"),
    "case-return": _l("returned a case"),
    "case-request-extension": _l("asked for more time on a case"),
    "case-approve-extension": _l("approved more time on a case"),
    "case-refuse-extension": _l("refused more time on a case"),
    "case-resolve": _l("resolved a case"),
    "case-check-back": _l("recorded a check back"),
    "case-close": _l("closed a case"),
    "case-reopen": _l("reopened a case"),
    "case-updated": _l("updated a case"),
    "category-added": _l("added a case category"),
    "category-changed": _l("changed a case category"),
    "grid-added": _l("added a grid"),
    "grid-changed": _l("changed a grid"),
    "grid-removed": _l("removed a grid"),
    "grid-worker-set": _l("set a grid's worker"),
    "unit-added": _l("added a unit"),
    "calendar-day-entered": _l("entered a calendar day"),
    "calendar-day-removed": _l("removed a calendar day"),
    # classes
    "course-created": _l("created a course"),
    "course-saved": _l("changed a course"),
    "course-open": _l("opened sign-up"),
    "course-close": _l("closed sign-up"),
    "course-drop": _l("dropped a course"),
    "lottery-entries-closed": _l("closed a lottery's entries"),
    "lottery-drawn": _l("drew a lottery"),
    "signup-assisted": _l("signed a resident up"),
    "signup-cancelled": _l("cancelled a sign-up"),
    "waitlist-moved": _l("moved someone on a waitlist"),
    "roster-viewed": _l("saw a roster"),
    "roster-printed": _l("printed a roster"),
    "roster-exported": _l("exported a roster"),
    "survey-created": _l("created a survey"),
    "survey-draft": _l("took a survey back to draft"),
    "survey-published": _l("published a survey"),
    "survey-closed": _l("closed a survey"),
    "personal-data-deleted": _l("deleted personal data past its time"),
    # experts
    "expert-created": _l("added an expert"),
    "expert-saved": _l("changed an expert"),
    "expert-listed": _l("showed an expert on the kiosk"),
    "expert-hidden": _l("hid an expert"),
    "expert-removed": _l("removed an expert"),
    "expert-viewed": _l("saw an expert's contact"),
    "requests-viewed": _l("saw residents' help requests"),
    "requests-exported": _l("exported residents' help requests"),
    "skill-added": _l("added a skill"),
    "request-new": _l("reopened a help request"),
    "request-assigned": _l("assigned a help request"),
    "request-contacted": _l("contacted a resident"),
    "request-done": _l("finished a help request"),
    "request-declined": _l("declined a help request"),
    # friends
    "card-approved": _l("approved a card"),
    "card-rejected": _l("rejected a card"),
    "card-withdrawn": _l("card withdrawn by its owner"),
    "card-deleted": _l("deleted a card"),
    "card-purged": _l("deleted a card past its time"),
    "card-contact-viewed": _l("saw a card owner's contact"),
    "contacts-viewed": _l("saw both residents' contacts"),
    "interest-asked": _l("asked a card's owner"),
    "interest-owner-yes": _l("recorded the owner's yes"),
    "interest-owner-no": _l("recorded the owner's no"),
    "interest-requester-no": _l("recorded the asker's no"),
}

TARGET_LABELS = {
    "wall_posts": _l("Post"),
    "wall_watched_words": _l("Watched word"),
    "cases": _l("Case"),
    "case_categories": _l("Case category"),
    "case_grids": _l("Grid"),
    "case_units": _l("Unit"),
    "case_calendar_days": _l("Calendar day"),
    "class_courses": _l("Course"),
    "class_signups": _l("Sign-up"),
    "class_surveys": _l("Survey"),
    "directory_experts": _l("Expert"),
    "directory_requests": _l("Help request"),
    "directory_skills": _l("Skill"),
    "friends_cards": _l("Card"),
    "friends_interests": _l("Introduction"),
    "kiosks": _l("Kiosk"),
    "households": _l("Household"),
    "household_phones": _l("Household phone"),
    "notices": _l("Notice"),
    "staff_members": _l("Staff account"),
    "communities": _l("Community"),
    "audit_entries": _l("Audit log entry"),
    "board_versions": _l("Board version"),
    "case_category_overrides": _l("Community's case category setting"),
    "case_events": _l("Case step"),
    "case_supports": _l("“Me too”"),
    "class_attendance": _l("Attendance mark"),
    "class_ratings": _l("Course rating"),
    "class_sessions": _l("Meeting"),
    "class_survey_options": _l("Survey option"),
    "class_survey_households": _l("Household that answered a survey"),
    "community_code_aliases": _l("Former code"),
    "community_slugs": _l("Community address"),
    "directory_expert_weeks": _l("Expert's weekly count"),
    "directory_search_keys": _l("Expert search key"),
    "friends_tallies": _l("Matchmaking count"),
    "kiosk_handoffs": _l("Form carried to a phone"),
    "kiosk_days": _l("Kiosk's day online"),
    "rate_counters": _l("Rate limit count"),
    "staff_memberships": _l("Staff member's place"),
    "staff_sessions": _l("Sign-in session"),
    "wall_kind_settings": _l("Wall setting"),
    "wall_reports": _l("Report of a post"),
}

# What a code given anew at a merge was for (app/district/lifecycle.py CODES).
CODE_KIND_LABELS = {"post": _l("Post"), "signup": _l("Sign-up"), "request": _l("Help request"), "card": _l("Card"),
                    "case": _l("Case")}

DETAIL_LABELS = {
    "action": _l("Action"), "as": _l("As"), "backup": _l("Backup"), "bytes": _l("Bytes"),
    "category": _l("Category"), "channel": _l("Came in by"), "checks": _l("Checks"),
    "communities": _l("Communities"), "contact": _l("Contact"), "count": _l("Count"), "course": _l("Course"),
    "day": _l("Day"), "display": _l("Name"), "district_roles": _l("District roles"), "entries": _l("Entries"),
    "file": _l("File"), "fixed": _l("Fixed"), "format": _l("Format"), "from": _l("From"), "key": _l("Key"),
    "kind": _l("Kind"), "name": _l("Name"), "note": _l("Note"), "number": _l("Number"), "post": _l("Post"),
    "private": _l("Private"), "publish_first": _l("Publish first"), "question": _l("Question"),
    "reason": _l("Reason"), "reporters": _l("Reports"), "requests": _l("Requests"), "revision": _l("Version"),
    "roles": _l("Roles"), "rows": _l("Rows"), "satisfaction": _l("Satisfaction"), "seed": _l("Seed"),
    "signups": _l("Sign-ups"), "slug": _l("Address"), "state": _l("State"), "title": _l("Title"),
    "to": _l("To"), "unit": _l("Unit"), "username": _l("Username"), "winners": _l("Winners"),
    "worker": _l("Worker"), "workday": _l("Working day"), "handler": _l("Handled by"),
    "first_handler": _l("Handled first by"), "reply": _l("Public reply"), "deadline_days": _l("Working days to solve"),
    "urgent_hours": _l("Hours when urgent"), "active": _l("In use"), "name_en": _l("English name"),
    "icon": _l("Icon"), "position": _l("Order"), "building": _l("Building"), "batch": _l("Batch"),
    "household": _l("Household"), "by": _l("How"),
}

YES_NO = {True: _l("yes"), False: _l("no")}

# The kiosk pages a screen reports showing (its heartbeat's path), by their first segment
# after the community's address.
PAGE_LABELS = {
    "": _l("Home"),
    "wall": _l("Message wall"),
    "classes": _l("Classes"),
    "experts": _l("Expert directory"),
    "friends": _l("Matchmaking"),
    "notices": _l("Notices"),
    "cases": _l("Report a problem"),
    "join": _l("Link this phone to your household"),
}


def roles(codes) -> str:
    """A member's roles as staff read them: "管理员、审核员"."""
    return str(LIST_SEPARATOR).join(str(ROLE_NAMES.get(code, code)) for code in sorted(codes))


def action(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def target(table: str | None, record_id) -> str:
    if not table:
        return ""
    return f"{TARGET_LABELS.get(table, table)} #{record_id}"


def _value(key: str, value, value_labels) -> str:
    if isinstance(value, bool):
        return str(YES_NO[value])
    if isinstance(value, list):
        return str(LIST_SEPARATOR).join(_value(key, each, value_labels) for each in value)
    if key in ("roles", "district_roles") and isinstance(value, str):
        return roles(value.split())
    labels = value_labels.get(key)
    if labels and isinstance(value, str):
        if key == "checks":
            return str(LIST_SEPARATOR).join(str(labels.get(each, each)) for each in value.split())
        return str(labels.get(value, value))
    return "" if value is None else str(value)


class _CaseCategories:
    """A case category's name for its key: the categories are read once per request (a log
    page or an export of thousands of entries reads them once)."""

    def get(self, key, default=None):
        if "case_category_names" not in g:
            g.case_category_names = {category.key: localized(category, "name")
                                     for category in db.session.scalars(select(Category))}
        return g.case_category_names.get(key, default)


# The codes an area's details hold, by the detail's key.
VALUE_LABELS = {
    "wall": {"kind": wall.KIND_LABELS, "state": wall.STATE_LABELS, "checks": wall.CHECK_LABELS,
             "reason": wall.REASON_LABELS, "action": wall.WORD_ACTION_LABELS},
    "cases": {"state": cases.STATE_LABELS, "channel": cases.CHANNEL_LABELS, "as": cases.CLOSE_LABELS,
              "satisfaction": cases.SATISFACTION_LABELS, "kind": cases.UNIT_KIND_LABELS,
              "handler": cases.LEVEL_LABELS, "first_handler": cases.LEVEL_LABELS, "to": cases.STATE_LABELS,
              "category": _CaseCategories()},
    "classes": {"state": classes.STATE_LABELS, "category": classes.CATEGORY_LABELS},
    "experts": {"state": experts.REQUEST_STATE_LABELS, "category": experts.CATEGORY_LABELS},
    "friends": {"state": friends.CARD_STATE_LABELS},
    "households": {"by": {"link": _l("scanned the card"), "code": _l("typed the code")}},
}


def detail(text: str, area: str) -> str:
    """An entry's detail as "Reason: …; Kind: …" in the console's language. Details are
    JSON objects when a service recorded several facts; plain text is shown as it is."""
    if not text.startswith("{"):
        return text
    try:
        facts = json.loads(text)
    except ValueError:
        return text
    if not isinstance(facts, dict):
        return text
    value_labels = VALUE_LABELS.get(area, {})
    return str(FACT_SEPARATOR).join(f"{DETAIL_LABELS.get(key, key)}{LABEL_COLON}{_value(key, value, value_labels)}"
                                    for key, value in facts.items() if value not in (None, "", []))


def page(path: str | None) -> str:
    """The kiosk page a screen showed: "/c/main/wall/" reads 留言墙."""
    if not path:
        return ""
    parts = [part for part in path.split("/") if part]
    if parts[:1] == ["c"]:
        parts = parts[2:]
    return str(PAGE_LABELS.get(parts[0] if parts else "", PAGE_LABELS[""]))
