"""`make soak`: about 30 clients use linli under gunicorn for a bounded time while a worker
is killed with SIGKILL every few seconds and the whole server is restarted once; then,
with the server stopped, everything the server acknowledged must be in the database.

1. A fresh instance folder (SQLite; with DATABASE_URL set, a private PostgreSQL database
   created for the run and dropped after): `flask init --no-demo`, `flask seed` (2,000
   posts, 20 courses, 50 experts, 20 cards), ~10 kiosks enrolled, a published survey,
   staff accounts (two moderators, a coordinator). Rate limits are relaxed far above the
   load: the soak tests durability, not the limits.
2. gunicorn with the project's settings (--config python:app.gunicorn_conf).
3. Kiosks (reads of every board, fragments, the 204 polls, heartbeats; wall posts,
   sign-ups, cancellations, reports, survey answers), phones reading, moderators working
   the queue, a coordinator at the desk — soak_actors.py. CSRF tokens come from the pages.
4. Chaos: SIGKILL to a random worker every few seconds; one restart (SIGTERM, start again
   on the same port) in the middle. Failures inside the restart window, or on a killed
   worker's connection, are expected; an unanswered write may or may not be stored.
5. Checks (soak_checks.py): acknowledged writes present, counters match rows, integrity
   check, the log (no "database is locked", no traceback), no 5xx outside the restart.

Run: .venv/bin/python benchmarks/soak.py [--seconds 120] [--clients 30] [--keep]
Exits 1 if a check failed (the instance folder is then kept, and named).
"""

import argparse
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.config import normalise_database_url
from benchmarks.common import rss_mb, stop_gracefully, worker_pids
from benchmarks.soak_actors import TOUR, Coordinator, Kiosk, Ledger, Moderator, Reader
from benchmarks.soak_checks import Chaos, Check, classify, scan_log, verify_database

SEED = ["--posts", "2000", "--courses", "20", "--experts", "50", "--cards", "20"]
KIOSKS = 10
WORKERS = 2
STAFF_PASSWORD = "soak lantern orchard harbour 42"
MODERATORS = 2
START_TIMEOUT_S = 30
HEARTBEAT_SECONDS = 5
RELAXED_LIMIT = "1000000 per minute"


def limit_names() -> list[str]:
    """Every per-device limit the app declares (its decorators name them)."""
    pattern = re.compile(r'(?:acting_device_required|rate_limited)\("([a-z-]+)"')
    return sorted({name for path in (ROOT / "app").rglob("*.py") for name in pattern.findall(path.read_text())})


def instance_config() -> str:
    """The instance's config.py: limits far above the load, and polls a little faster than
    in a lobby, so that a short soak still sees them answer both 204 and 200."""
    return f"""\
# The soak tests durability, not the limits: every per-kiosk limit is far above the load.
RATE_LIMITS = {{name: {RELAXED_LIMIT!r} for name in {limit_names()!r}}}
WALL_POLL_SECONDS = 3
CLASSES_POLL_SECONDS = 3
CLASSES_LIST_POLL_SECONDS = 6
NOTICES_POLL_SECONDS = 5
KIOSK_HEARTBEAT_SECONDS = {HEARTBEAT_SECONDS}
KIOSK_PAIRING_POLL_SECONDS = 5
# Housekeeping runs from heartbeats during the soak too.
HOUSEKEEPING_MINUTES = 1
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the database and the instance --------------------------------------------------------

@contextmanager
def private_database(keep):
    """None on SQLite (the instance folder holds it). With DATABASE_URL (PostgreSQL), a
    database of the soak's own on that server, never the one named; dropped afterwards
    unless keep() says otherwise (asked at the end)."""
    given = os.environ.get("DATABASE_URL")
    if not given:
        yield None
        return
    if not given.startswith("postgres"):
        raise SystemExit("soak: DATABASE_URL must name a PostgreSQL server (or be unset for SQLite)")
    server = make_url(normalise_database_url(given))
    name = f"linli_soak_{secrets.token_hex(4)}"
    admin = None
    for maintenance in ("postgres", server.database):
        try:
            admin = create_engine(server.set(database=maintenance), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            break
        except Exception as error:  # noqa: BLE001  (try the next maintenance database)
            if admin is not None:
                admin.dispose()
            admin, failure = None, error
    if admin is None:
        raise SystemExit(f"soak: could not create a database on {server.render_as_string()}: {failure}")
    url = server.set(database=name).render_as_string(hide_password=False)
    kept = False
    try:
        yield url
        kept = keep()
    except BaseException:
        kept = True
        raise
    finally:
        if kept:
            print(f"PostgreSQL database kept: {name}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Setup:
    instance: Path
    env: dict
    database_url: str
    kiosks: list            # (kiosk id, device token)
    ids: dict               # what kiosks visit: "course" (smallest first), "expert", "card", "notice", "post"
    survey_id: int
    staff: dict             # username: member id
    device_cookie: str


def flask(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"soak: flask {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(instance: Path, postgres_url: str | None) -> Setup:
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(LINLI_INSTANCE=str(instance), PYTHONUNBUFFERED="1")
    if postgres_url:
        env["DATABASE_URL"] = postgres_url
    database_url = normalise_database_url(postgres_url or f"sqlite:///{instance / 'linli.db'}")
    (instance / "config.py").write_text(instance_config())
    flask(env, "init", "--no-demo")  # its first admin's password is not needed: not printed
    flask(env, "seed", *SEED)
    staff_names = [f"soak-moderator-{n + 1}" for n in range(MODERATORS)] + ["soak-coordinator"]
    creating = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "staff", "create", name, "--role",
                                  "coordinator" if "coordinator" in name else "moderator", "--password-stdin"],
                                 cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for name in staff_names]
    for name, process in zip(staff_names, creating):
        output, _ = process.communicate(STAFF_PASSWORD + "\n", timeout=120)
        if process.returncode != 0:
            raise SystemExit(f"soak: flask staff create {name} failed:\n{output}")

    from app import create_app
    from app.classes import services as classes
    from app.classes.models import Course
    from app.clock import utcnow
    from app.experts.models import Expert
    from app.extensions import db
    from app.kiosk import devices
    from app.friends.models import Card
    from app.notices import services as notices
    from app.staff.models import StaffMember
    from app.wall.models import Post

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url}, instance_path=str(instance))
    with app.app_context():
        kiosks = []
        for number in range(KIOSKS):
            state = devices.pairing_for(None)
            kiosk_id = devices.enroll(state.code, f"大厅 {number + 1}")
            kiosks.append((kiosk_id, devices.pairing_for(state.new_claim).device_token))
        survey = classes.save_survey("下学期您想上什么课？", ["书法", "太极拳", "智能手机", "合唱"],
                                     question_en="Which classes would you join next term?",
                                     options_en=["Calligraphy", "Tai chi", "Smartphones", "Choir"])
        classes.set_survey_state(survey.id, "published")
        # flask seed closes sign-up the evening before the term (Sunday 18:00, site time):
        # a soak on a Sunday evening would find every course closed. Keep them open.
        soon = utcnow() + timedelta(hours=1)
        closing = list(db.session.scalars(select(Course).where(Course.status == "open",
                                                               Course.signup_closes_at < soon)))
        for course in closing:
            course.signup_closes_at = classes.term_start_utc(course)
        db.session.commit()
        notice_id = notices.add_notice("社区活动室本周六开放", "欢迎邻居们来下棋、读书。",
                                       title_en="Activity room open on Saturday")
        ids = {
            # The smallest courses first: the kiosks' favourites (soak_actors.Kiosk.sign_up).
            "course": list(db.session.scalars(select(Course.id).where(Course.status == "open")
                                              .order_by(Course.capacity, Course.id))),
            "expert": list(db.session.scalars(select(Expert.id).where(Expert.state == "listed"))),
            "card": list(db.session.scalars(select(Card.number).where(Card.state == "approved"))),
            "notice": [notice_id],
            "post": list(db.session.scalars(select(Post.id).where(Post.state == "approved")
                                            .order_by(Post.id.desc()).limit(200))),
        }
        staff = dict(db.session.execute(select(StaffMember.username, StaffMember.id)
                                        .where(StaffMember.username.in_(staff_names))).all())
        survey_id = survey.id
        db.session.remove()
        db.engine.dispose()
    if closing:
        print(f"Note: sign-up for {len(closing)} seeded courses closed within the hour (flask seed closes it the "
              "evening before the term): kept open until the term starts.")
    return Setup(instance, env, database_url, kiosks, ids, survey_id, staff, devices.DEVICE_COOKIE)


# --- gunicorn ------------------------------------------------------------------------------

class Server:
    """gunicorn with the project's settings on one port; stopped and started again there."""

    def __init__(self, setup: Setup, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.log = setup.instance / "gunicorn.log"
        self.env = {**setup.env, "LINLI_BIND": f"127.0.0.1:{port}", "LINLI_WORKERS": str(WORKERS),
                    "LINLI_ACCESS_LOG": str(setup.instance / "access.log")}
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def worker_pids(self) -> list[int]:
        return worker_pids(self.process.pid if self.process else None)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:app.gunicorn_conf", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.healthy() and len(self.worker_pids()) >= WORKERS):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up on {self.url}; see {self.log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """As a service manager would: SIGTERM, SIGKILL after 20 s."""
        process, self.process = self.process, None
        stop_gracefully(process, 20)

    def rss_mb(self) -> list[float]:
        return rss_mb(self.worker_pids())

class Monkey(threading.Thread):
    """SIGKILL to a random worker every few seconds (gunicorn's master starts another);
    once, at `restart_at`, the whole server stopped with SIGTERM and started again."""

    def __init__(self, server: Server, stop: threading.Event, kill_every: float, restart_at: float, seed: int):
        super().__init__(name="chaos", daemon=True)
        self.server, self.stopping = server, stop
        self.kill_every, self.restart_at = kill_every, restart_at
        self.rng = random.Random(seed)
        self.kills: list[tuple[float, int]] = []
        self.restart: tuple[float, float] | None = None
        self.stopped_after = 0.0
        self.failure: BaseException | None = None
        self.rss: list[float] = []

    def run(self) -> None:
        try:
            next_kill = time.monotonic() + self.kill_every * self.rng.uniform(0.5, 1.5)
            next_sample = 0.0
            while not self.stopping.wait(0.05):
                now = time.monotonic()
                if now >= next_sample:
                    self.rss += self.server.rss_mb()
                    next_sample = now + 0.5
                if self.restart is None and now >= self.restart_at:
                    self.server.stop()
                    self.stopped_after = time.monotonic() - now
                    self.server.start()
                    self.restart = (now, time.monotonic())
                    next_kill = time.monotonic() + self.kill_every
                elif now >= next_kill:
                    workers = self.server.worker_pids()
                    if workers:
                        victim = self.rng.choice(workers)
                        self.kills.append((time.monotonic(), victim))
                        os.kill(victim, signal.SIGKILL)
                    next_kill = now + self.kill_every * self.rng.uniform(0.5, 1.5)
        except BaseException as error:  # noqa: BLE001  (reported as a failed check)
            self.failure = error


# --- the run -------------------------------------------------------------------------------

def actors(setup: Setup, port: int, clients: int, ledger: Ledger, stop: threading.Event, seed: int) -> list:
    common = {"host": "127.0.0.1", "port": port, "ledger": ledger, "stop": stop}
    staff = [Moderator(f"moderator-{n + 1}", **common, seed=seed + 900 + n, username=f"soak-moderator-{n + 1}",
                       password=STAFF_PASSWORD, share=(n, MODERATORS)) for n in range(MODERATORS)]
    staff.append(Coordinator("coordinator", **common, seed=seed + 950, username="soak-coordinator",
                             password=STAFF_PASSWORD, ids=setup.ids))
    readers = max(1, clients // 5)
    kiosk_clients = max(1, clients - len(staff) - readers)
    crowd = [Reader(f"reader-{n + 1}", **common, seed=seed + 500 + n, ids=setup.ids,
                    language="en-US,en;q=0.9" if n % 2 else "zh-CN,zh;q=0.9")
             for n in range(readers)]
    for n in range(kiosk_clients):
        kiosk_id, token = setup.kiosks[n % len(setup.kiosks)]
        crowd.append(Kiosk(f"kiosk-{kiosk_id}-{n // len(setup.kiosks) + 1}", **common, seed=seed + n,
                           ids=setup.ids, tour_start=n * len(TOUR) // kiosk_clients, kiosk_id=kiosk_id,
                           device_cookie=(setup.device_cookie, token), heartbeat_seconds=HEARTBEAT_SECONDS))
    return staff + crowd


def soak(args) -> int:
    started_cpu = resource.getrusage(resource.RUSAGE_SELF)
    instance = Path(tempfile.mkdtemp(prefix="linli-soak-"))
    failed = True
    try:
        with private_database(lambda: args.keep) as postgres_url:
            print(f"Preparing {'PostgreSQL' if postgres_url else 'SQLite'} in {instance}: flask init, "
                  f"flask seed {' '.join(SEED)}, {KIOSKS} kiosks, staff accounts…", flush=True)
            setup = prepare(instance, postgres_url)
            print(f"Rate limits relaxed to {RELAXED_LIMIT} for {', '.join(limit_names())}: "
                  "the soak tests durability, not the limits.")
            port = free_port()
            server = Server(setup, port)
            ledger, stop = Ledger(), threading.Event()
            try:
                server.start()
                crowd = actors(setup, port, args.clients, ledger, stop, args.seed)
                began = time.monotonic()
                monkey = Monkey(server, stop, args.kill_every, began + args.seconds / 2, args.seed)
                print(f"Soaking for {args.seconds:.0f} s: {len(crowd)} clients against gunicorn {WORKERS}×gthread "
                      f"on {server.url}; a worker SIGKILLed every ~{args.kill_every:g} s, one restart at "
                      f"{args.seconds / 2:.0f} s.", flush=True)
                for actor in crowd:
                    actor.start()
                    time.sleep(0.03)
                monkey.start()
                stop.wait(max(0.0, began + args.seconds - time.monotonic()))
                stop.set()
                monkey.join(60)
                for actor in crowd:
                    actor.join(60)
                ended = time.monotonic()
            finally:
                stop.set()
                server.stop()
            failed = report(setup, ledger, crowd, monkey, server, began, ended, started_cpu, bool(postgres_url))
            if failed:
                args.keep = True
    except BaseException:
        args.keep = True
        raise
    finally:
        if args.keep:
            print(f"Instance folder kept: {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)
    return 1 if failed else 0


# --- the report ----------------------------------------------------------------------------

def table(title: str, header: tuple, rows: list) -> None:
    rows = [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)] if rows else \
        [len(cell) for cell in header]
    print(f"\n{title}")
    numeric = [n > 0 and all(re.fullmatch(r"[-\d.,]*", row[n]) for row in rows) for n in range(len(widths))]

    def line(cells) -> str:
        return "  ".join(cell.rjust(width) if numeric[n] else cell.ljust(width)
                         for n, (cell, width) in enumerate(zip(cells, widths))).rstrip()

    print(line(header))
    print(line(["-" * width for width in widths]))
    for row in rows:
        print(line(row))


def _group(kind: str) -> str:
    """Reads of pages and fragments in a few rows; polls and writes one row each."""
    if kind.startswith("GET page"):
        return "GET full pages (every board)"
    if kind.startswith("GET #main"):
        return "GET #main swaps (tiles, links)"
    if kind.startswith("GET #"):
        return "GET fragments (filters, search, more, look-ups)"
    if kind.startswith("GET staff") and "roster.csv" not in kind:
        return "GET console pages and fragments"
    return kind


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(setup: Setup, ledger: Ledger, crowd: list, monkey: Monkey, server: Server, began: float, ended: float,
           started_cpu, on_postgres: bool) -> bool:
    records = [record for actor in crowd for record in actor.browser.records]
    chaos = Chaos(monkey.kills, monkey.restart)
    outcome = classify(records, chaos)

    by_kind = defaultdict(list)
    for record in records:
        by_kind[_group(record.kind)].append(record)
    rows = []
    for kind, done in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        answered = [r for r in done if r.status]
        times = [(r.end - r.start) * 1000 for r in answered] or [float("nan")]
        rows.append((kind, len(done), sum(200 <= r.status < 400 and r.status != 204 for r in done),
                     sum(r.status == 204 for r in done), sum(400 <= r.status < 500 for r in done),
                     sum(r.status >= 500 for r in done), sum(not r.status for r in done),
                     f"{statistics.median(times):.1f}", f"{_percentile(times, 0.99):.1f}"))
    seconds = ended - began
    table(f"Requests by kind ({len(records)} in {seconds:.0f} s, {len(records) / seconds:.0f}/s)",
          ("request", "count", "2xx/3xx", "204", "4xx", "5xx", "failed", "p50 ms", "p99 ms"), rows)

    kinds = sorted(set(ledger.tried) | set(ledger.acked), key=lambda kind: -ledger.tried[kind])
    table("Writes", ("write", "sent", "acknowledged", "refused"),
          [(kind, ledger.tried[kind] or "-", ledger.acked[kind],
            sum(count for key, count in ledger.refused.items() if key.startswith(kind + " ")) or "")
           for kind in kinds])
    if ledger.refused:
        print("  refused: " + ", ".join(f"{key} ×{count}" for key, count in sorted(ledger.refused.items())))

    restart = monkey.restart
    window = f"{restart[0] - began:.1f} s → {restart[1] - began:.1f} s ({monkey.stopped_after:.1f} s to stop, " \
        f"{restart[1] - restart[0] - monkey.stopped_after:.1f} s to answer again)" if restart else "did not happen"
    errors = dict(outcome["failures"])
    errors["HTTP 5xx outside the restart window"] = len(outcome["5xx outside"])
    errors["unexpected 4xx"] = sum(outcome["4xx unexpected"].values())
    table("Chaos and errors", ("what", "count"),
          [("workers killed (SIGKILL)", len(monkey.kills)), ("server restarts (SIGTERM, start)", 1 if restart else 0),
           ("restart window", window)]
          + [(name, count) for name, count in sorted(errors.items())])

    log = server.log.read_text(errors="replace")
    scanned = scan_log(log, {pid for _at, pid in monkey.kills})
    checks = verify_database(setup.database_url, ledger, kiosk_ids=[k for k, _ in setup.kiosks], staff=setup.staff,
                             survey_id=setup.survey_id, on_sqlite=not on_postgres)
    checks += [
        Check("gunicorn log: 0 \"database is locked\"", scanned["locked"] == 0, f"{scanned['locked']}"),
        Check("gunicorn log: no tracebacks (apart from killed workers)", not scanned["tracebacks"],
              "; ".join(scanned["tracebacks"][:3]) or f"{scanned['excused']} from killed workers"),
        Check("0 HTTP 5xx outside the restart window", not outcome["5xx outside"],
              ", ".join(outcome["5xx outside"][:5])),
        Check("every failed request is explained by a kill or the restart", not outcome["unexplained"],
              ", ".join(outcome["unexplained"][:5])),
        Check("no unexpected 4xx (CSRF, read-only, limits, refused sign-ups or posts)", not outcome["4xx unexpected"],
              ", ".join(f"{kind} ×{count}" for kind, count in outcome["4xx unexpected"].most_common(5))),
        Check("every kiosk page and fragment was read (a 200)", len(ledger.toured) == len(TOUR),
              f"{len(ledger.toured)} of {len(TOUR)}" + (": missing " + ", ".join(
                  f"{TOUR[n][0]} #{TOUR[n][1]}" for n in sorted(set(range(len(TOUR))) - ledger.toured))
                  if len(ledger.toured) < len(TOUR) else "")),
        Check("workers were killed and the server restarted", bool(monkey.kills) and restart is not None
              and monkey.failure is None, f"{monkey.failure!r}" if monkey.failure else ""),
        Check("every client ran to the end", all(actor.failure is None for actor in crowd),
              "; ".join(f"{actor.name}: {actor.failure!r}" for actor in crowd if actor.failure)[:300]),
    ]
    table("Checks", ("check", "result", "detail"),
          [(check.name, "ok" if check.ok else "FAILED", check.detail) for check in checks])

    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nCPU: clients {mine.ru_utime + mine.ru_stime - started_cpu.ru_utime - started_cpu.ru_stime:.0f} s, "
          f"set-up commands and gunicorn {children.ru_utime + children.ru_stime:.0f} s, over {seconds:.0f} s "
          f"on {os.cpu_count()} cores.")
    if monkey.rss:
        print(f"Worker memory: median {statistics.median(monkey.rss):.0f} MB RSS, largest {max(monkey.rss):.0f} MB "
              "(a staff sign-in's argon2id hash holds 64 MiB while it runs).")
    failed = [check for check in checks if not check.ok]
    print(f"\nFAILED: {len(failed)} of {len(checks)} checks." if failed else f"\nAll {len(checks)} checks ok.")
    return bool(failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="how long the clients run (default 120)")
    parser.add_argument("--clients", type=int, default=30, help="concurrent clients (default 30)")
    parser.add_argument("--kill-every", type=float, default=4.0, help="mean seconds between worker kills")
    parser.add_argument("--seed", type=int, default=None, help="the clients' random seed (default: random)")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder (and PostgreSQL database)")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(10**6)
    print(f"linli soak (seed {args.seed})")
    return soak(args)


if __name__ == "__main__":
    sys.exit(main())
