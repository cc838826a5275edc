"""After the soak, with the server stopped: is everything that was acknowledged in the
database, do the counters match the rows, is the database sound, is the log clean, and
did any request fail where no kill or restart explains it."""

import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from benchmarks.soak_actors import POSTED_STATES, Ledger

# Refusals a race makes legitimate: the post left the wall before the report came, the
# sign-up was cancelled (at the desk, or by a request whose answer was lost) meanwhile.
LEGITIMATE_4XX = {
    ("GET #post-actions /wall/posts/<id>/report", 404),
    ("POST /wall/posts/<id>/report", 404),
    ("POST /wall/posts/<id>/report", 422),
    ("POST /classes/cancel", 422),
    ("POST /staff/classes/signups/<id>/cancel", 422),
}
MODERATION_AUDIT = {"approve": "post-approved", "reject": "post-rejected", "hide": "post-hidden",
                    "status": "problem-status-changed", "reply": "post-replied"}
TRACEBACK = re.compile(r"^Traceback \(most recent call last\)")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Chaos:
    kills: list          # (monotonic time, pid)
    restart: tuple | None  # (SIGTERM sent, answering again), monotonic


def _sample(items, limit: int = 5) -> str:
    items = list(items)
    shown = ", ".join(str(item) for item in items[:limit])
    return f"{len(items)}: {shown}{' …' if len(items) > limit else ''}"


def _check(checks: list, name: str, problems, detail_ok: str = "") -> None:
    problems = list(problems)
    checks.append(Check(name, not problems, _sample(problems) if problems else detail_ok))


# --- requests ------------------------------------------------------------------------------

def classify(records, chaos: Chaos) -> dict:
    """Every request's outcome: where a failure falls (the restart window, a killed
    worker's connection, or nowhere it is explained)."""
    window = chaos.restart
    kill_times = sorted(at for at, _pid in chaos.kills)
    out = {"failures": Counter(), "unexplained": [], "5xx outside": [], "4xx unexpected": Counter()}
    for record in records:
        in_window = window is not None and record.start <= window[1] + 0.5 and record.end >= window[0]
        if record.status >= 500:
            if in_window:
                out["failures"]["HTTP 5xx in the restart window"] += 1
            else:
                out["5xx outside"].append(f"{record.kind} {record.status}")
        elif 400 <= record.status < 500 and (record.kind, record.status) not in LEGITIMATE_4XX:
            out["4xx unexpected"][f"{record.kind} {record.status}"] += 1
        if record.status:
            continue
        # A broken connection: overlapping the restart, or last good before the new server answered.
        if in_window or (window is not None and record.end >= window[0] and record.alive_since <= window[1]):
            out["failures"][f"{record.error}, restart window"] += 1
        elif any(record.alive_since - 0.05 <= at <= record.end for at in kill_times):
            out["failures"][f"{record.error}, worker killed"] += 1
        else:
            out["failures"][f"{record.error}, unexplained"] += 1
            out["unexplained"].append(f"{record.kind}: {record.error}")
    return out


# --- the log -------------------------------------------------------------------------------

def scan_log(log: str, killed_pids: set[int]) -> dict:
    """Tracebacks in gunicorn's log, but for any that is about a worker the soak killed
    (its "pid: N" in the traceback's own lines); "database is locked" anywhere. A worker
    killed later does not excuse what it logged while alive."""
    lines = log.splitlines()
    tracebacks, excused = [], 0
    for number, line in enumerate(lines):
        if not TRACEBACK.search(line):
            continue
        block = [line] + list(itertools.takewhile(lambda later: not later.startswith("["), lines[number + 1:]))
        text_of_block = " ".join(block).replace("pid: ", "pid:")
        if any(f"pid:{pid}" in text_of_block for pid in killed_pids):
            excused += 1
            continue
        last = next((later for later in reversed(block) if later and not later.startswith(" ")), line)
        tracebacks.append(f"line {number + 1}: {last[:160]}")
    return {"locked": sum("database is locked" in line for line in lines), "tracebacks": tracebacks,
            "excused": excused}


# --- the database --------------------------------------------------------------------------

def _rows(connection, sql: str):
    return connection.execute(text(sql)).mappings().all()


def verify_database(url: str, ledger: Ledger, *, kiosk_ids: list[int], staff: dict[str, int],
                    survey_id: int, on_sqlite: bool) -> list[Check]:
    checks: list[Check] = []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            audit = Counter((row["action"], row["target_type"], row["target_id"]) for row in _rows(
                connection, "SELECT action, target_type, target_id FROM audit_entries"))
            _wall(connection, checks, ledger, audit)
            _classes(connection, checks, ledger, audit)
            _the_rest(connection, checks, ledger, audit, kiosk_ids, staff, survey_id)
            if on_sqlite:
                integrity = [row[0] for row in connection.execute(text("PRAGMA integrity_check"))]
                _check(checks, "PRAGMA integrity_check is ok", [] if integrity == ["ok"] else integrity)
                _check(checks, "PRAGMA foreign_key_check finds nothing",
                       [tuple(row) for row in connection.execute(text("PRAGMA foreign_key_check"))])
    finally:
        engine.dispose()
    return checks


def _wall(connection, checks: list, ledger: Ledger, audit: Counter) -> None:
    posts = {row["receipt_code"]: row for row in _rows(
        connection, "SELECT id, receipt_code, kind, text, state, problem_status, reply, report_count, "
                    "reports_hidden FROM wall_posts")}
    posts_by_id = {row["id"]: row for row in posts.values()}

    # Posts: every acknowledged one, with its text and kind.
    _check(checks, "every acknowledged wall post is stored (receipt code, text, kind)",
           (ack.code for ack in ledger.posts
            if ack.code not in posts or posts[ack.code]["text"] != ack.text or posts[ack.code]["kind"] != ack.kind),
           f"{len(ledger.posts)} found")
    _check(checks, "each acknowledged post has its audit entry",
           (ack.code for ack in ledger.posts
            if ack.code in posts and not audit[("post-created", "wall_posts", posts[ack.code]["id"])]))

    # Moderation: what was acknowledged last holds, or what an unanswered request (which
    # may or may not have landed) set.
    changes = defaultdict(list)
    for change in ledger.staff_changes:
        changes[(change.post_id, change.field)].append(change)
    wrong, unaudited = [], []
    for (post_id, field), done in changes.items():
        row = posts_by_id.get(post_id)
        acked = [change for change in done if change.acked]
        allowed = {change.value for change in done if not change.acked}
        if acked:
            allowed.add(acked[-1].value)
        elif field == "state":
            allowed.update(POSTED_STATES)
        else:
            continue
        if row is None or str(row[field]) not in allowed:
            wrong.append(f"post {post_id} {field}={row and row[field]!r}, expected one of {sorted(allowed)}")
        for change in acked:
            if not audit[(MODERATION_AUDIT[change.action], "wall_posts", post_id)]:
                unaudited.append(f"{change.action} post {post_id}")
    moderated = {post_id for post_id, field in changes if field == "state"}
    for ack in ledger.posts:
        row = posts.get(ack.code)
        if row is not None and row["id"] not in moderated and row["state"] not in POSTED_STATES:
            wrong.append(f"post {ack.code} is {row['state']}, and no moderator acted on it")
    _check(checks, "posts are as posted or as a moderator's acknowledged action left them", wrong,
           f"{sum(change.acked for change in ledger.staff_changes)} acknowledged moderations")
    _check(checks, "each acknowledged moderation has its audit entry", unaudited)

    # Reports: each acknowledged one stored; each post's count is its reports.
    reports = _rows(connection, "SELECT post_id, reporter FROM wall_reports")
    stored = {(row["post_id"], row["reporter"]) for row in reports}
    _check(checks, "every acknowledged report is stored", sorted(ledger.reports_acked - stored),
           f"{len(ledger.reports_acked)} found")
    per_post = Counter(row["post_id"] for row in reports)
    _check(checks, "each post's report_count equals its reports; hidden by reports only at 3+",
           [f"post {row['id']}: report_count {row['report_count']}, {per_post[row['id']]} reports"
            for row in posts.values()
            if row["report_count"] != per_post[row["id"]] or (row["reports_hidden"] and per_post[row["id"]] < 3)])
    version = connection.execute(text("SELECT version FROM board_versions WHERE board = 'wall'")).scalar() or 0
    _check(checks, "the wall's version ≥ 1 + the acknowledged changes it shows",
           [] if version >= 1 + ledger.wall_bumps else [f"version {version}, {ledger.wall_bumps} changes acknowledged"],
           f"version {version} ≥ 1 + {ledger.wall_bumps}")


def _classes(connection, checks: list, ledger: Ledger, audit: Counter) -> None:
    signups = _rows(connection, "SELECT id, course_id, code, mobile, state, source, arrival FROM class_signups")
    by_code = {row["code"]: row for row in signups}
    cancel_tried = ledger.cancel_codes_tried | {row["code"] for row in signups
                                                if row["id"] in ledger.staff_cancels_tried}
    cancel_acked = ledger.cancel_codes_acked | {row["code"] for row in signups
                                                if row["id"] in ledger.staff_cancels_acked}
    later = {"confirmed": {"confirmed"}, "waitlisted": {"waitlisted", "confirmed"}}
    wrong = []
    for ack in ledger.signups:
        row = by_code.get(ack.code)
        if row is None or row["course_id"] != ack.course_id:
            wrong.append(f"{ack.code} missing")
            continue
        allowed = set(later[ack.state])
        if ack.code in cancel_tried:
            allowed.add("cancelled")
        if ack.code in cancel_acked:
            allowed = {"cancelled"}
        if row["state"] not in allowed:
            wrong.append(f"{ack.code} acknowledged {ack.state}, now {row['state']}")
        elif row["state"] != "cancelled" and row["mobile"] != ack.mobile:
            wrong.append(f"{ack.code} has another number")
    _check(checks, "every acknowledged sign-up is stored, in its state or a later legitimate one", wrong,
           f"{len(ledger.signups)} found")
    # Assisted sign-ups are known by course and number; a cancelled one has no number left,
    # so those are counted: each course needs as many as were acknowledged and are missing.
    assisted = [row for row in signups if row["source"] == "assisted"]
    numbers = {(row["course_id"], row["mobile"]) for row in assisted if row["state"] != "cancelled"}
    missing = Counter(course for course, mobile in ledger.assisted if (course, mobile) not in numbers)
    cancelled = Counter(row["course_id"] for row in assisted
                        if row["state"] == "cancelled" and row["id"] in ledger.staff_cancels_tried)
    _check(checks, "every acknowledged assisted sign-up is stored, with its audit entry",
           [f"course {course}: {count} missing" for course, count in missing.items() if count > cancelled[course]]
           + [f"signup {row['id']} unaudited" for row in assisted
              if not audit[("signup-assisted", "class_signups", row["id"])]],
           f"{len(ledger.assisted)} found")
    _check(checks, "every acknowledged cancellation holds (resident's code or staff)",
           [code for code in cancel_acked if code in by_code and by_code[code]["state"] != "cancelled"]
           + [f"signup {signup_id} unaudited" for signup_id in ledger.staff_cancels_acked
              if not audit[("signup-cancelled", "class_signups", signup_id)]],
           f"{len(cancel_acked)} cancelled")
    _check(checks, "no sign-up is cancelled that nobody asked to cancel",
           [row["code"] for row in signups if row["state"] == "cancelled" and row["code"] not in cancel_tried])

    # Course counters against the rows.
    courses = _rows(connection, "SELECT id, capacity, taken, arrivals, revision, status FROM class_courses")
    states = defaultdict(Counter)
    arrivals = defaultdict(list)
    for row in signups:
        states[row["course_id"]][row["state"]] += 1
        arrivals[row["course_id"]].append(row["arrival"])
    _check(checks, "each course's taken equals its confirmed sign-ups",
           [f"course {c['id']}: taken {c['taken']}, confirmed {states[c['id']]['confirmed']}" for c in courses
            if c["taken"] != states[c["id"]]["confirmed"]],
           f"{sum(c['taken'] for c in courses)} seats taken in {len(courses)} courses")
    _check(checks, "no course over capacity; full exactly when every seat is taken",
           [f"course {c['id']}: {c['taken']}/{c['capacity']} {c['status']}" for c in courses
            if c["taken"] > c["capacity"] or (c["status"] in ("open", "full")
                                              and (c["status"] == "full") != (c["taken"] >= c["capacity"]))])
    _check(checks, "nobody waits while a seat is free",
           [f"course {c['id']}: {states[c['id']]['waitlisted']} waiting, {c['taken']}/{c['capacity']}"
            for c in courses if states[c["id"]]["waitlisted"] and c["taken"] < c["capacity"]],
           f"{sum(s['waitlisted'] for s in states.values())} waiting")
    _check(checks, "arrivals ≥ sign-ups, arrival numbers unique and within arrivals",
           [f"course {c['id']}: arrivals {c['arrivals']}, {len(arrivals[c['id']])} sign-ups" for c in courses
            if c["arrivals"] < len(arrivals[c["id"]]) or len(set(arrivals[c["id"]])) != len(arrivals[c["id"]])
            or max(arrivals[c["id"]], default=0) > c["arrivals"]])
    _check(checks, "each course's revision ≥ its arrivals + cancellations",
           [f"course {c['id']}: revision {c['revision']}" for c in courses
            if c["revision"] < c["arrivals"] + states[c["id"]]["cancelled"]])


def _the_rest(connection, checks: list, ledger: Ledger, audit: Counter, kiosk_ids, staff, survey_id) -> None:
    """The survey's counters, kiosks' heartbeats, staff sessions, notices, wall settings."""
    survey = connection.execute(text(f"SELECT responses FROM class_surveys WHERE id = {int(survey_id)}")).scalar()
    votes = connection.execute(text(
        f"SELECT COALESCE(SUM(votes), 0) FROM class_survey_options WHERE survey_id = {int(survey_id)}")).scalar()
    acked, tried = ledger.acked["survey answer"], ledger.tried["survey answer"]
    _check(checks, "survey: acknowledged ≤ responses ≤ sent; votes add up to responses (one choice each)",
           [] if acked <= survey <= tried and votes == survey else [f"responses {survey}, votes {votes}, "
                                                                    f"acknowledged {acked}, sent {tried}"],
           f"{survey} responses")
    seen = {row["id"] for row in _rows(connection, "SELECT id FROM kiosks WHERE last_seen_at IS NOT NULL")}
    _check(checks, "every kiosk whose heartbeat was acknowledged is seen", sorted(ledger.heartbeats - seen),
           f"{len(ledger.heartbeats)} of {len(kiosk_ids)} kiosks")
    sessions = {row["member_id"]: row for row in _rows(
        connection, "SELECT member_id, COUNT(*) AS opened, COUNT(ended_at) AS ended FROM staff_sessions "
                    "GROUP BY member_id")}
    _check(checks, "staff sessions: opened ≥ acknowledged sign-ins, ended ≥ sign-outs, each audited",
           [name for name, member_id in staff.items()
            if sessions.get(member_id, {"opened": 0})["opened"] < ledger.sign_ins[name]
            or sessions.get(member_id, {"ended": 0})["ended"] < ledger.sign_outs[name]
            or audit[("signed-in", "staff_members", member_id)] < ledger.sign_ins[name]],
           f"{sum(ledger.sign_ins.values())} sign-ins, {sum(ledger.sign_outs.values())} sign-outs")
    titles = {row["title"] for row in _rows(connection, "SELECT title FROM notices")}
    kinds = {row["kind"] for row in _rows(connection, "SELECT kind FROM wall_kind_settings WHERE publish_first")}
    _check(checks, "every acknowledged notice and wall setting is stored",
           [title for title in ledger.notices if title not in titles]
           + [kind for kind in ledger.publish_first if kind not in kinds],
           f"{len(ledger.notices)} notices")
