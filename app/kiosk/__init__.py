from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from . import routes  # noqa: E402,F401
