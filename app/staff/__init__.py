from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import access, backups, classes, experts, friends, notices, routes, wall  # noqa: E402,F401  (access registers the session loader)
