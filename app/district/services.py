"""What district staff do across communities: urgent notices for many lobbies at once and
who works where. Each function acts in each community it touches through scope.within
(so every row it writes, and its audit entry, belongs to that community) and commits once:
all the communities get the change, or none does."""

from sqlalchemy import select

from .. import audit
from ..communities import scope
from ..communities.models import Community
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..notices import services as notices
from ..notices.models import Notice
from ..staff.models import DISTRICT_ROLES, ROLES, Membership, StaffMember


class DistrictError(Refused):
    """A district action that cannot be done as asked; the message is for the field named."""

    default_field = "communities"


def _chosen(community_ids) -> list[int]:
    every = list(db.session.scalars(select(Community.id).order_by(Community.id)))
    if community_ids is None:
        return every
    chosen = sorted({int(community_id) for community_id in community_ids} & set(every))
    if not chosen:
        raise DistrictError(_l("Choose at least one community."))
    return chosen


def send_notice(data: "notices.NoticeData", community_ids=None, *, staff_id: int | None = None) -> list[int]:
    """One notice (urgent or not) on the kiosks of every community, or of those chosen: a
    notice of each community's own, which its staff can see and end. The times are read in
    the sender's zone. Returns the notices' ids."""
    values = notices.check_notice(data)
    chosen = _chosen(community_ids)
    made = []
    for community_id in chosen:
        with scope.within(community_id):
            notice = Notice(**values, updated_by=staff_id)
            db.session.add(notice)
            audit.record("notices", "district-notice-sent", notice,
                         {"title": notice.title, "urgency": notice.urgency, "communities": len(chosen)})
            db.session.flush()  # in its own community's scope (row security checks it there)
            made.append(notice.id)
    db.session.commit()
    return made


def assign(username: str, community_id: int, roles) -> None:
    """Give a person roles in a community (a new place, or new roles in one they have);
    no roles takes their place there away."""
    member = db.session.scalar(select(StaffMember).where(StaffMember.username == (username or "").strip().lower()))
    if member is None:
        raise DistrictError(_l("No account has that username."), "username")
    if db.session.get(Community, community_id) is None:
        raise DistrictError(_l("Choose at least one community."))
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise DistrictError(_l("Unknown role: %(role)s", role=", ".join(sorted(unknown))), "roles")
    role_text = " ".join(role for role in ROLES if role in roles)
    membership = db.session.scalar(select(Membership).where(
        Membership.member_id == member.id, Membership.community_id == community_id))
    before = membership.roles if membership else ""
    if role_text and membership is None:
        db.session.add(Membership(member_id=member.id, community_id=community_id, roles=role_text))
    elif role_text:
        membership.roles = role_text
    elif membership is not None:
        db.session.delete(membership)
    with scope.within(community_id):
        if before != role_text:
            audit.record("staff", "staff-assigned", member, {"username": member.username, "roles": [before, role_text]})
        db.session.commit()


def set_district_roles(username: str, roles) -> None:
    member = db.session.scalar(select(StaffMember).where(StaffMember.username == (username or "").strip().lower()))
    if member is None:
        raise DistrictError(_l("No account has that username."), "username")
    unknown = set(roles) - set(DISTRICT_ROLES)
    if unknown:
        raise DistrictError(_l("Unknown role: %(role)s", role=", ".join(sorted(unknown))), "roles")
    role_text = " ".join(role for role in DISTRICT_ROLES if role in roles)
    if member.roles != role_text:
        audit.record("staff", "district-roles-changed", member, {"username": member.username,
                                                                 "roles": [member.roles, role_text]})
        member.roles = role_text
    db.session.commit()


def places() -> list[tuple[Community, list[tuple[str, str, str]]]]:
    """Every community with who works there: (username, name, roles)."""
    rows = db.session.execute(
        select(Membership.community_id, StaffMember.username, StaffMember.display_name, Membership.roles)
        .join(StaffMember, StaffMember.id == Membership.member_id).order_by(StaffMember.username)).all()
    staff: dict[int, list] = {}
    for community_id, username, name, roles in rows:
        staff.setdefault(community_id, []).append((username, name, roles))
    return [(community, staff.get(community.id, []))
            for community in db.session.scalars(select(Community).order_by(Community.id))]
