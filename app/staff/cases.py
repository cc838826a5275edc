"""The cases console: the dispatcher's lists and intake, one page per case (timeline, notes
apart from the public reply, the step, routing and reply saved together), the grid
worker's phone-sized list, a unit's inbox across communities, the supervisor's overdue
list, the handler's daily digest, and the settings (categories, grids, units, calendar)."""

from datetime import date

from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import audit
from ..cases import services as cases, workdays
from ..cases.models import STAFF_CHANNELS, Case
from ..clock import utcnow
from ..communities import scope
from ..communities.models import Community
from ..errors import Refused
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..inputs import int_or_none
from ..web import found_or_404
from . import bp
from .access import staff_required
from .forms import ActionForm, confirm_page

DISPATCHERS = ("moderator",)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


def _context(**extra) -> dict:
    return {"now": utcnow(), "action_form": ActionForm(), **extra}


def _is_dispatcher() -> bool:
    return current_user.working_community_id is not None and current_user.has_role(*DISPATCHERS)


# --- lists ------------------------------------------------------------------------------------

@bp.get("/cases")
@staff_required()
def cases_index():
    """The community's cases for its dispatchers; other handlers land on their own list."""
    if not _is_dispatcher():
        if current_user.working_community_id is not None and current_user.has_role("grid-worker"):
            return redirect(url_for("staff.cases_mine"))
        if current_user.unit_id is not None:
            return redirect(url_for("staff.cases_unit"))
        if "supervisor" in current_user.district_roles:
            return redirect(url_for("staff.cases_overdue"))
        abort(403)
    which = request.args.get("show", "to-route")
    which = which if which in cases.LISTS else "to-route"
    grid_id = request.args.get("grid", type=int_or_none)
    category_id = request.args.get("category", type=int_or_none)
    return render_template("staff/cases.html", **_context(
        show=which, items=cases.case_list(which, grid_id=grid_id, category_id=category_id),
        counts=cases.list_counts(), grids=cases.grids(), rules_=cases.rules(active_only=False),
        grid_id=grid_id, category_id=category_id, missing_years=workdays.missing_years()))


@bp.get("/cases/mine")
@staff_required("grid-worker")
def cases_mine():
    """A grid worker's cases, soonest due first, for a phone's screen."""
    mine = cases.grid_worker_cases(current_user)
    return render_template("staff/cases_mine.html", **_context(items=mine, digest=cases.digest(mine)))


@bp.get("/cases/unit")
@staff_required()
def cases_unit():
    if current_user.unit_id is None:
        abort(403)
    items = cases.unit_cases(current_user)
    return render_template("staff/cases_unit.html", **_context(items=items, digest=cases.digest(items),
                                                                communities=_community_names()))


@bp.get("/cases/overdue")
@staff_required()
def cases_overdue():
    if "supervisor" not in current_user.district_roles and "district-admin" not in current_user.district_roles:
        abort(403)
    return render_template("staff/cases_overdue.html", **_context(items=cases.overdue_everywhere(),
                                                                   communities=_community_names()))


@bp.get("/cases/digest")
@staff_required()
def cases_digest():
    """What today asks of the signed-in handler: new, due soon, overdue, extensions."""
    mine: list[Case] = []
    if current_user.working_community_id is not None:
        if current_user.has_role("grid-worker"):
            mine += cases.grid_worker_cases(current_user)
        if _is_dispatcher():
            mine += cases.case_list("open")
    if current_user.unit_id is not None:
        mine += cases.unit_cases(current_user)
    unique = list({case.id: case for case in mine}.values())
    return render_template("staff/cases_digest.html", **_context(digest=cases.digest(unique),
                                                                  communities=_community_names()))


def _community_names() -> dict[int, str]:
    return dict(db.session.execute(db.select(Community.id, Community.name)).all())


# --- intake at the desk -------------------------------------------------------------------------

@bp.get("/cases/new")
@staff_required(*DISPATCHERS)
def cases_new(error=None, field=None, values=None, status=200):
    return render_template("staff/cases_new.html", **_context(
        rules_=cases.rules(), grids=cases.grids(), channels=STAFF_CHANNELS, error=error, field=field,
        values=values or {"channel": "walk_in"})), status


@bp.post("/cases/new")
@staff_required(*DISPATCHERS)
def cases_take_in():
    form = request.form
    channel = form.get("channel", "")
    intake = cases.Intake(
        category_id=int_or_none(form.get("category", "")), text=form.get("text", ""), place=form.get("place", ""),
        grid_id=int_or_none(form.get("grid", "")) if form.get("grid") else None, contact=form.get("contact", ""),
        hotline_number=form.get("hotline_number", ""), hotline_due=_date(form.get("hotline_due")))
    if form.get("hotline_due") and intake.hotline_due is None:
        return cases_new(error=_l("Please give a date as YYYY-MM-DD."), field="hotline_due", values=form, status=422)
    if channel not in STAFF_CHANNELS:
        return cases_new(error=_l("Please choose how the problem came in."), field="channel", values=form,
                         status=422)
    try:
        case = cases.take_in(intake, channel=channel, reported_by=f"staff:{current_user.id}",
                             staff_id=current_user.id)
    except cases.CaseError as error:
        return cases_new(error=str(error), field=error.field, values=form, status=422)
    return redirect(url_for("staff.case_page", case_number=case.number), 303)


# --- one case -----------------------------------------------------------------------------------

def _locate(number: str) -> tuple[int, int, str]:
    """(community, case id, how the member reaches it): in the community being worked in, else
    routed to their unit, else overdue for a supervisor. 404 when none of these holds."""
    if current_user.working_community_id is not None:
        case = cases.by_number(number)
        if case is not None:
            return case.community_id, case.id, "community"
    found = cases.unit_case(current_user, number)
    if found:
        return (*found, "unit")
    if "supervisor" in current_user.district_roles:
        found = cases.supervised_case(number)
        if found:
            return (*found, "supervisor")
    abort(404)


def _page(number: str, *, step_error: str | None = None, field: str | None = None, typed=None, status=200,
          revealed: bool = False):
    community_id, case_id, reach = _locate(number)
    with scope.within(community_id):
        case = db.session.get(Case, case_id)
        if not cases.may_see(current_user, case):
            abort(403)
        # Outside the case's own people (a unit from another community, a supervisor): audited.
        if request.method == "GET" and (reach != "community" or not cases.may_write(current_user, case)):
            audit.record("cases", "case-opened", case, {"as": reach})
            db.session.commit()
            case = db.session.get(Case, case_id)
        if revealed:
            audit.record("cases", "case-contact-viewed", case, {"contact": bool(case.contact)})
            db.session.commit()
            case = db.session.get(Case, case_id)
        body = render_template(
            "staff/case.html", **_context(
                case=case, steps=cases.timeline(case, public_only=False), actions=cases.actions_for(current_user, case),
                writer=cases.may_write(current_user, case), grids=cases.grids(), units=cases.units(),
                rule=cases.rule_for(case.category_id), error=step_error, field=field, typed=typed or {},
                revealed=revealed, community=db.session.get(Community, community_id), reach=reach,
                original=db.session.get(Case, case.duplicate_of_id) if case.duplicate_of_id else None))
    return body, status


@bp.get("/cases/<case_number>")
@staff_required()
def case_page(case_number: str):
    # Shown once after the reveal's redirect; a reload hides it again.
    return _page(case_number, revealed=session.pop(REVEALED, None) == case_number)


# The case whose original words and contact the next view of its page shows (the reveal's
# redirect carries it in the session cookie: the case's number only).
REVEALED = "revealed_case"


@bp.post("/cases/<case_number>/reveal")
@staff_required()
def case_reveal(case_number: str):
    """The resident's own words and call-back number, on request; every look is audited."""
    community_id, case_id, _reach = _locate(case_number)
    with scope.within(community_id):
        case = db.session.get(Case, case_id)
        if not cases.may_write(current_user, case):
            abort(403)
    session[REVEALED] = case_number
    return redirect(url_for("staff.case_page", case_number=case_number, _anchor="case-contact"), 303)


@bp.post("/cases/<case_number>/publish")
@staff_required(*DISPATCHERS)
def case_publish(case_number: str):
    """Show a case on the wall as a problem card (a private category's, when staff decide it
    may be public); the card goes through the wall's checks and moderation like any post."""
    case = cases.by_number(case_number)
    if case is None:
        abort(404)
    if case.post_id is None and not cases.publish(case.id, posted_by=f"staff:{current_user.id}",
                                                  staff_id=current_user.id):
        return _page(case_number, step_error=_l("The wall's checks refused this text: it stays private."),
                     status=422)
    return redirect(url_for("staff.case_page", case_number=case_number), 303)


def _step(form) -> cases.Step:
    fixed = {"yes": True, "no": False}.get(form.get("fixed", ""))
    return cases.Step(
        action=form.get("action", ""), level=form.get("level", ""),
        grid_id=int_or_none(form.get("grid", "")) if form.get("grid") else None,
        unit_id=int_or_none(form.get("unit", "")) if form.get("unit") else None,
        reason=form.get("reason", ""), until=_date(form.get("until")), close_reason=form.get("close_reason", ""),
        duplicate_of=form.get("duplicate_of", ""), fixed=fixed, satisfaction=form.get("satisfaction", ""),
        reply=form.get("reply") if "reply" in form else None, note=form.get("note", ""))


@bp.post("/cases/<case_number>")
@staff_required()
def case_act(case_number: str):
    number = case_number
    community_id, case_id, _reach = _locate(number)
    step = _step(request.form)
    if request.form.get("until") and step.until is None:
        return _page(number, step_error=_l("Please give a date as YYYY-MM-DD."), field="until",
                     typed=request.form, status=422)
    try:
        with scope.within(community_id):
            case = cases.act(case_id, current_user, step)
            still_theirs = cases.may_see(current_user, case)
    except Refused as error:
        return _page(number, step_error=str(error), field=error.field, typed=request.form, status=422)
    if not still_theirs:  # sent back (退单): no longer the handler's to open, back to their list
        return redirect(url_for("staff.cases_index"), 303)
    return redirect(url_for("staff.case_page", case_number=number), 303)


# --- settings -----------------------------------------------------------------------------------

def _settings(error=None, status=200):
    district_admin = "district-admin" in current_user.district_roles
    return render_template("staff/cases_settings.html", **_context(
        rules_=cases.rules(active_only=False), grids=cases.grids(), grids_in_use=cases.grids_in_use(),
        workers=cases.grid_workers(),
        units=cases.units(), district_admin=district_admin, error=error, missing_years=workdays.missing_years(),
        calendar_days=workdays.entered_days(), library_years=sorted(workdays.LIBRARY_YEARS)[-3:])), status


@bp.get("/cases/settings")
@staff_required("admin")
def cases_settings():
    return _settings()


def _settings_action(action):
    try:
        action()
    except Refused as error:
        return _settings(error=str(error), status=422)
    return redirect(url_for("staff.cases_settings"), 303)


def _int(name: str) -> int | None:
    return int_or_none(request.form.get(name, "")) if request.form.get(name) else None


@bp.post("/cases/settings/categories/<int:category_id>")
@staff_required("admin")
def cases_category_override(category_id: int):
    form = request.form
    return _settings_action(lambda: cases.set_category_override(
        category_id, first_handler=form.get("first_handler", ""), unit_id=_int("unit"),
        deadline_days=_int("deadline_days"), urgent_hours=_int("urgent_hours"),
        private="private" in form, active="active" in form))


def _district_admin_only():
    if "district-admin" not in current_user.district_roles:
        abort(403)


@bp.post("/cases/settings/categories")
@staff_required("admin")
def cases_category_add():
    _district_admin_only()
    form = request.form
    return _settings_action(lambda: cases.add_category(
        form.get("key", ""), form.get("name", ""), form.get("name_en", ""), first_handler=form.get("first_handler", ""),
        unit_id=_int("unit"), deadline_days=_int("deadline_days"), urgent_hours=_int("urgent_hours"),
        private="private" in form))


@bp.post("/cases/settings/grids")
@staff_required("admin")
def cases_grid_add():
    return _settings_action(lambda: cases.add_grid(request.form.get("name", ""), _int("worker")))


@bp.post("/cases/settings/grids/<int:grid_id>")
@staff_required("admin")
def cases_grid_edit(grid_id: int):
    return _settings_action(lambda: cases.update_grid(grid_id, request.form.get("name", ""), _int("worker")))


@bp.post("/cases/settings/grids/<int:grid_id>/move/<any(up, down):direction>")
@staff_required("admin")
def cases_grid_move(grid_id: int, direction: str):
    return _settings_action(lambda: cases.move_grid(grid_id, -1 if direction == "up" else 1))


@bp.get("/cases/settings/grids/<int:grid_id>/remove")
@staff_required("admin")
def cases_grid_confirm_remove(grid_id: int):
    grid = found_or_404(next((grid for grid in cases.grids() if grid.id == grid_id), None))
    back = url_for("staff.cases_settings")
    if grid_id in cases.grids_in_use():
        return confirm_page(_l("Cases name this grid: it can be renamed, not removed."), button=None, back=back)
    return confirm_page(_l("Remove the grid “%(name)s”?", name=grid.name),
                        _l("No case names it. It leaves the case form and the figures."),
                        button=_l("Remove the grid"), back=back)


@bp.post("/cases/settings/grids/<int:grid_id>/remove")
@staff_required("admin")
def cases_grid_remove(grid_id: int):
    return _settings_action(lambda: cases.remove_grid(grid_id))


@bp.post("/cases/settings/units")
@staff_required("admin")
def cases_unit_add():
    _district_admin_only()
    return _settings_action(lambda: cases.add_unit(request.form.get("name", ""), request.form.get("kind", "")))


@bp.post("/cases/settings/unit-staff")
@staff_required("admin")
def cases_unit_staff():
    _district_admin_only()
    return _settings_action(lambda: cases.set_unit_staff(request.form.get("username", ""), _int("unit")))


@bp.post("/cases/settings/calendar")
@staff_required("admin")
def cases_calendar_day():
    _district_admin_only()
    day = _date(request.form.get("day"))
    return _settings_action(lambda: workdays.enter_day(day, request.form.get("workday") == "yes",
                                                       request.form.get("note", "")))


@bp.post("/cases/settings/calendar/<day>/remove")
@staff_required("admin")
def cases_calendar_remove(day: str):
    _district_admin_only()
    parsed = _date(day)
    if parsed is None:
        abort(404)
    workdays.remove_day(parsed)
    return redirect(url_for("staff.cases_settings"), 303)

