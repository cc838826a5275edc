"""Test data builders. They run inside an app context and return ids, not objects."""

from app.communities.models import Community, CommunitySlug
from app.extensions import db
from app.kiosk import devices
from app.staff.services import create_staff

STAFF_PASSWORD = "a long staff passphrase"


def staff_member(username: str, *roles: str, display_name: str | None = None) -> int:
    return create_staff(username, STAFF_PASSWORD, roles=roles, display_name=display_name)


def enrolled_kiosk(name: str = "大厅左侧") -> tuple[int, str]:
    """A kiosk that has collected its device token: (kiosk id, token for its cookie)."""
    state = devices.pairing_for(None)
    claim = state.new_claim
    kiosk_id = devices.enroll(state.code, name)
    token = devices.pairing_for(claim).device_token
    return kiosk_id, token


def add_community(slug: str = "hepingli", name: str = "和平里社区", name_en: str = "") -> int:
    community = Community(slug=slug, name=name, name_en=name_en)
    db.session.add(community)
    db.session.commit()
    return community.id


def rename_community(community_id: int, slug: str) -> None:
    """A new slug for a community; the old one keeps leading to it."""
    community = db.session.get(Community, community_id)
    db.session.add(CommunitySlug(slug=community.slug, community_id=community.id))
    community.slug = slug
    db.session.commit()
