"""Households (户码): a code per household binds residents' phones, so a phone at home can
do what a lobby kiosk does, counted per household."""

from flask import Blueprint

bp = Blueprint("households", __name__, url_prefix="/households")

from . import routes, services

bp.add_app_template_global(services.place, "household_place")
