"""What any request may carry: no control characters, no bidi overrides, ids that fit.

Nobody types a NUL, an escape or a right-to-left override; they arrive by attack or on
pasted text, and PostgreSQL refuses a NUL outright (a 500) while SQLite stores it. One
hook refuses them in every query and form value before a view runs, so nothing is stored.
Ids in URLs and query strings must fit PostgreSQL's INTEGER, or the query fails.
"""

import re

from flask import abort, make_response, render_template, request
from werkzeug.routing import IntegerConverter

from .i18n import lazy_gettext as _l
from .web import events

# PostgreSQL's INTEGER, the type of every id column.
DB_INT_MAX = 2**31 - 1

# C0 and C1 controls but tab, line feed and carriage return; DEL; the bidi embeddings,
# overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_DIGITS = re.compile("[0-9]{1,10}")

INPUT_REFUSED = _l("What you typed has hidden characters that cannot be used. Please type it again.")


def unusable(text: str) -> bool:
    """True when text carries a character no form accepts (see _UNUSABLE)."""
    return _UNUSABLE.search(text) is not None


def int_or_none(value) -> int | None:
    """An id or count from a query or form value: ASCII digits up to DB_INT_MAX, else None.

    Unlike int(), refuses "²", "١٢", " 7", "+7" and "1_000"; usable as ``args.get(name, type=int_or_none)``.
    """
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= DB_INT_MAX else None


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in every rule: ASCII digits up to DB_INT_MAX; anything else is a 404."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        if self.max is None or self.max > DB_INT_MAX:
            self.max = DB_INT_MAX
        if self.min is None or self.min < -DB_INT_MAX - 1:
            self.min = -DB_INT_MAX - 1


# What werkzeug parses a body as form fields for; any other body (or none: a GET) has none.
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _values():
    for source in (request.args, request.form) if request.mimetype in _FORM_TYPES else (request.args,):
        for name, values in source.lists():
            yield name
            yield from values


def _refuse():
    """422 without running the view. htmx leaves the form as it was and shows a banner that
    goes by itself (CSS); a plain form gets the error page (errors.MESSAGES)."""
    if not request.htmx:
        abort(422)
    response = make_response(render_template("_input_refused.html", message=INPUT_REFUSED), 422)
    response.headers["HX-Reswap"] = "none"
    return events(response, input_refused={})


def unusable_request() -> bool:
    """Whether the page htmx reports, or a query or form name or value, holds what no form sends."""
    return unusable(request.headers.get("HX-Current-URL", "")) or any(unusable(value) for value in _values())


def check_request():
    """Before every view: query and form names and values, and the page htmx reports."""
    if any(unusable(str(value)) for value in (request.view_args or {}).values()):
        abort(404)  # a path no link makes: /h/<NUL>
    if unusable_request():
        return _refuse()
    return None


def init_app(app) -> None:
    """Before the blueprints: their rules take the converter as they are added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)
