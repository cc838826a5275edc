"""Share to the group: from the console, a course, notice, survey or case update gets a
poster (PNG, with a QR code of its phone page) and a two-line text to paste into the
residents' WeChat groups. Both are in Chinese, the groups' language, whatever the console's.
The drawing is app/share.py's."""

from dataclasses import dataclass

from flask import Response, abort, render_template, url_for
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from ..cases import services as cases
from ..cases.labels import PUBLIC_STATE_LABELS
from ..cases.models import Case
from ..classes import services as classes
from ..classes.labels import WEEKDAY_LABELS
from ..clock import to_site
from ..communities.routing import community_name
from ..extensions import db
from ..notices.models import Notice
from ..wall import services as wall
from ..web import phone_url
from . import bp
from .access import staff_required
from .labels import LABEL_COLON, LIST_SEPARATOR

# Who may share each kind: those who look after it in the console.
KINDS = {"course": ("coordinator",), "survey": ("coordinator",), "notice": ("moderator", "coordinator"),
         "case": ("moderator",)}
GROUP_LOCALE = "zh_Hans"


def _drawing():
    """app/share.py: Pillow loads with the first poster a worker draws, not in every worker."""
    from .. import share

    return share


@dataclass(frozen=True)
class Share:
    title: str
    lines: list[str]
    path: str      # the phone page the QR code and the text lead to
    caption: str
    back: str      # the console page the share was made from


def _fact(label: str, value: str) -> str:
    return f"{label}{LABEL_COLON}{value}"


def _course(course_id: int) -> Share | None:
    course = classes.public_course(course_id)
    if course is None or course.status == "dropped":
        return None
    weekdays, dates = classes.schedule(course)
    first = course.meetings[0] if course.meetings else None
    if weekdays:
        when = _("Every week: %(days)s", days=str(LIST_SEPARATOR).join(str(WEEKDAY_LABELS[d]) for d in weekdays))
        if first:
            when += " " + to_site(first.starts_at).strftime("%H:%M")
    else:
        when = str(LIST_SEPARATOR).join(format_date(day, "MMMd") for day in dates[:4])
    lines = [_fact(_("When"), when), _fact(_("Where"), course.venue),
             _fact(_("Sign-up opens"), format_datetime(to_site(course.signup_opens_at), "MMMd HH:mm"))]
    caption = _("Scan to enter the draw") if course.mode == "lottery" else _("Scan to sign up")
    return Share(course.title, lines, url_for("classes.course", course_id=course.id), caption,
                 url_for("staff.class_detail", course_id=course.id))


def _notice(notice_id: int) -> Share | None:
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return None
    lines = [" ".join(notice.body.split())[:80]] if notice.body.strip() else []
    lines.append(_fact(_("From"), format_datetime(to_site(notice.starts_at), "MMMd HH:mm")))
    return Share(notice.title, lines, url_for("notices.show", notice_id=notice.id), _("Scan to read the notice"),
                 url_for("staff.notices_index"))


def _survey(survey_id: int) -> Share | None:
    survey = classes.get_survey(survey_id)
    if survey is None or survey.state != "published":
        return None
    options = str(LIST_SEPARATOR).join(option.label for option in survey.options)
    return Share(survey.question, [_fact(_("Choices"), options)], url_for("classes.survey"), _("Scan to answer"),
                 url_for("staff.class_surveys"))


def _case(case_id: int) -> Share | None:
    case = db.session.get(Case, case_id)
    post = wall.public_post(case.post_id) if case is not None and case.post_id else None
    if post is None:  # only a case whose problem is on the wall has a public page
        return None
    steps = cases.timeline(case)
    lines = [_fact(_("Progress"), str(PUBLIC_STATE_LABELS.get(case.state, case.state)))]
    if steps and steps[-1].text:
        lines.append(" ".join(steps[-1].text.split())[:80])
    title = _("Problem %(number)s: %(text)s", number=case.number, text=" ".join(case.masked_text.split())[:40])
    return Share(title, lines, url_for("cases.card", post_id=post.id), _("Scan to follow the case"),
                 url_for("staff.case_page", case_number=case.number))


MAKERS = {"course": _course, "notice": _notice, "survey": _survey, "case": _case}


def _made(kind: str, record_id: int) -> Share | None:
    """What is shared, or None when residents cannot see it (a draft, a hidden problem)."""
    if not current_user.has_role(*KINDS[kind]):
        abort(403)
    with force_locale(GROUP_LOCALE):
        return MAKERS[kind](record_id)


def _text(made: Share, url: str) -> str:
    return _drawing().share_text(title=made.title, detail=str(LIST_SEPARATOR).join(made.lines), url=url)


_RULE = "<any(course,notice,survey,case):what>/<int:record_id>"


@bp.get(f"/share/{_RULE}")
@staff_required()
def share_card(what: str, record_id: int):
    """The poster and the text, with how to send them."""
    made = _made(what, record_id)
    if made is None:
        return render_template("staff/share.html", what=what, record_id=record_id, made=None, text=None,
                               problem=_("Residents cannot see this (a draft, closed, or not on the wall): there "
                                         "is nothing to share.")), 404
    url = phone_url(made.path)
    with force_locale(GROUP_LOCALE):
        text = _text(made, url) if url else None
    problem = None
    if url is None:
        problem = _("No phone address is set (HANDOFF_BASE_URL), and this page was not opened at an address phones "
                    "can reach: there is no link to share. Open the console at the center's LAN address, or set the "
                    "address.")
    else:
        try:
            with force_locale(GROUP_LOCALE):
                _drawing().check_text(community=community_name(), title=made.title, lines=made.lines,
                                      caption=made.caption)
        except _drawing().PosterUnavailable:
            problem = _("This server has no Chinese font for the poster (install fonts-noto-cjk), or the text has "
                        "characters the font cannot show. The text below can still be pasted.")
    return render_template("staff/share.html", what=what, record_id=record_id, made=made, text=text,
                           problem=problem)


def _poster(made: Share, url: str) -> bytes:
    with force_locale(GROUP_LOCALE):
        return _drawing().poster_png(community=community_name(), title=made.title, lines=made.lines, url=url,
                                caption=made.caption)


@bp.get(f"/share/{_RULE}/poster.png")
@staff_required()
def share_poster(what: str, record_id: int):
    made = _made(what, record_id)
    url = phone_url(made.path) if made is not None else None
    if url is None:
        abort(404)
    try:
        png = _poster(made, url)
    except _drawing().PosterUnavailable:
        abort(404)
    return Response(png, mimetype="image/png",
                    headers={"Content-Disposition": f'inline; filename="{what}-{record_id}.png"',
                             "Cache-Control": "no-store"})
