from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

from . import routes
from . import settings  # registers the area's settings and their defaults
