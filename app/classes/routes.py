from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from htmx_flask import make_response

from ..communities.routing import code_from_link
from ..clock import site_today, utcnow
from ..experts import services as experts
from ..kiosk import handoff
from ..households.services import acting_household
from ..kiosk.page_cache import cached_page
from ..kiosk.access import actor_key, acting_device_required, code_lookup_limited, phone_layout, resident_key
from ..limits import rate_limited
from ..polls import fast_poll
from ..people import normalise_code
from ..errors import Refused
from ..inputs import int_or_none
from ..web import events, found_or_404, page_or_fragment, phone_url, poll, qr_svg
from . import bp, services
from .forms import CancelForm, LookupForm, RateForm, SignupForm
from .labels import STATE_LABELS
from .models import CATEGORIES


def _category() -> str | None:
    category = request.args.get("category")
    return category if category in CATEGORIES else None


def _course_or_404(course_id: int):
    return found_or_404(services.public_course(course_id))


def _week_version() -> str:
    # The timetable also changes at midnight, when today moves on.
    return f"{services.version()}-{site_today().isoformat()}"


def _week_context():
    return {"days": services.week(), "version": _week_version()}


def _list_context(category):
    return {"courses": services.public_courses(category), "category": category, "now": utcnow(),
            "version": services.version()}


@bp.get("/")
@cached_page(services.version_of)  # today: the minute and the community's zone are in the key
def index():
    return page_or_fragment("classes/index.html", {"week": "classes/_week.html"}, **_week_context())


@bp.get("/all")
@cached_page(services.version_of)
def courses():
    category = _category()
    return page_or_fragment("classes/courses.html", {"course-list": "classes/_course_list.html"},
                            category_counts=services.category_counts(), **_list_context(category))


@bp.get("/live")
def live():
    """Polled by kiosks showing the timetable or the course list: 204 while nothing changed."""
    if request.args.get("view") == "all":
        return poll(services.version(),
                    lambda: render_template("classes/_course_list.html", **_list_context(_category())))
    return poll(_week_version(), lambda: render_template("classes/_week.html", **_week_context()))


def _seats_context(course):
    """What the seats fragment shows, and no more: it is what every kiosk on the page polls."""
    return {"course": course, "now": utcnow(), "waiting": services.waitlist_counts([course.id]).get(course.id, 0),
            "rating": services.rating_summary(course.id) if services.phase(course) == "finished" else None}


def _course_context(course):
    return {"schedule": services.schedule(course),
            "teacher_listed": bool(course.teacher_expert_id and experts.public_expert(course.teacher_expert_id)),
            "upcoming": services.upcoming_meetings(course), **_seats_context(course)}


@bp.get("/<int:course_id>")
@cached_page(services.revision_of, services.status_of, services.teacher_state_of)
def course(course_id: int):
    course = _course_or_404(course_id)
    return page_or_fragment("classes/course.html", {"seats": "classes/_seats.html"}, **_course_context(course))


fast_poll("/classes/(?P<course_id>[0-9]+)/seats", services.revision_of)


@bp.get("/<int:course_id>/seats")
def seats(course_id: int):
    """Polled by every kiosk showing the course: 204 while nothing changed."""
    return poll(services.revision(course_id),
                lambda: render_template("classes/_seats.html", **_seats_context(_course_or_404(course_id))))


@bp.get("/<int:course_id>/draw")
def draw_record(course_id: int):
    course = _course_or_404(course_id)
    if course.mode != "lottery":
        abort(404)
    return page_or_fragment("classes/draw.html", course=course, drawn=services.draw_result(course_id),
                            entries=services.entries(course_id) if not course.drawn_at else [],
                            commitment=services.seed_commitment(course.draw_seed) if course.draw_seed else "",
                            verified=services.verify_draw(course_id) if course.drawn_at else None)


@bp.get("/<int:course_id>/sign-up")
def signup_form(course_id: int):
    course = _course_or_404(course_id)
    return page_or_fragment("classes/signup.html", {"signup-form": "classes/_signup_form.html"},
                            course=course, form=SignupForm(formdata=None, data=handoff.prefill("class-signup")),
                            now=utcnow())


def _lookup_qr(code: str):
    """The QR code of the sign-up's page, for the resident's phone (none without an address to trust)."""
    url = phone_url(url_for("classes.lookup", code=code))
    return qr_svg(url) if url else None


def _source(actor: str) -> str:
    kind = actor.partition(":")[0]
    return {"staff": "assisted", "household": "phone"}.get(kind, "kiosk")


@bp.post("/<int:course_id>/sign-up")
@acting_device_required("class-signup", "60 per 10 minutes")
def sign_up(course_id: int):
    course = found_or_404(services.public_course_as_read(course_id))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            outcome = services.sign_up(course_id, form.name.data, form.mobile.data,
                                       source=_source(actor_key()), created_by=actor_key(), as_read=course)
        except Refused as error:
            if error.field == "course":
                form.form_errors.append(str(error))
            else:
                getattr(form, error.field, form.mobile).errors.append(str(error))
            if error.details.get("state"):
                form.mobile.errors.append(_already_text(error.details))
        else:
            response = make_response(page_or_fragment(
                "classes/signed_up.html", {"signup-form": "classes/_signed_up.html"}, course=course,
                outcome=outcome, qr=None if phone_layout() else _lookup_qr(outcome.code)))
            return events(response, classes_signup_created={"course": course_id, "state": outcome.state})
    return page_or_fragment("classes/signup.html", {"signup-form": "classes/_signup_form.html"},
                            course=course, form=form, now=utcnow()), 422


def _already_text(details) -> str:
    if details["state"] == "waitlisted":
        return _("It is number %(n)d on the waitlist.", n=details["position"])
    return str(STATE_LABELS[details["state"]])


@bp.get("/my")
@code_lookup_limited
def lookup():
    """A sign-up by its code: where it stands, and what can be done (cancel, rate)."""
    form = LookupForm(request.args)
    code = code_from_link("signup", normalise_code(form.code.data))
    signup = services.find_signup(code) if code else None
    context = {"form": form, "looked_up": bool(code), "signup": signup}
    if signup is not None:
        context.update(course=services.get_course(signup.course_id),
                       position=services.waitlist_position(signup),
                       can_rate=services.rating_eligible(signup),
                       cancel_form=CancelForm(formdata=None, code=signup.code),
                       rate_form=RateForm(formdata=None, code=signup.code))
    return page_or_fragment("classes/lookup.html", {"lookup-result": "classes/_lookup_result.html"}, **context)


@bp.post("/cancel")
@rate_limited("class-cancel", "10 per 10 minutes", resident_key)
def cancel():
    form = CancelForm()
    if form.validate_on_submit():
        try:
            signup = services.cancel(form.code.data, form.tail.data)
        except Refused as error:
            form.tail.errors.append(str(error))
        else:
            course = services.get_course(signup.course_id)
            return events(make_response(render_template("classes/_cancelled.html", signup=signup, course=course)),
                          classes_signup_cancelled={"course": course.id})
    return render_template("classes/_cancel_form.html", cancel_form=form), 422


@bp.post("/rate")
@rate_limited("class-rate", "10 per 10 minutes", resident_key)
def rate():
    form = RateForm()
    if form.validate_on_submit():
        try:
            services.rate(form.code.data, form.stars.data, form.comment.data or "")
        except Refused as error:
            getattr(form, error.field, form.stars).errors.append(str(error))
        else:
            return render_template("classes/_rated.html")
    return render_template("classes/_rate_form.html", rate_form=form), 422


@bp.get("/survey")
def survey():
    return page_or_fragment("classes/survey.html", {"survey-form": "classes/_survey_form.html"},
                            survey=services.published_survey(), error=None,
                            chosen=handoff.prefill("class-survey").get("option", []))


@bp.post("/survey/<int:survey_id>")
@acting_device_required("class-survey", "30 per hour")
def answer_survey(survey_id: int):
    found_or_404(services.get_survey(survey_id))
    chosen = [int_or_none(value) for value in request.form.getlist("option")]
    try:
        if None in chosen:
            raise Refused(_("Please tap only the choices shown."), "options")
        services.answer_survey(survey_id, chosen, household_id=acting_household())
    except Refused as error:
        return page_or_fragment("classes/survey.html", {"survey-form": "classes/_survey_form.html"},
                                survey=services.get_survey(survey_id), error=str(error),
                                chosen=request.form.getlist("option")), 422
    return page_or_fragment("classes/survey.html", {"survey-form": "classes/_survey_thanks.html"},
                            survey=None, error=None, answered=True)
