"""Households (户码): a code per household binds residents' phones, so a phone at home can
do what a lobby kiosk does, counted per household."""

from flask import Blueprint

bp = Blueprint("households", __name__, url_prefix="/households")

from . import routes


@bp.app_template_global()
def household_place(record) -> str:
    """A household as a resident reads it: its building and unit."""
    return " ".join(part for part in (record.building, record.unit) if part)
