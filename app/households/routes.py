"""The phone's side of a household card: type the code, or open the card's QR link, and the
phone is bound (a device cookie of its own, never the code)."""

import secrets

from flask import current_app, redirect, render_template, request, session, url_for
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..kiosk.devices import current_kiosk
from ..limits import rate_limited
from . import bp, services

TWO_YEARS = 2 * 365 * 24 * 3600


class JoinForm(Form):
    code = StringField(_l("Household code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 10 letters and digits on your household card, e.g. ABCDE-23456"),
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    submit = SubmitField(_l("Link this phone"))


class LinkForm(Form):
    submit = SubmitField(_l("Link this phone"))


def _phone_key() -> str:
    """Who a typed code counts against before the phone is bound: this browser's session."""
    if services.PHONE_KEY not in session:
        session[services.PHONE_KEY] = secrets.token_urlsafe(9)
    return f"phone:{session[services.PHONE_KEY]}"


def _address_key() -> str:
    return f"ip:{request.remote_addr}"


def _bound(token: str):
    response = redirect(url_for("households.join", linked=1), code=303)
    response.set_cookie(services.PHONE_COOKIE, token, max_age=TWO_YEARS, httponly=True, samesite="Lax",
                        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]) or request.is_secure)
    return response


def _join_page(form=None, status: int = 200):
    return render_template("households/join.html", form=form or JoinForm(formdata=None),
                           phone=services.current_phone(), is_kiosk=current_kiosk() is not None,
                           linked=request.args.get("linked") == "1"), status


@bp.get("/")
def join():
    """How a phone gets linked to its household, and whether this one is."""
    return _join_page()


@bp.post("/")
@rate_limited("household-code-address", "30 per 10 minutes", _address_key)
@rate_limited("household-code", "5 per 10 minutes", _phone_key)
def join_with_code():
    form = JoinForm()
    if current_kiosk() is not None:
        return _join_page(form, 403)
    if form.validate_on_submit():
        try:
            return _bound(services.bind_with_code(form.code.data))
        except services.HouseholdError as error:
            form.code.errors.append(str(error))
    return _join_page(form, 422)


@bp.get("/link/<token>")
def join_link(token: str):
    """The card's QR code: a page asking to link, so a link preview (WeChat fetches one) binds nothing."""
    household = services.household_for_link(token)
    return render_template("households/join_link.html", household=household, form=LinkForm(), error=None,
                           is_kiosk=current_kiosk() is not None), 200 if household else 410


@bp.post("/link/<token>")
@rate_limited("household-code-address", "30 per 10 minutes", _address_key)
def join_with_link(token: str):
    form = LinkForm()
    if current_kiosk() is not None:
        return render_template("households/join_link.html", household=None, form=form, is_kiosk=True, error=None), 403
    try:
        return _bound(services.bind_with_link(token))
    except services.HouseholdError as error:
        # The page of a used link is gone (410); sending its form again is refused, with why.
        return render_template("households/join_link.html", household=None, form=form, error=str(error),
                               is_kiosk=False), 422
