"""Browser tests: Debian's Chromium, driven by Playwright, against real gunicorn servers.

Servers run on 127.0.0.1 only, one per app for the whole session, each with its own
instance folder (SQLite) or sharing the test PostgreSQL database (DATABASE_URL), filled
by `flask init` exactly as `make run` does. Their instance config makes kiosks poll
every second or two, so the tests need not wait for the production intervals.
Playwright's own browser download is never used; without Debian's Chromium the tests fail.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine

import app.connections  # noqa: F401  (SQLite pragmas: busy_timeout while the server writes too)
from app.config import normalise_database_url
from tests.conftest import empty_tables
from tests.e2e.helpers import (HEARTBEAT_SECONDS, PAIRING_CODE, WALL_POLL_SECONDS, new_kiosk_context,
                               new_laptop_context)
from tests.speech import private_speech_dispatcher

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL")
ON_POSTGRES = bool(DATABASE_URL) and DATABASE_URL.startswith("postgres")
START_TIMEOUT_S = 20
SESSION_TAG = uuid.uuid4().hex[:8]
# Written to each server's instance/config.py: fast polls keep the tests quick.
FAST_KIOSK_CONFIG = f"KIOSK_PAIRING_POLL_SECONDS = 1\nKIOSK_HEARTBEAT_SECONDS = {HEARTBEAT_SECONDS}\n"
# live_server only: a fast wall, and room for one kiosk to post 66 markup payloads
# (limited_server keeps the default limits, which test_rate_limits.py tries).
LIVE_SERVER_CONFIG = (f"WALL_POLL_SECONDS = {WALL_POLL_SECONDS}\n"
                      "CLASSES_POLL_SECONDS = 2\n"
                      "RATE_LIMITS = {'wall-post': '200 per 10 minutes'}\n")
# An enrolled screen collects its device token on its next pairing poll (1 s here).
KIOSK_PICKUP_MS = 15_000
# Served with gunicorn's factory syntax; see limited_app.py.
LIMITED_APP = "tests.e2e.limited_app:create_limited_app()"
STAFF_USERNAME = "e2e-admin"
STAFF_PASSWORD = "lobby kiosk e2e passphrase"
# Without these Chromium reaches out to Google's servers on its own.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-gpu",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
            return response.status == 200 and b'"ok":true' in response.read().replace(b" ", b"")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path
    instance: Path
    env: dict
    pid: int  # gunicorn's master

    @property
    def database_url(self) -> str:
        return DATABASE_URL or f"sqlite:///{self.instance / 'linli.db'}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def assert_no_errors(self) -> None:
        """The server logged no error (a traceback, or gunicorn's "Error handling request")."""
        log = self.log_text()
        assert "Traceback" not in log and "Error handling request" not in log, f"the server logged an error:\n{log}"

    def flask(self, *args: str, stdin: str | None = None) -> str:
        """Run a `flask` command against this server's instance and database; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT, env=self.env, input=stdin, capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            pytest.fail(f"flask {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def sql(self, statement):
        """Run one statement on this server's database, as another process would; the
        single value it returns, if any."""
        engine = create_engine(normalise_database_url(self.database_url))
        try:
            with engine.begin() as connection:
                result = connection.execute(statement)
                return result.scalar_one() if result.returns_rows else None
        finally:
            engine.dispose()

    def worker_pids(self) -> list[int]:
        """The gunicorn workers now running: the master's children."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state_and_after = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(state_and_after[1]) == self.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)


class Gunicorn:
    """gunicorn serving app_spec from an instance initialised as `make run` does; it can be
    stopped and started again on the same port, instance, database and log (a server that
    goes away and comes back). extra_config is added to the instance's config.py."""

    def __init__(self, instance: Path, app_spec: str = "wsgi:app", workers: int = 2, extra_config: str = ""):
        self.instance = instance
        self.app_spec = app_spec
        self.workers = workers
        self.log = instance / "gunicorn.log"
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
        self.env.update(
            LINLI_INSTANCE=str(instance),
            LINLI_BIND=self.url.removeprefix("http://"),
            LINLI_WORKERS=str(workers),
            LINLI_ACCESS_LOG="-",
            PYTHONUNBUFFERED="1",
        )
        self.live: LiveServer | None = None
        self._process: subprocess.Popen | None = None
        # With REDIS_URL set (the district mode), each instance folder counts in a Redis
        # namespace of its own, new each session: kiosk numbers repeat across databases.
        namespace = f"RATE_LIMIT_NAMESPACE = 'e2e-{SESSION_TAG}-{instance.name}'\n"
        (instance / "config.py").write_text(FAST_KIOSK_CONFIG + namespace + extra_config)
        init = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "init"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60,
        )
        (instance / "init.log").write_text(init.stdout + init.stderr)
        if init.returncode != 0:
            pytest.fail(f"flask init exited {init.returncode}:\n{init.stdout}\n{init.stderr}")

    def start(self) -> LiveServer:
        """Start gunicorn and wait until every worker is up; the server as it now runs.
        The log is appended to, so offsets read before a restart stay valid."""
        assert self._process is None, "this gunicorn is already running"
        with self.log.open("ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:app.gunicorn_conf", self.app_spec],
                cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
            )
        server = self._process
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(self.url):
            if server.poll() is not None or time.monotonic() > deadline:
                state = f"exited {server.returncode}" if server.poll() is not None else "no answer"
                self.stop()
                pytest.fail(f"gunicorn did not come up on {self.url} ({state}):\n"
                            f"{self.log.read_text(errors='replace')}")
            time.sleep(0.1)
        live = LiveServer(self.url, self.log, self.instance, self.env, server.pid)
        # The first worker answers while the master may still be forking the others.
        while len(live.worker_pids()) < self.workers:
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"gunicorn started workers {live.worker_pids()}, not {self.workers}:\n"
                            f"{live.log_text()}")
            time.sleep(0.05)
        self.live = live
        return live

    def stop(self) -> None:
        """Stop gunicorn as a service manager would (SIGTERM, then SIGKILL after 15 s)."""
        server, self._process, self.live = self._process, None, None
        if server is None:
            return
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def _serve(instance: Path, app_spec: str = "wsgi:app", workers: int = 2, extra_config: str = ""):
    """Initialise an instance as `make run` does and serve app_spec from it with gunicorn;
    extra_config is added to the instance's config.py."""
    gunicorn = Gunicorn(instance, app_spec, workers, extra_config)
    try:
        yield gunicorn.start()
    finally:
        gunicorn.stop()


@pytest.fixture(scope="session")
def e2e_database(request):
    """On PostgreSQL, every server of the session shares the test database, emptied once."""
    if ON_POSTGRES:
        # The session fixture of tests/conftest.py resets and migrates the test database.
        empty_tables(request.getfixturevalue("migrated_database"))


@pytest.fixture(scope="session")
def live_server(e2e_database, tmp_path_factory):
    """gunicorn (2 gthread workers) serving a freshly initialised linli (LIVE_SERVER_CONFIG)."""
    with _serve(tmp_path_factory.mktemp("e2e-instance"), extra_config=LIVE_SERVER_CONFIG) as server:
        yield server


@pytest.fixture(scope="session")
def limited_server(e2e_database, tmp_path_factory):
    """gunicorn (2 workers) serving linli with its default limits, naming the worker that
    answered each request (limited_app.py)."""
    with _serve(tmp_path_factory.mktemp("e2e-limited"), LIMITED_APP, workers=2) as server:
        yield server


@pytest.fixture(scope="session")
def server_app(live_server):
    """The app as live_server runs it (its instance config, its database), for setting up
    records directly; no context is held while the browsers run."""
    from app import create_app
    from app.extensions import db

    from flask import appcontext_pushed

    from tests.conftest import work_in_first_community

    server = create_app(instance_path=str(live_server.instance), SQLALCHEMY_DATABASE_URI=live_server.database_url)
    appcontext_pushed.connect(work_in_first_community, server)
    yield server
    with server.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def staff_account(live_server):
    """Username and password of an admin on live_server."""
    live_server.flask("staff", "create", STAFF_USERNAME, "--role", "admin", "--password-stdin",
                      stdin=STAFF_PASSWORD + "\n")
    return STAFF_USERNAME, STAFF_PASSWORD


@pytest.fixture
def restartable_server(e2e_database, tmp_path_factory):
    """A gunicorn of the test's own (never live_server), started: the test may stop() it
    and start() it again on the same port and instance. Its `live` is the LiveServer
    while it runs."""
    gunicorn = Gunicorn(tmp_path_factory.mktemp("e2e-restartable"))
    gunicorn.start()
    yield gunicorn
    gunicorn.stop()


SERVER_FIXTURES = ("live_server", "limited_server", "restartable_server")


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """A test that made a server log a traceback fails, whatever the browser showed."""
    servers = [request.getfixturevalue(name) for name in SERVER_FIXTURES if name in request.fixturenames]
    starts = [server.log.stat().st_size for server in servers]
    yield
    for server, start in zip(servers, starts):
        with server.log.open("rb") as handle:
            handle.seek(start)
            new = handle.read().decode(errors="replace")
        assert "Traceback" not in new and "Error handling request" not in new, \
            f"the server logged an error during this test:\n{new}"


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("The browser tests need Debian's Chromium on PATH (apt-get install chromium, "
                    "or `make chromium`); Playwright's own browser download is not used.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def speech_dispatcher(tmp_path_factory):
    """A speech-dispatcher of the session's own, for browsers that read aloud; its `env`
    starts a browser beside it (tests/speech.py says why not the machine's)."""
    with private_speech_dispatcher(tmp_path_factory.mktemp("speech")) as dispatcher:
        yield dispatcher


@pytest.fixture
def requested_urls():
    """Every URL the kiosk page asked for, in order (filled by the kiosk fixture)."""
    return []


@pytest.fixture
def kiosk(browser, live_server, requested_urls):
    """A fresh touch-screen page in a Chinese browser, landscape 1920x1080."""
    context = new_kiosk_context(browser, live_server)
    page = context.new_page()
    page.on("request", lambda req: requested_urls.append(req.url))
    yield page
    context.close()


@pytest.fixture
def staff(browser, live_server, staff_account):
    """A staff member's laptop (1366x768, mouse, Chinese), signed in to the console."""
    context = new_laptop_context(browser, live_server)
    page = context.new_page()
    username, password = staff_account
    page.goto("/staff/")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    # The sign-in page's own URL is /staff/ too: wait for the navigation, not the URL.
    with page.expect_navigation(url=f"{live_server.url}/staff/"):
        page.locator('main form input[type="submit"]').click()
    assert page.locator('form[action="/staff/sign-out"]').count() == 1, "the staff sign-in failed"
    yield page
    context.close()


@pytest.fixture
def enroll_kiosks(browser, live_server):
    """Make new enrolled kiosks: `enroll_kiosks("大厅 A", "大厅 B", path="/c/main/wall/")` opens one
    fresh screen per name at path, reads the pairing code each shows, enrolls it with
    `flask kiosk enroll` as staff would, and returns the pages once each has reloaded
    itself as a kiosk. Each screen is a browser context of its own (closed afterwards),
    so each is a different device to the rate limits and the report counts. `server=`
    enrolls them on another server than live_server."""
    contexts = []

    def enroll(*names: str, path: str = "/", server=None) -> list:
        server = server or live_server
        pages = []
        for _ in names:
            context = new_kiosk_context(browser, server)
            contexts.append(context)
            pages.append(context.new_page())
            pages[-1].goto(path)
        codes = []
        for page in pages:
            shown = page.locator("aside#pairing #pairing-code")
            expect(shown).to_have_text(PAIRING_CODE)
            codes.append(shown.inner_text())
        # Each command is a new Python process (about 0.7 s): run them side by side.
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            said = list(pool.map(lambda code, name: server.flask("kiosk", "enroll", code, "--name", name),
                                 codes, names))
        assert all("Kiosk #" in line for line in said), said
        for page in pages:
            expect(page.locator("#heartbeat")).to_have_count(1, timeout=KIOSK_PICKUP_MS)
            expect(page.locator("#pairing")).to_have_count(0)
            page.wait_for_load_state()
        return pages

    yield enroll
    for context in contexts:
        context.close()
