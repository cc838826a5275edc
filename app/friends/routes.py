from flask import render_template, request
from flask_babel import gettext as _
from htmx_flask import make_response

from ..communities.routing import code_from_link
from ..communities.settings import setting
from ..errors import Refused
from ..boards import board_version_of, follows
from ..kiosk import handoff
from ..kiosk.page_cache import cached_page
from ..kiosk.access import actor_key, acting_device_required, code_lookup_limited, resident_key
from ..limits import rate_limited
from ..web import events, found_or_404, page_or_fragment
from . import bp, services
from .forms import CardForm, CardPrivateForm, CodeForm, MeetForm
from .models import AGE_BANDS, GENDERS, INTERESTS, LOOKING_FOR

BOARD = "friends"

FILTERS = {"gender": GENDERS, "age_band": AGE_BANDS, "looking_for": LOOKING_FOR, "interest": INTERESTS}


def _filters() -> dict:
    chosen = {name: request.args.get(name) for name in FILTERS if request.args.get(name) in FILTERS[name]}
    if request.args.get("area") in setting("FRIENDS_AREAS"):
        chosen["area"] = request.args["area"]
    return chosen


follows(BOARD, "friends_cards", "friends_interests")


@bp.get("/")
@cached_page(board_version_of(BOARD))  # the areas to filter by are the community's settings: in the key
def index():
    filters = _filters()
    return page_or_fragment("friends/index.html", {"card-list": "friends/_cards.html"},
                            cards=services.public_cards(filters), filters=filters,
                            areas=setting("FRIENDS_AREAS"))


def _card_or_404(number: int):
    return found_or_404(services.public_card(number))


@bp.get("/<int:number>")
@cached_page(board_version_of(BOARD))
def card(number: int):
    return page_or_fragment("friends/card.html", card=_card_or_404(number))


def _with_areas(form):
    form.area.choices = [(area, area) for area in setting("FRIENDS_AREAS")]
    return form


def _data(form) -> services.CardData:
    return services.CardData(
        gender=form.gender.data or "", age_band=form.age_band.data or "", area=form.area.data or "",
        interests=form.interests.data or [], looking_for=form.looking_for.data or "", intro=form.intro.data or "",
        real_name=getattr(form, "real_name", None) and form.real_name.data or "",
        mobile=getattr(form, "mobile", None) and form.mobile.data or "",
        consent_public=bool(getattr(form, "consent_public", None) and form.consent_public.data),
        consent_matchmaker=bool(getattr(form, "consent_matchmaker", None) and form.consent_matchmaker.data),
        adult=bool(getattr(form, "adult", None) and form.adult.data))


@bp.get("/new")
def new():
    return page_or_fragment("friends/new.html", {"card-form": "friends/_form.html"},
                            form=_with_areas(CardPrivateForm(formdata=None, data=handoff.prefill("friends-card"))))


@bp.post("/new")
@acting_device_required("friends-card", "20 per 10 minutes")
def create():
    form = _with_areas(CardPrivateForm())
    if form.validate_on_submit():
        try:
            receipt = services.leave_card(_data(form), created_by=actor_key())
        except Refused as error:
            getattr(form, error.field, form.intro).errors.append(str(error))
        else:
            response = make_response(page_or_fragment("friends/left.html", {"card-form": "friends/_left.html"},
                                                      receipt=receipt))
            return events(response, friends_card_created={"number": receipt.number})
    return page_or_fragment("friends/new.html", {"card-form": "friends/_form.html"}, form=form), 422


@bp.get("/<int:number>/meet")
def meet_form(number: int):
    return page_or_fragment("friends/meet.html", {"meet-form": "friends/_meet_form.html"},
                            card=_card_or_404(number),
                            form=MeetForm(formdata=None, data=handoff.prefill("friends-meet")))


@bp.post("/<int:number>/meet")
@acting_device_required("friends-meet", "10 per 10 minutes")
def meet(number: int):
    card = _card_or_404(number)
    form = MeetForm()
    if form.validate_on_submit():
        try:
            services.express_interest(number, own_code=form.own_code.data or "", name=form.name.data or "",
                                      mobile=form.mobile.data or "", created_by=actor_key())
        except Refused as error:
            getattr(form, error.field, form.own_code).errors.append(str(error))
        else:
            response = make_response(page_or_fragment("friends/met.html", {"meet-form": "friends/_met.html"},
                                                      card=card))
            return events(response, friends_interest_created={"number": number})
    return page_or_fragment("friends/meet.html", {"meet-form": "friends/_meet_form.html"}, card=card, form=form), 422


def _mine_context(code: str, **extra):
    card = services.card_by_code(code) if code else None
    return {"form": CodeForm(data={"code": code}), "card": card, "looked_up": bool(code),
            "requests": services.interests_for(card) if card else [],
            "edit_form": (_with_areas(CardForm(formdata=None, obj=card, interests=card.interests.split()))
                          if card else None),
            "done": None, **extra}


@bp.get("/mine")
@code_lookup_limited
def mine():
    """A card by its code: its state, renew, edit, withdraw, and answers to requests."""
    code = code_from_link("card", services.normalise_code(request.args.get("code", "")))
    return page_or_fragment("friends/mine.html", {"mine": "friends/_mine.html"}, **_mine_context(code))


def _mine_after(action, **extra):
    code = services.normalise_code(request.form.get("code", ""))
    try:
        done = action(code)
    except Refused as error:
        return render_template("friends/_mine.html", **_mine_context(code, error=str(error), **extra)), 422
    return render_template("friends/_mine.html", **_mine_context(code if done != "withdrawn" else "", done=done))


@bp.post("/mine/renew")
@rate_limited("friends-code", "20 per 10 minutes", resident_key)
def renew():
    return _mine_after(lambda code: services.renew(code) and "renewed")


@bp.post("/mine/withdraw")
@rate_limited("friends-code", "20 per 10 minutes", resident_key)
def withdraw():
    return _mine_after(lambda code: services.withdraw(code) and "withdrawn")


@bp.post("/mine/edit")
@rate_limited("friends-code", "20 per 10 minutes", resident_key)
def edit():
    form = _with_areas(CardForm())
    if not form.validate_on_submit():
        code = services.normalise_code(request.form.get("code", ""))
        context = _mine_context(code)
        if context["card"] is None:  # no card to show the form's errors under
            context["error"] = _("No card has this code.")
        context["edit_form"] = form
        return render_template("friends/_mine.html", **context), 422
    return _mine_after(lambda code: services.edit(code, _data(form)) and "edited")


@bp.post("/mine/answer/<int:interest_id>")
@rate_limited("friends-code", "20 per 10 minutes", resident_key)
def answer(interest_id: int):
    found_or_404(services.get_interest(interest_id))
    agreed = request.form.get("agreed") == "yes"
    return _mine_after(lambda code: services.answer(code, interest_id, agreed) and ("agreed" if agreed else "declined"))
