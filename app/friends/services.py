"""The matchmaking board: cards left with separate consents, approved by the matchmaker,
"I'd like to meet" requests that go to the matchmaker only, double opt-in before anyone's
contact details are shown (to staff, audited), and deletion of personal data on request,
on expiry and after refusal."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import String, bindparam, delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..communities.settings import setting
from .. import audit, lengths
from ..clock import utcnow
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..people import find_numbers, normalise_code, normalise_mobile, normalise_name
from ..transitions import allowed, apply, require, transition
from .models import AGE_BANDS, CARD_STATES, GENDERS, INTERESTS, LOOKING_FOR, Card, Interest, Tally

PAGE_SIZE = 24
CODE_DIGITS = 8
MAX_INTERESTS = 5

# What each state of a card allows, and the state it leads to. The matchmaker reviews,
# the resident (with the card's code) renews, edits or withdraws; withdrawing or deleting
# removes the card with its personal data at once. Approved cards expire by themselves.
CARD_ACTIONS = {
    "approve": transition(("pending",), "approved", refusal=_l("This card was already reviewed.")),
    "reject": transition(("pending",), "rejected", refusal=_l("This card was already reviewed.")),
    "delete": transition(CARD_STATES, deletes=True),
    "renew": transition(("approved", "expired"), "approved",
                        refusal=_l("Only a card that was on the board can be renewed.")),
    # A changed card waits for the matchmaker again, whatever it was.
    "edit": transition(CARD_STATES, "pending"),
    "withdraw": transition(CARD_STATES, deletes=True),
}
# The same for an "I'd like to meet" request. The card's owner answers (at the kiosk with
# their code, or through the matchmaker); asking is agreeing, so the owner's yes is both.
ALREADY_ANSWERED = _l("This request was already answered.")
INTEREST_ACTIONS = {
    "asked": transition(("new",), "asked", refusal=ALREADY_ANSWERED),
    "owner-yes": transition(("new", "asked"), "agreed", refusal=ALREADY_ANSWERED),
    "owner-no": transition(("new", "asked"), "declined", refusal=ALREADY_ANSWERED),
    "requester-no": transition(("new", "asked"), "declined", refusal=ALREADY_ANSWERED),
    # The matchmaker sees both sides' names and numbers.
    "contacts": transition(("agreed",), refusal=_l("Contact details are shown only once both have agreed.")),
    # The matchmaker sees the card owner's name and number (given to the matchmaker with
    # the card's consent) to ask them, while the request waits for their answer.
    "owner-contact": transition(("new", "asked"),
                                refusal=_l("The owner's contact is shown only while the request waits for them.")),
}
# What each answer records besides the request's new state.
ANSWERS = {"asked": {}, "owner-yes": {"owner_agreed": True}, "owner-no": {"owner_agreed": False},
           "requester-no": {"requester_agreed": False}}


class FriendsError(Refused):
    default_field = "intro"


@dataclass
class CardData:
    gender: str
    age_band: str
    area: str
    interests: list[str]
    looking_for: str
    intro: str
    real_name: str
    mobile: str
    consent_public: bool
    consent_matchmaker: bool
    adult: bool


def _public_fields(data: CardData) -> dict:
    if data.gender not in GENDERS:
        raise FriendsError(_l("Please choose."), "gender")
    if data.age_band not in AGE_BANDS:
        raise FriendsError(_l("Please choose your age."), "age_band")
    if data.area not in setting("FRIENDS_AREAS"):
        raise FriendsError(_l("Please choose your area."), "area")
    interests = [interest for interest in INTERESTS if interest in set(data.interests)]
    if not 1 <= len(interests) <= MAX_INTERESTS:
        raise FriendsError(_l("Please tap 1 to %(n)d interests.", n=MAX_INTERESTS), "interests")
    if data.looking_for not in LOOKING_FOR:
        raise FriendsError(_l("Please choose what you are looking for."), "looking_for")
    intro = " ".join((data.intro or "").split())
    if len(intro) > lengths.CARD_INTRO:
        raise FriendsError(_l("At most %(n)d characters.", n=lengths.CARD_INTRO), "intro")
    if find_numbers(intro):
        raise FriendsError(_l("Please leave phone numbers and ID numbers out: the matchmaker puts people in touch."),
                           "intro")
    return {"gender": data.gender, "age_band": data.age_band, "area": data.area, "interests": " ".join(interests),
            "looking_for": data.looking_for, "intro": intro}


def _tally(name: str, count: int = 1) -> None:
    if not db.session.execute(update(Tally).where(Tally.name == name).values(count=Tally.count + count)).rowcount:
        db.session.add(Tally(name=name, count=count))


def tallies() -> dict[str, int]:
    return dict(db.session.execute(select(Tally.name, Tally.count)).all())


def _retried(operation):
    """A write whose race (the next card number, a taken code) shows as IntegrityError."""
    for _attempt in range(3):
        try:
            return operation()
        except IntegrityError:
            db.session.rollback()
    raise FriendsError(_l("That did not work. Please try again."))


@dataclass(frozen=True)
class Receipt:
    code: str
    number: int


def leave_card(data: CardData, *, created_by: str) -> Receipt:
    """A new card, waiting for the matchmaker; nothing shows until it is approved."""
    public = _public_fields(data)
    if not data.adult:
        raise FriendsError(_l("The board is for adults (18 and over)."), "adult")
    if not data.consent_public:
        raise FriendsError(_l("Please agree to your card being shown, or the board cannot show it."),
                           "consent_public")
    if not data.consent_matchmaker:
        raise FriendsError(_l("Please agree to the matchmaker seeing your details, or no one can put you in touch."),
                           "consent_matchmaker")
    name, mobile = normalise_name(data.real_name), normalise_mobile(data.mobile)

    def once() -> Receipt:
        now = utcnow()
        number = (db.session.scalar(select(func.max(Card.number))) or 0) + 1
        card = Card(number=number, real_name=name, mobile=mobile, code=f"{secrets.randbelow(10**CODE_DIGITS):08d}",
                    consent_public_at=now, consent_matchmaker_at=now, created_by=created_by, **public)
        db.session.add(card)
        db.session.commit()
        return Receipt(card.code, card.number)

    return _retried(once)


def on_the_board(now: datetime):
    return (Card.state == "approved") & (Card.expires_at > now)


_FILTERED = ("gender", "age_band", "area", "looking_for")


@cache
def _public_cards(filtered: tuple[str, ...]):
    """The board's query for each set of filters chosen, built once; the filters' values,
    the time and the page size are bound values."""
    query = select(Card).where(on_the_board(bindparam("now", type_=Card.expires_at.type)))
    for field in filtered:
        if field == "interest":
            query = query.where((literal(" ", String) + Card.interests + " ").like(bindparam("interest")))
        else:
            query = query.where(getattr(Card, field) == bindparam(field))
    return query.order_by(Card.number.desc()).limit(bindparam("limit"))


def public_cards(filters: dict | None = None, limit: int = PAGE_SIZE) -> list[Card]:
    filters = filters or {}
    values = {"now": utcnow(), "limit": limit} | {field: filters[field] for field in _FILTERED if filters.get(field)}
    if filters.get("interest") in INTERESTS:
        values["interest"] = f"% {filters['interest']} %"
    filtered = tuple(field for field in (*_FILTERED, "interest") if field in values)
    return list(db.session.scalars(_public_cards(filtered), values))


def public_card(number: int) -> Card | None:
    return db.session.scalar(select(Card).where(Card.number == number, on_the_board(utcnow())))


def card_by_code(code: str) -> Card | None:
    code = normalise_code(code)
    return db.session.scalar(select(Card).where(Card.code == code)) if len(code) == CODE_DIGITS else None


def _own(code: str) -> Card:
    card = card_by_code(code)
    if card is None:
        raise FriendsError(_l("No card has this code."), "code")
    return card


def card_actions(card: Card) -> frozenset[str]:
    """What can be done to the card in its state (CARD_ACTIONS)."""
    return allowed(CARD_ACTIONS, card.state)


def interest_actions(interest: Interest) -> frozenset[str]:
    """What can be done to the request in its state (INTEREST_ACTIONS)."""
    return allowed(INTEREST_ACTIONS, interest.state)


def _change_card(card: Card, action: str, field: str, **values) -> Card:
    """The action's change to the card, made only while its state allows it (a conditional
    UPDATE); the caller audits and commits."""
    rule = require(CARD_ACTIONS[action], card.state, FriendsError, field)
    return apply(Card, card.id, rule, FriendsError, field, **values)


def renew(code: str) -> Card:
    card = _change_card(_own(code), "renew", "code",
                        expires_at=utcnow() + timedelta(days=setting("FRIENDS_CARD_DAYS")))
    db.session.commit()
    return card


def edit(code: str, data: CardData) -> Card:
    """Change the public part; the card waits for the matchmaker again."""
    card = _own(code)
    card = _change_card(card, "edit", "code", approved_at=None, expires_at=None, reject_reason="",
                        **_public_fields(data))
    db.session.commit()
    return card


def _delete(card: Card, tally: str, action: str) -> None:
    """Delete a card and every interest it is part of; only anonymous counts stay."""
    number = card.number
    # Requests to and from the card, and those its owner made by name and number.
    gone = db.session.execute(delete(Interest).where(
        or_(Interest.card_id == card.id, Interest.from_card_id == card.id,
            Interest.from_mobile == card.mobile))).rowcount
    db.session.delete(card)
    _tally(tally)
    if gone:
        _tally("interests-deleted", gone)
    audit.record("friends", action, None, {"number": number})


def withdraw(code: str) -> int:
    """The resident withdraws their card: its personal data is deleted at once."""
    card = _own(code)
    require(CARD_ACTIONS["withdraw"], card.state, FriendsError, "code")
    number = card.number
    _delete(card, "cards-withdrawn", "card-withdrawn")
    db.session.commit()
    return number


# --- "I'd like to meet" ----------------------------------------------------------------------

def express_interest(number: int, *, own_code: str = "", name: str = "", mobile: str = "",
                     created_by: str) -> Interest:
    card = public_card(number)
    if card is None:
        raise FriendsError(_l("This card is no longer on the board."), "own_code")
    interest = Interest(card_id=card.id, created_by=created_by)
    if own_code:
        own = card_by_code(own_code)
        if own is None or own.state != "approved":
            raise FriendsError(_l("No card on the board has this code."), "own_code")
        if own.id == card.id:
            raise FriendsError(_l("This is your own card."), "own_code")
        interest.from_card_id = own.id
        duplicate = Interest.from_card_id == own.id
    else:
        interest.from_name, interest.from_mobile = normalise_name(name), normalise_mobile(mobile)
        duplicate = Interest.from_mobile == interest.from_mobile
    if db.session.scalar(select(func.count()).select_from(Interest).where(Interest.card_id == card.id, duplicate)):
        raise FriendsError(_l("You already asked to meet No. %(number)04d; the matchmaker will be in touch.",
                              number=number), "own_code")
    db.session.add(interest)
    db.session.commit()
    return interest


def interests_for(card: Card) -> list[Interest]:
    """What the card's owner sees with their code: who would like to meet them, by number only."""
    answerable = INTEREST_ACTIONS["owner-yes"].from_states
    return list(db.session.scalars(select(Interest).where(Interest.card_id == card.id, Interest.state.in_(answerable))
                                   .order_by(Interest.id)))


def answer(code: str, interest_id: int, agreed: bool) -> Interest:
    """The card's owner answers a request themselves, with their code (kiosk or phone)."""
    card = _own(code)
    interest = db.session.get(Interest, interest_id)
    if interest is None or interest.card_id != card.id:
        raise FriendsError(ALREADY_ANSWERED, "code")
    interest = _record(interest, "owner-yes" if agreed else "owner-no", "code")
    db.session.commit()
    return interest


def _record(interest: Interest, action: str, field: str, **values) -> Interest:
    """An answer (or the matchmaker's asking), made only while the request's state allows
    it (a conditional UPDATE); the caller audits and commits."""
    rule = require(INTEREST_ACTIONS[action], interest.state, FriendsError, field)
    interest = apply(Interest, interest.id, rule, FriendsError, field, **ANSWERS[action], **values)
    if rule.to == "agreed":
        _tally("introductions")
    return interest


# --- the matchmaker ------------------------------------------------------------------------

def pending_cards() -> list[Card]:
    return list(db.session.scalars(select(Card).where(Card.state == "pending").order_by(Card.id)))


def pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Card).where(Card.state == "pending"))


def board_cards() -> list[Card]:
    return list(db.session.scalars(select(Card).where(Card.state.in_(("approved", "rejected", "expired")))
                                   .order_by(Card.number.desc()).limit(200)))


def cards_by_id(card_ids: set[int]) -> dict[int, Card]:
    """The cards a list of requests names, in one query."""
    if not card_ids:
        return {}
    return {card.id: card for card in db.session.scalars(select(Card).where(Card.id.in_(card_ids)))}


def get_card(card_id: int) -> Card | None:
    return db.session.get(Card, card_id)


def review(card_id: int, approve: bool, reason: str = "") -> Card:
    action = "approve" if approve else "reject"
    card = db.session.get(Card, card_id)
    if card is None:
        raise FriendsError(CARD_ACTIONS[action].refusal, "reason")
    require(CARD_ACTIONS[action], card.state, FriendsError, "reason")
    reason = " ".join((reason or "").split())
    if approve:
        now = utcnow()
        card = _change_card(card, action, "reason", approved_at=now,
                            expires_at=now + timedelta(days=setting("FRIENDS_CARD_DAYS")))
    else:
        if len(reason) < 2:
            raise FriendsError(_l("Please write the reason; the resident reads it with their code."), "reason")
        # Its personal data is deleted after the grace period.
        card = _change_card(card, action, "reason", reject_reason=reason[:lengths.REASON], expires_at=utcnow())
    audit.record("friends", "card-approved" if approve else "card-rejected", card,
                 {"number": card.number, "reason": reason} if reason else {"number": card.number})
    db.session.commit()
    return card


def delete_card(card_id: int) -> None:
    """Deletion on request, by the matchmaker."""
    card = db.session.get(Card, card_id)
    if card is None:
        raise FriendsError(_l("No such card."), "reason")
    require(CARD_ACTIONS["delete"], card.state, FriendsError, "reason")
    _delete(card, "cards-deleted", "card-deleted")
    db.session.commit()


def interest_queue() -> list[Interest]:
    return list(db.session.scalars(select(Interest).order_by(
        Interest.state.in_(("agreed", "declined")), Interest.id.desc()).limit(200)))


def get_interest(interest_id: int) -> Interest | None:
    return db.session.get(Interest, interest_id)


def staff_update_interest(interest_id: int, action: str, note: str = "") -> Interest:
    """The matchmaker asked the card's owner, or records either side's answer. Audited."""
    interest = db.session.get(Interest, interest_id)
    if interest is None:
        raise FriendsError(ALREADY_ANSWERED, "note")
    if action not in ANSWERS:
        raise FriendsError(_l("Unknown action."), "note")
    note = " ".join((note or "").split())[:lengths.NOTE]
    interest = _record(interest, action, "note", **({"note": note} if note else {}))
    audit.record("friends", f"interest-{action}", interest, {"note": note} if note else None)
    db.session.commit()
    return interest


@dataclass(frozen=True)
class Contact:
    number: int | None
    name: str
    mobile: str


def _shown_to_the_matchmaker(interest_id: int, action: str, audited: str) -> Interest:
    """The request whose contact details the table lets the matchmaker see now, the look
    recorded in the audit log (the caller commits)."""
    interest = db.session.get(Interest, interest_id)
    rule = INTEREST_ACTIONS[action]
    if interest is None:
        raise FriendsError(rule.refusal, "note")
    require(rule, interest.state, FriendsError, "note")
    audit.record("friends", audited, interest, {"number": db.session.get(Card, interest.card_id).number})
    return interest


def contacts(interest_id: int) -> tuple[Contact, Contact]:
    """Both sides' names and numbers, for the matchmaker — only once both agreed. Audited."""
    interest = _shown_to_the_matchmaker(interest_id, "contacts", "contacts-viewed")
    db.session.commit()
    owner = db.session.get(Card, interest.card_id)
    requester = db.session.get(Card, interest.from_card_id) if interest.from_card_id else None
    return (Contact(owner.number, owner.real_name, owner.mobile),
            Contact(requester.number, requester.real_name, requester.mobile) if requester
            else Contact(None, interest.from_name, interest.from_mobile))


def owner_contact(interest_id: int) -> Contact:
    """The card owner's name and number, for the matchmaker to ask them about a request
    (the card's consent covers it); the requester's stay hidden until both agree. Audited."""
    interest = _shown_to_the_matchmaker(interest_id, "owner-contact", "card-contact-viewed")
    db.session.commit()
    owner = db.session.get(Card, interest.card_id)
    return Contact(owner.number, owner.real_name, owner.mobile)


def housekeeping(now: datetime | None = None) -> dict[str, int]:
    """Cards past their 90 days leave the board; expired and refused cards' personal data
    is deleted after FRIENDS_GRACE_DAYS, and a card left pending for FRIENDS_CARD_DAYS
    (never reviewed) goes too."""
    now = now or utcnow()
    expired = db.session.execute(update(Card).where(Card.state == "approved", Card.expires_at <= now)
                                 .values(state="expired")).rowcount
    cutoff = now - timedelta(days=setting("FRIENDS_GRACE_DAYS"))
    never_reviewed = now - timedelta(days=setting("FRIENDS_CARD_DAYS"))
    old = list(db.session.scalars(select(Card).where(or_(
        Card.state.in_(("expired", "rejected")) & (Card.expires_at <= cutoff),
        (Card.state == "pending") & (Card.created_at <= never_reviewed)))))
    for card in old:
        _delete(card, f"cards-{card.state}-deleted", "card-purged")
    db.session.commit()
    return {"cards expired": expired, "cards deleted": len(old)}
