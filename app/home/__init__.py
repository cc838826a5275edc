"""The kiosk's home screen and what sits above the boards: the tiles, the attract loop
that shows every board's news, and the upkeep enrolled kiosks' heartbeats set going."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from . import routes
