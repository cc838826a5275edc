"""The console's navigation: the areas a member may open, with counts of what is waiting.

Boards add their entries here as they arrive; each badge is a count function.
"""

import hashlib
from dataclasses import dataclass
from collections.abc import Callable

from flask import g
from flask_login import current_user

from ..cases import services as cases
from ..experts import services as experts
from ..i18n import lazy_gettext as _l
from ..kiosk import devices
from ..friends import services as friends
from ..wall import services as wall


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: tuple[str, ...]
    badge: Callable[[], int] | None = None
    badge_label: object = None
    # Shown to district staff holding one of these (a district admin sees every entry).
    district: tuple[str, ...] = ()
    # Shown when this says so (e.g. the member works for a unit), whatever the roles.
    when: Callable[[], bool] | None = None


NAV = (
    NavItem("staff.home", _l("Overview"), ()),
    NavItem("staff.wall_queue", _l("Message wall"), ("moderator",), wall.waiting_count, _l("waiting")),
    NavItem("staff.cases_index", _l("Cases"), ("moderator", "grid-worker"), cases.waiting_count, _l("to act on")),
    NavItem("staff.cases_unit", _l("Cases routed to us"), (), when=lambda: current_user.unit_id is not None),
    NavItem("staff.cases_overdue", _l("Overdue cases"), (), district=("supervisor",)),
    NavItem("staff.notices_index", _l("Notices"), ("moderator", "coordinator")),
    NavItem("staff.classes_index", _l("Classes"), ("coordinator",)),
    NavItem("staff.experts_index", _l("Experts"), ("coordinator",)),
    NavItem("staff.expert_requests", _l("Help requests"), ("coordinator",), experts.open_request_count, _l("new")),
    NavItem("staff.friends_cards", _l("Matchmaking"), ("matchmaker",), friends.pending_count, _l("to review")),
    NavItem("staff.households_index", _l("Household codes"), ("coordinator", "moderator")),
    NavItem("staff.kiosks", _l("Kiosks"), ("admin",), devices.offline_count, _l("offline")),
    NavItem("staff.accounts", _l("Staff accounts"), ("admin",)),
    NavItem("staff.audit_log", _l("Audit log"), ("admin",)),
    NavItem("staff.monthly_summary", _l("Monthly summary"), ("coordinator",)),
    NavItem("staff.community_settings", _l("Settings"), ("admin",)),
    NavItem("staff.backups_index", _l("Backups"), ("admin",)),
    NavItem("staff.district_home", _l("District"), (), district=("district-admin",)),
    NavItem("staff.district_figures", _l("District figures"), (), district=("district-viewer",)),
)


def _shown(item: NavItem) -> bool:
    if item.when is not None:
        return item.when()
    if item.district:
        held = current_user.district_roles
        return "district-admin" in held or bool(held.intersection(item.district))
    return not item.roles or current_user.has_role(*item.roles)


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object
    count: int
    badge_label: object


def entries() -> list[NavEntry]:
    return [
        NavEntry(item.endpoint, item.label, item.badge() if item.badge else 0, item.badge_label)
        for item in NAV
        if _shown(item)
    ]


def for_page() -> tuple[list[NavEntry], str]:
    """The entries and their version, worked out once per request."""
    if "console_nav" not in g:
        items = entries()
        g.console_nav = (items, version(items))
    return g.console_nav


def version(items: list[NavEntry]) -> str:
    """Changes whenever a count or the set of entries does: the poll answers 204 otherwise."""
    text = "|".join(f"{item.endpoint}={item.count}" for item in items)
    return hashlib.sha1(text.encode()).hexdigest()[:10]
