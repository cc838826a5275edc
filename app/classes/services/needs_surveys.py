"""Needs surveys: one multiple-choice question at a time on the kiosk, answered anonymously."""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ... import audit, lengths
from ...clock import utcnow
from ...extensions import db
from ...i18n import lazy_gettext as _l
from ..models import Survey, SurveyHousehold, SurveyOption
from .common import ClassError


def save_survey(question: str, options: list[str], *, question_en: str = "",
                options_en: list[str] | None = None, one_per_household: bool = False) -> Survey:
    question = " ".join((question or "").split())
    options = [" ".join(option.split()) for option in options if option.strip()]
    options_en = [" ".join(option.split()) for option in (options_en or [])]
    if not question:
        raise ClassError(_l("Please write the question."), "question")
    if not 2 <= len(options) <= 12:
        raise ClassError(_l("A survey has 2 to 12 choices, one per line."), "options")
    if any(len(option) > lengths.SURVEY_OPTION for option in options):
        raise ClassError(_l("A choice has at most %(n)d characters.", n=lengths.SURVEY_OPTION), "options")
    survey = Survey(question=question[:lengths.SURVEY_QUESTION],
                    question_en=(question_en or "").strip()[:lengths.SURVEY_QUESTION_EN],
                    one_per_household=one_per_household)
    survey.options = [SurveyOption(position=index, label=label,
                                   label_en=(options_en[index][:lengths.SURVEY_OPTION_EN]
                                             if index < len(options_en) else ""))
                      for index, label in enumerate(options)]
    db.session.add(survey)
    audit.record("classes", "survey-created", survey, {"question": survey.question})
    db.session.commit()
    return survey


def set_survey_state(survey_id: int, state: str) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or state not in ("published", "closed"):
        raise ClassError(_l("No such survey."), "state")
    if state == "published":
        # One survey at a time on the kiosk.
        db.session.execute(update(Survey).where(Survey.state == "published", Survey.id != survey_id)
                           .values(state="closed"))
        survey.published_at = survey.published_at or utcnow()
    survey.state = state
    audit.record("classes", f"survey-{state}", survey)
    db.session.commit()
    return survey


def published_survey() -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.state == "published").order_by(Survey.id.desc()).limit(1))


def surveys() -> list[Survey]:
    return list(db.session.scalars(select(Survey).order_by(Survey.id.desc())))


def get_survey(survey_id: int) -> Survey | None:
    return db.session.get(Survey, survey_id)


def answer_survey(survey_id: int, option_ids: list[int], *, household_id: int | None = None) -> Survey:
    """Count one anonymous answer: the chosen options' votes and the survey's responses. A
    one-per-household survey notes that the household answered (not what), once."""
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.state != "published":
        raise ClassError(_l("This survey is closed."), "options")
    chosen = {option.id for option in survey.options} & set(option_ids)
    if not chosen:
        raise ClassError(_l("Please tap at least one choice."), "options")
    if survey.one_per_household and household_id is not None:
        try:
            with db.session.begin_nested():
                db.session.add(SurveyHousehold(survey_id=survey_id, household_id=household_id))
        except IntegrityError:
            db.session.rollback()
            raise ClassError(_l("This survey takes one answer per household, and your household has already "
                                "answered. Thank you!"), "options") from None
    db.session.execute(update(SurveyOption).where(SurveyOption.id.in_(chosen)).values(votes=SurveyOption.votes + 1))
    db.session.execute(update(Survey).where(Survey.id == survey_id).values(responses=Survey.responses + 1))
    db.session.commit()
    return survey
