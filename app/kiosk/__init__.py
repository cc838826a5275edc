from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from . import routes
