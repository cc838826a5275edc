"""The rush from phones: a class notice lands in a 500-member WeChat group.

Against the default server (`gunicorn --config python:app.gunicorn_conf wsgi:app`, 2 gthread
workers x 4 threads) on SQLite, then on PostgreSQL: 500 phones, each bound to a household of
its own, open the course page once within a minute, each on a new connection as a phone
from the group would; 300 of them, with the page loaded, tap "sign up" for a 20-seat course
at the same instant (released together by a barrier). The other phones' page loads go on
through the rush.

It prints: sign-up answers (p50, p99, slowest), page loads (p50, p99), the whole rush, and
what was stored: exactly SEATS confirmed, the rest waitlisted in arrival order (the seats
went to arrivals 1..SEATS, the waitlist is arrivals SEATS+1.. in turn), no 5xx. It stops
with an error on any unexpected answer; it asserts no time (machines are noisy).

Run: .venv/bin/python benchmarks/phone_rush.py [--phones 500] [--signers 300] [--seats 20]
     [--window 60] [--database sqlite|postgresql|both] [--postgres URL]
"""

import argparse
import html
import http.client
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for _name in ("LINLI_WORKERS", "LINLI_THREADS", "LINLI_ACCESS_LOG", "LINLI_BIND", "LINLI_INSTANCE", "SECRET_KEY"):
    os.environ.pop(_name, None)

from sqlalchemy import create_engine, text

from app import gunicorn_conf
from app.households.services import PHONE_COOKIE
from benchmarks.communities import POSTGRES, admin_engine, database_url, drop, recreate
from benchmarks.served import BenchError, Server, _finish, _flask, no_tracebacks

WECHAT = ("Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
          "Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47")
CSRF = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')
DATABASE = "linli_bench_rush"
# Signers load their page in the first part of the window; the rush comes after it.
RUSH_AT = 0.35


@dataclass
class Phone:
    number: int
    token: str
    load_at: float
    signs_up: bool
    session: str = ""
    csrf: str = ""
    page_ms: float = 0.0
    page_status: int = 0
    signup_ms: float = 0.0
    signup_status: int = 0
    signup_text: str = ""


def rush_course(seats: int) -> int:
    """A first-come course whose sign-up opened a minute ago."""
    from datetime import time as clock_time, timedelta

    from app.classes import services as classes
    from app.clock import site_today, to_site, utcnow

    now, today = to_site(utcnow()).replace(microsecond=0), site_today()
    course = classes.save_course(None, classes.CourseData(
        title="乐高机器人编程", category="children", teacher="李老师", venue="三楼活动室", capacity=seats,
        term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=60),
        signup_opens_at=now - timedelta(minutes=1), signup_closes_at=now + timedelta(days=3),
        weekdays=(5,), start_time=clock_time(15, 0), minutes=90))
    classes.set_status(course.id, "open")
    return course.id


def prepare(instance: Path, url: str | None, phones: int, seats: int) -> tuple[int, list[str]]:
    """A migrated instance with one open course and `phones` households, each with a phone."""
    instance.mkdir(parents=True)
    if url:
        (instance / "config.py").write_text(f"SQLALCHEMY_DATABASE_URI = {url!r}\n")
    _finish(_flask(instance, "init", "--no-demo"), f"flask init --no-demo ({instance.name})")
    from app import create_app
    from app.communities import routing, scope
    from app.extensions import db
    from app.households import services as households
    from app.households.models import Household

    app = create_app(instance_path=str(instance))
    tokens = []
    with app.app_context(), scope.within(routing.default_community_id()):
        course_id = rush_course(seats)
        cards = households.issue("1号楼", "1单元", count=min(phones, households.BATCH_MAX))
        while len(cards) < phones:
            cards += households.issue(f"{len(cards) // 100 + 1}号楼", "1单元",
                                      count=min(phones - len(cards), households.BATCH_MAX))
        for card in cards:
            tokens.append(households._bind(db.session.get(Household, card.household.id), "code"))
        db.session.remove()
        db.engine.dispose()
    return course_id, tokens


def _connection(server: Server) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.host, server.port, timeout=60)


def load_page(server: Server, phone: Phone, path: str) -> None:
    connection = _connection(server)
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers={"Cookie": f"{PHONE_COOKIE}={phone.token}", "User-Agent": WECHAT,
                                                 "Accept-Language": "zh-CN,zh;q=0.9", "Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    phone.page_ms = (time.perf_counter() - started) * 1000
    phone.page_status = response.status
    found = CSRF.search(body)
    session = re.search(r"session=([^;]+)", response.getheader("Set-Cookie") or "")
    if response.status != 200 or not found or not session or 'id="sign-up"' not in body:
        raise BenchError(f"phone {phone.number}: GET {path} answered {response.status}:\n{body[:600]}")
    phone.csrf, phone.session = html.unescape(found.group(1)), session.group(1)


SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def _name(number: int) -> str:
    """A name of its own for each phone (names hold no digits)."""
    return SURNAMES[number % 20] + GIVEN[number // 20 % 20] + GIVEN[number // 400 % 20]


def sign_up(server: Server, phone: Phone, path: str) -> None:
    connection = _connection(server)
    body = urlencode({"name": _name(phone.number), "mobile": f"139{phone.number:08d}"})
    started = time.perf_counter()
    try:
        connection.request("POST", path, body=body, headers={
            "Cookie": f"{PHONE_COOKIE}={phone.token}; session={phone.session}", "User-Agent": WECHAT,
            "Accept-Language": "zh-CN,zh;q=0.9", "Connection": "close", "X-CSRFToken": phone.csrf,
            "HX-Request": "true", "HX-Target": "signup-form", "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        phone.signup_text = response.read().decode()
    finally:
        connection.close()
    phone.signup_ms = (time.perf_counter() - started) * 1000
    phone.signup_status = response.status


def rush(server: Server, course_id: int, tokens: list[str], signers: int, window: float, seed: int) -> dict:
    rng = random.Random(seed)
    rush_at = window * RUSH_AT
    phones = [Phone(number, token, 0.0, number < signers) for number, token in enumerate(tokens)]
    for phone in phones:
        phone.load_at = rng.uniform(0, rush_at * 0.9) if phone.signs_up else rng.uniform(0, window)
    page, action = f"/c/main/classes/{course_id}", f"/c/main/classes/{course_id}/sign-up"
    barrier = threading.Barrier(signers + 1)
    started = time.monotonic()

    def play(phone: Phone) -> None:
        time.sleep(max(0.0, started + phone.load_at - time.monotonic()))
        load_page(server, phone, page)
        if phone.signs_up:
            barrier.wait(timeout=window * 2)
            sign_up(server, phone, action)

    with ThreadPoolExecutor(max_workers=len(phones)) as pool:
        futures = [pool.submit(play, phone) for phone in phones]
        time.sleep(max(0.0, started + rush_at - time.monotonic()))
        cpu_before, own_before = server.cpu_seconds(), time.process_time()
        barrier.wait(timeout=window * 2)
        released = time.monotonic()
        while any(phone.signs_up and not phone.signup_status for phone in phones):
            time.sleep(0.01)
        rush_seconds, rush_cpu = time.monotonic() - released, server.cpu_seconds() - cpu_before
        own_cpu = time.process_time() - own_before
        for future in futures:
            future.result()
    return {"phones": phones, "total_seconds": time.monotonic() - started, "rush_seconds": rush_seconds,
            "rush_cpu": rush_cpu, "own_cpu": own_cpu}


def stored(url: str, course_id: int) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT state, arrival, queue_key, created_by FROM class_signups WHERE course_id = :course "
                "ORDER BY arrival"), {"course": course_id}).all()
            taken = connection.execute(text("SELECT taken FROM class_courses WHERE id = :course"),
                                       {"course": course_id}).scalar()
    finally:
        engine.dispose()
    return {"rows": rows, "taken": taken}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def check_and_report(name: str, result: dict, saved: dict, signers: int, seats: int) -> list[str]:
    phones = result["phones"]
    signups = [phone for phone in phones if phone.signs_up]
    errors = [phone for phone in phones if phone.page_status >= 500 or phone.signup_status >= 500]
    unexpected = [phone for phone in signups if phone.signup_status != 200]
    rows = saved["rows"]
    confirmed = [row for row in rows if row.state == "confirmed"]
    waitlisted = [row for row in rows if row.state == "waitlisted"]
    arrivals = [row.arrival for row in rows]
    problems = []
    if errors:
        problems.append(f"{len(errors)} answers were 5xx")
    if unexpected:
        problems.append(f"{len(unexpected)} sign-ups were not 200 (first: {unexpected[0].signup_status} "
                        f"{unexpected[0].signup_text[:300]})")
    if len(confirmed) != seats or saved["taken"] != seats:
        problems.append(f"{len(confirmed)} confirmed, course.taken {saved['taken']}, expected {seats}")
    if len(waitlisted) != signers - seats:
        problems.append(f"{len(waitlisted)} waitlisted, expected {signers - seats}")
    if arrivals != list(range(1, signers + 1)):
        problems.append("arrival numbers are not 1..N once each")
    if sorted(row.arrival for row in confirmed) != list(range(1, seats + 1)):
        problems.append("the seats did not go to the first arrivals")
    if [row.arrival for row in waitlisted] != sorted(row.queue_key for row in waitlisted):
        problems.append("the waitlist is not in arrival order")
    if problems:
        raise BenchError(f"{name}: " + "; ".join(problems))
    pages = [phone.page_ms for phone in phones]
    taps = [phone.signup_ms for phone in signups]
    return [
        f"{name}: {len(phones)} phones loaded the course page within {result['total_seconds']:.0f} s; "
        f"{signers} signed up at once for {seats} seats",
        f"  stored: {len(confirmed)} confirmed (arrivals 1–{seats}), {len(waitlisted)} waitlisted in arrival "
        f"order, 0 5xx",
        f"  the rush: every sign-up answered {result['rush_seconds']:.2f} s after the tap; the workers used "
        f"{result['rush_cpu']:.2f} s of CPU meanwhile ({result['rush_cpu'] * 1000 / signers:.1f} ms per sign-up, "
        f"page loads of the time included); the phones, simulated on the same two cores, used "
        f"{result['own_cpu']:.2f} s",
        f"  sign-up answered: p50 {statistics.median(taps):.0f} ms, p99 {percentile(taps, 0.99):.0f} ms, "
        f"slowest {max(taps):.0f} ms (target p99 ≤ 1500 ms)",
        f"  course page: p50 {statistics.median(pages):.0f} ms, p99 {percentile(pages, 0.99):.0f} ms "
        f"(target p99 ≤ 300 ms)",
    ]


def run_one(name: str, base: Path, url: str | None, options) -> list[str]:
    instance = base / name
    course_id, tokens = prepare(instance, url, options.phones, options.seats)
    server = Server(name, "wsgi:app", base / f"{name}.log", instance=instance).start()
    try:
        result = rush(server, course_id, tokens, options.signers, options.window, seed=7)
        no_tracebacks(server)
    finally:
        server.stop()
    saved = stored(url or f"sqlite:///{instance / 'linli.db'}", course_id)
    return check_and_report(name, result, saved, options.signers, options.seats)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--signers", type=int, default=300)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--window", type=float, default=60.0, help="seconds in which every phone loads the page")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL URL whose server may make a database")
    options = parser.parse_args()
    print(f"Phone rush: gunicorn {gunicorn_conf.workers} {gunicorn_conf.worker_class} workers x "
          f"{gunicorn_conf.threads} threads, every request on a new connection")
    lines = []
    with tempfile.TemporaryDirectory(prefix="linli-rush-") as scratch:
        base = Path(scratch)
        if options.database in ("sqlite", "both"):
            lines += run_one("SQLite", base, None, options)
            print("\n".join(lines[-5:]), flush=True)
        if options.database in ("postgresql", "both"):
            admin = admin_engine(options.postgres)
            recreate(admin, DATABASE)
            try:
                lines += run_one("PostgreSQL", base, database_url(options.postgres, DATABASE), options)
                print("\n".join(lines[-5:]), flush=True)
            finally:
                drop(admin, DATABASE)
                admin.dispose()


if __name__ == "__main__":
    main()
