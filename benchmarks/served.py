"""linli as a lobby sees it: served by gunicorn with the project's own settings, on
generated data, compared in the same run with a bare Flask app served the same way.

One run:
  1. builds two instance folders (`flask init --no-demo`, then `flask seed`: 10,000 and
     100,000 posts, 40 courses, 300 experts, 100 friends cards) and enrolls a kiosk in each;
  2. serves each with `gunicorn --config python:app.gunicorn_conf wsgi:app` and
     benchmarks/hello_app.py with the same config (same workers, threads, worker class);
  3. throughput (wrk, keep-alive connections = workers x threads) of each kiosk read
     page, its htmx fragment and the unchanged 204 polls, as a ratio to "hello"; then of
     the pages and fragments again, served from the same database with the page cache off
     (PAGE_CACHE = False in a second instance folder): what a render costs;
  4. /wall/ latency (page and #wall-list fragment), p50 and p99, at 10k and at 100k posts,
     rendered (page cache off);
  5. tap -> content painted in Debian's Chromium at 4x CPU throttling, against a minimal
     htmx page swapping a tiny fragment;
  6. first-load bytes of each kiosk page as Chromium receives them, and its JavaScript gzipped;
  7. the RSS of each gunicorn worker after all of the above.
It prints one table. It asserts no target (machines are noisy) but stops with an error on
any unexpected status, socket error or server traceback.

CPUs: on a machine with two or more, every server runs on the last CPU and wrk on the
first, so the load generator never takes CPU from the server it measures, and "hello" and
linli get the same single core. Chromium is not pinned: a kiosk is a machine of its own,
and on one core its browser, renderer and GPU processes queue behind each other (the
minimal page's tap takes twice as long); the servers do little while it taps.

Run: .venv/bin/python benchmarks/served.py [--seconds 4] [--taps 15] [--large-posts 100000]
"""

import argparse
import gzip
import html
import http.client
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The figures are for the project's defaults: no worker/thread override, no access log.
for _name in ("LINLI_WORKERS", "LINLI_THREADS", "LINLI_ACCESS_LOG", "LINLI_BIND", "LINLI_INSTANCE", "SECRET_KEY"):
    os.environ.pop(_name, None)

from app import gunicorn_conf
from app.kiosk.devices import DEVICE_COOKIE
from app.households.services import PHONE_COOKIE
from benchmarks.common import community_path, rss_mb, stop_gracefully, worker_pids

SMALL_POSTS = 10_000
OTHER_CONTENT = ["--courses", "40", "--experts", "300", "--cards", "100"]
CHINESE_BROWSER = "zh-CN,zh;q=0.9"
START_TIMEOUT_S = 30
LATENCY_CONNECTIONS = 2
THROTTLE = 4
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-gpu"]
KIOSK_PAGES = ("/", "/wall/", "/classes/", "/experts/", "/friends/", "/notices/")
# Targets, as issue 9 sets them; issue 18 raised the unchanged polls' to 0.9 of hello.
PAGE_RATIO, POLL_RATIO, SCALE_RATIO = 0.5, 0.9, 1.2
PAINT_MS, PAINT_RATIO = 100, 1.5
PAGE_BYTES, JS_GZIP_BYTES, WORKER_MB = 80 * 1024, 20 * 1024, 80


class BenchError(RuntimeError):
    """Something answered what a kiosk would not expect: the figures would be wrong."""


# --- CPUs ---------------------------------------------------------------------------------

def choose_cpus() -> tuple[int | None, int | None]:
    """(server CPU, load-generator CPU), or (None, None) on a single CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[-1], cpus[0]) if len(cpus) >= 2 else (None, None)


SERVER_CPU, LOAD_CPU = choose_cpus()


def pinned_to(cpu: int | None):
    """A preexec_fn that keeps a child (and its children) on one CPU."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


# --- instances and servers ----------------------------------------------------------------

def _flask(instance: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, LINLI_INSTANCE=str(instance))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen, what: str) -> str:
    output, _ = process.communicate(timeout=300)
    if process.returncode != 0:
        raise BenchError(f"{what} exited {process.returncode}:\n{output}")
    return output


def build_instances(base: Path, sizes: tuple[int, ...]) -> dict[int, Path]:
    """`flask init --no-demo` then `flask seed` in a new instance folder per size, side by side."""
    instances = {size: base / f"posts-{size}" for size in sizes}
    for instance in instances.values():
        instance.mkdir()
    for instance in instances.values():
        _finish(_flask(instance, "init", "--no-demo"), f"flask init ({instance})")
    seeding = {size: _flask(instance, "seed", "--posts", str(size), *OTHER_CONTENT)
               for size, instance in instances.items()}
    for size, process in seeding.items():
        said = _finish(process, f"flask seed --posts {size}").strip().splitlines()
        print(f"  {instances[size].name}: {said[-1] if said else ''}")
    return instances


def rendering_twin(instance: Path) -> Path:
    """A second instance folder on the same database and secret key with the page cache off:
    what pages cost when they are rendered (the "rendered" rows and the /wall/ latency)."""
    twin = instance.with_name(f"{instance.name}-rendered")
    twin.mkdir()
    (twin / "secret_key").write_text((instance / "secret_key").read_text())
    (twin / "config.py").write_text(f"PAGE_CACHE = False\nSQLALCHEMY_DATABASE_URI = "
                                    f"{'sqlite:///' + str(instance / 'linli.db')!r}\n")
    return twin


def enroll(instance: Path) -> str:
    """A kiosk enrolled in this instance, as staff would; its device token."""
    from app import create_app
    from app.extensions import db
    from benchmarks.common import device_token

    app = create_app(instance_path=str(instance))
    token = device_token(app, "bench")
    with app.app_context():
        db.engine.dispose()
    return token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    spec: str
    log: Path
    instance: Path | None = None
    cpu: int | None = None
    host: str = "127.0.0.1"
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "Server":
        env = dict(os.environ, LINLI_BIND=f"{self.host}:{self.port}", PYTHONUNBUFFERED="1")
        if self.instance:
            env["LINLI_INSTANCE"] = str(self.instance)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:app.gunicorn_conf", self.spec],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pinned_to(self.cpu))
        deadline = time.monotonic() + START_TIMEOUT_S
        probe = "/healthz" if self.instance else "/"
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"gunicorn ({self.name}) did not start on {self.url}:\n{self.log_text()}")
            try:
                if get(self, probe)[0] == 200 and len(self.workers()) >= gunicorn_conf.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_gracefully(process, 15)

    def workers(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        return worker_pids(self.process.pid if self.process else None)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the workers so far."""
        ticks = 0
        for pid in self.workers():
            try:
                after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(after_name[11]) + int(after_name[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> list[float]:
        return rss_mb(self.workers())

    def pss_mb(self) -> list[float]:
        """Proportional set size: pages shared with the master and the other worker count
        in part, as they cost the machine."""
        sizes = []
        for pid in self.workers():
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            sizes.append(int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1)) / 1024)
        return sizes

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def get(server: Server, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One GET; a linli server's kiosk paths are its first community's (/wall/ is /c/main/wall/)."""
    path = community_path(path) if server.instance else path
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# --- what a kiosk sends -------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One request a kiosk makes, and what it must get back."""
    label: str
    path: str
    kind: str  # "page", "fragment" or "poll"
    region: str | None = None  # the HX-Target a fragment request names
    status: int = 200
    phone: str | None = None  # a bound phone's cookies: asked as that phone, in WeChat's browser

    def headers(self, cookie: str) -> dict:
        headers = {"Cookie": self.phone or cookie, "Accept-Language": CHINESE_BROWSER}
        if self.phone:
            headers["User-Agent"] = WECHAT
        if self.kind != "page":
            headers["HX-Request"] = "true"
        if self.region:
            headers["HX-Target"] = self.region
        return headers


WECHAT = ("Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47")


def bind_phone(instance: Path) -> tuple[str, int]:
    """A phone bound to a new household of the first community, and a published course's id."""
    from sqlalchemy import select

    from app import create_app
    from app.classes.models import Course
    from app.communities import routing, scope
    from app.extensions import db
    from app.households import services as households
    from app.households.models import Household

    app = create_app(instance_path=str(instance))
    with app.app_context(), scope.within(routing.default_community_id()):
        card = households.issue("1号楼", "1单元")[0]
        token = households._bind(db.session.get(Household, card.household.id), "code")
        course_id = db.session.scalar(select(Course.id).where(Course.status.in_(("open", "full")))
                                      .order_by(Course.id).limit(1))
        db.session.remove()
        db.engine.dispose()
    return token, course_id


def phone_cookie(server: Server, token: str) -> str:
    """The cookies a bound phone sends once it has opened a page: its token and its session."""
    status, headers, _ = get(server, "/", {"Cookie": f"{PHONE_COOKIE}={token}", "User-Agent": WECHAT})
    session = re.search(r"(?:^|,\s*)session=([^;]+)", headers.get("Set-Cookie", ""))
    if status != 200 or not session:
        raise BenchError(f"{server.name}: / answered {status} to a bound phone")
    return f"{PHONE_COOKIE}={token}; session={session.group(1)}"


def kiosk_cookie(server: Server, token: str) -> str:
    """The cookies an enrolled kiosk sends once it has loaded a page: its device token and
    the session its CSRF token lives in."""
    status, headers, _ = get(server, "/", {"Cookie": f"{DEVICE_COOKIE}={token}", "Accept-Language": CHINESE_BROWSER})
    if status != 200:
        raise BenchError(f"{server.name}: / answered {status} to an enrolled kiosk\n{server.log_text()[-3000:]}")
    session = re.search(r"(?:^|,\s*)session=([^;]+)", headers.get("Set-Cookie", ""))
    cookie = f"{DEVICE_COOKIE}={token}"
    return f"{cookie}; session={session.group(1)}" if session else cookie


def poll_url(server: Server, cookie: str, page: str, pattern: str) -> str:
    """The poll URL a page carries in its hx-get (with the current version in it)."""
    status, _, body = get(server, page, {"Cookie": cookie, "Accept-Language": CHINESE_BROWSER})
    found = re.search(rf'hx-get="({community_path(pattern)}[^"]*)"', body.decode())
    if status != 200 or not found:
        raise BenchError(f"{server.name}: no {pattern} poll in {page} ({status})\n{server.log_text()[-3000:]}")
    return html.unescape(found.group(1))


def read_targets(server: Server, cookie: str, phone: str, course_id: int) -> list[Target]:
    return [
        Target("phone: course page", f"/classes/{course_id}", "page", phone=phone),
        Target("phone: /classes/ page", "/classes/", "page", phone=phone),
        Target(f"/classes/{course_id} page", f"/classes/{course_id}", "page"),
        Target(f"/classes/{course_id} #seats", f"/classes/{course_id}", "fragment", "seats"),
        Target("/wall/ page", "/wall/", "page"),
        Target("/wall/ #wall-list", "/wall/", "fragment", "wall-list"),
        Target("/classes/ page", "/classes/", "page"),
        Target("/classes/ #week", "/classes/", "fragment", "week"),
        Target("/experts/ page", "/experts/", "page"),
        Target("/experts/?q=s #expert-list", "/experts/?q=s", "fragment", "expert-list"),
        Target("/friends/ page", "/friends/", "page"),
        Target("/friends/ #card-list", "/friends/", "fragment", "card-list"),
        Target("wall poll, unchanged", poll_url(server, cookie, "/wall/", "/wall/live"), "poll", "wall-list", 204),
        Target("urgent poll, unchanged", poll_url(server, cookie, "/", "/notices/urgent"), "poll", "urgent", 204),
    ]


def check(server: Server, target: Target, cookie: str) -> None:
    """One request, answered as a kiosk expects (status, page or fragment), or BenchError."""
    status, _, body = get(server, target.path, target.headers(cookie))
    text = body.decode(errors="replace")
    problem = None
    if status != target.status:
        problem = f"status {status}, expected {target.status}"
    elif target.kind == "page" and "<html" not in text:
        problem = "not a full page"
    elif target.kind == "fragment" and ("<html" in text or f'id="{target.region}"' not in text):
        problem = f"not the #{target.region} fragment"
    if problem:
        raise BenchError(f"{server.name}: GET {target.path} ({target.label}): {problem}\n{text[:500]}\n"
                         f"server log:\n{server.log_text()[-3000:]}")


def warm_up(server: Server, cookie: str, targets: list[Target]) -> None:
    """Every kiosk page and fragment, a few times on several connections: both workers
    have compiled every template and opened their database connections."""
    every = [Target(path, path, "page") for path in KIOSK_PAGES + ("/classes/all",)] + targets
    for target in every:
        check(server, target, cookie)
    with ThreadPoolExecutor(gunicorn_conf.workers * gunicorn_conf.threads) as pool:
        list(pool.map(lambda target: check(server, target, cookie), every * 12))


def no_tracebacks(server: Server) -> None:
    log = server.log_text()
    if "Traceback" in log or "Error handling request" in log:
        raise BenchError(f"{server.name} logged an error:\n{log[-3000:]}")


# --- wrk ----------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.headers = {headers}
expected = {status}
unexpected = 0
first_unexpected = 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if first_unexpected == 0 then first_unexpected = status end
  end
end
function done(summary, latency, requests)
  local bad, first = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    if thread:get("first_unexpected") ~= 0 then first = thread:get("first_unexpected") end
  end
  local histogram = {{}}
  for i = 1, #latency do  -- #latency: how many distinct latencies (µs) were seen
    local value, count = latency(i)
    histogram[i] = string.format("[%d,%d]", value, count)
  end
  local errors = summary.errors
  io.write(string.format('WRK-RESULT {{"requests": %d, "duration_us": %d, "unexpected": %d, "first_unexpected": %d, '
    .. '"socket_errors": %d, "histogram": [%s]}}\\n', summary.requests, summary.duration, bad, first,
    errors.connect + errors.read + errors.write + errors.timeout, table.concat(histogram, ",")))
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Load:
    requests: int
    seconds: float
    histogram: list  # [latency µs, count]
    server_cpu_s: float
    wrk_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / self.requests

    @property
    def wrk_busy(self) -> float:
        return self.wrk_cpu_s / self.seconds


def wrk(server: Server, path: str, headers: dict, status: int, seconds: int, connections: int,
        scratch: Path) -> Load:
    """`seconds` of GETs of `path` on `connections` keep-alive connections; every answer
    must have `status`."""
    path = community_path(path) if server.instance else path
    lua = "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
    script = scratch / "request.lua"
    script.write_text(WRK_SCRIPT.format(headers=lua, status=status))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
               server.url + path]
    cpu_before, children_before = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          preexec_fn=pinned_to(LOAD_CPU))
    cpu_after, children_after = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"^WRK-RESULT (.*)$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        raise BenchError(f"wrk failed on {path}:\n{done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    if result["unexpected"] or result["socket_errors"] or not result["requests"]:
        raise BenchError(f"{server.name}: GET {path} under load: {result['unexpected']} answers were not {status} "
                         f"(first: {result['first_unexpected']}), {result['socket_errors']} socket errors, "
                         f"{result['requests']} requests\nserver log:\n{server.log_text()[-3000:]}")
    wrk_cpu = sum(getattr(children_after, name) - getattr(children_before, name) for name in ("ru_utime", "ru_stime"))
    return Load(result["requests"], result["duration_us"] / 1e6, result["histogram"], cpu_after - cpu_before, wrk_cpu)


def percentile_ms(histograms: list[list], fraction: float) -> float:
    """The latency below which `fraction` of the requests of these runs finished."""
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram:
            merged[value] = merged.get(value, 0) + count
    total, seen = sum(merged.values()), 0
    for value in sorted(merged):
        seen += merged[value]
        if seen >= fraction * total:
            return value / 1000
    raise ValueError("no requests")


# --- Chromium -----------------------------------------------------------------------------

# Runs in the page. Starts the clock, taps (element.click(): the click htmx listens for),
# and waits until the element `watch` names is a new one (the swap has put it in), then for
# the second animation frame after htmx:afterSwap: the first frame after the swap has been
# painted by then. The same after htmx:afterSettle (htmx settles 20 ms after the swap).
MEASURE_TAP = """
async ([tap, watch]) => {
  const before = document.querySelector(watch);
  const fresh = () => { const now = document.querySelector(watch); return !!now && now !== before; };
  const twoFrames = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const stop = new AbortController();
  const when = (type) => new Promise((done) => document.addEventListener(type, () => {
    if (fresh()) done(performance.now());
  }, { signal: stop.signal }));
  const answered = new Promise((done) => document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target && event.detail.target.matches(watch)) done(performance.now());
  }, { signal: stop.signal }));
  const swapped = when("htmx:afterSwap"), settled = when("htmx:afterSettle");
  const painted = swapped.then(twoFrames).then(() => performance.now());
  const settledPainted = settled.then(twoFrames).then(() => performance.now());
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error("no new " + watch + " within 10 s of the tap")), 10000);
  });
  const start = performance.now();
  document.querySelector(tap).click();
  try {
    const times = await Promise.race([Promise.all([answered, swapped, painted, settled, settledPainted]), timeout]);
    return times.map((t) => t - start);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}
"""


@dataclass(frozen=True)
class Tap:
    label: str
    page: str            # where the tap happens
    tap: str             # the element tapped
    watch: str           # the element the swap replaces
    undo: tuple | None = None  # (tap, watch): a tap, not timed, that brings the page back
    delay: bool = False  # the tapped element's hx-trigger waits before it asks


def measure_taps(browser, taps: list[tuple[Tap, Server, str | None]], rounds: int, per_round: int) -> dict:
    """For each Tap: [answered, swapped, painted, settled, settled-painted] ms after the tap,
    per timed tap (answered: htmx has the response, before it swaps). Rounds go
    through every Tap in turn, so all see the same machine."""
    results = {tap.label: [] for tap, _, _ in taps}
    for _ in range(rounds):
        for tap, server, token in taps:
            context = _kiosk_context(browser, server, token)
            try:
                page = context.new_page()
                page.goto(community_path(tap.page) if server.instance else tap.page, wait_until="load")
                page.wait_for_load_state("networkidle")
                cdp = context.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                for number in range(per_round + 1):  # the first one warms up
                    times = page.evaluate(MEASURE_TAP, [tap.tap, tap.watch])
                    if number:
                        results[tap.label].append(times)
                    if tap.undo:
                        page.evaluate(MEASURE_TAP, list(tap.undo))
                    page.wait_for_timeout(50)
                _expect_no_errors(page, server)
            finally:
                context.close()
    return results


def _kiosk_context(browser, server: Server, token: str | None):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, has_touch=True, locale="zh-CN",
                                  base_url=server.url, service_workers="block")
    context.set_default_timeout(15_000)
    if token:
        context.add_cookies([{"name": DEVICE_COOKIE, "value": token, "url": server.url, "httpOnly": True,
                              "sameSite": "Strict"}])
    return context


def _expect_no_errors(page, server: Server) -> None:
    if page.locator("#connection-lost:not([hidden])").count():
        raise BenchError(f"{server.name}: the kiosk page shows 'connection lost'")


def _first_load(context, server: Server, path: str, *, fits: bool = False) -> list:
    """The responses of one page's first load in a fresh browser context (then closed);
    `fits`: the page must not scroll sideways (a phone's)."""
    try:
        page = context.new_page()
        responses = []
        page.on("response", lambda response: responses.append(response))
        page.goto(community_path(path), wait_until="load")
        page.wait_for_load_state("networkidle")
        for response in responses:
            if response.status not in (200, 204):
                raise BenchError(f"{server.name}: first load of {path}: {response.status} for {response.url}")
        if fits and page.evaluate("document.documentElement.scrollWidth") > page.viewport_size["width"]:
            raise BenchError(f"{server.name}: {path} is wider than the screen")
        return [(response, response.body() if response.status == 200 else b"") for response in responses]
    finally:
        context.close()


def first_loads(browser, server: Server, token: str) -> dict[str, dict]:
    """Per kiosk page, as a fresh enrolled screen receives it: bytes of every response body
    (total), of the HTML, of the JavaScript gzipped, and how many responses."""
    loads = {}
    for path in KIOSK_PAGES:
        responses = _first_load(_kiosk_context(browser, server, token), server, path)
        load = {"total": 0, "html": 0, "js_gzip": 0, "responses": len(responses)}
        for response, body in responses:
            load["total"] += len(body)
            if response.request.resource_type == "document":
                load["html"] += len(body)
            if response.request.resource_type == "script":
                load["js_gzip"] += len(gzip.compress(body))
        loads[path] = load
    return loads


# --- the report ---------------------------------------------------------------------------

class Table:
    def __init__(self):
        self.rows = []

    def add(self, what: str, figure: str, target: str = "—", met: bool | None = None, detail: str = "") -> None:
        self.rows.append((what, figure, target, "—" if met is None else ("yes" if met else "NO"), detail))

    def section(self, title: str) -> None:
        self.rows.append((title,))

    def print(self) -> None:
        rows = [row for row in self.rows if len(row) > 1]
        widths = [max(len(row[column]) for row in rows + [("what", "figure", "target", "met?", "")])
                  for column in range(4)]
        header = ("what", "figure", "target", "met?", "detail")
        print("  ".join(cell.ljust(width) for cell, width in zip(header, widths + [0])).rstrip())
        print("  ".join("-" * width for width in widths + [30]))
        for row in self.rows:
            if len(row) == 1:
                print(row[0])
                continue
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths + [0])).rstrip())


def _ratio(figure: float, target: float, at_least: bool) -> tuple[str, str, bool]:
    met = figure >= target if at_least else figure <= target
    return f"{figure:.2f}", f"{'≥' if at_least else '≤'} {target:g}", met


def throughput(table: Table, hello: Server, server: Server, cookie: str, targets: list[Target], seconds: int,
               connections: int, scratch: Path, what: str = "") -> float:
    """Rows for each target's req/s as a ratio to hello's; hello runs before, between and
    after, so drift shows and is shared. The polls, whose figures sit near their target,
    run three times (after the pages, between hello's runs) and count their median, as
    hello's does. The busiest the load generator was (share of a CPU)."""
    hello_runs, loads = [], {target.label: [] for target in targets}
    polls = [target for target in targets if target.kind == "poll"]

    def load(target: Target) -> None:
        loads[target.label].append(wrk(server, target.path, target.headers(cookie), target.status, seconds,
                                       connections, scratch))

    for number, target in enumerate(targets):
        if number in (0, len(targets) // 2):
            hello_runs.append(wrk(hello, "/", {}, 200, seconds, connections, scratch))
        load(target)
    for target in polls:
        load(target)
    hello_runs.append(wrk(hello, "/", {}, 200, seconds, connections, scratch))
    for target in polls:
        load(target)
    hello_rps = statistics.median(run.rps for run in hello_runs)
    hello_cpu = statistics.median(run.cpu_ms_per_request for run in hello_runs)
    table.section(f"Throughput at {SMALL_POSTS:,} posts{what}, as a ratio to a bare Flask 'hello' served by the "
                  f"same gunicorn settings (wrk, {connections} keep-alive connections, {seconds} s each)")
    table.add("hello, req/s (median of 3 runs)", f"{hello_rps:,.0f}", detail=(
        "runs " + " / ".join(f"{run.rps:,.0f}" for run in hello_runs) + f"; {hello_cpu:.2f} ms worker CPU/request"))
    for target in targets:
        runs = loads[target.label]
        rps = statistics.median(run.rps for run in runs)
        cpu = statistics.median(run.cpu_ms_per_request for run in runs)
        figure, goal, met = _ratio(rps / hello_rps, POLL_RATIO if target.kind == "poll" else PAGE_RATIO,
                                   at_least=True)
        each = ""
        if len(runs) > 1:
            each = f" (median of {len(runs)}: " + " / ".join(f"{run.rps:,.0f}" for run in runs) + ")"
        table.add(target.label, figure, goal, met, f"{rps:,.0f} req/s{each}; {cpu:.2f} ms worker "
                                                   f"CPU/request (CPU ratio {hello_cpu / cpu:.2f})")
    return max(run.wrk_busy for runs in [hello_runs, *loads.values()] for run in runs)


def latency(table: Table, servers: dict[int, Server], cookies: dict[int, str], wall: dict[str, Target], seconds: int,
            scratch: Path) -> None:
    """/wall/ p50 and p99 at each size; two rounds, alternating sizes so both see the same machine."""
    sizes = sorted(servers)
    histograms = {(size, kind): [] for size in sizes for kind in wall}
    for _ in range(2):
        for kind, target in wall.items():
            for size in sizes:
                load = wrk(servers[size], target.path, target.headers(cookies[size]), 200, seconds,
                           LATENCY_CONNECTIONS, scratch)
                histograms[size, kind].append(load.histogram)
    table.section(f"/wall/ latency, {LATENCY_CONNECTIONS} keep-alive connections (wrk, 2 x {seconds} s per figure, "
                  "sizes alternating)")
    small, large = sizes
    for kind in wall:
        figures = {size: (percentile_ms(histograms[size, kind], 0.5), percentile_ms(histograms[size, kind], 0.99))
                   for size in sizes}
        for size in sizes:
            table.add(f"/wall/ {kind} at {size:,} posts, p50 / p99",
                      f"{figures[size][0]:.2f} / {figures[size][1]:.2f} ms")
        for index, name in ((0, "p50"), (1, "p99")):
            figure, goal, met = _ratio(figures[large][index] / figures[small][index], SCALE_RATIO, at_least=False)
            table.add(f"/wall/ {kind} {name}, {large:,} / {small:,} posts", figure, goal, met)


def tap_rows(table: Table, painted: dict, baseline: Tap, taps: list[Tap]) -> None:
    def median(label: str, index: int) -> float:
        return statistics.median(times[index] for times in painted[label])

    base, base_settled = median(baseline.label, 2), median(baseline.label, 4)
    table.section(f"Tap → content painted, Chromium at {THROTTLE}x CPU throttling (CDP), median of "
                  f"{len(painted[baseline.label])} taps: from element.click() to the 2nd animation frame after "
                  "htmx:afterSwap")
    table.add(baseline.label, f"{base:.0f} ms", detail=f"response {median(baseline.label, 0):.0f}, swapped "
              f"{median(baseline.label, 1):.0f}; 2 frames after afterSettle {base_settled:.0f} ms")
    for tap in taps:
        painted_ms, settled = median(tap.label, 2), median(tap.label, 4)
        table.add(tap.label, f"{painted_ms:.0f} ms", f"≤ {PAINT_MS} ms", painted_ms <= PAINT_MS,
                  f"response {median(tap.label, 0):.0f}, swapped {median(tap.label, 1):.0f}; 2 frames after "
                  f"afterSettle {settled:.0f} ms" + ("; the search waits 40 ms for more input" if tap.delay else ""))
        figure, goal, met = _ratio(painted_ms / base, PAINT_RATIO, at_least=False)
        table.add("  ratio to the minimal htmx page", figure, goal, met,
                  f"after afterSettle: {settled / base_settled:.2f}")


def first_load_rows(table: Table, loads: dict) -> None:
    table.section(f"First load, as a fresh enrolled kiosk's Chromium receives it ({SMALL_POSTS:,} posts; every "
                  "response body)")
    for path, load in loads.items():
        table.add(f"{path}, bytes", f"{load['total']:,} B", f"≤ {PAGE_BYTES // 1024} KB", load["total"] <= PAGE_BYTES,
                  f"HTML {load['html']:,} B; {load['responses']} responses")
    js = max(load["js_gzip"] for load in loads.values())
    table.add("its JavaScript, gzipped (largest of the pages)", f"{js:,} B", f"≤ {JS_GZIP_BYTES // 1024} KB",
              js <= JS_GZIP_BYTES)


PHONE_GZIP_BYTES = 50 * 1024


def phone_first_loads(browser, server: Server, phone: tuple[str, int]) -> dict[str, dict]:
    """Per phone page, as a bound phone's browser (360 px wide, WeChat's) receives it the first
    time: every response body gzipped, as a phone network carries it."""
    token, course_id = phone
    loads = {}
    for path in ("/", "/classes/", f"/classes/{course_id}", "/wall/", "/experts/", "/friends/", "/notices/"):
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                      locale="zh-CN", base_url=server.url, user_agent=WECHAT,
                                      service_workers="block")
        context.add_cookies([{"name": PHONE_COOKIE, "value": token, "url": server.url, "httpOnly": True,
                              "sameSite": "Lax"}])
        responses = _first_load(context, server, path, fits=True)
        loads[path] = {"gzip": sum(len(gzip.compress(body)) for _, body in responses), "responses": len(responses)}
    return loads


def phone_first_load_rows(table: Table, loads: dict) -> None:
    table.section("First load on a bound phone, 360 px wide, WeChat's browser (every response body gzipped)")
    for path, load in loads.items():
        table.add(f"{path}, gzipped", f"{load['gzip']:,} B", f"≤ {PHONE_GZIP_BYTES // 1024} KB",
                  load["gzip"] <= PHONE_GZIP_BYTES, f"{load['responses']} responses; no sideways scrolling")


def memory_rows(table: Table, servers: dict[int, Server], hello: Server) -> None:
    table.section("Worker memory after the warm-up (every kiosk page), the load runs and the taps")
    for size, server in servers.items():
        rss, pss = server.rss_mb(), server.pss_mb()
        table.add(f"linli {size:,} posts, largest worker RSS", f"{max(rss):.1f} MB", f"≤ {WORKER_MB} MB",
                  max(rss) <= WORKER_MB, "workers RSS " + " / ".join(f"{mb:.1f}" for mb in rss) + ", PSS "
                  + " / ".join(f"{mb:.1f}" for mb in pss) + " MB")
    table.add("hello, largest worker RSS", f"{max(hello.rss_mb()):.1f} MB",
              detail="imports app/ too: the gunicorn config is a module of the app package")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4, help="length of each throughput run")
    parser.add_argument("--latency-seconds", type=int, default=3, help="length of each latency run (2 rounds)")
    parser.add_argument("--taps", type=int, default=15, help="timed taps per tap figure")
    parser.add_argument("--large-posts", type=int, default=100_000)
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("benchmarks/served.py needs wrk: apt-get install wrk (make bench installs it as root)")
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("benchmarks/served.py needs Debian's Chromium: apt-get install chromium (or make chromium)")
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" [")[0]
    workers, threads = gunicorn_conf.workers, gunicorn_conf.threads
    connections = workers * threads
    started = time.monotonic()
    sizes = (SMALL_POSTS, options.large_posts)
    table = Table()

    def progress(what: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {what}", flush=True)

    with tempfile.TemporaryDirectory(prefix="linli-served-") as tmp:
        base = Path(tmp)
        progress(f"instances: flask init --no-demo; flask seed --posts N {' '.join(OTHER_CONTENT)}")
        instances = build_instances(base, sizes)
        tokens = {size: enroll(instance) for size, instance in instances.items()}
        phones = {size: bind_phone(instance) for size, instance in instances.items()}
        servers = {size: Server(f"linli {size:,} posts", "wsgi:app", base / f"gunicorn-{size}.log",
                                instance=instances[size], cpu=SERVER_CPU) for size in sizes}
        rendering = {size: Server(f"linli {size:,} posts, page cache off", "wsgi:app",
                                  base / f"gunicorn-{size}-rendered.log", instance=rendering_twin(instances[size]),
                                  cpu=SERVER_CPU) for size in sizes}
        hello = Server("hello", "benchmarks.hello_app:app", base / "gunicorn-hello.log", cpu=SERVER_CPU)
        every = (*servers.values(), *rendering.values(), hello)
        try:
            for server in every:
                server.start()
            if get(hello, "/")[2] != b"hello":
                raise BenchError(f"the hello app did not say hello:\n{hello.log_text()[-3000:]}")
            small = servers[SMALL_POSTS]
            cookies = {size: kiosk_cookie(servers[size], tokens[size]) for size in sizes}
            phone_cookies = {size: phone_cookie(servers[size], phones[size][0]) for size in sizes}
            targets = read_targets(small, cookies[SMALL_POSTS], phone_cookies[SMALL_POSTS], phones[SMALL_POSTS][1])
            for size in sizes:
                warm_up(servers[size], cookies[size],
                        read_targets(servers[size], cookies[size], phone_cookies[size], phones[size][1]))
            rendered_cookies = {size: kiosk_cookie(rendering[size], tokens[size]) for size in sizes}
            for size in sizes:
                warm_up(rendering[size], rendered_cookies[size], [target for target in read_targets(
                    rendering[size], rendered_cookies[size], phone_cookies[size], phones[size][1])
                    if target.kind != "poll"])
            progress(f"served by gunicorn {gunicorn_conf.worker_class}, {workers} workers x {threads} threads "
                     f"(app.gunicorn_conf) on CPU {SERVER_CPU}; {wrk_version} on CPU {LOAD_CPU}")

            progress(f"throughput, {len(targets) + 3 + 2 * sum(t.kind == 'poll' for t in targets)} runs of "
                     f"{options.seconds} s")
            busiest_wrk = throughput(table, hello, small, cookies[SMALL_POSTS], targets, options.seconds, connections,
                                     base, ", pages kept as rendered")
            progress(f"throughput with the page cache off, {sum(t.kind != 'poll' for t in targets) + 2} runs of "
                     f"{options.seconds} s")
            busiest_wrk = max(busiest_wrk, throughput(
                table, hello, rendering[SMALL_POSTS], rendered_cookies[SMALL_POSTS],
                [target for target in targets if target.kind != "poll"], options.seconds, connections, base,
                ", every page rendered (page cache off)"))
            progress(f"latency, 8 runs of {options.latency_seconds} s")
            wall = {kind: next(target for target in targets if target.label == label)
                    for kind, label in (("page", "/wall/ page"), ("fragment", "/wall/ #wall-list"))}
            latency(table, rendering, rendered_cookies, wall, options.latency_seconds, base)

            progress(f"Chromium: taps at {THROTTLE}x CPU throttling, then first loads")
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
                token = tokens[SMALL_POSTS]
                baseline = Tap("minimal htmx page, tiny fragment", "/htmx", "#tap", "#tiny")
                taps = [
                    Tap("home: wall tile → wall page (#main)", "/", "#tile-wall", "#main",
                        undo=(".kiosk-bar a.brand", "#main")),
                    Tap("wall: kind chip → #wall-list", "/wall/", "#filter-thanks", "#wall-list",
                        undo=('nav.filters a[href="/c/main/wall/"]', "#wall-list")),
                    Tap("experts: letter S → #expert-list", "/experts/", '[data-key="s"]', "#expert-list",
                        undo=('[data-key="clear"]', "#expert-list"), delay=True),
                ]
                rounds = 3
                painted = measure_taps(browser, [(baseline, hello, None), *((tap, small, token) for tap in taps)],
                                       rounds, max(1, options.taps // rounds))
                loads = first_loads(browser, small, token)
                phone_loads = phone_first_loads(browser, small, phones[SMALL_POSTS])
                browser.close()
            tap_rows(table, painted, baseline, taps)
            first_load_rows(table, loads)
            phone_first_load_rows(table, phone_loads)
            memory_rows(table, servers, hello)
            for server in every:
                no_tracebacks(server)
        finally:
            for server in every:
                server.stop()

    print()
    table.print()
    print()
    print(f"Load generator: {wrk_version} (C, one thread; its busiest run used {busiest_wrk:.0%} of its CPU). "
          + (f"Servers pinned to CPU {SERVER_CPU}, wrk to CPU {LOAD_CPU}: one core each; Chromium on any."
             if SERVER_CPU is not None else "One CPU: nothing pinned."))
    print(f"Whole run {time.monotonic() - started:.0f} s. Reproduce: make bench "
          f"(or .venv/bin/python benchmarks/served.py --seconds {options.seconds} --latency-seconds "
          f"{options.latency_seconds} --taps {options.taps} --large-posts {options.large_posts}).")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"\nbenchmarks/served.py FAILED: {error}", file=sys.stderr)
        sys.exit(1)
