"""How the wall's fragment and its unchanged poll scale with the number of posts.

Builds two SQLite databases (100 and 10,000 approved posts), then times, in one run and
one process, the `#wall-list` fragment a kiosk asks for and the live poll that answers 204.
Prints medians and the ratios the wall issue sets targets for:

    fragment at 10,000 / fragment at 100   at most 1.2
    unchanged 204 poll / fragment render    at most 0.5

Run: .venv/bin/python benchmarks/wall.py [--rounds 400]
"""

import random
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from app.boards import bump_version
from app.clock import utcnow
from app.extensions import db
from app.wall.services import version
from app.wall.models import KINDS, Post
from benchmarks.common import analyze, kiosk_client, median_ms, new_app, rounds

SIZES = (100, 10_000)
PHRASES = ["希望小区多种些花草", "谢谢保安师傅每天辛苦站岗", "祝邻居们新年快乐、身体健康", "建议在东门加一个充电棚",
           "3号楼的路灯坏了好几天", "Thanks to the volunteers at the health check", "想找一起下象棋的伙伴",
           "垃圾桶旁边的味道很大，希望多清运一次"]


def build(directory: Path, posts: int):
    app = new_app(directory)
    rng = random.Random(posts)
    now = utcnow()
    with app.app_context():
        rows = []
        for number in range(posts):
            kind = rng.choice(KINDS)
            at = now - timedelta(minutes=posts - number)
            rows.append({
                "kind": kind, "text": rng.choice(PHRASES), "public_text": rng.choice(PHRASES),
                "text_key": f"{number:064d}", "nickname": rng.choice(["", "李阿姨", "老王", "Anna"]),
                "location": "3号楼" if kind == "problem" else "",
                "state": "approved", "check_reasons": "", "needs_review": False, "pinned": number % 997 == 0,
                "reports_hidden": False, "report_count": 0, "receipt_code": f"{number:08d}", "posted_by": "bench",
                "created_at": at, "published_at": at, "reject_reason": "",
                "problem_status": "in_progress" if kind == "problem" else None,
                "reply": "已转交物业" if kind == "problem" else "",
            })
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(Post), rows[start:start + 2000])
        bump_version("wall")
        db.session.commit()
        analyze()
    return app


def main() -> None:
    rounds_per_figure = rounds()
    fragment_headers = {"HX-Request": "true", "HX-Target": "wall-list", "Accept-Language": "zh-CN"}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        apps = {size: build(Path(tmp) / str(size), size) for size in SIZES}
        # Each client is an enrolled kiosk, as in the lobby: its device cookie is looked up
        # on every request, the poll included.
        clients, versions = {}, {}
        for size, app in apps.items():
            clients[size] = kiosk_client(app)
            with app.app_context():
                versions[size] = version()
        # Warm up each app (templates compiled, connections opened), then alternate rounds
        # so both sizes see the same machine noise.
        for size in SIZES:
            median_ms(clients[size], "/wall/", fragment_headers, 200, 50)
        fragment = {size: [] for size in SIZES}
        poll = {size: [] for size in SIZES}
        for _ in range(4):
            for size in SIZES:
                fragment[size].append(median_ms(clients[size], "/wall/", fragment_headers, 200, rounds_per_figure // 4))
                poll[size].append(median_ms(clients[size], f"/wall/live?v={versions[size]}", {"HX-Request": "true"},
                                            204, rounds_per_figure // 4))
        for size in SIZES:
            results[size] = (statistics.median(fragment[size]), statistics.median(poll[size]))

    print(f"Wall fragment (#wall-list, 20 cards) and unchanged live poll, median of {rounds_per_figure} requests each,"
          " in-process test client, as an enrolled kiosk")
    print(f"{'posts':>8} {'fragment ms':>12} {'poll (204) ms':>14} {'poll/fragment':>14}")
    for size in SIZES:
        render, unchanged = results[size]
        print(f"{size:>8} {render:>12.3f} {unchanged:>14.3f} {unchanged / render:>14.2f}")
    ratio = results[SIZES[1]][0] / results[SIZES[0]][0]
    print(f"fragment at {SIZES[1]:,} / at {SIZES[0]}: {ratio:.2f} (target at most 1.2)")
    worst_poll = max(results[size][1] / results[size][0] for size in SIZES)
    print(f"poll / fragment, worst of the two: {worst_poll:.2f} (target at most 0.5)")


if __name__ == "__main__":
    main()
