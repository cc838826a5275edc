from flask import Blueprint

bp = Blueprint("friends", __name__, url_prefix="/friends")

from . import routes
