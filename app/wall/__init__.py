from flask import Blueprint

bp = Blueprint("wall", __name__, url_prefix="/wall")

from . import routes
