"""Demo households: cards issued for one unit in a printed batch, and one at the desk whose
card a phone has scanned, so the console shows a household with a linked phone."""

import secrets

from ..extensions import db
from ..security import token_digest
from . import services
from .models import Household, HouseholdPhone


def load() -> None:
    services.issue("1号楼", "1单元", count=4)
    [card] = services.issue("2号楼", "3单元")
    household = db.session.get(Household, card.household.id)
    household.link_hash = None  # its QR code was scanned by the phone below
    # A phone of a resident: its token lives only in that phone's cookie.
    db.session.add(HouseholdPhone(household_id=household.id, token_hash=token_digest(secrets.token_urlsafe(32)),
                                  bound_by="link", community_id=household.community_id))
    db.session.commit()
