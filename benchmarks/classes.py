"""How the classes board's kiosk reads scale with years of past courses.

Builds two SQLite databases: this term's demo courses alone, and the same plus 400 past
courses (about 10,000 meetings and 8,000 sign-ups, ten years of a busy community
college). Times, in one run and one process, what a kiosk asks for: this week's
timetable, the course list (#course-list), a course page (#main), and the live seat poll
unchanged (204) and changed. Prints medians and the ratio large / small (target: at most
1.2, the same as the wall's).

Run: .venv/bin/python benchmarks/classes.py [--rounds 400]
"""

import random
import statistics
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from app.classes import demo, services
from app.classes.models import CATEGORIES, Course, Meeting, Signup
from app.clock import site_today, utcnow
from app.extensions import db
from benchmarks.common import analyze, kiosk_client, median_ms, new_app, rounds

PAST_COURSES = 400
SIZES = ("this term", f"+{PAST_COURSES} past courses")


def _past_courses(count: int) -> None:
    """Finished courses of earlier terms, inserted in bulk: meetings and anonymous sign-ups."""
    rng = random.Random(count)
    today = site_today()
    courses, meetings, signups = [], [], []
    for number in range(count):
        starts = today - timedelta(days=120 + 9 * number)
        courses.append({"id": 10_000 + number, "title": f"往期课程 {number}", "title_en": "",
                        "category": rng.choice(CATEGORIES),
                        "teacher": "老师", "description": "", "description_en": "", "venue": "活动室", "venue_en": "",
                        "eligibility": "", "eligibility_en": "", "capacity": 20, "term_starts": starts,
                        "term_ends": starts + timedelta(weeks=12),
                        "signup_opens_at": datetime.combine(starts, time(9)) - timedelta(days=14),
                        "signup_closes_at": datetime.combine(starts, time(9)) - timedelta(days=7), "status": "finished",
                        "mode": "first_come", "taken": 20, "arrivals": 20, "revision": 1, "drop_reason": "",
                        "created_at": utcnow(), "updated_at": utcnow()})
        for week in range(24):
            meetings.append({"course_id": 10_000 + number, "minutes": 90,
                             "starts_at": datetime.combine(starts + timedelta(days=3 * week), time(1, 30))})
        for seat in range(20):
            signups.append({"course_id": 10_000 + number, "name": None, "mobile": None, "mobile_tail": None,
                            "masked_name": "", "code": f"{9_000_000 + number * 20 + seat:08d}", "state": "confirmed",
                            "source": "kiosk", "queue_key": seat + 1, "arrival": seat + 1, "created_by": "bench",
                            "created_at": utcnow()})
    for table, rows in ((Course, courses), (Meeting, meetings), (Signup, signups)):
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(table), rows[start:start + 2000])
    db.session.commit()


def build(directory: Path, past: int):
    app = new_app(directory)
    with app.app_context():
        demo.load()
        if past:
            _past_courses(past)
        analyze()
        course_id = db.session.scalar(select(Course.id).where(Course.title == "书法入门（楷书）"))
    return app, course_id


def main() -> None:
    rounds_per_figure = rounds()
    zh = {"Accept-Language": "zh-CN"}
    with tempfile.TemporaryDirectory() as tmp:
        built = {size: build(Path(tmp) / str(index), PAST_COURSES * index) for index, size in enumerate(SIZES)}
        clients = {size: kiosk_client(app) for size, (app, _course) in built.items()}
        requests = {}
        for size, (app, course_id) in built.items():
            with app.app_context():
                revision = services.revision(course_id)
            requests[size] = {
                "timetable (#main)": ("/classes/", {**zh, "HX-Request": "true", "HX-Target": "main"}, 200),
                "course list (#course-list)": ("/classes/all", {**zh, "HX-Request": "true",
                                                                "HX-Target": "course-list"}, 200),
                "course page (#main)": (f"/classes/{course_id}", {**zh, "HX-Request": "true",
                                                                  "HX-Target": "main"}, 200),
                "seat poll, unchanged (204)": (f"/classes/{course_id}/seats?v={revision}", {"HX-Request": "true"}, 204),
                "seat poll, changed": (f"/classes/{course_id}/seats?v=0", {**zh, "HX-Request": "true"}, 200),
            }
        names = list(requests[SIZES[0]])
        for size in SIZES:  # warm up: templates compiled, connections opened
            for url, headers, status in requests[size].values():
                median_ms(clients[size], url, headers, status, 20)
        samples = {(size, name): [] for size in SIZES for name in names}
        for _ in range(4):  # alternate so both databases see the same machine noise
            for size in SIZES:
                for name in names:
                    url, headers, status = requests[size][name]
                    samples[size, name].append(median_ms(clients[size], url, headers, status, rounds_per_figure // 4))

    print(f"Classes board kiosk reads, median of {rounds_per_figure} requests each, in-process test client, "
          "as an enrolled kiosk")
    print(f"{'request':<30} {SIZES[0] + ' ms':>14} {SIZES[1] + ' ms':>26} {'ratio':>7}")
    for name in names:
        small, large = (statistics.median(samples[size, name]) for size in SIZES)
        print(f"{name:<30} {small:>14.3f} {large:>26.3f} {large / small:>7.2f}")
    print("target: ratio at most 1.2")


if __name__ == "__main__":
    main()
