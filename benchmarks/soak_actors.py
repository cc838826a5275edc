"""Who the soak plays: kiosks in the lobby, people reading on phones, moderators and a
coordinator at the console. Each is a thread with its own browser (keep-alive
connection, cookies, CSRF token taken from the page as htmx does). Every write the
server acknowledged goes into the ledger, to be found in the database afterwards.
"""

import itertools
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.friends.models import AGE_BANDS, GENDERS, LOOKING_FOR
from app.seed import GIVEN, POST_TEXTS, SURNAMES
from app.wall.models import KINDS, PROBLEM_STATUSES
from benchmarks.soak_client import Browser, Poll, Reply, Tap, form_token, hx_elements, page_token, path_of

RECEIPT = re.compile(r'id="receipt-code">(\d{4}) (\d{4})<')
SIGNUP_CODE = re.compile(r'id="signup-code">(\d{4}) (\d{4})<')
REPORTABLE = re.compile(r'/wall/posts/(\d+)/report"')
SURVEY_ACTION = re.compile(r'/classes/survey/(\d+)"')
SURVEY_OPTION = re.compile(r'name="option" value="(\d+)"')
QUEUE_ROW = re.compile(r'<article class="queue-row state-(\w+)" id="row-(\d+)"')
ROW_ACTION = re.compile(r'/staff/wall/(\d+)/([a-z-]+)"')
STAFF_CANCEL = re.compile(r'/staff/classes/signups/(\d+)/cancel"')
NAV_POLL = re.compile(r'hx-get="(/staff/nav\?v=[^"]*)"')
STARTS_AT = re.compile(r'name="starts_at"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="starts_at"')
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NEVER_TAPPED = ("/staff", "/static", "/h/", "/handoff")
# Every kiosk page, and every fragment a page declares (the HX-Target it answers with a
# partial), so that each soak reads them all; {course} and the like are filled with ids
# from the seeded data. Kiosks walk it, each from its own place, between other taps.
TOUR = (
    ("/", "main"), ("/", "notices-strip"), ("/attract", "attract"),
    ("/wall/", "main"), ("/wall/?kind=greeting", "wall-list"), ("/wall/more?before={post}", "load-more"),
    ("/wall/new", "main"), ("/wall/new", "wall-form"), ("/wall/posts/{post}/report", "post-actions-{post}"),
    ("/wall/receipt", "main"), ("/wall/receipt?code=00000000", "receipt-result"),
    ("/classes/", "main"), ("/classes/", "week"), ("/classes/all", "main"),
    ("/classes/all?category=music", "course-list"),
    ("/classes/{course}", "main"), ("/classes/{course}", "seats"), ("/classes/{course}/sign-up", "main"),
    ("/classes/{course}/sign-up", "signup-form"), ("/classes/my", "main"),
    ("/classes/my?code=00000000", "lookup-result"),
    ("/classes/survey", "main"), ("/classes/survey", "survey-form"),
    ("/experts/", "main"), ("/experts/?q=shuf", "expert-list"), ("/experts/{expert}", "main"),
    ("/experts/{expert}/ask", "main"), ("/experts/{expert}/ask", "ask-form"), ("/experts/receipt", "main"),
    ("/experts/receipt?code=00000000", "receipt-result"),
    ("/friends/", "main"), ("/friends/?looking_for={looking_for}", "card-list"), ("/friends/{card}", "main"),
    ("/friends/{card}/meet", "main"), ("/friends/{card}/meet", "meet-form"), ("/friends/new", "main"),
    ("/friends/new", "card-form"), ("/friends/mine", "main"), ("/friends/mine?code=00000000", "mine"),
    ("/notices/", "main"), ("/notices/{notice}", "main"),
)
# Apart from the moderators' own changes, a post stays in the state it was posted in.
POSTED_STATES = ("pending", "held", "approved")

_serial = itertools.count(1)


def _letters(number: int) -> str:
    """A number as lower-case letters: unique words with no digits in them."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = LETTERS[digit] + word
        if not number:
            return word


def unique_resident() -> tuple[str, str]:
    """A name and mobile number that no other sign-up in the soak uses."""
    n = next(_serial)
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] \
        + GIVEN[(n // (len(SURNAMES) * len(GIVEN))) % len(GIVEN)]
    return name, f"199{n:08d}"


# --- what was acknowledged ---------------------------------------------------------------

@dataclass
class PostAck:
    code: str
    kind: str
    text: str
    kiosk_id: int


@dataclass
class SignupAck:
    code: str
    course_id: int
    mobile: str
    state: str
    source: str


@dataclass
class StaffChange:
    """A moderator's action on a post: the field it sets, to what, and whether it was
    acknowledged."""

    post_id: int
    field: str
    value: str
    action: str
    acked: bool


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tried: Counter = field(default_factory=Counter)
    acked: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    posts: list = field(default_factory=list)
    signups: list = field(default_factory=list)
    assisted: list = field(default_factory=list)           # (course_id, mobile)
    cancel_codes_acked: set = field(default_factory=set)
    cancel_codes_tried: set = field(default_factory=set)
    staff_cancels_acked: set = field(default_factory=set)   # sign-up ids
    staff_cancels_tried: set = field(default_factory=set)
    staff_changes: list = field(default_factory=list)
    wall_bumps: int = 0
    reports_acked: set = field(default_factory=set)        # (post_id, "kiosk:<id>")
    heartbeats: set = field(default_factory=set)           # kiosk ids
    toured: set = field(default_factory=set)               # TOUR entries read with a 200
    notices: list = field(default_factory=list)            # titles
    sign_ins: Counter = field(default_factory=Counter)     # username: acknowledged
    sign_outs: Counter = field(default_factory=Counter)
    publish_first: list = field(default_factory=list)      # kinds set to publish at once

    def attempt(self, kind: str) -> None:
        with self.lock:
            self.tried[kind] += 1

    def ack(self, kind: str, **what) -> None:
        with self.lock:
            self.acked[kind] += 1
            for name, value in what.items():
                target = getattr(self, name)
                target.append(value) if isinstance(target, list) else target.add(value)

    def refuse(self, kind: str, reply: Reply) -> None:
        with self.lock:
            self.refused[f"{kind} {reply.status}"] += 1


# --- the actors ---------------------------------------------------------------------------

class Actor(threading.Thread):
    """One client: a browser and a loop of steps with a person's pauses between them."""

    think = (0.3, 1.0)

    def __init__(self, name: str, host: str, port: int, ledger: Ledger, stop: threading.Event, seed: int,
                 language: str = "zh-CN,zh;q=0.9,en;q=0.8"):
        super().__init__(name=name, daemon=True)
        self.browser = Browser(host, port, language, agent=f"linli-soak {name}")
        self.base = f"http://{host}:{port}"
        self.ledger = ledger
        self.stopping = stop
        self.rng = random.Random(seed)
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.start_up()
            while not self.stopping.is_set():
                self.step()
                self.stopping.wait(self.rng.uniform(*self.think))
        except BaseException as error:  # noqa: BLE001  (reported by the soak, never swallowed)
            self.failure = error
        finally:
            self.browser.close()

    def start_up(self) -> None:
        pass

    def step(self) -> None:
        raise NotImplementedError

    def request(self, kind: str, method: str, path: str, **options) -> Reply | None:
        reply = self.browser.request(kind, method, path, **options)
        if reply is None:
            self.reconnect()
        return reply

    def reconnect(self) -> None:
        """What app.js does when a request fails: ask /healthz until the server answers."""
        while not self.stopping.is_set():
            self.stopping.wait(self.rng.uniform(0.5, 1.0))
            reply = self.browser.request("GET /healthz (reconnecting)", "GET", "/healthz")
            if reply is not None and reply.status == 200:
                return

    def htmx(self, target: str, current: str, token: str | None = None, **extra) -> dict:
        headers = {"HX-Request": "true", "HX-Current-URL": self.base + current, **extra}
        if target:
            headers["HX-Target"] = target
        if token:
            headers["X-CSRFToken"] = token
        return headers


class Screen(Actor):
    """A browser on the kiosk pages, tapping through them as htmx does: full loads, #main
    swaps, fragment taps, and every poll the page declares, on its own interval."""

    def __init__(self, *args, ids: dict, tour_start: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.ids = ids
        self.course_ids = list(ids["course"])
        self.tour_next = tour_start
        self.path = "/"
        self.token: str | None = None
        self.taps: list[Tap] = []
        self.polls: dict[str, tuple[Poll, float]] = {}
        self.last_wall = ""
        self.fetched_static = False
        self.steps = 0

    # -- navigation ----------------------------------------------------------------

    def _learn(self, text: str, *, main: bool) -> None:
        taps, polls = hx_elements(text)
        taps = [tap for tap in taps if not tap.url.startswith(NEVER_TAPPED)]
        now = time.monotonic()
        if main:
            self.taps = taps
            self.polls = {path: due for path, due in self.polls.items() if path == "/notices/urgent"}
        else:
            known = set(self.taps)
            self.taps += [tap for tap in taps if tap not in known]
        for poll in polls:
            self.polls[path_of(poll.url)] = (poll, now + poll.seconds)
        token = page_token(text)
        if token:
            self.token = token
        if "/wall/posts/" in text:
            self.last_wall = text

    def load(self, path: str, kind: str | None = None) -> str | None:
        """A full page load (the address bar, a reload, the idle reset's new page)."""
        reply = self.request(kind or f"GET page {_route(path)}", "GET", path)
        if reply is None or reply.status != 200:
            return None
        self.path = path
        self.polls = {}
        self._learn(reply.text, main=True)
        if not self.fetched_static:
            self.fetched_static = True
            for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', reply.text):
                self.request("GET static", "GET", asset)
        self.after_full_load(reply.text)
        return reply.text

    def after_full_load(self, text: str) -> None:
        pass

    def swap_main(self, path: str) -> str | None:
        """A tile or link: htmx asks for #main and pushes the URL."""
        reply = self.request(f"GET #main {_route(path)}", "GET", path, headers=self.htmx("main", self.path))
        if reply is None or reply.status != 200:
            return None
        self.path = path
        self._learn(reply.text, main=True)
        return reply.text

    def request(self, kind: str, method: str, path: str, **options) -> Reply | None:
        reply = super().request(kind, method, path, **options)
        if reply is not None and reply.headers.get("HX-Refresh") == "true":
            self.load(self.path)  # as htmx does: the whole page again (a new language, a fresh token)
        return reply

    def typed(self, tap: Tap) -> Tap:
        """What the search pad and the filter form add to their URL when tapped."""
        if path_of(tap.url) == "/experts/" and tap.target == "expert-list":
            return Tap("/experts/?q=" + self.rng.choice(("s", "sf", "shuf", "zjg", "w", "l", "zs", "ls")), tap.target)
        if path_of(tap.url) == "/friends/" and tap.target == "card-list":
            return Tap("/friends/?" + self.rng.choice((f"gender={self.rng.choice(GENDERS)}",
                                                       f"age_band={self.rng.choice(AGE_BANDS)}",
                                                       f"looking_for={self.rng.choice(LOOKING_FOR)}")), tap.target)
        return tap

    def fragment(self, tap: Tap) -> str | None:
        url = tap.url
        reply = self.request(f"GET #{_target_kind(tap.target)} {_route(url)}", "GET", url,
                             headers=self.htmx(tap.target, self.path))
        if reply is None or reply.status != 200:
            return None
        self._learn(reply.text, main=False)
        return reply.text

    def poll_due(self) -> None:
        now = time.monotonic()
        for path, (poll, due) in list(self.polls.items()):
            if due > now or self.stopping.is_set():
                continue
            reply = self.request(f"GET poll {_route(poll.url)}", "GET", poll.url,
                                 headers=self.htmx(poll.target, self.path))
            self.polls[path] = (poll, time.monotonic() + poll.seconds)
            if reply is not None and reply.status == 200:
                self._learn(reply.text, main=False)

    def tour(self) -> None:
        """The next page or fragment of TOUR (the same one again if the server was away)."""
        index = self.tour_next % len(TOUR)
        path, target = TOUR[index]
        chosen = {name: self.rng.choice(values) for name, values in self.ids.items()}
        chosen["looking_for"] = self.rng.choice(LOOKING_FOR)
        path, target = path.format(**chosen), target.format(**chosen)
        sent = len(self.browser.records)
        done = self.swap_main(path) if target == "main" else self.fragment(Tap(path, target))
        if done is not None or self.browser.records[sent].status:  # answered, if not with a 200
            self.tour_next += 1
        if done is not None:
            with self.ledger.lock:
                self.ledger.toured.add(index)

    def linger(self) -> None:
        """Someone reads the screen for a while: only the page's polls run (mostly 204)."""
        until = time.monotonic() + self.rng.uniform(2, 6)
        while not self.stopping.is_set() and time.monotonic() < until:
            self.poll_due()
            self.stopping.wait(0.25)

    def tap_around(self) -> None:
        roll = self.rng.random()
        if roll < 0.1:
            self.linger()
        elif roll < 0.13 and self.path == "/":
            # Minutes untouched on the home page: the attract loop starts.
            self.request("GET #attract /attract", "GET", "/attract", headers=self.htmx("attract", self.path))
        elif roll < 0.17:
            self.load(self.path)
        elif roll < 0.32 or not self.taps:
            self.swap_main(self.rng.choice(("/", "/wall/", "/classes/", "/classes/all", "/experts/", "/friends/",
                                            "/notices/", "/wall/receipt", "/classes/my")))
        else:
            tap = self.rng.choice(self.taps)
            if tap.target == "main":
                self.swap_main(tap.url)
            else:
                self.fragment(self.typed(tap))

    def step(self) -> None:
        self.poll_due()
        self.tap_around()

    def touring(self) -> bool:
        """Every fourth step is the tour's next page or fragment: over a short soak the
        screens, each from its own place in TOUR, read every one of them."""
        self.steps += 1
        if self.steps % 4 == 1:
            self.tour()
            return True
        return False


class Reader(Screen):
    """A phone or home computer reading the boards: not a kiosk, so its pages ask to be
    paired (POST /device/pairing on load, then every few seconds) and it can act on nothing."""

    pairing_seconds = 5.0

    def start_up(self) -> None:
        self.pairing_due: float | None = None
        self.load("/")

    def after_full_load(self, text: str) -> None:
        self.pairing_due = time.monotonic() if 'id="pairing"' in text else None

    def step(self) -> None:
        if self.touring():
            return
        if self.pairing_due is not None and time.monotonic() >= self.pairing_due:
            self.pairing_due = time.monotonic() + self.pairing_seconds
            self.request("POST /device/pairing", "POST", "/device/pairing",
                         headers=self.htmx("pairing", self.path, self.token))
        super().step()


class Kiosk(Screen):
    """An enrolled lobby kiosk (its device cookie), used by one resident after another:
    reading, posting to the wall, signing up and cancelling, reporting, the survey, the
    heartbeat; now and then the language button or the idle reset."""

    think = (0.2, 0.8)

    def __init__(self, *args, kiosk_id: int, device_cookie: tuple[str, str], heartbeat_seconds: float,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.kiosk_id = kiosk_id
        self.browser.cookies[device_cookie[0]] = device_cookie[1]
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat_due = 0.0
        self.my_signups: list[SignupAck] = []
        self.my_receipts: list[str] = []

    def start_up(self) -> None:
        self.heartbeat_due = time.monotonic() + self.rng.uniform(0, self.heartbeat_seconds)
        self.load("/")

    def step(self) -> None:
        if time.monotonic() >= self.heartbeat_due:
            self.heartbeat()
        self.poll_due()
        if self.touring():
            return
        roll = self.rng.random()
        for weight, action in ((0.10, self.post_to_wall), (0.10, self.sign_up), (0.02, self.cancel),
                               (0.01, self.report), (0.02, self.answer_survey), (0.03, self.look_up),
                               (0.01, self.switch_language), (0.01, self.idle_reset)):
            if roll < weight:
                action()
                return
            roll -= weight
        self.tap_around()

    def heartbeat(self) -> None:
        self.heartbeat_due = time.monotonic() + self.heartbeat_seconds
        reply = self.request("POST /device/heartbeat", "POST", "/device/heartbeat",
                             headers=self.htmx("heartbeat", self.path, self.token, **{"HX-Trigger": "heartbeat"}))
        if reply is not None and reply.status == 204:
            self.ledger.ack("heartbeat", heartbeats=self.kiosk_id)

    def post_to_wall(self) -> None:
        page = self.swap_main("/wall/new")
        token = page and form_token(page)
        if not token:
            return
        kind = self.rng.choice(KINDS)
        text = f"{self.rng.choice(POST_TEXTS[kind])} [soak {_letters(next(_serial))}]"
        if self.rng.random() < 0.03:  # a phone number in the text: held for review, masked
            text += f" 电话 199 {self.rng.randrange(10**4):04d} {self.rng.randrange(10**4):04d}"
        form = {"csrf_token": token, "kind": kind, "text": text,
                "nickname": self.rng.choice(("", "", "老王", "Anna")),
                "location": "3号楼" if kind == "problem" else ""}
        self.ledger.attempt("wall post")
        reply = self.request("POST /wall/posts", "POST", "/wall/posts", form=form,
                             headers=self.htmx("wall-form", self.path, self.token))
        if reply is None:
            return
        created = reply.trigger("wall-post-created")
        found = RECEIPT.search(reply.text)
        if reply.status == 200 and created and found:
            code = "".join(found.groups())
            assert created["receipt"] == code, (created, code)
            self.my_receipts.append(code)
            self.ledger.ack("wall post", posts=PostAck(code, kind, text, self.kiosk_id))
        else:
            self.ledger.refuse("wall post", reply)

    def sign_up(self) -> None:
        # Most residents want the same few popular courses: they fill, and the waitlist and
        # its promotions (a cancellation hands the seat on) get exercised even in a short soak.
        popular = self.course_ids[:2]
        course_id = self.rng.choice(popular if self.rng.random() < 0.6 else self.course_ids)
        page = self.swap_main(f"/classes/{course_id}/sign-up")
        token = page and form_token(page)
        if not token:
            return
        name, mobile = unique_resident()
        self.ledger.attempt("class sign-up")
        reply = self.request("POST /classes/<id>/sign-up", "POST", f"/classes/{course_id}/sign-up",
                             form={"csrf_token": token, "name": name, "mobile": mobile},
                             headers=self.htmx("signup-form", self.path, self.token))
        if reply is None:
            return
        created = reply.trigger("classes-signup-created")
        found = SIGNUP_CODE.search(reply.text)
        if reply.status == 200 and created and found:
            signup = SignupAck("".join(found.groups()), course_id, mobile, created["state"], "kiosk")
            self.my_signups.append(signup)
            self.ledger.ack("class sign-up", signups=signup)
        else:
            self.ledger.refuse("class sign-up", reply)

    def cancel(self) -> None:
        """A resident comes back with their code and the last 4 digits of their number."""
        if not self.my_signups:
            return
        signup = self.my_signups.pop(self.rng.randrange(len(self.my_signups)))
        page = self.swap_main(f"/classes/my?code={signup.code}")
        token = page and 'id="cancel-form"' in page and form_token(page[page.index('id="cancel-form"'):])
        if not token:
            return
        self.ledger.attempt("class cancel")
        with self.ledger.lock:
            self.ledger.cancel_codes_tried.add(signup.code)
        reply = self.request("POST /classes/cancel", "POST", "/classes/cancel",
                             form={"csrf_token": token, "code": signup.code, "tail": signup.mobile[-4:]},
                             headers=self.htmx("cancel-form", self.path, self.token))
        if reply is None:
            return
        if reply.status == 200 and reply.trigger("classes-signup-cancelled") is not None:
            self.ledger.ack("class cancel", cancel_codes_acked=signup.code)
        else:
            self.ledger.refuse("class cancel", reply)

    def report(self) -> None:
        page = self.last_wall or self.swap_main("/wall/") or ""
        posts = REPORTABLE.findall(page)
        if not posts:
            return
        post_id = int(self.rng.choice(posts))
        if self.path != "/wall/":
            self.swap_main("/wall/")
        target = f"post-actions-{post_id}"
        reply = self.request("GET #post-actions /wall/posts/<id>/report", "GET", f"/wall/posts/{post_id}/report",
                             headers=self.htmx(target, self.path))
        if reply is None or reply.status != 200:
            if reply is not None:
                self.ledger.refuse("report form", reply)  # gone from the wall meanwhile
            return
        self.ledger.attempt("wall report")
        reply = self.request("POST /wall/posts/<id>/report", "POST", f"/wall/posts/{post_id}/report",
                             form={"csrf_token": form_token(reply.text), "reason": self.rng.choice(("spam", "other"))},
                             headers=self.htmx(target, self.path, self.token))
        if reply is None:
            return
        if reply.status == 200:
            self.ledger.ack("wall report", reports_acked=(post_id, f"kiosk:{self.kiosk_id}"))
        else:
            self.ledger.refuse("wall report", reply)

    def answer_survey(self) -> None:
        page = self.swap_main("/classes/survey")
        survey = page and SURVEY_ACTION.search(page)
        options = page and SURVEY_OPTION.findall(page)
        if not survey or not options:
            return
        self.ledger.attempt("survey answer")
        reply = self.request("POST /classes/survey/<id>", "POST", f"/classes/survey/{survey.group(1)}",
                             form={"csrf_token": form_token(page), "option": [self.rng.choice(options)]},
                             headers=self.htmx("survey-form", self.path, self.token))
        if reply is None:
            return
        if reply.status == 200 and "survey-options" not in reply.text:
            self.ledger.ack("survey answer")
        else:
            self.ledger.refuse("survey answer", reply)

    def look_up(self) -> None:
        if self.my_receipts and self.rng.random() < 0.5:
            code = self.rng.choice(self.my_receipts)
            self.swap_main("/wall/receipt")
            self.request("GET #receipt-result /wall/receipt", "GET", f"/wall/receipt?code={code}",
                         headers=self.htmx("receipt-result", self.path))
        elif self.my_signups:
            code = self.rng.choice(self.my_signups).code
            self.swap_main("/classes/my")
            self.request("GET #lookup-result /classes/my", "GET", f"/classes/my?code={code}",
                         headers=self.htmx("lookup-result", self.path))

    def switch_language(self) -> None:
        page = self.load(self.path)
        if not page:
            return
        locale = re.search(r'name="locale" value="([^"]+)"', page)
        if not locale:
            return
        self.request("POST /language", "POST", "/language",
                     form={"csrf_token": form_token(page), "next": self.path, "locale": locale.group(1)},
                     headers=self.htmx("", self.path, self.token))

    def idle_reset(self) -> None:
        """Nobody touched the screen: POST /reset forgets the session, a clean home page loads."""
        reply = self.request("POST /reset", "POST", "/reset", form={})
        if reply is not None and reply.status == 303:
            # A new session: the old page's token is no use. app.js waits for the server.
            for _attempt in range(20):
                if self.load("/") is not None or self.stopping.is_set():
                    break


class Staff(Actor):
    """A member of staff at the console, signed in with a password."""

    think = (0.4, 1.2)

    def __init__(self, *args, username: str, password: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.username = username
        self.password = password
        self.token: str | None = None
        self.path = "/staff/"
        self.nav: str | None = None
        self.signed_in_at = 0.0

    def page(self, path: str, kind: str | None = None, target: str | None = None) -> str | None:
        headers = self.htmx(target, self.path) if target else {}
        reply = self.request(kind or f"GET staff {_route(path)}", "GET", path, headers=headers)
        if reply is None or reply.status != 200:
            return None
        if not target:
            self.path = path
        token = page_token(reply.text)
        self.token = token or self.token
        nav = NAV_POLL.search(reply.text)
        self.nav = nav.group(1).replace("&amp;", "&") if nav else self.nav
        return reply.text

    def sign_in(self) -> bool:
        self.browser.cookies.clear()
        page = self.page("/staff/", "GET staff sign-in page")
        token = page and form_token(page)
        if not token:
            return False
        self.ledger.attempt("staff sign-in")
        reply = self.request("POST /staff/sign-in", "POST", "/staff/sign-in",
                             form={"csrf_token": token, "username": self.username, "password": self.password,
                                   "next": ""})
        if reply is None:
            return False
        if reply.status == 303:
            self.ledger.ack("staff sign-in")
            with self.ledger.lock:
                self.ledger.sign_ins[self.username] += 1
            self.signed_in_at = time.monotonic()
            return self.page("/staff/") is not None
        self.ledger.refuse("staff sign-in", reply)
        return False

    def sign_out(self) -> None:
        page = self.page("/staff/")
        token = page and form_token(page)
        if not token:
            return
        self.ledger.attempt("staff sign-out")
        reply = self.request("POST /staff/sign-out", "POST", "/staff/sign-out", form={"csrf_token": token})
        if reply is not None and reply.status == 303:
            self.ledger.ack("staff sign-out")
            with self.ledger.lock:
                self.ledger.sign_outs[self.username] += 1

    def start_up(self) -> None:
        while not self.sign_in() and not self.stopping.is_set():
            self.stopping.wait(1)

    def step(self) -> None:
        if self.nav and self.rng.random() < 0.3:
            self.request("GET poll /staff/nav", "GET", self.nav,
                         headers=self.htmx("console-nav", self.path, **{"X-Linli-Poll": "1"}))
        # Now and then a shift ends and the next one signs in (sessions survive restarts).
        if time.monotonic() - self.signed_in_at > 15 and self.rng.random() < 0.04:
            self.sign_out()
            self.start_up()
            return
        self.work()

    def work(self) -> None:
        raise NotImplementedError

    def act(self, kind: str, path: str, form: dict, target: str | None = None) -> Reply | None:
        headers = self.htmx(target, self.path, self.token) if target else {}
        return self.request(kind, "POST", path, form={"csrf_token": self.token, **form}, headers=headers)


class Moderator(Staff):
    """Works the wall's queue: approves, rejects, hides, replies to problems, sets their
    status, approves in bulk; writes a notice now and then. Each moderator takes the posts
    whose id leaves its remainder, so no two act on one post."""

    def __init__(self, *args, share: tuple[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.share = share
        self.last_notice = time.monotonic() - 15  # the first one soon
        self.settings_done = share[0] != 0

    def start_up(self) -> None:
        super().start_up()
        if not self.settings_done and not self.stopping.is_set():
            self.settings_done = True
            # Greetings go up at once (still reviewed afterwards): kiosks' polls see changes.
            page = self.page("/staff/wall/settings")
            self.ledger.attempt("publish-first setting")
            reply = page and self.act("POST /staff/wall/settings/kinds", "/staff/wall/settings/kinds",
                                      {"publish_first": ["greeting"]})
            if reply and reply.status == 200:
                self.ledger.ack("publish-first setting", publish_first="greeting")

    def work(self) -> None:
        roll = self.rng.random()
        if roll < 0.05:
            self.page("/staff/wall/problems")
            return
        if roll < 0.08 and time.monotonic() - self.last_notice > 20:
            self.write_notice()
            return
        target = "wall-queue" if self.path == "/staff/wall" else None
        queue = self.page("/staff/wall", "GET staff /staff/wall" + (" #wall-queue" if target else ""), target)
        if queue is None:
            return
        self.path = "/staff/wall"
        rows = self._rows(queue)
        mine = [row for row in rows if row[0] % self.share[1] == self.share[0]]
        if not mine:
            return
        if self.rng.random() < 0.15:
            self.approve_many([row for row in mine if "approve" in row[2]][:5])
            return
        for post_id, state, actions in self.rng.sample(mine, min(len(mine), 3)):
            self.moderate(post_id, state, actions)
            if self.stopping.is_set():
                return

    @staticmethod
    def _rows(queue: str) -> list[tuple[int, str, set[str]]]:
        starts = [(m.start(), int(m.group(2)), m.group(1)) for m in QUEUE_ROW.finditer(queue)]
        rows = []
        for index, (at, post_id, state) in enumerate(starts):
            block = queue[at:starts[index + 1][0] if index + 1 < len(starts) else len(queue)]
            rows.append((post_id, state, {action for pid, action in ROW_ACTION.findall(block) if int(pid) == post_id}))
        return rows

    def _change(self, kind: str, post_id: int, field: str, value: str, action: str, form: dict,
                bumps: bool) -> None:
        self.ledger.attempt(kind)
        reply = self.act(f"POST /staff/wall/<id>/{action}", f"/staff/wall/{post_id}/{action}", form,
                         f"row-{post_id}")
        acked = reply is not None and reply.status == 200
        with self.ledger.lock:
            self.ledger.staff_changes.append(StaffChange(post_id, field, value, action, acked))
            if acked:
                self.ledger.acked[kind] += 1
                self.ledger.wall_bumps += bumps
        if reply is not None and not acked:
            self.ledger.refuse(kind, reply)

    def moderate(self, post_id: int, state: str, actions: set[str]) -> None:
        roll = self.rng.random()
        if "status" in actions and roll < 0.3:
            self._change("moderation", post_id, "problem_status", status := self.rng.choice(PROBLEM_STATUSES),
                         "status", {"status": status}, True)
        elif "reply" in actions and roll < 0.5:
            reply = f"已转交物业处理 {_letters(next(_serial))}"
            self._change("moderation", post_id, "reply", reply, "reply", {"reply": reply}, True)
        elif "reject" in actions and roll < 0.7:
            self._change("moderation", post_id, "state", "rejected", "reject", {"reason": "与社区无关"}, True)
        elif "hide" in actions and roll < 0.75:
            self._change("moderation", post_id, "state", "hidden", "hide", {}, True)
        elif "approve" in actions:
            self._change("moderation", post_id, "state", "approved", "approve", {}, state != "approved")

    def approve_many(self, rows) -> None:
        if not rows:
            return
        ids = [post_id for post_id, _state, _actions in rows]
        self.ledger.attempt("moderation (bulk)")
        reply = self.act("POST /staff/wall/approve-many", "/staff/wall/approve-many?show=waiting",
                         {"post": [str(post_id) for post_id in ids]}, "wall-queue")
        acked = reply is not None and reply.status == 200
        with self.ledger.lock:
            for post_id, state, _actions in rows:
                self.ledger.staff_changes.append(StaffChange(post_id, "state", "approved", "approve", acked))
                self.ledger.wall_bumps += acked and state != "approved"
            if acked:
                self.ledger.acked["moderation (bulk)"] += 1

    def write_notice(self) -> None:
        self.last_notice = time.monotonic()
        page = self.page("/staff/notices/new")
        starts = page and STARTS_AT.search(page)
        if not starts:
            return
        starts_at = starts.group(1) or starts.group(2)
        urgent = self.rng.random() < 0.5
        ends_at = (datetime.fromisoformat(starts_at) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        title = f"{'停水通知' if urgent else '活动通知'} soak {_letters(next(_serial))}"
        self.ledger.attempt("notice")
        reply = self.act("POST /staff/notices", "/staff/notices",
                         {"title": title, "body": "压力测试写的通知。", "title_en": "", "body_en": "",
                          "urgency": "urgent" if urgent else "normal", "starts_at": starts_at,
                          "ends_at": ends_at})
        if reply is not None and reply.status == 303:
            self.ledger.ack("notice", notices=title)
        elif reply is not None:
            self.ledger.refuse("notice", reply)


class Coordinator(Staff):
    """The classes coordinator: opens rosters (audited), signs people up at the desk,
    cancels a sign-up now and then, exports a roster."""

    def __init__(self, *args, ids: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.course_ids = list(ids["course"])

    def work(self) -> None:
        if self.rng.random() < 0.1:
            self.page("/staff/classes")
            return
        course_id = self.rng.choice(self.course_ids)
        roster = self.page(f"/staff/classes/{course_id}", "GET staff /staff/classes/<id>")
        if roster is None:
            return
        roll = self.rng.random()
        if roll < 0.4:
            name, mobile = unique_resident()
            self.ledger.attempt("assisted sign-up")
            reply = self.act("POST /staff/classes/<id>/signups", f"/staff/classes/{course_id}/signups",
                             {"csrf_token": form_token(roster), "name": name, "mobile": mobile})
            if reply is not None and reply.status == 303:
                self.ledger.ack("assisted sign-up", assisted=(course_id, mobile))
            elif reply is not None:
                self.ledger.refuse("assisted sign-up", reply)
        elif roll < 0.6:
            signups = STAFF_CANCEL.findall(roster)
            if not signups:
                return
            signup_id = int(self.rng.choice(signups))
            self.ledger.attempt("staff cancel")
            with self.ledger.lock:
                self.ledger.staff_cancels_tried.add(signup_id)
            reply = self.act("POST /staff/classes/signups/<id>/cancel", f"/staff/classes/signups/{signup_id}/cancel",
                             {"reason": "居民来电取消"})
            if reply is not None and reply.status == 303:
                self.ledger.ack("staff cancel", staff_cancels_acked=signup_id)
            elif reply is not None:
                self.ledger.refuse("staff cancel", reply)
        elif roll < 0.65:
            self.request("GET staff roster.csv", "GET", f"/staff/classes/{course_id}/roster.csv")


def _route(url: str) -> str:
    """A URL as a kind of request: ids and query values left out."""
    path = re.sub(r"/\d+(?=/|$)", "/<id>", path_of(url))
    return path


def _target_kind(target: str) -> str:
    return re.sub(r"-\d+$", "", target)
