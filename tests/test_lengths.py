"""Each field's length limit is one constant (app/lengths.py): the column, the form, the
service's check and the template's `maxlength` all say the same, and none says a number."""

import re
from pathlib import Path

import pytest
from flask import render_template_string

from app import lengths
from app.classes.forms import RateForm, SignupForm
from app.classes.models import Course, Rating, Signup, Survey, SurveyOption
from app.experts.forms import AskForm
from app.experts.models import Expert, HelpRequest, SearchKey, Skill
from app.friends.forms import CardForm, CardPrivateForm, MeetForm
from app.friends.models import Card, Interest
from app.kiosk.models import Kiosk
from app.notices.models import Notice
from app.staff.accounts import NewAccountForm
from app.staff.classes import AssistedSignupForm, CourseForm, SurveyForm
from app.staff.experts import ExpertForm, SkillForm
from app.staff.kiosks import EnrollKioskForm, RenameKioskForm
from app.staff.notices import NoticeForm
from app.staff.models import StaffMember
from app.cases.forms import CaseForm
from app.wall.forms import PostForm
from app.cases.models import Case, Category, Grid, Unit
from app.wall.models import Post, WatchedWord

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = [
    (Post.nickname, lengths.NICKNAME), (Post.location, lengths.LOCATION), (Post.reject_reason, lengths.REASON),
    (Grid.name, lengths.GRID_NAME), (WatchedWord.word, lengths.WORD),
    (Case.place, lengths.LOCATION), (Case.contact, lengths.CONTACT), (Case.hotline_number, lengths.HOTLINE_NUMBER),
    (Case.extension_reason, lengths.REASON), (Case.close_note, lengths.REASON), (Category.name, lengths.CATEGORY_NAME),
    (Category.name_en, lengths.CATEGORY_NAME_EN), (Unit.name, lengths.UNIT_NAME),
    (Signup.name, lengths.NAME), (Signup.masked_name, lengths.NAME), (Course.drop_reason, lengths.REASON),
    (Rating.comment, lengths.COMMENT),
    (Expert.name, lengths.NAME), (Expert.display_name, lengths.DISPLAY_NAME), (SearchKey.key, lengths.SEARCH),
    (HelpRequest.name, lengths.NAME), (HelpRequest.text, lengths.TEXT), (HelpRequest.staff_note, lengths.NOTE),
    (Card.real_name, lengths.NAME), (Card.area, lengths.CARD_AREA), (Card.intro, lengths.CARD_INTRO),
    (Card.reject_reason, lengths.REASON), (Interest.from_name, lengths.NAME), (Interest.note, lengths.NOTE),
    (Kiosk.name, lengths.KIOSK_NAME), (StaffMember.username, lengths.USERNAME),
    (StaffMember.display_name, lengths.STAFF_NAME),
    (Course.title, lengths.COURSE_TITLE), (Course.title_en, lengths.COURSE_TITLE_EN), (Course.teacher, lengths.TEACHER),
    (Course.venue, lengths.VENUE), (Course.venue_en, lengths.VENUE_EN), (Course.eligibility, lengths.ELIGIBILITY),
    (Course.eligibility_en, lengths.ELIGIBILITY_EN), (Survey.question, lengths.SURVEY_QUESTION),
    (Survey.question_en, lengths.SURVEY_QUESTION_EN), (SurveyOption.label, lengths.SURVEY_OPTION),
    (SurveyOption.label_en, lengths.SURVEY_OPTION_EN),
    (Skill.name, lengths.SKILL_NAME), (Skill.name_en, lengths.SKILL_NAME_EN),
    (Expert.availability, lengths.AVAILABILITY),
    (Expert.availability_en, lengths.AVAILABILITY_EN), (Expert.consent_scope, lengths.CONSENT_SCOPE),
    (Notice.title, lengths.NOTICE_TITLE), (Notice.title_en, lengths.NOTICE_TITLE_EN),
]

# (form, field, limit): the rendered input carries the limit as its maxlength.
FORM_FIELDS = [
    (PostForm, "text", lengths.TEXT), (PostForm, "nickname", lengths.NICKNAME),
    (CaseForm, "place", lengths.LOCATION), (CaseForm, "text", lengths.TEXT), (CaseForm, "contact", lengths.CONTACT),
    (SignupForm, "name", lengths.NAME), (RateForm, "comment", lengths.COMMENT),
    (AskForm, "name", lengths.NAME), (AskForm, "text", lengths.TEXT),
    (CardForm, "intro", lengths.CARD_INTRO), (CardPrivateForm, "real_name", lengths.NAME),
    (MeetForm, "name", lengths.NAME),
    # The console's forms.
    (CourseForm, "title", lengths.COURSE_TITLE), (CourseForm, "title_en", lengths.COURSE_TITLE_EN),
    (CourseForm, "teacher", lengths.TEACHER), (CourseForm, "venue", lengths.VENUE),
    (CourseForm, "venue_en", lengths.VENUE_EN), (CourseForm, "eligibility", lengths.ELIGIBILITY),
    (CourseForm, "eligibility_en", lengths.ELIGIBILITY_EN), (CourseForm, "description", lengths.DESCRIPTION),
    (CourseForm, "description_en", lengths.DESCRIPTION_EN), (AssistedSignupForm, "name", lengths.NAME),
    (SurveyForm, "question", lengths.SURVEY_QUESTION), (SurveyForm, "question_en", lengths.SURVEY_QUESTION_EN),
    (ExpertForm, "name", lengths.NAME), (ExpertForm, "display_name", lengths.DISPLAY_NAME),
    (ExpertForm, "intro", lengths.EXPERT_INTRO), (ExpertForm, "intro_en", lengths.EXPERT_INTRO_EN),
    (ExpertForm, "availability", lengths.AVAILABILITY), (ExpertForm, "availability_en", lengths.AVAILABILITY_EN),
    (ExpertForm, "consent_scope", lengths.CONSENT_SCOPE), (SkillForm, "name", lengths.SKILL_NAME),
    (SkillForm, "name_en", lengths.SKILL_NAME_EN), (EnrollKioskForm, "name", lengths.KIOSK_NAME),
    (RenameKioskForm, "name", lengths.KIOSK_NAME), (NewAccountForm, "username", lengths.USERNAME),
    (NewAccountForm, "display_name", lengths.STAFF_NAME), (NoticeForm, "title", lengths.NOTICE_TITLE),
    (NoticeForm, "title_en", lengths.NOTICE_TITLE_EN), (NoticeForm, "body", lengths.NOTICE_BODY),
    (NoticeForm, "body_en", lengths.NOTICE_BODY_EN),
]


@pytest.mark.parametrize(("column", "limit"), COLUMNS, ids=lambda item: str(item))
def test_each_column_is_as_long_as_its_fields_limit(column, limit):
    assert column.type.length == limit, f"{column} is String({column.type.length}), the limit is {limit}"


@pytest.mark.parametrize(("form", "field", "limit"), FORM_FIELDS, ids=lambda item: getattr(item, "__name__", item))
def test_each_form_field_renders_its_limit_as_maxlength(app, form, field, limit):
    with app.test_request_context("/"):
        html = str(form()[field]())
    assert f'maxlength="{limit}"' in html, html


def test_templates_take_maxlength_from_the_constants(app):
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'maxlength="\d', text), f"{path.relative_to(ROOT)} writes a maxlength as a number"
    with app.test_request_context("/"):
        assert (render_template_string('<input maxlength="{{ lengths.REASON }}">')
                == f'<input maxlength="{lengths.REASON}">')


def _services():
    app = ROOT / "app"
    return [*app.rglob("services.py"), *app.glob("*/services/*.py"), app / "people.py", app / "kiosk" / "devices.py"]


def test_no_service_checks_a_fields_length_against_a_bare_number():
    """`len(name) > 20` or `reason[:200]` in a service is a second copy of a limit."""
    limits = {value for name, value in vars(lengths).items() if name.isupper()}
    pattern = re.compile(r"len\([\w.]+\)\s*>\s*(\d+)|\[:(\d+)\]")
    found = []
    for path in _services():
        for number, line in ((m.group(1) or m.group(2), text) for text in path.read_text(encoding="utf-8").splitlines()
                             for m in pattern.finditer(text)):
            if int(number) in limits:
                found.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert not found, "\n".join(found)
