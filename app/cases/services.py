"""Cases: intake from every channel, routing, the handler's steps, extensions, the
resident's check back (回访), and closing. Every step is one row of CASE_ACTIONS, made by
a conditional UPDATE (transitions.py), dated in the case's timeline with who did it, and
audited; a step the case's state or the person's place does not allow changes nothing.

Who may take a step (``may``):
- the dispatcher (the community's moderators and admins) routes, closes, reopens, writes
  notes and replies, and records a phone call-back;
- the handler the case is routed to works it: the grid's worker, the committee (its
  moderators and admins), or the staff of the property company or department;
- the community's admins approve or refuse an extension;
- a supervisor (纪检, a district role) reads overdue cases and changes nothing.
"""

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, lengths
from ..clock import to_site, utcnow
from ..communities import scope
from ..communities.settings import setting
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..people import find_numbers, mask_numbers_in_text
from ..transitions import allowed, change_state, transition
from ..wall import services as wall
from . import workdays
from .models import (CHANNELS, CLOSE_REASONS, DETAIL, HANDLER_LEVELS, OPEN_STATES, SATISFACTION, Case,
                     CaseEvent, CaseSupport, Category, CategoryOverride, Grid, Unit)

if TYPE_CHECKING:
    from ..staff.models import StaffMember

DUPLICATE_WINDOW = timedelta(minutes=5)
# A resident's call-back number, after the case closed (a reopened case needs it again).
CONTACT_KEPT = timedelta(days=30)
# "Due soon": due within this long.
DUE_SOON = timedelta(hours=24)
# The resident's days to answer after "resolved", where the config sets no CASE_CHECK_BACK_DAYS.
CHECK_BACK_DAYS = 7


def _check_back_days() -> int:
    try:
        return setting("CASE_CHECK_BACK_DAYS")
    except KeyError:  # not in the app's config
        return CHECK_BACK_DAYS


class CaseError(Refused):
    default_field = "case"


# --- categories -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A category as it holds in the community being worked in (its overrides applied)."""

    category: Category
    first_handler: str
    unit_id: int | None
    deadline_days: int
    urgent_hours: int | None
    private: bool
    active: bool

    @property
    def id(self) -> int:
        return self.category.id


def _rule(category: Category, override: CategoryOverride | None) -> Rule:
    def pick(name):
        value = getattr(override, name, None) if override is not None else None
        return getattr(category, name) if value is None else value
    return Rule(category, pick("first_handler"), pick("unit_id"), pick("deadline_days"), pick("urgent_hours"),
                bool(pick("private")), bool(pick("active")))


def rules(*, active_only: bool = True) -> list[Rule]:
    overrides = {row.category_id: row for row in db.session.scalars(select(CategoryOverride))}
    found = [_rule(category, overrides.get(category.id))
             for category in db.session.scalars(select(Category).order_by(Category.position, Category.id))]
    return [rule for rule in found if rule.active or not active_only]


def rule_for(category_id: int | None) -> Rule | None:
    category = db.session.get(Category, category_id) if category_id else None
    if category is None:
        return None
    override = db.session.scalar(select(CategoryOverride).where(CategoryOverride.category_id == category.id))
    return _rule(category, override)


def _deadline_values(first_handler, unit_id, deadline_days, urgent_hours) -> dict:
    if first_handler not in HANDLER_LEVELS:
        raise CaseError(_l("Please choose who handles it first."), "first_handler")
    if first_handler in ("property", "department"):
        unit = db.session.get(Unit, unit_id) if unit_id else None
        if unit is None or unit.kind != first_handler:
            raise CaseError(_l("Please choose the property company or department from the list."), "unit")
    else:
        unit_id = None
    if deadline_days is None or not 1 <= deadline_days <= 60:
        raise CaseError(_l("A deadline is 1 to 60 working days."), "deadline_days")
    if urgent_hours is not None and not 1 <= urgent_hours <= 72:
        raise CaseError(_l("An urgent deadline is 1 to 72 hours."), "urgent_hours")
    return {"first_handler": first_handler, "unit_id": unit_id, "deadline_days": deadline_days,
            "urgent_hours": urgent_hours}


def add_category(key: str, name: str, name_en: str = "", *, first_handler: str = "grid", unit_id: int | None = None,
                 deadline_days: int = 5, urgent_hours: int | None = None, private: bool = False,
                 icon: str = "problem") -> Category:
    """A district category (district admins): every community has it unless it turns it off."""
    key, name, name_en = (key or "").strip().lower(), " ".join((name or "").split()), " ".join((name_en or "").split())
    if not key or len(key) > lengths.CATEGORY_KEY or not key.replace("-", "").isalnum() or not key.isascii():
        raise CaseError(_l("A category's key is lower-case letters, digits and hyphens."), "key")
    if not name or len(name) > lengths.CATEGORY_NAME:
        raise CaseError(_l("A category's name has 1 to %(n)d characters.", n=lengths.CATEGORY_NAME), "name")
    if len(name_en) > lengths.CATEGORY_NAME_EN:
        raise CaseError(_l("A category's name has 1 to %(n)d characters.", n=lengths.CATEGORY_NAME_EN), "name_en")
    if db.session.scalar(select(Category.id).where(Category.key == key)):
        raise CaseError(_l("That category exists already."), "key")
    values = _deadline_values(first_handler, unit_id, deadline_days, urgent_hours)
    position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
    category = Category(key=key, name=name, name_en=name_en, private=private, icon=icon, position=position, **values)
    db.session.add(category)
    db.session.flush()
    audit.record("cases", "category-added", category, {"key": key, **values, "private": private})
    db.session.commit()
    return category


def set_category_override(category_id: int, *, first_handler: str, unit_id: int | None, deadline_days: int,
                          urgent_hours: int | None, private: bool, active: bool) -> None:
    """The community's own rule for a category (its admins); what equals the district's is
    stored as "as the district", so a later district change still reaches it."""
    category = db.session.get(Category, category_id)
    if category is None:
        raise CaseError(_l("Unknown category."), "category")
    values = {**_deadline_values(first_handler, unit_id, deadline_days, urgent_hours), "private": private,
              "active": active}
    override = db.session.scalar(select(CategoryOverride).where(CategoryOverride.category_id == category_id)) \
        or CategoryOverride(category_id=category_id)
    for name, value in values.items():
        setattr(override, name, None if value == getattr(category, name) else value)
    db.session.add(override)
    audit.record("cases", "category-changed", category, values)
    db.session.commit()


# --- units, grids and who works them --------------------------------------------------------

def units(kind: str | None = None) -> list[Unit]:
    query = select(Unit).order_by(Unit.kind, Unit.name)
    if kind:
        query = query.where(Unit.kind == kind)
    return list(db.session.scalars(query))


def add_unit(name: str, kind: str) -> Unit:
    name = " ".join((name or "").split())
    if kind not in ("property", "department"):
        raise CaseError(_l("Please choose a department or a property company."), "kind")
    if not name or len(name) > lengths.UNIT_NAME:
        raise CaseError(_l("A name has 1 to %(n)d characters.", n=lengths.UNIT_NAME), "name")
    if db.session.scalar(select(Unit.id).where(Unit.name == name)):
        raise CaseError(_l("That name is taken already."), "name")
    unit = Unit(name=name, kind=kind)
    db.session.add(unit)
    db.session.flush()
    audit.record("cases", "unit-added", unit, {"name": name, "kind": kind})
    db.session.commit()
    return unit


def _staff_models():
    """The console's accounts and memberships. Imported when first needed: importing the
    staff package loads the console, whose case pages import this module."""
    from ..staff import models
    return models


def set_unit_staff(username: str, unit_id: int | None) -> None:
    """Make an account a member of a unit's staff (or of none)."""
    StaffMember = _staff_models().StaffMember
    member = db.session.scalar(select(StaffMember).where(StaffMember.username == (username or "").strip().lower()))
    if member is None:
        raise CaseError(_l("No account has that username."), "username")
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise CaseError(_l("Please choose the property company or department from the list."), "unit")
    member.unit_id = unit_id
    audit.record("staff", "unit-staff-set", member, {"unit": unit_id})
    db.session.commit()


def grids() -> list[Grid]:
    return list(db.session.scalars(select(Grid).order_by(Grid.position, Grid.name, Grid.id)))


def grid_workers() -> list["StaffMember"]:
    """The community's staff who hold the grid worker role."""
    StaffMember, Membership = _staff_models().StaffMember, _staff_models().Membership
    members = db.session.scalars(
        select(StaffMember).join(Membership, Membership.member_id == StaffMember.id)
        .where(Membership.community_id == scope.current_community_id(), StaffMember.enabled.is_(True))
        .order_by(StaffMember.display_name))
    return [member for member in members if "grid-worker" in _membership_roles(member.id)]


def _worker(worker_id: int | None) -> int | None:
    if worker_id is None:
        return None
    if worker_id not in {member.id for member in grid_workers()}:
        raise CaseError(_l("Please choose a grid worker from the list."), "worker")
    return worker_id


def _grid_name(name: str, grid_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > lengths.GRID_NAME:
        raise CaseError(_l("A grid's name has 1 to %(n)d characters.", n=lengths.GRID_NAME), "name")
    if db.session.scalar(select(Grid.id).where(Grid.name == name, Grid.id != (grid_id or 0))):
        raise CaseError(_l("That grid exists already."), "name")
    return name


def add_grid(name: str, worker_id: int | None = None) -> int:
    name = _grid_name(name)
    last = db.session.scalar(select(func.max(Grid.position))) or 0
    grid = Grid(name=name, worker_id=_worker(worker_id), position=last + 1)
    db.session.add(grid)
    db.session.flush()
    audit.record("cases", "grid-added", grid, {"name": name, "worker": worker_id})
    db.session.commit()
    return grid.id


def _grid(grid_id: int) -> Grid:
    grid = db.session.get(Grid, grid_id)
    if grid is None:
        raise CaseError(_l("Unknown grid."), "grid")
    return grid


def update_grid(grid_id: int, name: str, worker_id: int | None) -> None:
    """Rename a grid and set who works it; its cases follow the new name."""
    grid = _grid(grid_id)
    grid.name = _grid_name(name, grid_id)
    grid.worker_id = _worker(worker_id)
    audit.record("cases", "grid-changed", grid, {"name": grid.name, "worker": worker_id})
    db.session.commit()


def grids_in_use() -> set[int]:
    """Grids that cases name: they can be renamed, not removed."""
    return set(db.session.scalars(select(Case.grid_id).where(Case.grid_id.is_not(None)).distinct()))


def remove_grid(grid_id: int) -> None:
    grid = _grid(grid_id)
    if db.session.scalar(select(Case.id).where(Case.grid_id == grid_id).limit(1)) is not None:
        raise CaseError(_l("Cases name this grid: it can be renamed, not removed."), "grid")
    audit.record("cases", "grid-removed", grid, {"name": grid.name})
    db.session.delete(grid)
    db.session.commit()


def move_grid(grid_id: int, step: int) -> None:
    """One place earlier (step -1) or later (+1) in the grids' order."""
    order = grids()
    index = next((place for place, grid in enumerate(order) if grid.id == grid_id), None)
    if index is None:
        raise CaseError(_l("Unknown grid."), "grid")
    other = index + step
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    for position, grid in enumerate(order, 1):
        grid.position = position
    db.session.commit()


# --- who may do what --------------------------------------------------------------------------

def _membership_roles(member_id: int) -> frozenset[str]:
    Membership = _staff_models().Membership
    roles = db.session.scalar(select(Membership.roles).where(
        Membership.member_id == member_id, Membership.community_id == scope.current_community_id()))
    return frozenset((roles or "").split())


def roles_here(member: "StaffMember") -> frozenset[str]:
    """The member's roles in the community of the scope (the case's community)."""
    if "district-admin" in member.district_roles:
        return frozenset({"admin"})
    return _membership_roles(member.id)


def _dispatcher(member, case) -> bool:
    return bool(roles_here(member) & {"admin", "moderator"})


def _handler(member, case) -> bool:
    if case.handler_level == "grid":
        return case.grid is not None and case.grid.worker_id == member.id
    if case.handler_level == "committee":
        return _dispatcher(member, case)
    if case.handler_level in ("property", "department"):
        return member.unit_id is not None and member.unit_id == case.unit_id
    return False


def _admin(member, case) -> bool:
    return "admin" in roles_here(member)


# Which step each state allows, what it leads to, and who may take it.
CASE_ACTIONS = {
    "route": transition(("received", "returned", "reopened"), "received"),
    "accept": transition(("received",), "accepted"),
    "start": transition(("accepted", "reopened"), "in_progress"),
    "return": transition(("received", "accepted", "in_progress", "reopened"), "returned"),
    "request-extension": transition(("accepted", "in_progress", "reopened")),
    "approve-extension": transition(("accepted", "in_progress", "reopened")),
    "refuse-extension": transition(("accepted", "in_progress", "reopened")),
    "resolve": transition(("accepted", "in_progress", "reopened"), "resolved"),
    "check-back": transition(("resolved",)),
    "close": transition(("received", "accepted", "in_progress", "returned", "reopened", "resolved"), "closed"),
    "reopen": transition(("resolved", "closed"), "reopened"),
}
WHO = {
    "route": _dispatcher, "close": _dispatcher, "reopen": _dispatcher, "check-back": _dispatcher,
    "accept": _handler, "start": _handler, "return": _handler, "request-extension": _handler, "resolve": _handler,
    "approve-extension": _admin, "refuse-extension": _admin,
}


def _ready(action: str, case: Case) -> bool:
    """What the state alone does not say: a handler to accept, a request to decide."""
    if action in ("accept", "return"):
        return case.handler_level is not None
    if action == "request-extension":
        return case.extension_until is None and case.due_at is not None and utcnow() < case.due_at
    if action in ("approve-extension", "refuse-extension"):
        return case.extension_until is not None
    return True


def may(member: "StaffMember", action: str, case: Case) -> bool:
    return (case.state in CASE_ACTIONS[action].from_states and _ready(action, case)
            and WHO[action](member, case))


def actions_for(member: "StaffMember", case: Case) -> list[str]:
    """The steps the member may take on the case now, in the table's order (templates)."""
    here = allowed(CASE_ACTIONS, case.state)
    return [action for action in CASE_ACTIONS if action in here and may(member, action, case)]


def may_write(member: "StaffMember", case: Case) -> bool:
    """Notes, the public reply, and the resident's own words on request: dispatcher and handler."""
    return _dispatcher(member, case) or _handler(member, case)


def may_see(member: "StaffMember", case: Case) -> bool:
    """Its community's dispatchers, its handler, and supervisors (read-only)."""
    return _dispatcher(member, case) or _handler(member, case) or "supervisor" in member.district_roles


# --- intake -----------------------------------------------------------------------------------

def _code(digits: int) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


@dataclass(frozen=True)
class Intake:
    category_id: int | None
    text: str
    place: str = ""
    grid_id: int | None = None
    contact: str = ""
    hotline_number: str = ""
    hotline_due: date | None = None


def _checked(intake: Intake, channel: str) -> dict:
    text = (intake.text or "").strip()
    place = " ".join((intake.place or "").split())
    contact = "".join(ch for ch in (intake.contact or "") if ch.isdigit())
    rule = rule_for(intake.category_id)
    if rule is None or not rule.active:
        raise CaseError(_l("Please choose what the problem is about."), "category")
    if channel not in CHANNELS:
        raise CaseError(_l("Please choose how the problem came in."), "channel")
    if not text:
        raise CaseError(_l("Please say what the problem is."), "text")
    if len(text) > lengths.TEXT:
        raise CaseError(_l("A message has at most %(n)d characters.", n=lengths.TEXT), "text")
    if len(place) > lengths.LOCATION:
        raise CaseError(_l("A place has at most %(n)d characters.", n=lengths.LOCATION), "place")
    if intake.grid_id is not None and db.session.get(Grid, intake.grid_id) is None:
        raise CaseError(_l("Unknown grid."), "grid")
    if intake.contact and not 7 <= len(contact) <= lengths.CONTACT:
        raise CaseError(_l("Please give a phone number of 7 to 20 digits, or none."), "contact")
    hotline_number = " ".join((intake.hotline_number or "").split())
    hotline_due_at = None
    if channel == "hotline":
        if not hotline_number or len(hotline_number) > lengths.HOTLINE_NUMBER:
            raise CaseError(_l("Please give the 12345 ticket's number."), "hotline_number")
        if intake.hotline_due is None:
            raise CaseError(_l("Please give the 12345 ticket's due date."), "hotline_due")
        if intake.hotline_due < to_site(utcnow()).date():
            raise CaseError(_l("That date is in the past."), "hotline_due")
        hotline_due_at = workdays.end_of(intake.hotline_due)
    elif hotline_number or intake.hotline_due:
        raise CaseError(_l("Only a 12345 ticket has a ticket number."), "hotline_number")
    return {"rule": rule, "text": text, "place": place, "contact": contact, "hotline_number": hotline_number,
            "hotline_due_at": hotline_due_at}


def _event(case: Case, action: str, *, staff_id: int | None = None, public: bool = True, text: str = "",
           detail: str = "") -> None:
    db.session.add(CaseEvent(case_id=case.id, action=action, staff_id=staff_id, state=case.state, public=public,
                             text=text, detail=detail, at=utcnow()))


def take_in(intake: Intake, *, channel: str, reported_by: str, staff_id: int | None = None) -> Case:
    """File a case (the resident's receipt code on it); a public category's case also goes to
    the wall as a problem card, through the wall's checks and moderation."""
    values = _checked(intake, channel)
    rule: Rule = values.pop("rule")
    now = utcnow()
    key = hashlib.sha256(values["text"].encode()).hexdigest()
    recent = db.session.scalars(select(Case.text).where(
        Case.reported_by == reported_by, Case.created_at > now - DUPLICATE_WINDOW)).all()
    if channel in ("kiosk", "phone") and any(hashlib.sha256(t.encode()).hexdigest() == key for t in recent):
        raise CaseError(_l("The same problem was just reported. It needs to be sent only once."), "text")
    case = Case(channel=channel, category_id=rule.id, grid_id=intake.grid_id, masked_text=mask_numbers_in_text(
        values["text"]), reported_by=reported_by, state="received", urgent=bool(rule.urgent_hours), created_at=now,
        updated_at=now, **values)
    for _ in range(5):
        case.number, case.receipt_code = _code(10), _code(8)
        db.session.add(case)
        try:
            db.session.flush()
            break
        except IntegrityError:  # a number or code taken: draw again
            db.session.rollback()
    else:
        raise RuntimeError("no free case number after 5 draws")
    _event(case, "received", staff_id=staff_id, detail=channel)
    audit.record("cases", "case-received", case, {"channel": channel, "category": rule.category.key,
                                                  "numbers": len(find_numbers(values["text"]))})
    db.session.commit()
    if not rule.private and channel in ("kiosk", "phone"):
        publish(case.id, posted_by=reported_by)
    return case


def publish(case_id: int, *, posted_by: str, staff_id: int | None = None) -> bool:
    """Put the case on the wall as a problem card (moderated as every post is). False when the
    wall's checks refuse it: the case stays, private."""
    case = db.session.get(Case, case_id)
    if case is None or case.post_id is not None:
        return False
    try:
        post_id = wall.create_post("problem", case.text, location=case.place, posted_by=posted_by,
                                   receipt_code=case.receipt_code).post_id
    except wall.WallError as error:
        _event(case, "not-published", staff_id=staff_id, public=False, text=str(error))
        db.session.commit()
        return False
    case.post_id = post_id
    _event(case, "published", staff_id=staff_id, public=False)
    audit.record("cases", "case-published", case, {"post": post_id})
    db.session.commit()
    return True


def similar_open(category_id: int | None, grid_id: int | None, place: str, limit: int = 5) -> list[Case]:
    """Open cases of the same category at the same place or grid: a resident can add a "me
    too" to one of these instead of filing the problem again."""
    place = " ".join((place or "").split())
    if not category_id or not (grid_id or place):
        return []
    where = [Case.category_id == category_id, Case.state.in_(OPEN_STATES + ("resolved",))]
    near = []
    if grid_id:
        near.append(Case.grid_id == grid_id)
    if place:
        near.append(Case.place == place)
    return list(db.session.scalars(select(Case).where(*where, or_(*near))
                                   .order_by(Case.created_at.desc()).limit(limit)))


def me_too(case_id: int, supporter: str) -> bool:
    """Count a resident's "me too" once per kiosk or phone; False when this one had already."""
    case = db.session.scalar(select(Case).where(Case.id == case_id, Case.state.in_(OPEN_STATES + ("resolved",))))
    if case is None:
        raise CaseError(_l("That problem is no longer open."))
    db.session.add(CaseSupport(case_id=case.id, supporter=supporter))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    count = db.session.scalar(select(func.count()).select_from(CaseSupport).where(CaseSupport.case_id == case.id))
    db.session.execute(update(Case).where(Case.id == case.id).values(me_too=count))
    audit.record("cases", "case-me-too", case, {"count": count})
    db.session.commit()
    return True


def is_open():
    """A case still to be worked on: what the console's open list and the figures count."""
    return Case.state.in_(OPEN_STATES)


# --- lookups ----------------------------------------------------------------------------------

def get(case_id: int) -> Case | None:
    return db.session.get(Case, case_id)


def by_number(number: str) -> Case | None:
    number = "".join(ch for ch in (number or "") if ch.isdigit())
    if len(number) != 10:
        return None
    return db.session.scalar(select(Case).where(Case.number == number))


def by_receipt(code: str) -> Case | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 8:
        return None
    return db.session.scalar(select(Case).where(Case.receipt_code == code))


def by_post(posts) -> dict[int, Case]:
    """The cases behind a page of wall cards (one query), by post id."""
    post_ids = [post.id for post in posts if post.kind == "problem"]
    if not post_ids:
        return {}
    return {case.post_id: case for case in db.session.scalars(select(Case).where(Case.post_id.in_(post_ids)))}


def timeline(case: Case, *, public_only: bool = True) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
    if public_only:
        query = query.where(CaseEvent.public.is_(True))
    return list(db.session.scalars(query))


# --- the steps --------------------------------------------------------------------------------

@dataclass
class Step:
    """What one save of the case page asks for: an optional step with its fields, a public
    reply, an internal note. All of it is saved together, or none of it."""

    action: str = ""
    level: str = ""
    grid_id: int | None = None
    unit_id: int | None = None
    reason: str = ""
    until: date | None = None
    close_reason: str = ""
    duplicate_of: str = ""
    fixed: bool | None = None
    satisfaction: str = ""
    reply: str | None = None
    note: str = ""


def _text(value: str, limit: int, field: str, message) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise CaseError(message, field)
    return value


def act(case_id: int, member: "StaffMember", step: Step) -> Case:
    """Save one step of a case from the console (in the case's community): refused with
    nothing changed when the state, the person or a field does not allow it."""
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseError(_l("No such case."))
    note = _text(step.note, lengths.CASE_NOTE, "note", _l("A note has at most %(n)d characters.", n=lengths.CASE_NOTE))
    reply = None if step.reply is None else _text(
        step.reply, lengths.REPLY, "reply", _l("A reply has at most %(n)d characters.", n=lengths.REPLY))
    if (note or (reply is not None and reply != case.reply)) and not may_write(member, case):
        raise CaseError(_l("Only the case's dispatcher or handler can write on it."), "note")
    values: dict = {}
    event: dict | None = None
    if step.action:
        if step.action not in CASE_ACTIONS:
            raise CaseError(_l("Unknown step."), "action")
        if not may(member, step.action, case):
            raise CaseError(_refusal(member, step.action, case), "action")
        values, event = STEPS[step.action](case, member, step, reply)
    now = utcnow()
    if reply is not None and reply != case.reply:
        values["reply"] = reply
    if step.action:
        rule = CASE_ACTIONS[step.action]
        to = values.pop("_to", None)
        if to is not None:  # the check back decides where it leads
            rule = transition(rule.from_states, to)
        if not change_state(Case, case.id, rule, updated_at=now, **values):
            db.session.rollback()
            raise CaseError(CASE_ACTIONS[step.action].refusal, "action")
    elif values:
        db.session.execute(update(Case).where(Case.id == case.id).values(updated_at=now, **values))
    db.session.refresh(case)
    if event is not None:
        _event(case, staff_id=member.id, **event)
    if reply is not None and "reply" in values and step.action != "resolve":
        _event(case, "replied", staff_id=member.id, text=reply)
    if note:
        _event(case, "note", staff_id=member.id, public=False, text=note)
    if step.action or values or note:
        audit.record("cases", f"case-{step.action or 'updated'}", case,
                     {"state": case.state, "handler": case.handler_level, "unit": case.unit_id,
                      "reply": "reply" in values, "note": bool(note)})
        _sync_card(case)
    db.session.commit()
    return case


def _refusal(member, action: str, case: Case):
    rule = CASE_ACTIONS[action]
    if case.state not in rule.from_states:
        return _l("This case is not in a state for that step.")
    if not WHO[action](member, case):
        return _l("This step is for another person: the case's dispatcher, handler or community admin.")
    if action == "request-extension":
        if case.extension_until is not None:
            return _l("An extension is already waiting for approval.")
        return _l("An extension must be asked for before the case is due.")
    if action in ("accept", "return"):
        return _l("The case has not been routed to anyone yet.")
    return _l("There is no extension request to decide.")


def _reason(step: Step, message) -> str:
    reason = " ".join((step.reason or "").split())
    if not reason:
        raise CaseError(message, "reason")
    if len(reason) > lengths.REASON:
        raise CaseError(_l("A reason has at most %(n)d characters.", n=lengths.REASON), "reason")
    return reason


def _route(case, member, step, reply):
    level = step.level
    if level not in HANDLER_LEVELS:
        raise CaseError(_l("Please choose who handles it."), "level")
    values = {"handler_level": level, "unit_id": None, "routed_at": utcnow(), "accepted_at": None,
              "due_at": None, "extension_until": None, "extension_reason": ""}
    detail = level
    if level == "grid":
        grid = db.session.get(Grid, step.grid_id or case.grid_id) if (step.grid_id or case.grid_id) else None
        if grid is None:
            raise CaseError(_l("Please choose the grid."), "grid")
        if grid.worker_id is None:
            raise CaseError(_l("That grid has no grid worker yet."), "grid")
        values["grid_id"] = grid.id
    elif level in ("property", "department"):
        unit = db.session.get(Unit, step.unit_id) if step.unit_id else None
        if unit is None or unit.kind != level:
            raise CaseError(_l("Please choose the property company or department from the list."), "unit")
        values.update(unit_id=unit.id, escalated=True)
        detail = f"{level}:{unit.name}"[:DETAIL]
    return values, {"action": "routed", "detail": detail}


def _accept(case, member, step, reply):
    now = utcnow()
    rule = rule_for(case.category_id)
    due = workdays.due_after(now, days=rule.deadline_days, hours=rule.urgent_hours)
    if case.hotline_due_at is not None:
        due = min(due, case.hotline_due_at)
    return ({"accepted_at": now, "first_accepted_at": func.coalesce(Case.first_accepted_at, now), "due_at": due},
            {"action": "accepted", "detail": _day(due)})


def _day(moment: datetime) -> str:
    return to_site(moment).isoformat(timespec="minutes")


def _start(case, member, step, reply):
    return {}, {"action": "started"}


def _return(case, member, step, reply):
    reason = _reason(step, _l("Please say why the case goes back, so that the dispatcher can route it."))
    return ({"handler_level": None, "unit_id": None, "accepted_at": None, "due_at": None, "extension_until": None,
             "extension_reason": ""}, {"action": "returned", "public": False, "text": reason})


def _request_extension(case, member, step, reply):
    reason = _reason(step, _l("Please give a reason for the extension."))
    if step.until is None:
        raise CaseError(_l("Please give the new due date."), "until")
    until = workdays.end_of(step.until)
    if until <= utcnow():
        raise CaseError(_l("That date is in the past."), "until")
    if until <= case.due_at:
        raise CaseError(_l("The new due date must be later than the present one."), "until")
    return ({"extension_until": until, "extension_reason": reason},
            {"action": "extension-requested", "public": False, "text": reason, "detail": _day(until)})


def _approve_extension(case, member, step, reply):
    """The new due date goes on the public timeline; the handler's reason stays with staff
    (on the case page and the request's internal step)."""
    return ({"due_at": case.extension_until, "extension_until": None, "extended": True},
            {"action": "extended", "detail": _day(case.extension_until)})


def _refuse_extension(case, member, step, reply):
    return ({"extension_until": None, "extension_reason": ""},
            {"action": "extension-refused", "public": False, "text": " ".join((step.reason or "").split())})


def _resolve(case, member, step, reply):
    text = reply if reply is not None else case.reply
    if not text:
        raise CaseError(_l("Please write the public reply: what was done."), "reply")
    now = utcnow()
    return ({"resolved_at": now, "late": case.due_at is not None and now > case.due_at},
            {"action": "resolved", "text": text})


def _close(case, member, step, reply):
    reason = step.close_reason
    if reason not in CLOSE_REASONS:
        raise CaseError(_l("Please choose why the case is closed."), "close_reason")
    now = utcnow()
    values = {"closed_at": now, "close_reason": reason, "extension_until": None}
    note = " ".join((step.reason or "").split())
    if len(note) > lengths.REASON:
        raise CaseError(_l("A reason has at most %(n)d characters.", n=lengths.REASON), "reason")
    if reason == "fixed" and case.state != "resolved":
        raise CaseError(_l("Only a resolved case closes as fixed."), "close_reason")
    if reason in ("not_ours", "long_term") and not note:
        raise CaseError(_l("Please say where to go, or which plan takes it on."), "reason")
    if reason == "duplicate":
        original = by_number(step.duplicate_of)
        if original is None or original.id == case.id:
            raise CaseError(_l("Please give the number of another case of this community."), "duplicate_of")
        values["duplicate_of_id"] = original.id
        note = original.number
        _merge_into(case, original, member)
    if case.state != "resolved" and case.due_at is not None and now > case.due_at:
        values["late"] = True
    values["close_note"] = note
    return values, {"action": "closed", "text": note, "detail": reason}


def _merge_into(case: Case, original: Case, member) -> None:
    """A duplicate's "me too"s and its reporter count for the case that stays."""
    supporters = set(db.session.scalars(select(CaseSupport.supporter).where(CaseSupport.case_id == original.id)))
    for support in db.session.scalars(select(CaseSupport).where(CaseSupport.case_id == case.id)).all():
        if support.supporter in supporters:
            db.session.delete(support)
        else:
            support.case_id = original.id
    if case.reported_by not in supporters and case.reported_by != original.reported_by:
        db.session.add(CaseSupport(case_id=original.id, supporter=case.reported_by))
    db.session.flush()
    count = db.session.scalar(select(func.count()).select_from(CaseSupport).where(CaseSupport.case_id == original.id))
    original.me_too = count
    _event(original, "merged", staff_id=member.id, public=False, text=case.number)


def _reopen(case, member, step, reply):
    reason = _reason(step, _l("Please say why the case is opened again."))
    return _reopened(case, reason)


def _reopened(case: Case, reason: str):
    """Back to its handler with a new clock; a case closed before anyone handled it goes
    back to the dispatcher's list to route, its clock starting when it is accepted."""
    values = {"reopen_count": Case.reopen_count + 1, "closed_at": None, "close_reason": None, "resolved_at": None,
              "extension_until": None}
    if case.handler_level is None:
        return ({**values, "due_at": None, "accepted_at": None}, {"action": "reopened-to-route", "text": reason})
    rule = rule_for(case.category_id)
    now = utcnow()
    due = workdays.due_after(now, days=rule.deadline_days, hours=rule.urgent_hours)
    return ({**values, "due_at": due, "accepted_at": now}, {"action": "reopened", "text": reason, "detail": _day(due)})


def _check_back(case, member, step, reply):
    return _answer(case, step.fixed, step.satisfaction, by_phone=True)


def _answer(case: Case, fixed: bool | None, satisfaction: str, *, by_phone: bool):
    if fixed is None:
        raise CaseError(_l("Please say whether the problem is fixed."), "fixed")
    if satisfaction not in SATISFACTION:
        raise CaseError(_l("Please choose how satisfied you are."), "satisfaction")
    now = utcnow()
    values = {"fixed": fixed, "satisfaction": satisfaction, "checked_back_at": now}
    channel = "phone-call" if by_phone else "receipt"
    if (not fixed or satisfaction == "unsatisfied") and case.reopen_count == 0:
        reopened, event = _reopened(case, "")
        event = {**event, "action": "reopened-by-resident", "text": satisfaction if fixed else "not-fixed"}
        return {**values, **reopened, "_to": "reopened"}, event
    return ({**values, "closed_at": now, "close_reason": "fixed", "_to": "closed"},
            {"action": "checked-back", "text": satisfaction, "detail": ("fixed" if fixed else "not-fixed")
             + " " + channel})


STEPS = {
    "route": _route, "accept": _accept, "start": _start, "return": _return,
    "request-extension": _request_extension, "approve-extension": _approve_extension,
    "refuse-extension": _refuse_extension, "resolve": _resolve, "close": _close, "reopen": _reopen,
    "check-back": _check_back,
}


def _sync_card(case: Case) -> None:
    """The wall card shows the case's state: the wall's list changes with it."""
    if case.post_id is not None:
        wall.case_changed(case.post_id)


def check_back(code: str, fixed: bool | None, satisfaction: str) -> Case:
    """The resident's answer, by receipt code at a kiosk or phone, within the window after the
    case was resolved: fixed and satisfied closes it; not fixed or 不满意 reopens it once."""
    case = by_receipt(code)
    if case is None:
        raise CaseError(_l("No problem report has that receipt code."), "code")
    if case.state != "resolved":
        raise CaseError(_l("This problem is not waiting for your answer."), "code")
    days = _check_back_days()
    if case.resolved_at is not None and utcnow() > case.resolved_at + timedelta(days=days):
        raise CaseError(_l("The time to answer has passed. Please talk to a member of staff."), "code")
    values, event = _answer(case, fixed, satisfaction, by_phone=False)
    to = values.pop("_to")
    rule = transition(("resolved",), to)
    if not change_state(Case, case.id, rule, updated_at=utcnow(), **values):
        db.session.rollback()
        raise CaseError(_l("This problem is not waiting for your answer."), "code")
    db.session.refresh(case)
    _event(case, **event)
    audit.record("cases", "case-checked-back", case, {"fixed": fixed, "satisfaction": satisfaction, "to": to})
    _sync_card(case)
    db.session.commit()
    return case


def close_unanswered(now: datetime | None = None) -> int:
    """Resolved cases whose check-back window passed with no answer close as fixed."""
    now = now or utcnow()
    cutoff = now - timedelta(days=_check_back_days())
    closed = 0
    for case in db.session.scalars(select(Case).where(Case.state == "resolved", Case.resolved_at < cutoff)).all():
        if change_state(Case, case.id, transition(("resolved",), "closed"), closed_at=now, close_reason="fixed",
                        updated_at=now):
            db.session.refresh(case)
            _event(case, "closed", text="", detail="no-answer")
            _sync_card(case)
            closed += 1
    db.session.commit()
    return closed


def purge_contacts(now: datetime | None = None) -> int:
    """A call-back number is kept while the case may need a call: gone CONTACT_KEPT after it closed."""
    now = now or utcnow()
    purged = db.session.execute(update(Case).where(Case.state == "closed", Case.closed_at < now - CONTACT_KEPT,
                                                   Case.contact != "").values(contact="")).rowcount
    db.session.commit()
    return purged


# --- lists ------------------------------------------------------------------------------------

LISTS = ("to-route", "open", "due-soon", "overdue", "extensions", "resolved", "closed")


def _list_condition(which: str, now: datetime):
    running = Case.state.in_(("accepted", "in_progress", "reopened"))
    return {
        "to-route": or_(Case.state == "returned",
                        and_(Case.state.in_(("received", "reopened")), Case.handler_level.is_(None))),
        "open": Case.state.in_(OPEN_STATES),
        "due-soon": and_(running, Case.due_at >= now, Case.due_at < now + DUE_SOON),
        "overdue": and_(running, Case.due_at < now),
        "extensions": and_(running, Case.extension_until.is_not(None)),
        "resolved": Case.state == "resolved",
        "closed": Case.state == "closed",
    }[which]


def case_list(which: str, *, grid_id: int | None = None, category_id: int | None = None,
              unit_id: int | None = None, limit: int = 200, now: datetime | None = None) -> list[Case]:
    """A community's cases, oldest (or soonest due) first."""
    now = now or utcnow()
    query = select(Case).where(_list_condition(which, now))
    if grid_id:
        query = query.where(Case.grid_id == grid_id)
    if category_id:
        query = query.where(Case.category_id == category_id)
    if unit_id:
        query = query.where(Case.unit_id == unit_id)
    order = (Case.due_at, Case.id) if which in ("due-soon", "overdue") else \
        (Case.closed_at.desc(), Case.id.desc()) if which == "closed" else (Case.created_at, Case.id)
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def list_counts(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    return {which: db.session.scalar(select(func.count()).select_from(Case).where(_list_condition(which, now)))
            for which in LISTS}


def waiting_count() -> int:
    """The console's badge: cases to route, and overdue ones."""
    now = utcnow()
    return db.session.scalar(select(func.count()).select_from(Case).where(
        or_(_list_condition("to-route", now), _list_condition("overdue", now))))


def grid_worker_cases(member: "StaffMember") -> list[Case]:
    """A grid worker's open cases in the community being worked in, soonest due first."""
    return list(db.session.scalars(
        select(Case).join(Grid, Grid.id == Case.grid_id)
        .where(Grid.worker_id == member.id, Case.handler_level == "grid", Case.state.in_(OPEN_STATES))
        .order_by(Case.due_at.is_(None), Case.due_at, Case.created_at)))


# --- across communities: a unit's inbox and the supervisor's list ------------------------------

def unit_cases(member: "StaffMember", *, include_done: bool = False) -> list[Case]:
    """The cases routed to the member's unit, from every community: the only way a
    department or property company reads another community's cases."""
    if member.unit_id is None:
        return []
    states = OPEN_STATES + (("resolved", "closed") if include_done else ())
    with scope.across("a unit's inbox: the cases routed to it"):
        cases = list(db.session.scalars(
            select(Case).where(Case.unit_id == member.unit_id, Case.handler_level.in_(("property", "department")),
                               Case.state.in_(states))
            .order_by(Case.due_at.is_(None), Case.due_at, Case.created_at)))
        for case in cases:
            db.session.expunge(case)
    return cases


def unit_case(member: "StaffMember", number: str) -> tuple[int, int] | None:
    """(community, case id) of a case routed to the member's unit, found by its number."""
    if member.unit_id is None:
        return None
    number = "".join(ch for ch in (number or "") if ch.isdigit())
    with scope.across("a unit opens a case routed to it"):
        row = db.session.execute(select(Case.community_id, Case.id).where(
            Case.number == number, Case.unit_id == member.unit_id,
            Case.handler_level.in_(("property", "department")))).first()
    return tuple(row) if row else None


def overdue_everywhere(now: datetime | None = None) -> list[Case]:
    """Every community's overdue cases, most overdue first: the supervisor's (纪检) list."""
    now = now or utcnow()
    with scope.across("the supervisor's list of overdue cases"):
        cases = list(db.session.scalars(select(Case).where(_list_condition("overdue", now))
                                        .order_by(Case.due_at, Case.id)))
        for case in cases:
            db.session.expunge(case)
    return cases


def supervised_case(number: str, now: datetime | None = None) -> tuple[int, int] | None:
    """(community, case id) of an overdue case, or one closed late: what a supervisor opens."""
    now = now or utcnow()
    number = "".join(ch for ch in (number or "") if ch.isdigit())
    with scope.across("a supervisor opens an overdue case"):
        row = db.session.execute(select(Case.community_id, Case.id).where(
            Case.number == number, or_(_list_condition("overdue", now), Case.late.is_(True)))).first()
    return tuple(row) if row else None


# --- the handler's day -------------------------------------------------------------------------

@dataclass(frozen=True)
class Digest:
    new: list[Case]
    due_soon: list[Case]
    overdue: list[Case]
    extensions: list[Case]


def digest(cases: list[Case], now: datetime | None = None) -> Digest:
    """A handler's cases sorted into what today asks of them."""
    now = now or utcnow()
    running = ("accepted", "in_progress", "reopened")
    return Digest(
        new=[case for case in cases if case.state == "received"],
        due_soon=[case for case in cases if case.state in running and case.due_at and now <= case.due_at
                  < now + DUE_SOON],
        overdue=[case for case in cases if case.state in running and case.due_at and case.due_at < now],
        extensions=[case for case in cases if case.extension_until is not None],
    )

