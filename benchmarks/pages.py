"""What a board page costs when it is rendered, in-process: where the CPU goes.

Builds the served benchmark's content (`flask init --no-demo`, then `flask seed --posts
10000 --courses 40 --experts 300 --cards 100`) in a temporary instance, enrolls a kiosk,
and asks each board page through Flask's test client with the page cache off, as that
kiosk. For each page it prints the median CPU time of a request (the test client's own
work included), the part spent rendering templates (Jinja, with what templates call: the
statements a template's lazy values run, the links, the translations), and the statements
the request sent. Medians of --rounds requests per page; the pages take turns, so drift
is shared. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/pages.py [--rounds 60]
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask.templating
from sqlalchemy import event

from benchmarks.common import community_path, device_token, rounds
from benchmarks.served import OTHER_CONTENT, _finish, _flask

PAGES = (("/", {}), ("/notices/", {}), ("/wall/", {}), ("/wall/", {"HX-Target": "wall-list"}),
         ("/classes/", {}), ("/classes/1", {}), ("/experts/", {}), ("/experts/?q=s", {"HX-Target": "expert-list"}),
         ("/friends/", {}), ("/friends/", {"HX-Target": "card-list"}))


def main() -> None:
    per_page = rounds()
    with tempfile.TemporaryDirectory(prefix="linli-pages-") as tmp:
        instance = Path(tmp)
        _finish(_flask(instance, "init", "--no-demo"), "flask init --no-demo")
        _finish(_flask(instance, "seed", "--posts", "10000", *OTHER_CONTENT), "flask seed")
        from app import create_app
        from app.extensions import db
        from app.kiosk.devices import DEVICE_COOKIE

        app = create_app({"PAGE_CACHE": False}, instance_path=str(instance))
        client = app.test_client()
        client.set_cookie(DEVICE_COOKIE, device_token(app, "bench"))
        spent = {"render": 0.0, "statements": 0}
        render = flask.templating._render

        def timed_render(*args):
            started = time.process_time()
            try:
                return render(*args)
            finally:
                spent["render"] += time.process_time() - started

        flask.templating._render = timed_render
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", lambda *_: spent.update(statements=spent["statements"] + 1))

        def ask(path: str, headers: dict) -> tuple[float, float, int]:
            spent.update(render=0.0, statements=0)
            started = time.process_time()
            response = client.get(community_path(path), headers={"Accept-Language": "zh-CN", **(
                {"HX-Request": "true", **headers} if headers else {})})
            response.get_data()
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            return time.process_time() - started, spent["render"], spent["statements"]

        for path, headers in PAGES:  # warm up: templates compiled, statements cached
            for _ in range(3):
                ask(path, headers)
        figures = {page: [] for page in range(len(PAGES))}
        for _ in range(per_page):
            for number, (path, headers) in enumerate(PAGES):
                figures[number].append(ask(path, headers))
        print(f"Rendered board pages in-process (page cache off), as an enrolled kiosk; median of {per_page} each")
        print(f"{'page':32} {'CPU ms':>7} {'render':>7} {'statements':>10}")
        for number, (path, headers) in enumerate(PAGES):
            runs = figures[number]
            label = path + (f" #{headers['HX-Target']}" if headers else "")
            print(f"{label:32} {statistics.median(run[0] for run in runs) * 1000:7.2f} "
                  f"{statistics.median(run[1] for run in runs) * 1000:7.2f} {runs[-1][2]:10d}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
