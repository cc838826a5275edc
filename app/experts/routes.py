from flask import render_template, request
from htmx_flask import make_response

from ..communities.routing import code_from_link
from ..i18n import localized
from ..boards import board_version_of, follows
from ..kiosk import handoff
from ..kiosk.page_cache import cached_page
from ..kiosk.access import actor_key, acting_device_required, code_lookup_limited
from ..errors import Refused
from ..web import events, found_or_404, page_or_fragment, wants_fragment
from ..classes import services as classes
from . import bp, services
from .forms import AskForm, ReceiptForm
from .models import CATEGORIES

BOARD = "experts"

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _category() -> str | None:
    category = request.args.get("category")
    return category if category in CATEGORIES else None


def _list_context():
    query, category = services.normalise_query(request.args.get("q", "")), _category()
    # One more than a page tells whether "more experts match" is true.
    experts = services.search(query, category, limit=services.PAGE_SIZE + 1)
    more, experts = len(experts) > services.PAGE_SIZE, experts[:services.PAGE_SIZE]
    skill_names = {skill.id: localized(skill, "name") for expert in experts for skill in expert.skills}
    return {"experts": experts, "q": query, "category": category, "letters": LETTERS, "skill_names": skill_names,
            "more": more,
            "teaching": classes.taught_by([expert.id for expert in experts])}


follows(BOARD, "directory_skills", "directory_experts", "directory_expert_skills", "directory_search_keys",
        "directory_requests", "directory_expert_weeks")
# What the directory's pages show: its own tables, and the courses each expert teaches.
_SHOWN = (board_version_of(BOARD), classes.version_of)


@bp.get("/")
@cached_page(*_SHOWN)
def index():
    """Category tiles, the A–Z pad and the cards; each tap swaps only the cards."""
    if wants_fragment(("expert-list",)):  # a tap: only the cards, nothing that counts every expert
        return render_template("experts/_list.html", **_list_context())
    return page_or_fragment("experts/index.html", category_counts=services.category_counts(), **_list_context())


def _expert_or_404(expert_id: int):
    return found_or_404(services.public_expert(expert_id))


@bp.get("/<int:expert_id>")
@cached_page(*_SHOWN)
def expert(expert_id: int):
    found = _expert_or_404(expert_id)
    return page_or_fragment("experts/expert.html", expert=found, teaching=classes.taught_by([found.id]),
                            room=services.requests_left(found))


@bp.get("/<int:expert_id>/ask")
def ask_form(expert_id: int):
    return page_or_fragment("experts/ask.html", {"ask-form": "experts/_ask_form.html"},
                            expert=_expert_or_404(expert_id),
                            form=AskForm(formdata=None, data=handoff.prefill("expert-request")))


@bp.post("/<int:expert_id>/ask")
@acting_device_required("expert-request", "10 per 10 minutes")
def ask(expert_id: int):
    found = _expert_or_404(expert_id)
    form = AskForm()
    if form.validate_on_submit():
        try:
            receipt = services.ask(expert_id, form.needs.data, form.text.data or "", form.name.data, form.mobile.data,
                                   created_by=actor_key())
        except Refused as error:
            getattr(form, error.field, form.needs).errors.append(str(error))
        else:
            response = make_response(page_or_fragment("experts/asked.html", {"ask-form": "experts/_asked.html"},
                                                      expert=found, receipt=receipt))
            return events(response, experts_request_created={"expert": expert_id})
    return page_or_fragment("experts/ask.html", {"ask-form": "experts/_ask_form.html"},
                            expert=found, form=form), 422


@bp.get("/receipt")
@code_lookup_limited
def receipt():
    form = ReceiptForm(request.args)
    code = code_from_link("request", request.args.get("code"))
    found = services.request_by_code(code) if code else None
    return page_or_fragment("experts/receipt.html", {"receipt-result": "experts/_receipt_result.html"},
                            form=form, found=found, looked_up=bool(code),
                            expert=services.get_expert(found.expert_id) if found and found.expert_id else None)
