"""The coordinators' side of the classes: courses, rosters and attendance, waitlist moves,
assisted sign-ups, lotteries, ratings, needs surveys. Every view of personal data and
every change to a sign-up leaves an audit entry."""

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_login import current_user
from htmx_flask import make_response
from wtforms import (BooleanField, DateField, DateTimeLocalField, IntegerField, SelectField, StringField, SubmitField,
                     TextAreaField, TimeField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .. import lengths
from ..classes import services as classes
from ..experts import services as experts
from ..classes.labels import CATEGORY_LABELS, MODE_LABELS, WEEKDAY_LABELS
from ..classes.models import CATEGORIES, MODES
from ..clock import to_site, utcnow
from ..errors import Refused
from ..exports import Table, download
from ..forms import Form
from ..i18n import lazy_gettext as _l
from ..inputs import int_or_none
from ..web import events, found_or_404, phone_url, qr_svg
from . import bp
from .access import staff_required
from .forms import ActionForm, CheckboxesField, confirm_page

# --- forms -------------------------------------------------------------------------------

class CourseForm(Form):
    """A course as coordinators write it; times are the center's local times."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=lengths.COURSE_TITLE)])
    title_en = StringField(_l("Title in English (optional)"),
                           validators=[Optional(), Length(max=lengths.COURSE_TITLE_EN)])
    category = SelectField(_l("Category"), choices=[])
    teacher = StringField(_l("Teacher"), validators=[DataRequired(), Length(max=lengths.TEACHER)],
                          description=_l("As residents see it, e.g. 王老师"))
    teacher_expert_id = SelectField(_l("Teacher in the expert directory (optional)"), coerce=int, choices=[], default=0)
    venue = StringField(_l("Room"), validators=[DataRequired(), Length(max=lengths.VENUE)])
    venue_en = StringField(_l("Room in English (optional)"), validators=[Optional(), Length(max=lengths.VENUE_EN)])
    capacity = IntegerField(_l("Seats"), validators=[DataRequired(), NumberRange(min=1, max=500)])
    mode = SelectField(_l("How seats are given"), choices=[])
    one_per_household = BooleanField(_l("One sign-up per household"),
                                     description=_l("Phones bound to the same household code can sign up only once."))
    term_starts = DateField(_l("Term starts"), validators=[DataRequired()])
    term_ends = DateField(_l("Term ends"), validators=[DataRequired()])
    signup_opens_at = DateTimeLocalField(_l("Sign-up opens"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M")
    signup_closes_at = DateTimeLocalField(_l("Sign-up closes"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M",
                                          description=_l("For a lottery: when entries close and the draw is made."))
    weekdays = CheckboxesField(_l("Every week on"), choices=[], coerce=int, validators=[Optional()])
    dates = TextAreaField(_l("Or on these dates"), validators=[Optional(), Length(max=lengths.DATES_TYPED)],
                          description=_l("One date per line, e.g. 2026-12-05."))
    start_time = TimeField(_l("Starts at"), validators=[DataRequired()])
    minutes = IntegerField(_l("Minutes per class"), default=90,
                           validators=[DataRequired(), NumberRange(min=15, max=480)])
    eligibility = StringField(_l("Who can join (e.g. minimum age)"),
                              validators=[Optional(), Length(max=lengths.ELIGIBILITY)])
    eligibility_en = StringField(_l("Who can join, in English"),
                                 validators=[Optional(), Length(max=lengths.ELIGIBILITY_EN)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=lengths.DESCRIPTION)])
    description_en = TextAreaField(_l("Description in English (optional)"),
                                   validators=[Optional(), Length(max=lengths.DESCRIPTION_EN)])
    submit = SubmitField(_l("Save"))


class AssistedSignupForm(Form):
    name = StringField(_l("Resident's name"), validators=[DataRequired(), Length(max=lengths.NAME)])
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=lengths.MOBILE_TYPED)])
    submit = SubmitField(_l("Sign up on their behalf"))


class SurveyForm(Form):
    question = StringField(_l("Question"), validators=[DataRequired(), Length(max=lengths.SURVEY_QUESTION)])
    question_en = StringField(_l("Question in English (optional)"),
                              validators=[Optional(), Length(max=lengths.SURVEY_QUESTION_EN)])
    options = TextAreaField(_l("Choices, one per line"),
                            validators=[DataRequired(), Length(max=lengths.SURVEY_OPTIONS_TYPED)])
    options_en = TextAreaField(_l("Choices in English, one per line, same order (optional)"),
                               validators=[Optional(), Length(max=lengths.SURVEY_OPTIONS_EN_TYPED)])
    one_per_household = BooleanField(_l("One answer per household"),
                                     description=_l("Phones bound to the same household code can answer only once."))
    submit = SubmitField(_l("Create survey"))


# --- views -------------------------------------------------------------------------------

COORDINATORS = ("coordinator",)
# Dates beside the names on one A4 landscape page of a printed roster.
MEETINGS_PER_PAGE = 12
STATUS_ACTIONS = {"open": _l("Open sign-up"), "close": _l("Close sign-up now"), "drop": _l("Drop the course")}


def _course_or_404(course_id: int):
    return found_or_404(classes.get_course(course_id))


@bp.get("/classes")
@staff_required(*COORDINATORS)
def classes_index():
    courses = classes.staff_courses()
    return render_template("staff/classes.html", courses=courses,
                           waiting=classes.waitlist_counts([course.id for course in courses]),
                           ratings=classes.rating_overview(), now=utcnow())


def _course_form(course=None) -> CourseForm:
    if request.method == "POST":
        form = CourseForm()
    elif course is not None:
        form = CourseForm(data=classes.form_data(course))
    else:
        form = CourseForm(formdata=None, mode="first_come", minutes=90)
    form.category.choices = [(category, CATEGORY_LABELS[category]) for category in CATEGORIES]
    form.mode.choices = [(mode, MODE_LABELS[mode]) for mode in MODES]
    form.weekdays.choices = [(index, label) for index, label in enumerate(WEEKDAY_LABELS)]
    form.teacher_expert_id.choices = [(0, "—")] + [(expert.id, f"{expert.display_name} ({expert.name})")
                                                   for expert in experts.staff_experts() if expert.state == "listed"]
    return form


def _listed_dates(form: CourseForm) -> tuple[date, ...]:
    days = []
    for line in (form.dates.data or "").split():
        try:
            days.append(date.fromisoformat(line.strip()))
        except ValueError:
            raise classes.ClassError(_l("“%(line)s” is not a date like 2026-12-05.", line=line[:20]), "dates") from None
    return tuple(days)


def _save(form: CourseForm, course_id: int | None):
    data = classes.CourseData(
        title=form.title.data.strip(), title_en=(form.title_en.data or "").strip(), category=form.category.data,
        teacher=form.teacher.data.strip(), teacher_expert_id=form.teacher_expert_id.data or None,
        venue=form.venue.data.strip(), venue_en=(form.venue_en.data or "").strip(),
        capacity=form.capacity.data, mode=form.mode.data,
        one_per_household=bool(form.one_per_household.data), term_starts=form.term_starts.data,
        term_ends=form.term_ends.data, signup_opens_at=form.signup_opens_at.data,
        signup_closes_at=form.signup_closes_at.data, weekdays=tuple(form.weekdays.data or ()),
        dates=_listed_dates(form), start_time=form.start_time.data, minutes=form.minutes.data,
        eligibility=(form.eligibility.data or "").strip(), eligibility_en=(form.eligibility_en.data or "").strip(),
        description=(form.description.data or "").strip(), description_en=(form.description_en.data or "").strip())
    return classes.save_course(course_id, data)


def _edit(course=None):
    form = _course_form(course)
    if form.validate_on_submit():
        try:
            saved = _save(form, course.id if course else None)
        except Refused as error:
            getattr(form, error.field, form.title).errors.append(str(error))
        else:
            return redirect(url_for("staff.class_detail", course_id=saved.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("staff/class_form.html", form=form, course=course), status


@bp.get("/classes/new")
@staff_required(*COORDINATORS)
def new_class():
    return _edit()


@bp.post("/classes/new")
@staff_required(*COORDINATORS)
def create_class():
    return _edit()


@bp.get("/classes/<int:course_id>/edit")
@staff_required(*COORDINATORS)
def edit_class(course_id: int):
    return _edit(_course_or_404(course_id))


@bp.post("/classes/<int:course_id>/edit")
@staff_required(*COORDINATORS)
def update_class(course_id: int):
    return _edit(_course_or_404(course_id))


def _detail(course, *, error: str | None = None, assisted_form=None, status: int = 200):
    roster = classes.roster(course.id)
    now = utcnow()
    return render_template(
        "staff/class_detail.html", course=course, roster=roster, meetings=classes.meetings_held(course, now),
        present=classes.attendance(course.id),
        counts=classes.counts(course.id), rating=classes.rating_summary(course.id), now=now,
        assisted_form=assisted_form or AssistedSignupForm(formdata=None), action_form=ActionForm(),
        status_actions=STATUS_ACTIONS, error=error,
        waitlist_size=sum(1 for signup in roster if signup.state == "waitlisted"),
        verified=classes.verify_draw(course.id) if course.drawn_at else None), status


@bp.get("/classes/<int:course_id>")
@staff_required(*COORDINATORS)
def class_detail(course_id: int):
    course = _course_or_404(course_id)
    classes.record_roster_view(course, "viewed")
    return _detail(course)


@bp.post("/classes/<int:course_id>/status/<action>")
@staff_required(*COORDINATORS)
def set_class_status(course_id: int, action: str):
    course = _course_or_404(course_id)
    if action not in STATUS_ACTIONS:
        abort(404)
    try:
        classes.set_status(course_id, action, reason=request.form.get("reason", ""))
    except Refused as error:
        return _detail(course, error=str(error), status=422)
    return redirect(url_for("staff.class_detail", course_id=course_id), code=303)


@bp.get("/classes/<int:course_id>/draw")
@staff_required(*COORDINATORS)
def confirm_draw_class(course_id: int):
    course = _course_or_404(course_id)
    back = url_for("staff.class_detail", course_id=course_id)
    entered = len(classes.entries(course_id))
    if not course.awaiting_draw:
        return confirm_page(_l("There is no draw to make for this course."), button=None, back=back)
    if utcnow() < course.signup_closes_at:
        return confirm_page(
            _l("Entries are still open"),
            _l("The public page says entries are taken until %(when)s, so the draw waits for then. To draw "
               "sooner, close the entries now: the public page then says they closed, and no more are taken.",
               when=format_datetime(course.signup_closes_at, "short")),
            _l("%(entries)d entries so far for %(seats)d seats.", entries=entered, seats=course.capacity),
            button=_l("Close entries now"), back=back,
            action=url_for("staff.close_class_entries", course_id=course_id))
    return confirm_page(
        _l("Draw the lottery for “%(title)s” now?", title=course.title),
        _l("%(entries)d entries for %(seats)d seats. The draw is made once, with the published seed: the first "
           "drawn get the seats, the rest join the waitlist in drawn order. It cannot be redone.",
           entries=entered, seats=course.capacity),
        button=_l("Draw now"), back=back)


@bp.post("/classes/<int:course_id>/draw")
@staff_required(*COORDINATORS)
def draw_class(course_id: int):
    course = _course_or_404(course_id)
    if course.awaiting_draw and utcnow() < course.signup_closes_at:
        return _detail(course, error=str(_l("Entries are open until %(when)s: close them first.",
                                            when=format_datetime(course.signup_closes_at, "short"))), status=422)
    if not classes.draw(course_id):
        return _detail(course, error=str(_l("There is no draw to make for this course.")), status=422)
    return redirect(url_for("staff.class_detail", course_id=course_id), code=303)


@bp.post("/classes/<int:course_id>/close-entries")
@staff_required(*COORDINATORS)
def close_class_entries(course_id: int):
    course = _course_or_404(course_id)
    if not classes.close_entries(course_id):
        return _detail(course, error=str(_l("There are no open entries to close.")), status=422)
    return redirect(url_for("staff.confirm_draw_class", course_id=course_id), code=303)


@bp.post("/classes/<int:course_id>/signups")
@staff_required(*COORDINATORS)
def assisted_signup(course_id: int):
    course = _course_or_404(course_id)
    form = AssistedSignupForm()
    if form.validate_on_submit():
        try:
            outcome = classes.sign_up(course_id, form.name.data, form.mobile.data, source="assisted",
                                      created_by=f"staff:{current_user.id}")
        except Refused as error:
            getattr(form, error.field, form.mobile).errors.append(str(error))
        else:
            signup = classes.find_signup(outcome.code)
            return redirect(url_for("staff.signup_slip", signup_id=signup.id), code=303)
    return _detail(course, assisted_form=form, status=422)


def _signup_or_404(signup_id: int):
    return found_or_404(classes.get_signup(signup_id))


@bp.post("/classes/signups/<int:signup_id>/move")
@staff_required(*COORDINATORS)
def move_signup(signup_id: int):
    signup = _signup_or_404(signup_id)
    try:
        position = int_or_none(request.form.get("position"))
        if position is None:
            raise Refused(_l("Please give the new place as a number."), "position")
        classes.move_on_waitlist(signup_id, position, request.form.get("reason", ""))
    except Refused as error:
        return _detail(classes.get_course(signup.course_id), error=str(error), status=422)
    return redirect(url_for("staff.class_detail", course_id=signup.course_id, _anchor="waitlist"), code=303)


@bp.get("/classes/signups/<int:signup_id>/slip")
@staff_required(*COORDINATORS)
def signup_slip(signup_id: int):
    """What a resident signed up at the desk is told at once (a seat, a waitlist place or an
    entry, and the code), as a slip to print and hand over."""
    signup = _signup_or_404(signup_id)
    course = classes.get_course(signup.course_id)
    url = phone_url(url_for("classes.lookup", code=signup.code))
    return render_template("staff/class_slip.html", signup=signup, course=course,
                           position=classes.waitlist_position(signup), schedule=classes.schedule(course),
                           qr=qr_svg(url) if url else None)


@bp.post("/classes/signups/<int:signup_id>/cancel")
@staff_required(*COORDINATORS)
def cancel_signup(signup_id: int):
    signup = _signup_or_404(signup_id)
    try:
        classes.cancel_by_staff(signup_id, request.form.get("reason", ""))
    except Refused as error:
        return _detail(classes.get_course(signup.course_id), error=str(error), status=422)
    return redirect(url_for("staff.class_detail", course_id=signup.course_id), code=303)


@bp.post("/classes/attendance/<int:meeting_id>/<int:signup_id>")
@staff_required(*COORDINATORS)
def mark_attendance(meeting_id: int, signup_id: int):
    signup = _signup_or_404(signup_id)
    mark = request.form.get("mark", "")
    try:
        classes.set_attendance(meeting_id, signup_id, mark, current_user.id)
    except Refused as error:
        if error.field == "meeting" and mark in classes.MARKS:  # no such meeting of this sign-up's course
            abort(404)
        if request.htmx:
            body = render_template("staff/_attendance_cell.html", meeting_id=meeting_id, signup_id=signup_id,
                                   mark=classes.attendance(signup.course_id).get((meeting_id, signup_id)),
                                   action_form=ActionForm(),
                                   cell_error=str(error))
            return make_response(body, 422)
        return _detail(classes.get_course(signup.course_id), error=str(error), status=422)
    if request.htmx:
        body = render_template("staff/_attendance_cell.html", meeting_id=meeting_id, signup_id=signup_id,
                               mark={"present": True, "absent": False}.get(mark), action_form=ActionForm())
        return events(make_response(body), classes_attendance_marked={"meeting": meeting_id, "signup": signup_id})
    return redirect(url_for("staff.class_detail", course_id=signup.course_id, _anchor="roster"), code=303)


@bp.post("/classes/meetings/<int:meeting_id>/all-present")
@staff_required(*COORDINATORS)
def mark_all_present(meeting_id: int):
    """Everyone with a seat and not marked yet is present at this meeting; absences stay."""
    meeting = found_or_404(classes.get_meeting(meeting_id))
    classes.mark_all_present(meeting.id, current_user.id)
    return redirect(url_for("staff.class_detail", course_id=meeting.course_id, _anchor="roster"), code=303)


@bp.get("/classes/<int:course_id>/print")
@staff_required(*COORDINATORS)
def print_roster(course_id: int):
    """The roster to print: every meeting's date beside the names, a dozen dates a page; with
    ?meeting=<id>, one meeting's sign-in sheet."""
    course = _course_or_404(course_id)
    meeting = None
    if request.args.get("meeting"):
        meeting = next((each for each in course.meetings if each.id == int_or_none(request.args["meeting"])), None)
        if meeting is None:
            abort(404)
    classes.record_roster_view(course, "printed")
    return render_template("staff/class_print.html", course=course, now=utcnow(), meeting=meeting,
                           MEETINGS_PER_PAGE=MEETINGS_PER_PAGE,
                           roster=[signup for signup in classes.roster(course_id) if signup.state == "confirmed"])


@bp.get("/classes/<int:course_id>/roster.<any(csv, xlsx):kind>")
@staff_required(*COORDINATORS)
def roster_file(course_id: int, kind: str):
    course = _course_or_404(course_id)
    classes.record_roster_view(course, "exported")
    return download(classes.roster_table(course), kind,
                    f"{_l('Roster')}-{course.title}-{to_site(utcnow()):%Y%m%d}")


def _surveys_page(form: SurveyForm, status: int = 200):
    return render_template("staff/class_surveys.html", form=form, surveys=classes.surveys(),
                           action_form=ActionForm()), status


@bp.get("/classes/surveys")
@staff_required(*COORDINATORS)
def class_surveys():
    return _surveys_page(SurveyForm(formdata=None))


@bp.post("/classes/surveys")
@staff_required(*COORDINATORS)
def create_survey():
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            classes.save_survey(form.question.data, (form.options.data or "").splitlines(),
                                question_en=form.question_en.data or "",
                                options_en=(form.options_en.data or "").splitlines(),
                                one_per_household=bool(form.one_per_household.data))
        except Refused as error:
            getattr(form, error.field, form.question).errors.append(str(error))
        else:
            return redirect(url_for("staff.class_surveys"), code=303)
    return _surveys_page(form, 422)


@bp.get("/classes/surveys/<int:survey_id>/results.<any(csv, xlsx):kind>")
@staff_required(*COORDINATORS)
def survey_results_file(survey_id: int, kind: str):
    """A survey's answers counted, for reporting upward: each option, its votes and share."""
    survey = found_or_404(classes.get_survey(survey_id))
    table = Table(_l("Survey results"), [_l("Question"), _l("Answer"), _l("Votes"), _l("Share")],
                  percent_columns=(3,))
    for option in sorted(survey.options, key=lambda option: option.votes, reverse=True):
        share = round(option.votes / survey.responses, 3) if survey.responses else None
        table.rows.append([survey.question, option.label, option.votes, share])
    table.rows.append([survey.question, str(_l("All responses")), survey.responses, None])
    return download(table, kind, f"{_l('Survey results')}-{survey.id}-{to_site(utcnow()):%Y%m%d}")


@bp.post("/classes/surveys/<int:survey_id>/<state>")
@staff_required(*COORDINATORS)
def set_survey_state(survey_id: int, state: str):
    if state not in ("published", "closed") or classes.get_survey(survey_id) is None:
        abort(404)
    classes.set_survey_state(survey_id, state)
    return redirect(url_for("staff.class_surveys"), code=303)
