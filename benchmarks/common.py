"""What the benchmarks share: timing requests, and a client that is an enrolled kiosk."""

import argparse
import re
import signal
import statistics
import subprocess
import time
from pathlib import Path

from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.kiosk import devices


def rounds() -> int:
    """The --rounds option every benchmark takes: requests timed per figure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    return parser.parse_args().rounds


FIRST = "/c/main"


# The kiosk base's own addresses, outside any community.
_SITE_PATHS = ("/c/", "/healthz", "/device/", "/staff", "/static/", "/language", "/large-text", "/reset")


def community_path(path: str) -> str:
    """A kiosk page of the first community (flask init's `main`): /wall/ is /c/main/wall/."""
    return path if path.startswith(_SITE_PATHS) else FIRST + path


def new_app(directory: Path):
    """An app on a new, migrated SQLite database in `directory`, the page cache off; its own
    app contexts (seeding, reading back) work in the first community, as `flask` commands do."""
    from flask import appcontext_pushed, g

    from app.communities.scope import Scope

    directory.mkdir(parents=True, exist_ok=True)
    # The in-process benchmarks time what a view costs: rendered each time, not kept.
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
                      "PAGE_CACHE": False}, instance_path=str(directory))
    with app.app_context():
        upgrade()
    appcontext_pushed.connect(lambda _app, **_: setattr(g, "community_scope", Scope(1)), app, weak=False)
    return app


def analyze() -> None:
    """Give SQLite's planner the tables' statistics, as a database in use would have."""
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def median_ms(client, url: str, headers: dict, expected: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(community_path(url), headers=headers)
        response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == expected, (url, response.status_code)
    return statistics.median(times)


def device_token(app, name: str = "bench") -> str:
    """Enroll a new kiosk as staff would (a pairing code, then its name); the device token
    the screen then carries in its DEVICE_COOKIE."""
    from app.communities import routing, scope

    with app.app_context(), scope.within(routing.default_community_id()):
        state = devices.pairing_for(None)
        devices.enroll(state.code, name)
        return devices.pairing_for(state.new_claim).device_token


def kiosk_client(app, name: str = "bench"):
    """A test client carrying a freshly enrolled kiosk's device cookie, as in the lobby: the
    cookie is looked up on every request, polls included."""
    client = app.test_client()
    client.set_cookie(devices.DEVICE_COOKIE, device_token(app, name))
    return client


# --- gunicorn processes, as the served benchmark and the soak start them ---------------

def worker_pids(master_pid: int | None) -> list[int]:
    """The gunicorn master's children (its workers), from /proc."""
    if master_pid is None:
        return []
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError):
            continue  # gone meanwhile
    return sorted(pids)


def rss_mb(pids: list[int]) -> list[float]:
    """Resident set size of each process still running, in MB."""
    sizes = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        sizes.append(int(found.group(1)) / 1024 if found else 0)
    return sizes


def stop_gracefully(process, timeout: float) -> None:
    """As a service manager stops a server: SIGTERM, then SIGKILL after `timeout` s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
