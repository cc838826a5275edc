from flask import Blueprint

bp = Blueprint("matchmaking", __name__, url_prefix="/friends")

from . import routes  # noqa: E402,F401
