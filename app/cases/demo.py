"""Demo content for cases: problems at every step (to route, being handled, resolved and
waiting for the resident's answer, a private dispute, a 12345 ticket), with their wall cards,
so the console's lists and the wall's problem cards have something to show."""

from datetime import timedelta

from sqlalchemy import select

from ..clock import site_today, utcnow
from ..extensions import db
from ..staff.models import StaffMember
from ..wall import services as wall
from . import services
from .models import Case, CaseEvent, Category, Unit

GRIDS = ("第一网格（1–5号楼）", "第二网格（6–10号楼）")
UNITS = (("区市政市容管理委员会", "department"), ("幸福物业服务公司", "property"))
# (category, place, grid, text, hours ago, steps: (action, reply))
CASES = [
    ("roads", "正门", 0, "小区正门口没有人行横道，接送孩子过马路很危险。", 72,
     [("route", ""), ("accept", ""), ("start", "已联系交警部门，正在规划斑马线和减速带，预计下月施工。")]),
    ("lighting", "7号楼旁", 1, "7号楼和8号楼之间的路灯坏了两个星期了。", 50,
     [("route", ""), ("accept", ""), ("resolve", "路灯已于周二修好，谢谢反映！")]),
    ("sanitation", "北门垃圾站", 0, "垃圾站旁的垃圾桶味道很大，能不能每天多清运一次？", 5, []),
    ("dispute", "3号楼", 0, "楼上装修晚上十点还在施工，敲门也没人应。", 3, []),
]


def _committee() -> StaffMember:
    """The demo's steps are the residents' committee's own: a member not stored, acting as
    an admin of the community (no account is created for it)."""
    return StaffMember(username="demo", display_name="居委会", roles="district-admin")


def load() -> None:
    grid_ids = [services.add_grid(name) for name in GRIDS]
    for name, kind in UNITS:
        if db.session.scalar(select(Unit.id).where(Unit.name == name)) is None:
            services.add_unit(name, kind)
    categories = dict(db.session.execute(select(Category.key, Category.id)).all())
    committee = _committee()
    now = utcnow()
    for key, place, grid, text, hours, steps in CASES:
        case = services.take_in(services.Intake(categories[key], text, place=place, grid_id=grid_ids[grid]),
                                channel="kiosk", reported_by="demo")
        if case.post_id:
            wall.approve(case.post_id, None)
        for action, reply in steps:
            step = services.Step(action=action, level="committee" if action == "route" else "",
                                 reply=reply or None)
            services.act(case.id, committee, step)
        _backdate(case.id, timedelta(hours=hours), now)
    hotline = services.Intake(categories["utilities"], "2单元601暖气不热，屋里只有16度。", place="9号楼2单元",
                              grid_id=grid_ids[1], hotline_number="12345-20261203-0456",
                              hotline_due=site_today() + timedelta(days=3))
    services.take_in(hotline, channel="hotline", reported_by="demo")


def _backdate(case_id: int, by: timedelta, now) -> None:
    """Spread the case's steps over the hours since it came in, as real work would be."""
    case = db.session.get(Case, case_id)
    start = now - by
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)).all()
    for index, event in enumerate(events):
        event.at = start + (by / 2) * index / max(len(events), 1)
    case.created_at = start
    for name in ("routed_at", "accepted_at", "first_accepted_at", "resolved_at"):
        if getattr(case, name) is not None:
            setattr(case, name, start + by / 4)
    db.session.commit()
