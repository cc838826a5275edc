"""The resident's side of cases: report a problem (category tiles, place, "me too"), the
receipt's progress and the check back (回访), and a wall card's public timeline. No page
here shows who reported a problem or an internal note."""

from flask import abort, render_template, request
from htmx_flask import make_response

from ..communities.routing import code_from_link
from ..clock import utcnow
from ..inputs import int_or_none
from ..kiosk import handoff
from ..households.services import acting_household
from ..kiosk.access import acting_device_required, actor_key, code_lookup_limited
from ..kiosk.devices import current_kiosk
from ..wall import services as wall
from ..web import events, page_or_fragment
from . import bp, services
from .forms import CaseForm, CheckBackForm, LookupForm


def _form(formdata=None, **data) -> CaseForm:
    form = CaseForm(formdata=formdata, data=data) if formdata is None else CaseForm()
    return form.offer(services.rules(), services.grids())


def _similar(category_id, grid_id, place):
    return services.similar_open(category_id, grid_id, place)


@bp.get("/new")
def new():
    data = handoff.prefill("case-report") or {}
    category = request.args.get("category", type=int_or_none) or int_or_none(str(data.get("category", "")))
    form = _form(None, **{**data, "category": category})
    return page_or_fragment("cases/new.html", {"case-form": "cases/_form.html"}, form=form,
                            similar=_similar(category, int_or_none(str(data.get("grid", ""))), data.get("place", "")))


@bp.get("/similar")
def similar():
    """Open problems like the one being written (same category, same grid or place)."""
    args = request.args
    return render_template("cases/_similar.html", similar=_similar(
        args.get("category", type=int_or_none), args.get("grid", type=int_or_none), args.get("place", "")[:40]))


def _channel() -> str:
    if current_kiosk() is not None:
        return "kiosk"
    return "phone" if handoff.kiosk_acting_for_phone() or acting_household() else "walk_in"


@bp.post("/")
@acting_device_required("case-report", "5 per 10 minutes")
def create():
    form = _form(request.form)
    if form.validate_on_submit():
        intake = services.Intake(category_id=form.category.data, text=form.text.data, place=form.place.data or "",
                                 grid_id=form.grid.data, contact=form.contact.data or "")
        try:
            case = services.take_in(intake, channel=_channel(), reported_by=actor_key())
        except services.CaseError as error:
            getattr(form, error.field, form.text).errors.append(str(error))
        else:
            response = make_response(page_or_fragment("cases/reported.html", {"case-form": "cases/_reported.html"},
                                                      case=case))
            return events(response, cases_reported={"receipt": case.receipt_code})
    similar = _similar(form.category.data, form.grid.data, form.place.data or "")
    return page_or_fragment("cases/new.html", {"case-form": "cases/_form.html"}, form=form, similar=similar), 422


@bp.post("/<int:case_id>/me-too")
@acting_device_required("case-me-too", "20 per hour")
def me_too(case_id: int):
    if services.get(case_id) is None:
        abort(404)
    try:
        counted = services.me_too(case_id, actor_key())
    except services.CaseError as error:
        return render_template("cases/_me_too.html", error=str(error)), 422
    return events(make_response(render_template("cases/_me_too.html", counted=counted)), cases_me_too={"id": case_id})


def _receipt_context(code: str):
    case = services.by_receipt(code_from_link("case", code)) if code else None
    return {"case": case, "looked_up": bool(code), "now": utcnow(),
            "steps": services.timeline(case) if case else [],
            "answer": CheckBackForm(formdata=None, data={"code": case.receipt_code}) if case else None}


@bp.get("/receipt")
@code_lookup_limited
def receipt():
    form = LookupForm(request.args)
    return page_or_fragment("cases/receipt.html", {"case-receipt": "cases/_receipt.html"}, form=form,
                            **_receipt_context(request.args.get("code", "")))


@bp.post("/check-back")
@acting_device_required("case-check-back", "10 per 10 minutes")
def check_back():
    form = CheckBackForm()
    code = code_from_link("case", form.code.data or "")
    error = None
    if form.validate_on_submit():
        try:
            services.check_back(code, form.fixed.data == "yes", form.satisfaction.data)
        except services.CaseError as refused:
            error = str(refused)
    else:
        error = next(iter(form.fixed.errors or form.satisfaction.errors or form.code.errors), None)
    context = _receipt_context(code)
    if error:
        context["answer"] = form
    return render_template("cases/_receipt.html", error=error, **context), 422 if error else 200


@bp.get("/card/<int:post_id>")
def card(post_id: int):
    """The public timeline of the case behind a problem card on the wall."""
    post = wall.public_post(post_id)
    case = services.by_post([post]).get(post_id) if post is not None else None
    if case is None:
        abort(404)
    return page_or_fragment("cases/card.html", {}, case=case, post=post, steps=services.timeline(case), now=utcnow())
