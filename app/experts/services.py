"""The expert directory: experts and skills, search by pad taps, help requests with a
weekly cap per expert, the staff inbox, and deleting requests' personal data in time."""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..communities.settings import setting
from .. import audit, lengths
from ..clock import site_today, utcnow
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..people import mask_name, normalise_code, normalise_mobile, normalise_name
from ..transitions import allowed, apply, transition
from . import pinyin
from .models import (CATEGORIES, NEEDS, OPEN_REQUEST_STATES, REQUEST_STATES, Expert, ExpertWeek, HelpRequest,
                     SearchKey, Skill, expert_skills)

PAGE_SIZE = 12  # a screenful; more letters narrow the rest
CODE_DIGITS = 8
CJK = re.compile(r"[\u3400-\u9fff]")
# Staff move an open request on by naming the state it goes to; the same state again keeps
# it there (passing it to another expert, adding a note). A closed request stays closed.
REQUEST_ACTIONS = {
    state: transition(OPEN_REQUEST_STATES, state, refusal=_l("This request is closed."))
    for state in ("assigned", "contacted", "done", "declined")
}


class DirectoryError(Refused):
    default_field = "name"


# --- search --------------------------------------------------------------------------------

def normalise_query(text: str) -> str:
    """What the pad typed (letters), or Chinese typed on a keyboard, trimmed."""
    text = (text or "").strip()
    if CJK.search(text):
        return "".join(CJK.findall(text))[:10]
    return re.sub(r"[^a-z]", "", text.lower())[:pinyin.MAX_KEY]


def _in_category():
    return exists().where(expert_skills.c.expert_id == Expert.id, expert_skills.c.skill_id == Skill.id,
                          Skill.category == bindparam("category"))


@cache
def _search(by: str | None, in_category: bool):
    """The directory's search for each shape (by pad keys, by text, or neither; in a
    category or not), built once: the keys, the text, the category and the page size are
    bound values."""
    if by == "keys":
        query = (select(Expert).join(SearchKey, SearchKey.expert_id == Expert.id)
                 .where(SearchKey.key == bindparam("key")).order_by(SearchKey.sort_key, SearchKey.expert_id))
    else:
        query = select(Expert).where(Expert.state == "listed").order_by(Expert.sort_key, Expert.id)
        if by == "text":
            like = bindparam("like")
            query = query.where(Expert.display_name.like(like) | exists().where(
                expert_skills.c.expert_id == Expert.id, expert_skills.c.skill_id == Skill.id, Skill.name.like(like)))
    if in_category:
        query = query.where(_in_category())
    return query.limit(bindparam("limit")).options(selectinload(Expert.skills))


def search(query: str = "", category: str | None = None, limit: int = PAGE_SIZE) -> list[Expert]:
    """Listed experts matching the taps (or Chinese text), in name order, one page.

    Pad taps read one index range of directory_search_keys (key, sort_key) and stop after
    a page: the time per tap does not grow with the number of experts.
    """
    query = normalise_query(query)
    values = {"limit": limit} | ({"category": category} if category else {})
    if query and not CJK.search(query):
        by, values["key"] = "keys", query
    elif query:
        by, values["like"] = "text", f"%{query}%"
    else:
        by = None
    return list(db.session.scalars(_search(by, bool(category)), values))


@cache
def _category_counts():
    return (select(Skill.category, func.count(func.distinct(Expert.id)))
            .join(expert_skills, expert_skills.c.skill_id == Skill.id)
            .join(Expert, Expert.id == expert_skills.c.expert_id)
            .where(Expert.state == "listed").group_by(Skill.category))


def category_counts() -> dict[str, int]:
    return dict(db.session.execute(_category_counts()).all())


def expert_of_the_day(day: date) -> Expert | None:
    """One listed expert, the same all day, a different one each day in turn."""
    listed = select(Expert).where(Expert.state == "listed")
    count = db.session.scalar(listed.with_only_columns(func.count()))
    if not count:
        return None
    return db.session.scalar(listed.order_by(Expert.id).offset(day.toordinal() % count).limit(1)
                             .options(selectinload(Expert.skills)))


def public_expert(expert_id: int) -> Expert | None:
    expert = db.session.get(Expert, expert_id)
    return expert if expert is not None and expert.state == "listed" else None


# --- skills and experts (staff) ------------------------------------------------------------

def skills() -> list[Skill]:
    return list(db.session.scalars(select(Skill).order_by(Skill.category, Skill.id)))


def save_skills(entries: list[tuple[str, str, str]]) -> list[Skill]:
    """Add skills (name, category, English name); their pinyin is read in one go."""
    cleaned = []
    for name, category, name_en in entries:
        name = " ".join((name or "").split())
        if not name or len(name) > lengths.SKILL_NAME:
            raise DirectoryError(_l("A skill has 1 to %(n)d characters.", n=lengths.SKILL_NAME), "name")
        if category not in CATEGORIES:
            raise DirectoryError(_l("Please choose a category."), "category")
        if db.session.scalar(select(Skill.id).where(Skill.name == name)) is not None:
            raise DirectoryError(_l("This skill is already in the list."), "name")
        cleaned.append((name, category, (name_en or "").strip()[:lengths.SKILL_NAME_EN]))
    _, readings = pinyin.readings([], [name for name, _category, _en in cleaned])
    added = [Skill(name=name, category=category, name_en=name_en, readings=json.dumps(reading))
             for (name, category, name_en), reading in zip(cleaned, readings)]
    db.session.add_all(added)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise DirectoryError(_l("This skill is already in the list."), "name") from None
    for skill in added:
        audit.record("experts", "skill-added", skill, {"name": skill.name})
    db.session.commit()
    return added


def save_skill(name: str, category: str, name_en: str = "") -> Skill:
    return save_skills([(name, category, name_en)])[0]


def find_expert(name: str) -> Expert | None:
    """An expert by full name (staff and demo content use it to link a course's teacher)."""
    return db.session.scalar(select(Expert).where(Expert.name == name).limit(1))


@dataclass
class ExpertData:
    name: str
    mobile: str
    display_name: str
    skill_ids: list[int]
    consent_on: date
    consent_scope: str
    intro: str = ""
    intro_en: str = ""
    availability: str = ""
    availability_en: str = ""
    weekly_cap: int = 3


def _check(data: ExpertData) -> tuple[str, str, str]:
    name = normalise_name(data.name)
    mobile = normalise_mobile(data.mobile)
    display = " ".join((data.display_name or "").split()) or mask_name(name)
    if len(display) > lengths.DISPLAY_NAME:
        raise DirectoryError(_l("A name has at most %(n)d characters.", n=lengths.DISPLAY_NAME), "display_name")
    if not data.skill_ids:
        raise DirectoryError(_l("Please choose at least one skill."), "skill_ids")
    if not data.consent_scope.strip():
        raise DirectoryError(_l("Please record what the expert agreed may be shown."), "consent_scope")
    if data.consent_on > site_today():
        raise DirectoryError(_l("Consent cannot be dated in the future."), "consent_on")
    if not 1 <= data.weekly_cap <= 20:
        raise DirectoryError(_l("The weekly limit is between 1 and 20."), "weekly_cap")
    if len(data.intro) > lengths.EXPERT_INTRO:
        raise DirectoryError(_l("An introduction has at most %(n)d characters.", n=lengths.EXPERT_INTRO), "intro")
    if len(data.intro_en) > lengths.EXPERT_INTRO_EN:
        raise DirectoryError(_l("An introduction has at most %(n)d characters.", n=lengths.EXPERT_INTRO_EN),
                             "intro_en")
    return name, mobile, display


def _write_keys(expert: Expert) -> None:
    """Replace the expert's search keys: their display name's and their skills' keys."""
    db.session.execute(delete(SearchKey).where(SearchKey.expert_id == expert.id))
    name_readings = json.loads(expert.readings)
    expert.sort_key = pinyin.sort_key(name_readings) if name_readings else expert.display_name
    if expert.state != "listed":
        return
    found = pinyin.keys(name_readings)
    for skill in expert.skills:
        found |= pinyin.keys(json.loads(skill.readings))
    if found:
        db.session.execute(insert(SearchKey), [{"key": key, "sort_key": expert.sort_key, "expert_id": expert.id}
                                               for key in sorted(found)])


def save_experts(entries: list[tuple[int | None, ExpertData]]) -> list[Expert]:
    """Create or edit experts; their pinyin is read for all of them in one go (one
    short-lived process, whatever the number)."""
    checked = [(expert_id, data, *_check(data)) for expert_id, data in entries]
    name_readings, _ = pinyin.readings([display for *_rest, display in checked])
    saved = []
    for (expert_id, data, name, mobile, display), readings in zip(checked, name_readings):
        expert = db.session.get(Expert, expert_id) if expert_id else Expert(state="listed")
        if expert is None:
            raise DirectoryError(_l("No such expert."), "name")
        expert.name, expert.mobile, expert.display_name = name, mobile, display
        expert.intro, expert.intro_en = data.intro.strip(), data.intro_en.strip()
        expert.availability = data.availability.strip()[:lengths.AVAILABILITY]
        expert.availability_en = data.availability_en.strip()[:lengths.AVAILABILITY_EN]
        expert.consent_on, expert.consent_scope = data.consent_on, data.consent_scope.strip()[:lengths.CONSENT_SCOPE]
        expert.weekly_cap = data.weekly_cap
        expert.skills = list(db.session.scalars(select(Skill).where(Skill.id.in_(data.skill_ids))))
        db.session.add(expert)
        db.session.flush()
        expert.readings = json.dumps(readings)
        _write_keys(expert)
        audit.record("experts", "expert-saved" if expert_id else "expert-created", expert, {"display": display})
        saved.append(expert)
    db.session.commit()
    return saved


def save_expert(expert_id: int | None, data: ExpertData) -> Expert:
    return save_experts([(expert_id, data)])[0]


def set_listed(expert_id: int, listed: bool) -> Expert:
    """Hide an expert from the kiosk at their request (or list them again)."""
    expert = db.session.get(Expert, expert_id)
    if expert is None:
        raise DirectoryError(_l("No such expert."), "name")
    expert.state = "listed" if listed else "hidden"
    _write_keys(expert)
    audit.record("experts", "expert-listed" if listed else "expert-hidden", expert)
    db.session.commit()
    return expert


def remove_expert(expert_id: int) -> None:
    """Remove an expert and their personal data on request; their requests stay, unassigned."""
    expert = db.session.get(Expert, expert_id)
    if expert is None:
        raise DirectoryError(_l("No such expert."), "name")
    audit.record("experts", "expert-removed", expert, {"display": expert.display_name})
    db.session.delete(expert)
    db.session.commit()


def staff_experts() -> list[Expert]:
    return list(db.session.scalars(select(Expert).order_by(Expert.state, Expert.sort_key, Expert.id)))


def get_expert(expert_id: int) -> Expert | None:
    return db.session.get(Expert, expert_id)


def record_view(record, what: str) -> None:
    """Staff saw personal data (an expert's or a resident's contact): the audit log says so."""
    audit.record("experts", what, record)
    db.session.commit()


# --- help requests -------------------------------------------------------------------------

def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _take_week_slot(expert: Expert, week: date) -> bool:
    """Count one request against the expert's cap for the week, if there is room.

    A conditional UPDATE, as for class seats; the week's first request inserts the row,
    and a racing second insert fails with IntegrityError for the caller to retry.
    """
    taken = db.session.execute(update(ExpertWeek).where(
        ExpertWeek.expert_id == expert.id, ExpertWeek.week_of == week, ExpertWeek.taken < expert.weekly_cap)
        .values(taken=ExpertWeek.taken + 1)).rowcount
    if taken:
        return True
    if db.session.get(ExpertWeek, (expert.id, week)) is not None:
        return False
    db.session.add(ExpertWeek(expert_id=expert.id, week_of=week, taken=1))
    db.session.flush()
    return True


def _retried(operation):
    """Run a write whose race (or a taken code) shows as IntegrityError up to three times."""
    for _attempt in range(3):
        try:
            return operation()
        except IntegrityError:
            db.session.rollback()
    raise DirectoryError(_l("That did not work. Please try again."), "needs")


def requests_left(expert: Expert, day: date | None = None) -> int:
    row = db.session.get(ExpertWeek, (expert.id, week_of(day or site_today())))
    return max(0, expert.weekly_cap - (row.taken if row else 0))


@dataclass(frozen=True)
class Receipt:
    code: str
    expert: str


def ask(expert_id: int, needs: list[str], text: str, name: str, mobile: str, *, created_by: str) -> Receipt:
    """A resident asks staff to put them in touch with an expert; a receipt code to check on it."""
    needs = [need for need in NEEDS if need in set(needs)]
    if not needs:
        raise DirectoryError(_l("Please tap what you need."), "needs")
    text = " ".join((text or "").split())
    if len(text) > lengths.TEXT:
        raise DirectoryError(_l("At most %(n)d characters.", n=lengths.TEXT), "text")
    name = normalise_name(name)
    mobile = normalise_mobile(mobile)

    def once() -> Receipt:
        expert = public_expert(expert_id)
        if expert is None:
            raise DirectoryError(_l("This expert is not listed now."), "needs")
        week = week_of(site_today())
        if not _take_week_slot(expert, week):
            db.session.rollback()
            raise DirectoryError(_l("%(name)s already has as many requests as they can take this week. Please try "
                                    "again next week, or ask another expert.", name=expert.display_name), "needs")
        request = HelpRequest(code=f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}", expert_id=expert.id,
                              week_of=week, needs=" ".join(needs), text=text, name=name, mobile=mobile,
                              created_by=created_by)
        db.session.add(request)
        db.session.commit()
        return Receipt(request.code, expert.display_name)

    return _retried(once)


def request_by_code(code: str) -> HelpRequest | None:
    code = normalise_code(code)
    if len(code) != CODE_DIGITS:
        return None
    return db.session.scalar(select(HelpRequest).where(HelpRequest.code == code))


def inbox(state: str | None = None) -> list[HelpRequest]:
    query = select(HelpRequest).order_by(HelpRequest.id.desc()).limit(200)
    if state == "open":
        query = query.where(HelpRequest.state.in_(OPEN_REQUEST_STATES))
    elif state in REQUEST_STATES:
        query = query.where(HelpRequest.state == state)
    return list(db.session.scalars(query))


def open_request_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HelpRequest).where(HelpRequest.state == "new"))


def get_request(request_id: int) -> HelpRequest | None:
    return db.session.get(HelpRequest, request_id)


def update_request(request_id: int, state: str, *, note: str = "", expert_id: int | None = None) -> HelpRequest:
    """Staff move a request on (assigned, contacted, done, declined), optionally to another
    expert, whose weekly cap it then counts against. Audited."""
    return _retried(lambda: _update_request(request_id, state, note, expert_id))


def _update_request(request_id: int, state: str, note: str, expert_id: int | None) -> HelpRequest:
    note = " ".join((note or "").split())
    if len(note) > lengths.NOTE:
        raise DirectoryError(_l("A note has at most %(n)d characters.", n=lengths.NOTE), "note")
    request = db.session.get(HelpRequest, request_id)
    if request is None or state not in REQUEST_ACTIONS:
        raise DirectoryError(_l("No such request."), "state")
    rule = REQUEST_ACTIONS[state]
    if request.state not in rule.from_states:
        raise DirectoryError(rule.refusal, "state")
    values = {"staff_note": note or request.staff_note}
    if expert_id and expert_id != request.expert_id:
        expert = db.session.get(Expert, expert_id)
        if expert is None or not _take_week_slot(expert, request.week_of):
            db.session.rollback()
            raise DirectoryError(_l("That expert has no room left this week."), "expert_id")
        values["expert_id"] = expert_id
    if rule.to not in OPEN_REQUEST_STATES:
        values["closed_at"] = utcnow()
    # Conditional on the rule's states: a request closed meanwhile stays closed.
    request = apply(HelpRequest, request_id, rule, DirectoryError, "state", **values)
    audit.record("experts", f"request-{state}", request, {"note": request.staff_note} if note else None)
    db.session.commit()
    return request


def allowed_actions(request: HelpRequest) -> frozenset[str]:
    """The states staff can move the request to now (the table above)."""
    return allowed(REQUEST_ACTIONS, request.state)


def purge_requests(now: datetime | None = None) -> int:
    """Delete closed requests' names and numbers after DIRECTORY_RETENTION_DAYS."""
    cutoff = (now or utcnow()) - timedelta(days=setting("DIRECTORY_RETENTION_DAYS"))
    done = db.session.execute(update(HelpRequest).where(
        HelpRequest.closed_at < cutoff, HelpRequest.name.is_not(None)).values(name=None, mobile=None)).rowcount
    if done:
        audit.record("experts", "personal-data-deleted", None, {"requests": done}, actor=("system", None, ""))
    db.session.commit()
    return done
