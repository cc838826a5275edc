from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# access registers the session loader; the others register their views on bp.
from . import (access, accounts, audit_log, backups, case_figures, cases, classes, district, experts,
               friends, households, kiosks, notices, routes, share, summary, wall)
