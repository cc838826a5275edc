"""The console in Chinese all the way through: every page an admin reaches (the demo's day,
crawled), read as a staff member reads it, shows no stored code (a role, an audit area or
action, a state, a table's name, a device key) and no raw JSON; and the audit log has words
for every action the services record."""

import re
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import String, Text, select

from app import audit
from app.cases import models as case_models
from app.cases.models import Category
from app.cases.services import CASE_ACTIONS
from app.classes import models as class_models
from app.experts import models as expert_models
from app.extensions import db
from app.friends import models as friend_models
from app.friends.services import ANSWERS, INTEREST_ACTIONS
from app.staff.labels import ACTION_LABELS, AREA_LABELS, DETAIL_LABELS, ROLE_NAMES, TARGET_LABELS
from app.staff.models import DISTRICT_ROLES, ROLES
from app.wall import models as wall_models
from tests.test_fuzz_forms import ZH, World, _Unlimited, crawl

ROOT = Path(__file__).resolve().parent.parent.parent
_INVISIBLE = {"script", "style", "template", "title"}


class VisibleText(HTMLParser):
    """The text a person sees: text nodes outside scripts, styles and hidden elements, and
    what a form control shows (its value, placeholder, an option's label)."""

    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    # Where a line or cell ends: text on either side is not one word.
    _BREAKS = {"p", "div", "td", "th", "tr", "li", "dt", "dd", "h1", "h2", "h3", "h4", "header", "footer", "section",
               "article", "nav", "option", "label", "button", "summary", "table", "ul", "ol", "form", "main", "br"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.parts, self._hidden = [], []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attr_list):
        attrs = dict(attr_list)
        if tag in self._BREAKS:
            self.parts.append(" ")
        if tag == "input" and attrs.get("type") not in ("hidden", "checkbox", "radio"):
            self.parts += [" ", attrs.get("value") or "", " ", attrs.get("placeholder") or "", " "]
        if tag in self._VOID:
            return
        self._hidden.append(tag in _INVISIBLE or "hidden" in attrs)

    def handle_endtag(self, tag):
        if tag in self._BREAKS:
            self.parts.append(" ")
        if tag not in self._VOID and self._hidden:
            self._hidden.pop()

    def handle_data(self, data):
        if not any(self._hidden):
            self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _stored_codes() -> set[str]:
    """Every code the console could leak: roles, audit areas and actions, the states and
    kinds of every board, and the tables' names."""
    codes = set(ROLES) | set(DISTRICT_ROLES) | set(audit.AREAS) | set(ACTION_LABELS)
    for module in (wall_models, case_models, class_models, expert_models, friend_models):
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, tuple) and all(isinstance(each, str) for each in value):
                codes |= set(value)
    codes |= set(db.metadata.tables)
    codes |= set(CASE_ACTIONS) | set(INTEREST_ACTIONS)
    # English words that are codes only as part of a longer stored value are left out: a
    # code must look like one (a hyphen or underscore), or be a single lowercase word.
    return {code for code in codes if re.fullmatch(r"[a-z][a-z0-9_-]*", code)}


def _written_texts() -> list[str]:
    """What people wrote, stored: every text of several words (a title, a post, an English
    description), longest first. Codes are single words, so these are cut out of a page
    before it is searched for codes: "the health check" is content, "health" alone a code."""
    texts = set()
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, (String, Text))]
        for row in db.session.execute(select(*columns)) if columns else ():
            texts |= {value.strip() for value in row if isinstance(value, str) and " " in value.strip()}
    return sorted(texts, key=len, reverse=True)


def test_every_console_page_reads_in_chinese(make_app):
    world = World(make_app(WTF_CSRF_ENABLED=True, RATE_LIMITS=_Unlimited()))
    with world.app.app_context():
        codes = (_stored_codes() | set(db.session.scalars(select(audit.AuditEntry.action).distinct()))
                 | set(db.session.scalars(select(Category.key))))
        written = _written_texts()
    pages, _ = crawl(world, "admin")
    console = sorted(url for url in pages if url.startswith("/staff"))
    assert len(console) > 40, f"the crawl reached too few console pages: {console}"
    admin = world.browsers["admin"]
    leaks = {}
    for url in console:
        response = admin.get(url, headers=ZH)
        if response.mimetype != "text/html":
            continue
        text = VisibleText(response.get_data(as_text=True)).text
        for content in written:
            text = text.replace(content, " ")
        words = set(re.findall(r"(?<![\w@.:/-])[a-z][a-z0-9_-]*(?![\w@.-])", text))
        found = sorted(words & codes)
        if re.search(r'[{\[]\s*"', text):
            found.append("raw JSON")
        if re.search(r"\b(kiosk|staff|phone|ip):\S", text):
            found.append("a device key")
        if found:
            leaks[url] = found
    assert leaks == {}, f"stored codes shown in the Chinese console: {leaks}"


def test_the_audit_log_has_words_for_every_action_recorded():
    """Each action a service can record, literal or made from its table of steps, has a label."""
    literal = set()
    patterns = (
        r'audit\.record\(\s*"[a-z]+",\s*"([a-z-]+)"',  # audit.record("wall", "post-created", ...)
        r'audit\.record\(\s*"[a-z]+",\s*"[a-z-]+" if [^,]+ else "([a-z-]+)"',  # ... "a" if x else "b"
        r'_audit\("([a-z-]+)"',  # backups
        r'_moderate\([^"]*"[a-z-]+", "([a-z-]+)"',  # the wall's moderation
        r'else "(post-unpinned)"',
        r'_delete\(card, [^,]+, "([a-z-]+)"\)',  # the matchmaking board's deletions
        r'record_view\([^,]+, "([a-z-]+)"\)',  # the expert directory's reads
    )
    for path in (ROOT / "app").rglob("*.py"):
        source = path.read_text()
        for pattern in patterns:
            literal |= set(re.findall(pattern, source))
        literal |= {f"roster-{what}" for what in re.findall(r'record_roster_view\(course, "([a-z]+)"\)', source)}
    made = ({f"case-{action}" for action in CASE_ACTIONS} | {"case-updated"}
            | {f"interest-{action}" for action in ANSWERS}
            | {f"request-{state}" for state in expert_models.REQUEST_STATES}
            | {f"survey-{state}" for state in class_models.SURVEY_STATES}
            | {f"course-{action}" for action in ("open", "close", "drop")})
    assert len(literal) > 60, "the search for recorded actions broke"
    unnamed = sorted((literal | made) - set(ACTION_LABELS))
    assert unnamed == [], f"actions without words: {unnamed}"
    assert set(audit.AREAS) <= set(AREA_LABELS) and set(ROLES) | set(DISTRICT_ROLES) <= set(ROLE_NAMES)
    # Every table a community's records live in reads as words (a merge's report, the log).
    scoped = {name for name, table in db.metadata.tables.items() if "community_id" in table.c}
    assert scoped <= set(TARGET_LABELS), sorted(scoped - set(TARGET_LABELS))
    assert "reason" in DETAIL_LABELS
