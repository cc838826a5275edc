"""The baselines benchmarks/served.py compares linli with, served by the same gunicorn
settings (`--config python:app.gunicorn_conf benchmarks.hello_app:app`):

- `/`       a bare Flask "hello": the most a Flask app can do per request on this machine;
- `/htmx`   a minimal page with the project's vendored htmx and one button;
- `/tiny`   the tiny fragment that button swaps in, for the tap → painted baseline.
"""

from itertools import count
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
HTMX = "vendor/htmx-2.0.11.min.js"

app = Flask(__name__, static_folder=str(ROOT / "static"))
_taps = count(1)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>htmx baseline</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="{htmx}"></script></head>
<body><h1>htmx baseline</h1>
<button type="button" id="tap" hx-get="/tiny" hx-target="#tiny" hx-swap="outerHTML">Tap</button>
<p id="tiny">Not yet tapped.</p>
</body></html>
"""


@app.get("/")
def hello():
    return "hello"


@app.get("/htmx")
def htmx_page():
    return PAGE.format(htmx=f"/static/{HTMX}")


@app.get("/tiny")
def tiny():
    return f'<p id="tiny">Tapped {next(_taps)} times.</p>'
