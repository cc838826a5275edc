"""Does a community's kiosk get slower when its platform holds fifty communities? Served by
gunicorn with the project's own settings, on PostgreSQL, both sizes in the same run.

NEEDS POSTGRESQL: a server at 127.0.0.1:5432 (trust auth, user root; --postgres to name
another) on which this user may create databases. It creates two databases of its own,
linli_bench_one and linli_bench_fifty (dropped first if a past run left them, and dropped
at the end unless --keep), through an autocommit connection to the `test` database; it
never reads or writes the `test` database's contents.

One run:
  1. builds two databases, each in its own instance folder (whose config.py names it, and
     turns the page cache off: pages are rendered, their reads are what is compared):
     `flask init --no-demo`, then in-process, per community (scope.within) 4 kiosks
     enrolled as staff would and app.seed.seed(): 2,000 approved posts, 20 courses,
     30 experts, 20 friends cards.
       - "fifty": community 1 (`main`) and 49 more (`flask community create`'s service):
         100,000 posts in all;
       - "one": community 1 alone, the same size.
     The measured community (the middle one, the 25th of 50) and the single one get the
     same generated content (the same seed); the others each get their own. Then VACUUM
     ANALYZE, as a database in use would have its statistics;
  2. serves each with `gunicorn --config python:app.gunicorn_conf wsgi:app` (as served.py);
  3. as the first kiosk of the measured community: every kiosk read page under
     /c/<slug>/ (home, wall, the wall's #wall-list fragment, classes, experts, friends,
     notices), wrk on 2 keep-alive connections, --seconds per run, 2 rounds alternating
     databases (and which goes first), so both see the same machine: p50 and p99 latency,
     worker CPU per request (gunicorn workers, from /proc), and, as detail, PostgreSQL's
     backend CPU per request (the database's own work, not pinned);
  4. prints one table: per page, each database's figures and the ratio fifty / one, against
     the target "ratio <= 1.2".
It asserts no target (machines are noisy; the PostgreSQL server may be shared) but stops
with an error on any unexpected status, socket error or server traceback.

CPUs: as served.py, gunicorn runs on the last CPU and wrk on the first; PostgreSQL is not
pinned (it is a server of its own).

Run: .venv/bin/python benchmarks/communities.py [--seconds 5] [--communities 50] [--keep]
Quick trial: .venv/bin/python benchmarks/communities.py --communities 5 --seconds 2
"""

import argparse
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Each instance folder's config.py names its database: the environment must not override it.
os.environ.pop("DATABASE_URL", None)

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import gunicorn_conf
from app.kiosk.devices import DEVICE_COOKIE
from benchmarks.served import (
    CHINESE_BROWSER, LOAD_CPU, SERVER_CPU, BenchError, Load, Server, Target, _finish, _flask, check, get,
    no_tracebacks, percentile_ms, wrk)

POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/test"
DATABASES = {"one": "linli_bench_one", "fifty": "linli_bench_fifty"}
KIOSKS, POSTS, COURSES, EXPERTS, CARDS = 4, 2_000, 20, 30, 20
CONNECTIONS = 2  # as served.py's latency runs
ROUNDS = 2
TARGET_RATIO = 1.2


# --- databases ----------------------------------------------------------------------------

def admin_engine(url: str):
    """Autocommit, on the maintenance database named: CREATE/DROP DATABASE, and reading
    pg_stat_activity. Nothing in that database is read or written."""
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def recreate(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))


def drop(admin, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Built:
    instance: Path
    url: str
    slug: str        # the measured community's
    token: str       # the device token of its first kiosk
    seconds: float
    counts: dict = field(default_factory=dict)


def build(instance: Path, url: str, communities: int, measured: int, progress) -> Built:
    """A database of `communities` communities of the same size; the `measured`-th gets
    the seed the single database's community gets."""
    from app import create_app
    from app.communities import routing, scope
    from app.communities import services as community_services
    from app.extensions import db
    from app.kiosk import devices
    from app.seed import seed

    started = time.monotonic()
    instance.mkdir()
    # The page cache off: what is compared is what a page's reads cost, with one community or fifty.
    (instance / "config.py").write_text(f"SQLALCHEMY_DATABASE_URI = {url!r}\nPAGE_CACHE = False\n")
    _finish(_flask(instance, "init", "--no-demo"), f"flask init --no-demo ({instance.name})")
    app = create_app(instance_path=str(instance))
    tokens = {}
    with app.app_context():
        ids = [routing.default_community_id()]  # `main`, made by flask init
        for number in range(2, communities + 1):
            ids.append(community_services.create_community(f"c{number:02d}", f"第{number}社区",
                                                           f"Community {number}"))
        for number, community_id in enumerate(ids, 1):
            with scope.within(community_id):
                for kiosk in range(1, KIOSKS + 1):
                    pairing = devices.pairing_for(None)
                    devices.enroll(pairing.code, f"Lobby {kiosk}")
                    token = devices.pairing_for(pairing.new_claim).device_token
                    if kiosk == 1:
                        tokens[number] = token
                seed(POSTS, COURSES, EXPERTS, CARDS, seed_value=measured if communities == 1 else number)
            if number % 10 == 0 and number < communities:
                progress(f"  {instance.name}: {number} of {communities} communities seeded")
        slugs = {number: community.slug for number, community in enumerate(community_services.communities(), 1)}
        db.session.remove()
        db.engine.dispose()
    number = measured if communities > 1 else 1
    built = Built(instance, url, slugs[number], tokens[number], 0.0)
    built.counts = vacuum_and_count(url, ids[number - 1])
    built.seconds = time.monotonic() - started
    return built


COUNTED = {"kiosks": "kiosks", "posts": "wall_posts", "courses": "class_courses", "experts": "directory_experts",
           "cards": "friends_cards"}


def vacuum_and_count(url: str, community_id: int) -> dict:
    """VACUUM ANALYZE (statistics and visibility map, as autovacuum would give a database in
    use), then rows per table: in all, and in the measured community. As the connecting
    superuser, so row-level security does not hide rows."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
            counts = {"communities": connection.scalar(text("SELECT count(*) FROM communities"))}
            for what, table in COUNTED.items():
                total, own = connection.execute(text(
                    f"SELECT count(*), count(*) FILTER (WHERE community_id = :c) FROM {table}"),
                    {"c": community_id}).one()
                counts[what] = (total, own)
    finally:
        engine.dispose()
    return counts


def check_counts(name: str, built: Built, communities: int) -> None:
    expected = {"kiosks": KIOSKS, "posts": POSTS, "courses": COURSES, "experts": EXPERTS, "cards": CARDS}
    if built.counts["communities"] != communities:
        raise BenchError(f"{name}: {built.counts['communities']} communities, expected {communities}")
    for what, each in expected.items():
        total, own = built.counts[what]
        if own != each or total != each * communities:
            raise BenchError(f"{name}: {what}: {total} in all and {own} in the measured community; "
                             f"expected {each * communities} and {each}")


# --- measuring ----------------------------------------------------------------------------

def kiosk_cookie(server: Server, slug: str, token: str) -> str:
    """The cookies an enrolled kiosk sends once it has loaded its home page: its device
    token and the session its CSRF token lives in (as served.kiosk_cookie, under /c/<slug>/)."""
    status, headers, body = get(server, f"/c/{slug}/",
                                {"Cookie": f"{DEVICE_COOKIE}={token}", "Accept-Language": CHINESE_BROWSER})
    if status != 200:
        raise BenchError(f"{server.name}: /c/{slug}/ answered {status} to an enrolled kiosk of that community\n"
                         f"{body[:500]!r}\n{server.log_text()[-3000:]}")
    session = re.search(r"(?:^|,\s*)session=([^;]+)", headers.get("Set-Cookie", ""))
    cookie = f"{DEVICE_COOKIE}={token}"
    return f"{cookie}; session={session.group(1)}" if session else cookie


def read_targets(slug: str) -> list[Target]:
    """The kiosk read pages served.py measures, in the community's URLs."""
    base = f"/c/{slug}"
    return [
        Target("home", f"{base}/", "page"),
        Target("wall", f"{base}/wall/", "page"),
        Target("wall #wall-list", f"{base}/wall/", "fragment", "wall-list"),
        Target("classes", f"{base}/classes/", "page"),
        Target("experts", f"{base}/experts/", "page"),
        Target("friends", f"{base}/friends/", "page"),
        Target("notices", f"{base}/notices/", "page"),
    ]


def warm_up(server: Server, cookie: str, targets: list[Target]) -> None:
    """Every target once, then a dozen times each on several connections: both workers have
    compiled every template and opened their database connections."""
    for target in targets:
        check(server, target, cookie)
    with ThreadPoolExecutor(gunicorn_conf.workers * gunicorn_conf.threads) as pool:
        list(pool.map(lambda target: check(server, target, cookie), targets * 12))
    no_tracebacks(server)


class Backends:
    """CPU time of the PostgreSQL backends serving one database (from /proc: the server
    runs on this machine)."""

    def __init__(self, admin, database: str):
        self.admin, self.database = admin, database

    def cpu_seconds(self) -> dict[int, float]:
        with self.admin.connect() as connection:
            pids = connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                      {"d": self.database}).all()
        seconds = {}
        for pid in pids:
            try:
                after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds[pid] = (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")
        return seconds


@dataclass
class Runs:
    loads: list = field(default_factory=list)
    db_cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        return sum(load.requests for load in self.loads)

    def p(self, fraction: float) -> float:
        return percentile_ms([load.histogram for load in self.loads], fraction)

    @property
    def cpu_ms(self) -> float:
        return sum(load.server_cpu_s for load in self.loads) * 1000 / self.requests

    @property
    def db_cpu_ms(self) -> float:
        return self.db_cpu_s * 1000 / self.requests

    @property
    def rps(self) -> float:
        return self.requests / sum(load.seconds for load in self.loads)


def measure(servers: dict[str, Server], cookies: dict[str, str], targets: dict[str, list[Target]],
            backends: dict[str, Backends], seconds: int, scratch: Path) -> dict[tuple[str, str], Runs]:
    runs = {(name, target.label): Runs() for name in servers for target in targets[name]}
    order = list(servers)
    for round_number in range(ROUNDS):
        names = order if round_number % 2 == 0 else order[::-1]
        for index in range(len(targets[order[0]])):
            for name in names:
                target = targets[name][index]
                before = backends[name].cpu_seconds()
                load: Load = wrk(servers[name], target.path, target.headers(cookies[name]), target.status, seconds,
                                 CONNECTIONS, scratch)
                after = backends[name].cpu_seconds()
                figures = runs[name, target.label]
                figures.loads.append(load)
                figures.db_cpu_s += sum(value - before.get(pid, 0.0) for pid, value in after.items())
    return runs


# --- the report ---------------------------------------------------------------------------

def report(runs: dict[tuple[str, str], Runs], targets: list[Target], many: int) -> tuple[list[str], int, int]:
    """The table's lines; how many ratios meet the target, of how many."""
    header = ["page", "1 comm. p50", "p99", "CPU", f"{many} comm. p50", "p99", "CPU",
              "p50 ratio", "p99 ratio", "CPU ratio"]
    rows, met, total = [], 0, 0
    for target in targets:
        one, fifty = runs["one", target.label], runs["fifty", target.label]
        figures = [(one.p(0.5), fifty.p(0.5)), (one.p(0.99), fifty.p(0.99)), (one.cpu_ms, fifty.cpu_ms)]
        ratios = []
        for alone, among in figures:
            ratio = round(among / alone, 2)  # judged as printed
            ok = ratio <= TARGET_RATIO
            met, total = met + ok, total + 1
            ratios.append(f"{ratio:.2f} {'yes' if ok else 'NO'}")
        rows.append([target.label,
                     f"{one.p(0.5):.2f}", f"{one.p(0.99):.2f}", f"{one.cpu_ms:.2f}",
                     f"{fifty.p(0.5):.2f}", f"{fifty.p(0.99):.2f}", f"{fifty.cpu_ms:.2f}", *ratios,
                     f"{one.rps:,.0f} / {fifty.rps:,.0f} req/s; PostgreSQL CPU {one.db_cpu_ms:.2f} / "
                     f"{fifty.db_cpu_ms:.2f} ms/req"])
    widths = [max(len(row[column]) for row in rows + [header]) for column in range(len(header))]
    titles = header + [f"detail (1 / {many} communities)"]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(titles, widths + [0])),
             "  ".join("-" * width for width in widths + [30])]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths + [0])).rstrip() for row in rows]
    return lines, met, total


def run(options, admin, base: Path, measured: int, progress) -> tuple[dict, dict, dict]:
    """Build both databases, serve them, measure: (built, targets, runs) by database."""
    built = {}
    for name, communities in (("one", 1), ("fifty", options.communities)):
        database = DATABASES[name]
        recreate(admin, database)
        progress(f"{database}: flask init --no-demo; {communities} communit{'y' if communities == 1 else 'ies'} "
                 f"of {KIOSKS} kiosks, {POSTS:,} posts, {COURSES} courses, {EXPERTS} experts, {CARDS} cards")
        built[name] = build(base / name, database_url(options.postgres, database), communities, measured, progress)
        check_counts(database, built[name], communities)
        counts = built[name].counts
        progress(f"  {database}: {counts['communities']} communit{'y' if communities == 1 else 'ies'}, "
                 f"{counts['posts'][0]:,} posts, "
                 f"{counts['kiosks'][0]} kiosks in {built[name].seconds:.0f} s; measured: /c/{built[name].slug}/")
    servers = {name: Server(f"linli, {DATABASES[name]}", "wsgi:app", base / f"gunicorn-{name}.log",
                            instance=built[name].instance, cpu=SERVER_CPU) for name in built}
    try:
        for server in servers.values():
            server.start()
        cookies = {name: kiosk_cookie(servers[name], built[name].slug, built[name].token) for name in servers}
        targets = {name: read_targets(built[name].slug) for name in servers}
        for name in servers:
            warm_up(servers[name], cookies[name], targets[name])
        backends = {name: Backends(admin, DATABASES[name]) for name in servers}
        progress(f"served by gunicorn {gunicorn_conf.worker_class}, {gunicorn_conf.workers} workers x "
                 f"{gunicorn_conf.threads} threads (app.gunicorn_conf) on CPU {SERVER_CPU}; wrk on CPU {LOAD_CPU}; "
                 f"{ROUNDS * len(targets['one']) * len(servers)} runs of {options.seconds} s")
        runs = measure(servers, cookies, targets, backends, options.seconds, base)
        for server in servers.values():
            no_tracebacks(server)
    finally:
        for server in servers.values():
            server.stop()
    return built, targets, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help=f"length of each wrk run ({ROUNDS} per figure)")
    parser.add_argument("--communities", type=int, default=50, help="communities in the larger database")
    parser.add_argument("--postgres", default=POSTGRES,
                        help="URL of a maintenance database to create and drop the benchmark's from "
                             "(its contents are never touched)")
    parser.add_argument("--keep", action="store_true", help="keep the two databases afterwards")
    options = parser.parse_args()
    if options.communities < 2:
        parser.error("--communities must be at least 2")
    if not options.postgres.startswith("postgresql"):
        parser.error("--postgres must be a PostgreSQL URL")
    if not shutil.which("wrk"):
        raise SystemExit("benchmarks/communities.py needs wrk: apt-get install wrk (make bench installs it as root)")
    many = options.communities
    measured = (many + 1) // 2
    started = time.monotonic()
    began = dt.datetime.now().astimezone()
    load_before = os.getloadavg()

    def progress(what: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {what}", flush=True)

    admin = admin_engine(options.postgres)
    try:
        with admin.connect():
            pass
    except Exception as error:  # noqa: BLE001
        raise SystemExit(f"benchmarks/communities.py needs PostgreSQL at {options.postgres}: {error}") from None
    try:
        with tempfile.TemporaryDirectory(prefix="linli-communities-") as tmp:
            built, targets, runs = run(options, admin, Path(tmp), measured, progress)
    finally:
        if options.keep:
            print(f"PostgreSQL databases kept: {', '.join(DATABASES.values())}")
        else:
            for database in DATABASES.values():
                drop(admin, database)
        admin.dispose()

    lines, met, total = report(runs, targets["one"], many)
    print()
    print(f"Kiosk pages with one community vs {many} (PostgreSQL), as the first kiosk of community "
          f"{measured} of {many} (/c/{built['fifty'].slug}/) and of the single one (/c/{built['one'].slug}/); "
          f"each community {KIOSKS} kiosks, {POSTS:,} posts, {COURSES} courses, {EXPERTS} experts, {CARDS} cards.")
    print(f"wrk, {CONNECTIONS} keep-alive connections, {ROUNDS} x {options.seconds} s per figure, databases "
          "alternating. p50/p99 in ms; CPU = gunicorn worker CPU ms per request.")
    print()
    for line in lines:
        print(line)
    print()
    print(f"target: ratio <= {TARGET_RATIO:g} ({many} communities / 1, each figure): {met} of {total} ratios meet it "
          "(not asserted: the machine and its PostgreSQL are shared, and the figures are noisy).")
    load_after = os.getloadavg()
    busy = load_before[0] > (os.cpu_count() or 1)
    print(f"Load average (1, 5, 15 min), {os.cpu_count()} CPUs: {'/'.join(f'{x:.1f}' for x in load_before)} when the "
          f"run began" + (" (above the CPU count: other work shared the CPUs; the p99s show it most)" if busy else "")
          + f", {'/'.join(f'{x:.1f}' for x in load_after)} at its end (this run's own server, wrk and PostgreSQL "
          "included). A p99 of ~1,000 requests rests on its ~10 slowest.")
    print(f"Run began {began:%Y-%m-%d %H:%M:%S %Z}; whole run {time.monotonic() - started:.0f} s. "
          f"Reproduce: make bench (or .venv/bin/python benchmarks/communities.py --seconds {options.seconds} "
          f"--communities {many}).")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"\nbenchmarks/communities.py FAILED: {error}", file=sys.stderr)
        sys.exit(1)
