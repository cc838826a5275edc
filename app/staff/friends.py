"""The matchmaker's side: review cards, work the "I'd like to meet" requests, and see both
sides' contact details only once both agreed. Every view of personal data is audited."""

from flask import redirect, render_template, request, url_for

from .. import lengths
from ..errors import Refused
from ..friends import services as friends
from ..i18n import lazy_gettext as _l
from ..web import found_or_404
from . import bp
from .access import staff_required
from .forms import LONG_REASON, ActionForm, within_limit

# --- forms -------------------------------------------------------------------------------

LONG_NOTE = _l("A note has at most %(n)d characters.", n=lengths.NOTE)


# --- views -------------------------------------------------------------------------------

MATCHMAKERS = ("matchmaker",)


@bp.get("/friends")
@staff_required(*MATCHMAKERS)
def friends_cards(error: str | None = None, status: int = 200):
    return render_template("staff/friends.html", pending=friends.pending_cards(), board=friends.board_cards(),
                           tallies=friends.tallies(), action_form=ActionForm(), error=error), status


@bp.post("/friends/cards/<int:card_id>/<action>")
@staff_required(*MATCHMAKERS)
def review_card(card_id: int, action: str):
    found_or_404(friends.get_card(card_id))
    try:
        if action in ("approve", "reject"):
            reason = within_limit(request.form.get("reason"), LONG_REASON, "reason")
            friends.review(card_id, action == "approve", reason)
        elif action == "delete":
            friends.delete_card(card_id)
        else:
            found_or_404(None)
    except Refused as error:
        return friends_cards(error=str(error), status=422)
    return redirect(url_for("staff.friends_cards"), code=303)


@bp.get("/friends/requests")
@staff_required(*MATCHMAKERS)
def friends_requests(error: str | None = None, status: int = 200):
    interests = friends.interest_queue()
    cards = friends.cards_by_id({x.card_id for x in interests} | {x.from_card_id for x in interests if x.from_card_id})
    return render_template("staff/friends_requests.html", interests=interests, cards=cards, action_form=ActionForm(),
                           error=error), status


@bp.post("/friends/requests/<int:interest_id>")
@staff_required(*MATCHMAKERS)
def update_friends_request(interest_id: int):
    found_or_404(friends.get_interest(interest_id))
    try:
        friends.staff_update_interest(interest_id, request.form.get("action", ""),
                                      within_limit(request.form.get("note"), LONG_NOTE, "note", lengths.NOTE))
    except Refused as error:
        return friends_requests(error=str(error), status=422)
    return redirect(url_for("staff.friends_requests", _anchor=f"interest-{interest_id}"), code=303)


@bp.get("/friends/requests/<int:interest_id>/contacts")
@staff_required(*MATCHMAKERS)
def friends_contacts(interest_id: int):
    found_or_404(friends.get_interest(interest_id))
    try:
        owner, requester = friends.contacts(interest_id)
    except Refused as error:
        return friends_requests(error=str(error), status=403)
    return render_template("staff/friends_contacts.html", owner=owner, requester=requester, interest_id=interest_id)


@bp.get("/friends/requests/<int:interest_id>/owner")
@staff_required(*MATCHMAKERS)
def friends_owner_contact(interest_id: int):
    found_or_404(friends.get_interest(interest_id))
    try:
        owner = friends.owner_contact(interest_id)
    except Refused as error:
        return friends_requests(error=str(error), status=403)
    return render_template("staff/friends_contacts.html", owner=owner, requester=None, interest_id=interest_id)
