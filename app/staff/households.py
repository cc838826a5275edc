"""Households in the console (desk staff): issue household codes one at a time or as a
printed batch for door-to-door visits, reprint a card (audited: it holds the code), see and
revoke a household's phones. The work is app/households/services.py's."""

from flask import redirect, render_template, request, url_for
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import audit, lengths
from ..extensions import db
from ..forms import Form
from ..households import services as households
from ..i18n import lazy_gettext as _l
from ..web import found_or_404, phone_url, qr_svg
from . import bp
from .access import staff_required
from .forms import ActionForm, confirm_page

DESK = ("coordinator", "moderator")


class MoveForm(Form):
    """A household's building and unit, as staff type them."""

    building = StringField(_l("Building"), validators=[DataRequired(), Length(max=lengths.BUILDING)],
                           description=_l("e.g. 3号楼"))
    unit = StringField(_l("Unit (optional)"), validators=[Optional(), Length(max=lengths.UNIT)],
                       description=_l("e.g. 2单元"))
    submit = SubmitField(_l("Save"))


class IssueForm(MoveForm):
    count = IntegerField(_l("How many households"), default=1,
                         validators=[DataRequired(), NumberRange(min=1, max=households.BATCH_MAX)],
                         description=_l("More than one prints a batch of cards for door-to-door visits."))
    submit = SubmitField(_l("Issue household codes"))


def _list_page(form=None, status: int = 200):
    search = request.args.get("q", "")[:lengths.HOUSEHOLD_SEARCH]
    return render_template("staff/households.html", form=form or IssueForm(formdata=None), search=search,
                           rows=households.households(search), action_form=ActionForm()), status


@bp.get("/households")
@staff_required(*DESK)
def households_index():
    return _list_page()


@bp.post("/households")
@staff_required(*DESK)
def issue_households():
    form = IssueForm()
    if form.validate_on_submit():
        try:
            cards = households.issue(form.building.data, form.unit.data or "", form.count.data)
        except households.HouseholdError as error:
            form.building.errors.append(str(error))
        else:
            if len(cards) == 1:
                return redirect(url_for("staff.household_card", household_id=cards[0].household.id), code=303)
            return redirect(url_for("staff.household_batch", batch=cards[0].household.batch), code=303)
    return _list_page(form, 422)


def _household_or_404(household_id: int):
    return found_or_404(households.get_household(household_id))


def _card_view(card: households.Card) -> dict:
    link = phone_url(url_for("households.join_link", token=card.link_token))
    join = phone_url(url_for("households.join"))
    return {"card": card, "qr": qr_svg(link) if link else None, "join_url": join}


def _cards_page(cards: list, title, back: str):
    return render_template("staff/household_cards.html", cards=[_card_view(card) for card in cards],
                           title=title, back=back)


@bp.get("/households/<int:household_id>/card")
@staff_required(*DESK)
def household_card(household_id: int):
    """The household's card to print or hand over: it holds the code, so each look is audited."""
    household = _household_or_404(household_id)
    if household.revoked_at is not None:
        return redirect(url_for("staff.household_detail", household_id=household.id), code=303)
    audit.record("households", "household-card-viewed", household)
    db.session.commit()
    return _cards_page([households.card(household)], _l("Household card"),
                       url_for("staff.household_detail", household_id=household.id))


@bp.get("/households/batches/<int:batch>")
@staff_required(*DESK)
def household_batch(batch: int):
    """A printed batch's cards, eight to an A4 page, each with its own QR code and code."""
    members = [household for household in households.batch_households(batch) if household.revoked_at is None]
    if not members:
        return found_or_404(None)
    audit.record("households", "household-cards-printed", detail={"batch": batch, "count": len(members)})
    db.session.commit()
    return _cards_page([households.card(household) for household in members],
                       _l("Household cards, batch %(n)d", n=batch), url_for("staff.households_index"))


@bp.get("/households/<int:household_id>")
@staff_required(*DESK)
def household_detail(household_id: int, form=None, status: int = 200):
    household = _household_or_404(household_id)
    form = form or MoveForm(formdata=None, building=household.building, unit=household.unit)
    return render_template("staff/household.html", household=household, phones=households.phones(household.id),
                           form=form, action_form=ActionForm(), max_phones=households.MAX_PHONES), status


@bp.post("/households/<int:household_id>")
@staff_required(*DESK)
def move_household(household_id: int):
    household = _household_or_404(household_id)
    form = MoveForm()
    if form.validate_on_submit():
        try:
            households.move(household.id, form.building.data, form.unit.data or "")
        except households.HouseholdError as error:
            form.building.errors.append(str(error))
        else:
            return redirect(url_for("staff.household_detail", household_id=household.id), code=303)
    return household_detail(household.id, form, 422)


@bp.get("/households/<int:household_id>/new-card")
@staff_required(*DESK)
def confirm_new_household_card(household_id: int):
    household = _household_or_404(household_id)
    return confirm_page(_l("Make a new card for this household?"),
                        _l("The old card's code and QR code stop working at once. Phones already linked stay "
                           "linked; remove them below if the card was lost."),
                        button=_l("Make a new card"), danger=False,
                        back=url_for("staff.household_detail", household_id=household.id))


@bp.post("/households/<int:household_id>/new-card")
@staff_required(*DESK)
def new_household_card(household_id: int):
    household = _household_or_404(household_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("staff.household_detail", household_id=household.id), code=303)
    try:
        households.new_card(household.id)
    except households.HouseholdError:
        return redirect(url_for("staff.household_detail", household_id=household.id), code=303)
    return redirect(url_for("staff.household_card", household_id=household.id), code=303)


@bp.get("/households/<int:household_id>/revoke")
@staff_required(*DESK)
def confirm_revoke_household(household_id: int):
    household = _household_or_404(household_id)
    return confirm_page(_l("Revoke this household's code?"),
                        _l("Its card stops working, and each of its phones (%(n)d now) can only read the boards "
                           "from its next tap. What they sent stays.", n=sum(
                               1 for phone in households.phones(household.id) if phone.revoked_at is None)),
                        button=_l("Revoke the household's code"),
                        back=url_for("staff.household_detail", household_id=household.id))


@bp.post("/households/<int:household_id>/revoke")
@staff_required(*DESK)
def revoke_household(household_id: int):
    household = _household_or_404(household_id)
    if ActionForm().validate_on_submit():
        households.revoke(household.id)
    return redirect(url_for("staff.household_detail", household_id=household.id), code=303)


@bp.post("/households/<int:household_id>/phones/<int:phone_id>/revoke")
@staff_required(*DESK)
def revoke_household_phone(household_id: int, phone_id: int):
    household = _household_or_404(household_id)
    if ActionForm().validate_on_submit() and any(phone.id == phone_id for phone in households.phones(household.id)):
        households.revoke_phone(phone_id)
    return redirect(url_for("staff.household_detail", household_id=household.id), code=303)
