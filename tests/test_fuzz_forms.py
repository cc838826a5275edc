"""Every form the site shows, sent back with a hostile value in each field in turn, the way
a browser sends it (through htmx where the form uses htmx): nothing answers 5xx, every
refusal says why in the reader's language, and a refused request stores nothing.

The forms are found, not listed: a passer-by's browser, an enrolled kiosk and an admin
crawl the site from its home pages (demo content loaded), follow same-site links and hx-get
URLs, and parse every <form> and hx-post element. A POST rule that no crawled page submits
fails test_every_post_rule_is_reached unless NOT_CRAWLED says why. CSRF is on, as in
production: the forms carry their tokens.
"""

import re
import time
from collections import Counter, deque
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import String, Text, func, select
from sqlalchemy import text as sql
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app.audit import AuditEntry
from app.communities.models import Community
from app.demo import load_demo_content
from app.errors import MESSAGES
from app.extensions import db
from app.inputs import INPUT_REFUSED, unusable

HOSTILE = {
    "nul": "\x00",
    "nul-inside": "a\x00b",
    "controls": "\x01\x1b\x7f\x85",
    "bidi": "\u202e\u2066",
    "superscript-two": "²",
    "huge": "99999999999999999999",
    "negative": "-1",
    "line-breaks": "a\nb\r\nc",
    "long": "长文" * 5_000,
    "empty": "",
}
# Values app/inputs.py refuses wherever they come: the view never runs.
GUARDED = ("nul", "nul-inside", "controls", "bidi")

# POST rules that no page a browser crawls submits, and why: {"endpoint": "reason"}.
# Every one is reached today (the phone handoff's forms are the kiosk's own forms).
NOT_CRAWLED: dict[str, str] = {}

# Rows a refused request may still add: what it cost (rate counters, failed sign-ins) and
# who read personal data while refusing (the page shown again lists it).
BOOKKEEPING_TABLES = {"rate_counters", "sign_in_throttles", "sign_in_failures"}  # failures: before 0008
READ_ACTIONS = ("roster-viewed", "roster-printed", "roster-exported", "requests-viewed", "expert-viewed",
                "contacts-viewed", "sign-in-failed")

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
CSRF_FIELD = "csrf_token"
CJK = r"[\u3400-\u9fff]"
PER_PATTERN = 10  # pages crawled per rule and query shape: enough to meet every kind of course
ROOT = Path(__file__).resolve().parent.parent


class _Unlimited(dict):
    """RATE_LIMITS for the fuzz: every limit very high, so each request reaches its view."""

    def get(self, name, default=None):
        return "1000000 per minute"


# --- reading pages ---------------------------------------------------------------------------

@dataclass
class Submission:
    """One way a page sends data: a <form>, or an element with hx-post / hx-get."""

    page: str
    method: str
    url: str
    fields: list[tuple[str, str]]  # what the browser sends as the page stands
    names: tuple[str, ...]  # every field name it can send
    htmx: bool
    target: str | None  # HX-Target: the id of the element htmx swaps
    trigger: str | None  # HX-Trigger: the id of the element that asked


class Page(HTMLParser):
    """The links, forms, htmx requests and CSRF token of one HTML page."""

    def __init__(self, url: str, html: str):
        super().__init__(convert_charrefs=True)
        self.url, self.links, self.csrf = url, [], None
        self._forms = []  # each form's attributes
        self._by_id = {}  # form id: index, for controls outside their form (form="...")
        self._open_forms = []
        self._controls = []  # [form index or id or None, tag, attrs, options or text]
        self._hx = []  # (attrs, enclosing form index) of elements that make htmx requests
        self._select = self._option = self._textarea = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attr_list):
        attrs = {name: value if value is not None else "" for name, value in attr_list}
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if "hx-get" in attrs:
            self.links.append(attrs["hx-get"])
        if "hx-headers" in attrs and "X-CSRFToken" in attrs["hx-headers"]:
            self.csrf = re.search(r'"X-CSRFToken":\s*"([^"]+)"', attrs["hx-headers"]).group(1)
        form = self._open_forms[-1] if self._open_forms else None
        if tag == "form":
            self._forms.append(attrs)
            form = len(self._forms) - 1
            self._open_forms.append(form)
            if attrs.get("id"):
                self._by_id[attrs["id"]] = form
        if any(name in attrs for name in ("hx-post", "hx-get", "hx-put", "hx-patch", "hx-delete")):
            self._hx.append((attrs, form))
        if tag in ("input", "select", "textarea", "button"):
            owner = attrs.get("form") or form
            control = [owner, tag, attrs, []]
            self._controls.append(control)
            if tag == "input" and attrs.get("name") == CSRF_FIELD:
                self.csrf = attrs.get("value")
            if tag == "select":
                self._select = control
            if tag == "textarea":
                self._textarea = control
        if tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), "selected" in attrs, ""]
            self._select[3].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[3].append(data)
        if self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag):
        if tag == "form" and self._open_forms:
            self._open_forms.pop()
        elif tag == "select":
            self._select = self._option = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None

    def _form_index(self, owner):
        return self._by_id.get(owner) if isinstance(owner, str) else owner

    def _fields(self, form) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
        """What a browser sends for a form, and every name it could send."""
        fields, names, submitter = [], [], None
        for owner, tag, attrs, extra in self._controls:
            name = attrs.get("name")
            if self._form_index(owner) != form or not name or "disabled" in attrs:
                continue
            if name not in names:
                names.append(name)
            kind = attrs.get("type", "submit" if tag == "button" else "text").lower()
            if kind in ("submit", "image"):
                submitter = submitter or (name, attrs.get("value", ""))
            elif kind in ("button", "reset", "file"):
                continue
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    fields.append((name, attrs.get("value", "on")))
            elif tag == "select":
                chosen = [option for option in extra if option[1]] or extra[:1]
                if "multiple" in attrs:
                    chosen = [option for option in extra if option[1]]
                fields += [(name, option[0] if option[0] is not None else option[2].strip()) for option in chosen]
            elif tag == "textarea":
                fields.append((name, "".join(extra).removeprefix("\n")))
            else:
                fields.append((name, attrs.get("value", "")))
        if submitter:
            fields.append(submitter)
        return fields, tuple(names)

    def _target(self, attrs, form) -> str | None:
        target = attrs.get("hx-target")
        if target is None or target == "this":
            return attrs.get("id")
        if target.startswith("#"):
            return target[1:]
        if target == "closest form" and form is not None:
            return self._forms[form].get("id")
        return None

    def submissions(self) -> list[Submission]:
        found = []
        for index, attrs in enumerate(self._forms):
            if any(name in attrs for name in ("hx-post", "hx-get")):
                continue  # sent by htmx: below
            fields, names = self._fields(index)
            found.append(Submission(self.url, attrs.get("method", "get").upper(),
                                    urljoin(self.url, attrs.get("action") or self.url), fields, names,
                                    False, None, None))
        for attrs, form in self._hx:
            method = next(verb for verb in ("post", "get", "put", "patch", "delete") if f"hx-{verb}" in attrs)
            is_form = form is not None and self._forms[form] is attrs
            # htmx sends the element's own form, or the closest form for a non-GET request.
            include = is_form or attrs.get("hx-include") == "closest form" or (method != "get" and form is not None)
            fields, names = self._fields(form) if include and form is not None else ([], ())
            if not is_form and not include and method == "get":
                continue  # a link-like GET (polls, load more): crawled, nothing to fill in
            found.append(Submission(self.url, method.upper(), urljoin(self.url, attrs[f"hx-{method}"]), fields,
                                    names, True, self._target(attrs, form), attrs.get("id")))
        return found


_VOID = ("input", "br", "img", "meta", "link", "hr", "source", "wbr")


class Messages(HTMLParser):
    """The words a refusal shows: visible alerts and field errors, the error page, the banner;
    with ``headings``, also a page's own <h1> (a page that is itself the refusal)."""

    def __init__(self, html: str, *, headings: bool):
        super().__init__(convert_charrefs=True)
        self.texts, self._depth, self._stack, self._headings = [], 0, [], headings
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attr_list):
        if tag in _VOID:
            return
        attrs = dict(attr_list)
        classes = (attrs.get("class") or "").split()
        speaks = "hidden" not in attrs and (attrs.get("role") == "alert" or "error" in classes
                                            or "error-page" in classes or (self._headings and tag == "h1"))
        self._stack.append(speaks)
        self._depth += speaks
        if speaks:
            self.texts.append("")

    def handle_endtag(self, tag):
        if self._stack and tag not in _VOID:
            self._depth -= self._stack.pop()

    def handle_data(self, data):
        if self._depth and data.strip():
            self.texts[-1] += data.strip() + " "


def messages_of(body: str, *, headings: bool = False) -> list[str]:
    return [text.strip() for text in Messages(body, headings=headings).texts if text.strip()]


# --- the world: an app with demo content, and three browsers --------------------------------

class World:
    def __init__(self, app):
        self.app = app
        self.tables = list(db.metadata.sorted_tables)
        with app.app_context():
            load_demo_content()
            self.seeds = self._seed()
            self.engine = db.engine  # counting rows needs no app context while the browsers run
            self.slugs = dict(db.session.execute(select(Community.id, Community.slug)).all())
        self._count_rows = self._counting()
        with app.test_request_context(), force_locale("zh_Hans"):
            self.refused_zh = (str(INPUT_REFUSED), str(MESSAGES[422][0]))
        with app.test_request_context(), force_locale("en"):
            self.refused_en = (str(INPUT_REFUSED), str(MESSAGES[422][0]))
        self.browsers = {"passer-by": app.test_client(), "kiosk": self._kiosk(), "admin": self._admin()}
        self.adapter = app.url_map.bind("localhost")
        self._tokens, self._secrets = {}, {}
        self.requests = 0
        catalog = read_po((ROOT / "translations/zh_Hans/LC_MESSAGES/messages.po").open("rb"))
        # Each translated msgid, its %(name)s placeholders matching anything.
        self._translated = [re.compile(re.sub(r"%\\\([a-z_]+\\\)[sd]", ".+", re.escape(message.id)))
                            for message in catalog if isinstance(message.id, str) and message.id and message.string]

    def _seed(self) -> list[str]:
        """Pages only a code opens (a resident's sign-up, card, request, post, case): some of
        the demo's codes. A problem report just taken in, whose card waits in the wall's queue
        and whose case waits to be routed (the case page's step forms); the receipt of a
        resolved case (the resident's check back); open cases like one being written (their
        "me too" buttons); and a day entered in the working-day calendar (its remove button)."""
        from datetime import date

        from app.cases import services as cases
        from app.cases import workdays
        from app.cases.models import Case, Category
        from app.classes.models import Signup
        from app.experts.models import HelpRequest
        from app.friends.models import Card, Interest
        from app.wall.models import Post

        # A lottery whose entries staff closed early: its draw page offers the draw itself
        # (the demo's lottery still takes entries: its page offers closing them).
        from datetime import datetime, time, timedelta

        from app.classes import services as classes
        from app.clock import site_today

        today = site_today()
        drawing = classes.save_course(None, classes.CourseData(
            title="太极拳抽签班", category="fitness", teacher="周教练", venue="健身室", capacity=5, mode="lottery",
            term_starts=today + timedelta(days=6), term_ends=today + timedelta(days=20),
            signup_opens_at=datetime.combine(today - timedelta(days=1), time(9)),
            signup_closes_at=datetime.combine(today + timedelta(days=2), time(9)), weekdays=(2,),
            start_time=time(19, 30)))
        classes.set_status(drawing.id, "open")
        assert classes.close_entries(drawing.id)
        cases.add_grid("备用网格")  # no case names it: its page offers to remove it
        roads = db.session.scalar(select(Category.id).where(Category.key == "roads"))
        cases.take_in(cases.Intake(roads, "2号楼电梯停了三天了。", place="2号楼"), channel="kiosk",
                      reported_by="fuzz")
        workdays.enter_day(date(2099, 10, 8), True, "国庆调休")
        first = db.session.scalars
        resolved = first(select(Case.receipt_code).where(Case.state == "resolved").limit(1)).all()
        assert resolved, "the demo has no resolved case: the check back form is not reached"
        similar = db.session.execute(select(Case.category_id, Case.grid_id).where(
            cases.is_open(), Case.grid_id.is_not(None)).limit(1)).all()
        assert similar, "the demo has no open case in a grid: no \"me too\" button is reached"
        cards = first(select(Card.code).where(Card.id.in_(select(Interest.card_id))).limit(2)).all()
        cards += first(select(Card.code).where(Card.state == "approved").limit(1)).all()
        # Sign-ups from both ends: courses still to come (cancel) and finished ones (rate).
        signups = first(select(Signup.code).where(Signup.state == "confirmed").order_by(Signup.id).limit(2)).all()
        signups += first(select(Signup.code).where(Signup.state == "confirmed")
                         .order_by(Signup.id.desc()).limit(2)).all()
        # The demo's printed household cards: the first one's QR link, not yet scanned.
        from app.households import services as households
        from app.households.models import Household

        unscanned = first(select(Household).where(Household.link_hash.is_not(None)).limit(1)).all()
        return ([f"/c/main/friends/mine?code={code}" for code in cards]
                + [f"/c/main/households/link/{households.card(household).link_token}" for household in unscanned]
                + [f"/c/main/classes/my?code={code}" for code in signups]
                + [f"/c/main/experts/receipt?code={code}" for code in first(select(HelpRequest.code).limit(1))]
                + [f"/c/main/wall/receipt?code={code}" for code in first(select(Post.receipt_code).limit(1))]
                + [f"/c/main/cases/receipt?code={code}" for code in resolved]
                + [f"/c/main/cases/similar?category={category}&grid={grid}" for category, grid in similar])

    def _kiosk(self):
        from app.kiosk.devices import DEVICE_COOKIE
        from tests.factories import enrolled_kiosk

        with self.app.app_context():
            _kiosk_id, token = enrolled_kiosk("大厅")
        client = self.app.test_client()
        client.set_cookie(DEVICE_COOKIE, token)
        return client

    def _admin(self):
        from tests.factories import STAFF_PASSWORD, staff_member

        with self.app.app_context():
            staff_member("fuzz-admin", "admin", "district-admin", display_name="测试管理员")
        client = self.app.test_client()
        token = Page("/staff/", client.get("/staff/", headers=ZH).get_data(as_text=True)).csrf
        response = client.post("/staff/sign-in", data={"username": "fuzz-admin", "password": STAFF_PASSWORD,
                                                       CSRF_FIELD: token})
        assert response.status_code == 303
        return client

    def token(self, browser: str) -> str:
        """A CSRF token valid for the browser's session now."""
        if browser not in self._tokens:
            client = self.browsers[browser]
            self._tokens[browser] = Page("/", client.get("/c/main/", headers=ZH).get_data(as_text=True)).csrf
            with client.session_transaction() as session:
                self._secrets[browser] = session.get("csrf_token")
        return self._tokens[browser]

    def after(self, browser: str) -> None:
        """Keep each browser as it was: in the header's language (the language switch sets
        the session's), and with a token for its session (the idle reset clears it)."""
        client = self.browsers[browser]
        with client.session_transaction() as session:
            session.pop("locale", None)
            secret = session.get("csrf_token")
        if secret != self._secrets.get(browser):
            self._tokens.pop(browser, None)
        # And the communities where the crawl found them: a harmless value ("0") is a good
        # slug, and renaming the first community would move every page the crawl queued.
        with self.engine.begin() as connection:
            if connection.execute(sql("SELECT count(*) FROM community_slugs")).scalar():
                connection.execute(sql("DELETE FROM community_slugs"))
                for community_id, slug in self.slugs.items():
                    connection.execute(sql("UPDATE communities SET slug = :slug WHERE id = :id"),
                                       {"slug": slug, "id": community_id})

    def kind(self, submission: Submission) -> tuple:
        """What makes two submissions the same test: rule, words in its path, fields, htmx."""
        rule, args = self.rule_of(submission.url, submission.method)
        return (submission.method, rule.rule if rule else submission.url, submission.htmx, submission.names,
                tuple(sorted(value for value in args.values() if isinstance(value, str))))

    def rule_of(self, url: str, method: str = "GET"):
        try:
            rule, args = self.adapter.match(urlsplit(url).path, method=method, return_rule=True)
        except HTTPException:
            return None, {}
        return rule, args

    def counts(self) -> dict[str, int]:
        """Rows per table, but what a refusal may add (BOOKKEEPING_TABLES, READ_ACTIONS)."""
        with self.engine.connect() as connection:
            return dict(connection.execute(self._count_rows).mappings().one())

    def _counting(self):
        columns = []
        for table in self.tables:
            if table.name in BOOKKEEPING_TABLES:
                continue
            query = select(func.count()).select_from(table)
            if table.name == AuditEntry.__tablename__:
                query = query.where(AuditEntry.action.not_in(READ_ACTIONS))
            columns.append(query.scalar_subquery().label(table.name))
        return select(*columns)

    def unusable_text(self) -> list[str]:
        """Every stored text that holds a character app/inputs.py refuses."""
        found = []
        with self.app.app_context():
            for table in self.tables:
                texts = [column for column in table.columns if isinstance(column.type, (String, Text))]
                for row in db.session.execute(select(*texts)) if texts else ():
                    found += [f"{table.name}: {value!r:.80}" for value in row if isinstance(value, str)
                              and unusable(value)]
        return found

    def pending_translation(self, text: str) -> bool:
        """English words in a Chinese answer are fine only while the catalog lacks them (new
        msgids wait for translators); a translated message shown in English is a bug."""
        return not any(pattern.fullmatch(text) for pattern in self._translated)


@pytest.fixture
def world(make_app):
    return World(make_app(WTF_CSRF_ENABLED=True, RATE_LIMITS=_Unlimited()))


# --- crawling --------------------------------------------------------------------------------

def _same_site(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/static/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(world: World, browser: str, starts=()) -> tuple[dict[str, Page], list[Submission]]:
    """Breadth-first from / and /staff/ (and the code pages), a few pages per rule."""
    client = world.browsers[browser]
    queue = deque(["/c/main/", "/staff/", *starts])
    seen, per_pattern, pages = set(queue), Counter(), {}
    while queue:
        url = queue.popleft()
        response = client.get(url, headers=ZH)
        world.requests += 1
        assert response.status_code < 500, f"{browser} GET {url}: {response.status_code}"
        if response.mimetype != "text/html" or not response.data:
            continue
        page = pages[url] = Page(url, response.get_data(as_text=True))
        for link in page.links:
            found = _same_site(urljoin(url, link))
            if found is None or found in seen:
                continue
            seen.add(found)
            rule, args = world.rule_of(found)
            if rule is None:
                continue
            pattern = (rule.rule, tuple(sorted(value for value in args.values() if isinstance(value, str))),
                       tuple(sorted(name for name, _ in _query(found))))
            per_pattern[pattern] += 1
            if per_pattern[pattern] <= PER_PATTERN:
                queue.append(found)
    submissions, kinds = [], set()
    for page in pages.values():
        for submission in page.submissions():
            if world.kind(submission) not in kinds:
                kinds.add(world.kind(submission))
                submissions.append(submission)
    return pages, submissions


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def crawl_all(world: World) -> list[tuple[str, Submission]]:
    """Each kind of submission once, from the first browser that meets it: the admin may act
    everywhere; the kiosk adds its own (the idle reset, handoffs), the passer-by the rest."""
    found, kinds = [], set()
    for browser in ("admin", "kiosk", "passer-by"):
        for submission in crawl(world, browser, world.seeds)[1]:
            if world.kind(submission) not in kinds:
                kinds.add(world.kind(submission))
                found.append((browser, submission))
    return found


# --- sending ---------------------------------------------------------------------------------

def send(world: World, browser: str, submission: Submission, fields, *, fuzzed: str, language=ZH, htmx=None):
    client = world.browsers[browser]
    htmx = submission.htmx if htmx is None else htmx
    token = world.token(browser)
    if fuzzed != CSRF_FIELD:  # the page's token, as it is now (the idle reset starts a new session)
        fields = [(name, token if name == CSRF_FIELD else value) for name, value in fields]
    headers = dict(language)
    if htmx:
        headers.update({"HX-Request": "true", "HX-Current-URL": f"http://localhost{submission.page}"})
        if fuzzed != CSRF_FIELD:
            # Not with a hostile token: htmx's header would stand in for an empty one, and the
            # revoke-all button, say, would do its work instead of being refused.
            headers["X-CSRFToken"] = token
        if submission.target:
            headers["HX-Target"] = submission.target
        if submission.trigger:
            headers["HX-Trigger"] = submission.trigger
    world.requests += 1
    if submission.method == "GET":
        path = urlsplit(submission.url).path
        response = client.get(path + ("?" + urlencode(fields) if fields else ""), headers=headers)
    else:
        response = client.post(submission.url, data=MultiDict(fields), headers=headers)
    world.after(browser)
    return response


def replaced(fields, name: str, value: str):
    """The form with one field holding one hostile value (a missing one added)."""
    return [(key, old) for key, old in fields if key != name] + [(name, value)]


def describe(browser, submission, name, label, htmx):
    return f"{browser} {submission.method} {submission.url} [{name}={label}]{' htmx' if htmx else ''}"


def check_refusal(world: World, response, what: str, language=ZH):
    """A 4xx says why, in the reader's language; an htmx reload or redirect says it by itself."""
    if response.headers.get("HX-Refresh") or response.headers.get("HX-Redirect"):
        return
    body = response.get_data(as_text=True)
    # A form shown again (422) says what is wrong in it; another refusal may be a page of its own.
    texts = messages_of(body, headings=response.status_code != 422)
    assert texts, f"{what}: {response.status_code} with no message\n{body[:600]}"
    if "<html" in body:
        assert f'lang="{"zh-Hans" if language is ZH else "en"}"' in body, f"{what}: page in the wrong language"
    for text in texts if language is ZH else ():
        if not re.search(CJK, text):
            assert world.pending_translation(text), f"{what}: shown in English although translated: {text!r}"


def check_guard(world: World, response, what: str, htmx: bool, language=ZH):
    """The input guard answered: 422, its message in the reader's language, nothing swapped."""
    body = response.get_data(as_text=True)
    assert response.status_code == 422, f"{what}: {response.status_code}, not refused"
    banner, heading = world.refused_zh if language is ZH else world.refused_en
    assert language is EN or re.search(CJK, banner + heading), "the refusal is not translated into Chinese"
    if htmx:
        assert response.headers.get("HX-Reswap") == "none" and "input-refused" in response.headers["HX-Trigger"]
        assert 'id="input-refused"' in body and 'hx-swap-oob="true"' in body and banner in body, what
    else:
        assert heading in body, what


# --- the tests -------------------------------------------------------------------------------

def test_every_post_rule_is_reached_by_a_crawled_form(world):
    rules = [world.rule_of(submission.url, "POST")[0] for _browser, submission in crawl_all(world)
             if submission.method == "POST"]
    reached = {rule.endpoint for rule in rules if rule is not None}
    posts = {rule.endpoint for rule in world.app.url_map.iter_rules() if "POST" in rule.methods}
    assert posts - reached - NOT_CRAWLED.keys() == set(), "POST rules no crawled page submits (add a page, or a reason)"
    assert NOT_CRAWLED.keys() & reached == set(), "reached after all: remove from NOT_CRAWLED"
    assert NOT_CRAWLED.keys() <= posts, "no longer a POST rule"


def values_for(name: str, first_of_its_browser: bool):
    """Every hostile value for a field; for the CSRF token, which one check refuses before any
    view runs, all of them once per browser, then two."""
    if name == CSRF_FIELD and not first_of_its_browser:
        return [(label, HOSTILE[label]) for label in ("nul", "empty")]
    return list(HOSTILE.items())


def test_hostile_values_in_every_form(world):
    started = time.monotonic()
    found = crawl_all(world)
    assert len(found) > 60, "the crawl found too few forms: the demo content or the crawler broke"
    refused, csrf_done = Counter(), set()
    stored = world.counts()
    for browser, submission in found:
        for name in submission.names or ("",):
            cases = values_for(name, browser not in csrf_done) if name else [("as-found", None)]
            csrf_done.add(browser) if name == CSRF_FIELD else None
            for label, value in cases:
                fields = replaced(submission.fields, name, value) if name else submission.fields
                what = describe(browser, submission, name, label, submission.htmx)
                response = send(world, browser, submission, fields, fuzzed=name)
                assert response.status_code < 500, f"{what}: {response.status_code}"
                if label in GUARDED and name != CSRF_FIELD:
                    check_guard(world, response, what, submission.htmx)
                now = world.counts()
                if response.status_code >= 400:
                    refused[response.status_code] += 1
                    check_refusal(world, response, what)
                    assert now == stored, f"{what}: refused, yet stored {_difference(stored, now)}"
                stored = now
        # The guard's words in English, for the form as sent and sent the other way (htmx or not).
        for name in [name for name in submission.names if name != CSRF_FIELD][:1]:
            for htmx in (submission.htmx, not submission.htmx):
                what = describe(browser, submission, name, "nul", htmx)
                response = send(world, browser, submission, replaced(submission.fields, name, "\x00"),
                                fuzzed=name, language=EN, htmx=htmx)
                check_guard(world, response, what, htmx, language=EN)
                assert world.counts() == stored, f"{what}: refused, yet stored something"
    assert world.unusable_text() == [], "control or bidi characters were stored"
    # Each browser kept its standing: signed in, enrolled, none of the rows it met deleted.
    assert refused.keys() <= {400, 422, 429}, f"the fuzz lost ground as it went: {dict(refused)}"
    print(f"\n{len(found)} forms, {world.requests} requests, refusals by status {dict(refused)}, "
          f"{time.monotonic() - started:.1f} s")


def _difference(before: dict, after: dict) -> dict:
    return {table: (before[table], after[table]) for table in before if before[table] != after[table]}


# Ids no <int:...> rule takes: past PostgreSQL's INTEGER, or not ASCII digits (٣ is an Arabic-Indic 3).
UNROUTABLE_IDS = ("2147483648", "99999999999999999999", "%D9%A3", "%C2%B2")
HOSTILE_QUERIES = [{"next": "/\r\n"}, {"before": HOSTILE["huge"]}, {"before": "²"}, {"v": "²"}, {"v": HOSTILE["huge"]},
                   {"page": "-1"}, {"code": HOSTILE["huge"]}, {"q": "²" * 300}, {"show": "\u202e"},
                   {"category": "a\x00"}, {"day": "a\nb"}]


def test_every_get_rule_with_huge_ids_and_hostile_queries(world):
    """Each GET rule, as the first browser that crawled it meets it (the admin for the rest):
    ids past what the database holds are 404 before any view runs, and hostile query values
    added to its crawled URL's own query answer below 500, refusals with a message."""
    crawled = {}
    for browser in ("admin", "kiosk", "passer-by"):
        for url in crawl(world, browser, world.seeds)[0]:
            rule = world.rule_of(url)[0]
            if rule is not None:
                crawled.setdefault((rule.endpoint, rule.rule), (browser, url))
    for rule in world.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        browser, url = crawled.get((rule.endpoint, rule.rule), ("admin", None))
        client = world.browsers[browser]
        values = dict(world.rule_of(url)[1]) if url else dict.fromkeys(rule._converters, "x")
        ints = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        words = [name for name in rule._converters if name not in ints]
        for name, bad in [(name, bad) for name in ints for bad in UNROUTABLE_IDS] + \
                [(name, bad) for name in words for bad in ("%00", "a%E2%80%AEb")]:
            target = _fill(rule, {**values, name: bad})
            response = client.get(target, headers=ZH)
            world.requests += 1
            # 405: another rule's string took it (/handoff/<form_key> is POST only).
            assert response.status_code in (404, 405), f"{browser} {target}: {response.status_code}"
            check_refusal(world, response, f"{browser} {target}")
        url = url or _fill(rule, {**values, **dict.fromkeys(ints, 0)})
        for query in HOSTILE_QUERIES:
            target = urlsplit(url).path + "?" + urlencode({**dict(_query(url)), **query})
            for headers in (ZH, {**ZH, "HX-Request": "true"}):
                response = client.get(target, headers=headers)
                world.requests += 1
                what = f"{browser} GET {target}{' htmx' if 'HX-Request' in headers else ''}"
                assert response.status_code < 500, f"{what}: {response.status_code}"
                if response.status_code >= 400:
                    check_refusal(world, response, what)


def _fill(rule, values) -> str:
    """The rule's path with its <converter:name> parts replaced by raw values (not validated)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda match: str(values[match.group(1)]), rule.rule)
