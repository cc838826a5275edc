"""Localized error pages; never a traceback."""

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .i18n import lazy_gettext as _l


class Refused(ValueError):
    """An action was refused by a rule; the message is shown to the person who tried, next
    to the form field it concerns. Each area's subclass names its usual field."""

    default_field = "text"

    def __init__(self, message, field: str | None = None, **details):
        super().__init__(message)
        self.field = field or self.default_field
        self.details = details

# What a resident reads for each status; anything else reads as the nearest class.
MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back and try again.")),
    403: (_l("This is not available here"), _l("Please ask a member of staff for help.")),
    404: (_l("Page not found"), _l("The page may have moved or been removed.")),
    405: (_l("That action is not available here"), _l("Please go back and try again.")),
    413: (_l("That was too much to send"), _l("Please make it shorter and try again.")),
    422: (_l("Some characters cannot be used"),
          _l("Please go back and type it again: pasted text can carry hidden characters.")),
    429: (_l("Please wait a moment"), _l("Too many requests came from here. Try again shortly.")),
    500: (_l("Something went wrong on our side"),
          _l("Please try again in a moment. If it keeps happening, tell a member of staff.")),
}


def describe(code: int):
    if code in MESSAGES:
        return MESSAGES[code]
    return MESSAGES[500] if code >= 500 else MESSAGES[400]


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        response = render_template("errors.html", code=code, reason=None)
        headers = {}
        if code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return response, code, headers

    @app.errorhandler(InternalServerError)
    def server_error(error):
        # The failed request's transaction must not leak into the next one on this session.
        db.session.rollback()
        return render_template("errors.html", code=500, reason=None), 500

    @app.context_processor
    def error_messages():
        return {"describe_error": describe}
