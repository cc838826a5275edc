"""A community's life on the platform beyond create and rename: merging two into one,
exporting one community's records, and deleting one (after a backup, on a typed slug).

Merging moves every record of the community merged away into the one that stays, in one
transaction (interrupted, nothing moved):
- what each community numbers for itself is renumbered where the two clash: card numbers
  continue after the staying community's; a resident's code (wall receipt, sign-up, help
  request, card) that the staying community already uses gets a new one, and the old code
  keeps finding its record through the old community's links (CodeAlias);
- lists kept once per community (grids, watched words, skills, board counters, kind
  settings, tallies) are joined: the same name is kept once;
- staff keep their roles (joined where they worked in both), kiosks show the staying
  community from their next request, and the old slug leads there.
It refuses while either community has a lottery taking entries that is not drawn: those
residents were promised a draw among the entries of their own community.
"""

import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update

from .. import audit
from ..backups import BackupError, make_backup
from ..boards import BoardVersion
from ..classes.models import Course, Signup
from ..communities import scope
from ..communities.models import CodeAlias, Community, CommunityScoped, CommunitySlug
from ..errors import Refused
from ..experts.models import Expert, HelpRequest, Skill, expert_skills
from ..extensions import db
from ..friends.models import Card, Tally
from ..i18n import lazy_gettext as _l
from ..limits import RateCounter
from ..staff.models import Membership, StaffSession
from ..cases.models import Case, Grid
from ..wall.models import KindSetting, Post, WatchedWord

# A resident's code: the model, its column, and the kind an alias names.
CODES = ((Post, Post.receipt_code, "post"), (Signup, Signup.code, "signup"),
         (HelpRequest, HelpRequest.code, "request"), (Card, Card.code, "card"), (Case, Case.receipt_code, "case"))


class LifecycleError(Refused):
    default_field = "community"


@dataclass(frozen=True)
class MergeReport:
    moved: dict[str, int]          # table -> rows that now belong to the staying community
    renumbered_cards: int
    new_codes: list[tuple[str, str, str]]  # (kind, old code, new code)


def _scoped_tables():
    return [mapper.class_ for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, CommunityScoped)]


def _open_lotteries(community_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Course).where(
        Course.community_id == community_id, Course.awaiting_draw))


def merge(source_id: int, target_id: int) -> MergeReport:
    """Move everything of ``source_id`` into ``target_id`` and remove ``source_id``."""
    if source_id == target_id:
        raise LifecycleError(_l("Choose two different communities."))
    with scope.across("merging two communities into one"):
        source, target = db.session.get(Community, source_id), db.session.get(Community, target_id)
        if source is None or target is None:
            raise LifecycleError(_l("Choose two different communities."))
        waiting = _open_lotteries(source_id) + _open_lotteries(target_id)
        if waiting:
            raise LifecycleError(_l("%(n)d lottery courses are taking entries and not drawn yet: draw them "
                                    "(or close them) before merging.", n=waiting))
        try:
            report = _move(source, target)
            with scope.within(target_id):
                audit.record("staff", "communities-merged", target, {
                    "merged": source.slug, "into": target.slug, "renumbered_cards": report.renumbered_cards,
                    "new_codes": len(report.new_codes), "moved": report.moved})
                db.session.flush()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return report


def _move(source: Community, target: Community) -> MergeReport:
    source_id, target_id = source.id, target.id
    # Card numbers: the merged community's continue after the staying one's.
    # Through negative numbers: a unique rule checked row by row must not meet a number
    # that a row later in the same UPDATE is about to leave.
    offset = db.session.scalar(select(func.coalesce(func.max(Card.number), 0)).where(Card.community_id == target_id))
    renumbered = db.session.execute(update(Card).where(Card.community_id == source_id)
                                    .values(number=-Card.number)).rowcount
    db.session.execute(update(Card).where(Card.community_id == source_id).values(number=offset - Card.number))
    new_codes = []
    for model, column, kind in CODES:
        taken = set(db.session.scalars(select(column).where(model.community_id == target_id, column.is_not(None))))
        clashing = db.session.execute(select(model.id, column).where(
            model.community_id == source_id, column.in_(taken))).all()
        mine = set(db.session.scalars(select(column).where(model.community_id == source_id, column.is_not(None))))
        for record_id, old in clashing:
            new = _free_code(taken | mine, len(old))
            taken.add(new)
            db.session.execute(update(model).where(model.id == record_id).values({column.key: new}))
            db.session.add(CodeAlias(community_id=target_id, former_slug=source.slug, kind=kind,
                                     old_code=old, new_code=new))
            new_codes.append((kind, old, new))
    _join_lists(source_id, target_id)
    moved = {}
    for model in _scoped_tables():
        count = db.session.execute(update(model).where(model.community_id == source_id)
                                   .values(community_id=target_id)
                                   .execution_options(synchronize_session=False)).rowcount
        if count:
            moved[model.__tablename__] = count
    # Staff: a place in each; the roles of both where a person had both.
    for membership in db.session.scalars(select(Membership).where(Membership.community_id == source_id)).all():
        staying = db.session.scalar(select(Membership).where(
            Membership.member_id == membership.member_id, Membership.community_id == target_id))
        if staying is None:
            membership.community_id = target_id
        else:
            roles = set(staying.roles.split()) | set(membership.roles.split())
            staying.roles = " ".join(sorted(roles))
            db.session.delete(membership)
    db.session.execute(update(StaffSession).where(StaffSession.community_id == source_id)
                       .values(community_id=target_id))
    # Links naming the old community (and any slug it had before) lead to the staying one.
    db.session.execute(update(CommunitySlug).where(CommunitySlug.community_id == source_id)
                       .values(community_id=target_id))
    db.session.flush()
    old_slug = source.slug
    db.session.delete(source)
    db.session.flush()
    db.session.add(CommunitySlug(slug=old_slug, community_id=target_id))
    return MergeReport(moved, renumbered, new_codes)


def _free_code(used: set[str], digits: int) -> str:
    while True:
        code = f"{secrets.randbelow(10 ** digits):0{digits}d}"
        if code not in used:
            return code


def _join_lists(source_id: int, target_id: int) -> None:
    """What each community keeps once (by name or key): the same entry is kept once."""
    # Grids: a case of the merged community keeps its grid, under the staying one's name.
    for grid in db.session.scalars(select(Grid).where(Grid.community_id == source_id)).all():
        same = db.session.scalar(select(Grid).where(Grid.community_id == target_id, Grid.name == grid.name))
        if same is not None:
            db.session.execute(update(Case).where(Case.grid_id == grid.id).values(grid_id=same.id))
            db.session.delete(grid)
    for word in db.session.scalars(select(WatchedWord).where(WatchedWord.community_id == source_id)).all():
        if db.session.scalar(select(WatchedWord.id).where(WatchedWord.community_id == target_id,
                                                          WatchedWord.key == word.key)):
            db.session.delete(word)
    for skill in db.session.scalars(select(Skill).where(Skill.community_id == source_id)).all():
        same = db.session.scalar(select(Skill).where(Skill.community_id == target_id, Skill.name == skill.name))
        if same is None:
            continue
        pairs = db.session.execute(select(expert_skills.c.expert_id).where(expert_skills.c.skill_id == skill.id)).all()
        db.session.execute(delete(expert_skills).where(expert_skills.c.skill_id == skill.id))
        for (expert_id,) in pairs:
            if not db.session.scalar(select(func.count()).select_from(expert_skills).where(
                    expert_skills.c.expert_id == expert_id, expert_skills.c.skill_id == same.id)):
                db.session.execute(expert_skills.insert().values(expert_id=expert_id, skill_id=same.id))
        db.session.delete(skill)
    # Counters: tallies add up; a board's version moves on (kiosks of both reload it).
    for tally in db.session.scalars(select(Tally).where(Tally.community_id == source_id)).all():
        same = db.session.scalar(select(Tally).where(Tally.community_id == target_id, Tally.name == tally.name))
        if same is not None:
            same.count += tally.count
            db.session.delete(tally)
    for version in db.session.scalars(select(BoardVersion).where(BoardVersion.community_id == source_id)).all():
        same = db.session.scalar(select(BoardVersion).where(BoardVersion.community_id == target_id,
                                                            BoardVersion.board == version.board))
        if same is not None:
            same.version += version.version + 1
            db.session.delete(version)
    # The staying community's kind settings hold; per-kiosk counts start afresh.
    db.session.execute(delete(KindSetting).where(KindSetting.community_id == source_id, KindSetting.kind.in_(
        select(KindSetting.kind).where(KindSetting.community_id == target_id))))
    db.session.execute(delete(RateCounter).where(RateCounter.community_id == source_id))
    db.session.flush()


# --- export and delete ---------------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export(community_id: int) -> bytes:
    """Every record of one community, personal data included (for the district's records
    or for moving it elsewhere): a zip of one JSON file per table. Audited."""
    buffer = io.BytesIO()
    with scope.within(community_id), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        community = db.session.get(Community, community_id)
        archive.writestr("community.json", json.dumps(
            {"id": community.id, "slug": community.slug, "name": community.name, "name_en": community.name_en,
             "settings": community.overrides}, ensure_ascii=False, indent=1))
        counts = {}
        for model in sorted(_scoped_tables(), key=lambda model: model.__tablename__):
            columns = model.__table__.columns
            rows = [{column.key: _jsonable(getattr(row, column.key)) for column in columns}
                    for row in db.session.scalars(select(model))]
            counts[model.__tablename__] = len(rows)
            archive.writestr(f"{model.__tablename__}.json", json.dumps(rows, ensure_ascii=False, indent=1))
        links = db.session.execute(select(expert_skills.c.expert_id, expert_skills.c.skill_id)
                                   .join(Expert, Expert.id == expert_skills.c.expert_id)).all()
        archive.writestr("directory_expert_skills.json", json.dumps(
            [{"expert_id": expert_id, "skill_id": skill_id} for expert_id, skill_id in links], indent=1))
        audit.record("staff", "community-exported", community, {"rows": sum(counts.values())})
        db.session.commit()
    return buffer.getvalue()


def delete_community(community_id: int, typed_slug: str) -> str:
    """Delete a community and every record of it, after a backup of the whole database; the
    slug must be typed to confirm. Returns the backup's file name."""
    community = db.session.get(Community, community_id)
    if community is None:
        raise LifecycleError(_l("No such community."))
    if (typed_slug or "").strip() != community.slug:
        raise LifecycleError(_l("Type the community's short name exactly to confirm."), "confirm")
    if db.session.scalar(select(func.count()).select_from(Community)) == 1:
        raise LifecycleError(_l("The last community cannot be deleted."))
    try:
        backup = make_backup()
    except BackupError as error:
        raise LifecycleError(_l("No backup could be made, so nothing was deleted: %(reason)s",
                                reason=str(error))) from None
    with scope.across("deleting a community and its records"):
        slug, name = community.slug, community.name
        for model in _scoped_tables():
            db.session.execute(delete(model).where(model.community_id == community_id)
                               .execution_options(synchronize_session=False))
        db.session.delete(community)
        db.session.flush()
        with scope.within(db.session.scalar(select(Community.id).order_by(Community.id).limit(1))):
            audit.record("staff", "community-deleted", None, {"slug": slug, "name": name, "backup": backup.name})
            db.session.flush()
        db.session.commit()
    return backup.name
