"""Browser tests: Debian's Chromium, driven by Playwright, against a real gunicorn server.

One server per session, on 127.0.0.1 only, with its own instance folder (SQLite) or the
test PostgreSQL database (DATABASE_URL), filled by `flask init` exactly as `make run` does.
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
from pathlib import Path

import pytest

from tests.conftest import empty_tables

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL")
ON_POSTGRES = bool(DATABASE_URL) and DATABASE_URL.startswith("postgres")
START_TIMEOUT_S = 20
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


class LiveServer:
    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def live_server(request, tmp_path_factory):
    """Base URL of gunicorn (2 gthread workers) serving a freshly initialised linli."""
    if ON_POSTGRES:
        # The session fixture of tests/conftest.py resets and migrates the test database.
        empty_tables(request.getfixturevalue("migrated_database"))
    instance = tmp_path_factory.mktemp("e2e-instance")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env.update(
        LINLI_INSTANCE=str(instance),
        LINLI_BIND=f"127.0.0.1:{port}",
        LINLI_WORKERS="2",
        LINLI_ACCESS_LOG="-",
        PYTHONUNBUFFERED="1",
    )

    init = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    (instance / "init.log").write_text(init.stdout + init.stderr)
    if init.returncode != 0:
        pytest.fail(f"flask init exited {init.returncode}:\n{init.stdout}\n{init.stderr}")

    log = instance / "gunicorn.log"
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "python:app.gunicorn_conf", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(base_url):
            if server.poll() is not None or time.monotonic() > deadline:
                state = f"exited {server.returncode}" if server.poll() is not None else "no answer"
                pytest.fail(f"gunicorn did not come up on {base_url} ({state}):\n"
                            f"{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield LiveServer(base_url, log)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """A test that made the server log a traceback fails, whatever the browser showed."""
    if "live_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("live_server")
    start = server.log.stat().st_size
    yield
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


@pytest.fixture
def requested_urls():
    """Every URL the kiosk page asked for, in order (filled by the kiosk fixture)."""
    return []


@pytest.fixture
def kiosk(browser, live_server, requested_urls):
    """A fresh touch-screen page in a Chinese browser, landscape 1920x1080."""
    context = browser.new_context(
        viewport={"width": 1920, "height": 1080}, has_touch=True, locale="zh-CN", base_url=live_server.url,
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("request", lambda req: requested_urls.append(req.url))
    yield page
    context.close()
