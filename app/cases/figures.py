"""The case figures of one calendar month, for the street office: a table per grid, per
category and per handling unit of the community being worked in, each with the community's
total; the console's page and an Excel workbook show the same tables.

The month is the community's: it starts at midnight on its first day in the community's time
zone (its BABEL_DEFAULT_TIMEZONE) and ends at midnight on the first of the next; times are
compared as stored, in naive UTC.

What each figure counts (a case is counted in the row of the grid, category and unit it has
now, so every table adds up to the same total):

- received: cases taken in during the month (``created_at``);
- accepted within N hours: of those received, the ones whose first acceptance by a handler
  (``first_accepted_at``) came at most N hours after intake; N is the community's
  CASE_ACCEPT_HOURS setting (app/cases/settings.py). The share is of the cases received;
- finished: cases resolved during the month, and cases closed during it without ever being
  resolved (not ours, a duplicate, a long-term plan); the moment counted is ``resolved_at``,
  else ``closed_at``. A case reopened since is no longer finished until it is resolved again;
- on time and late: the finished cases by their ``late`` mark (resolved, or closed
  unresolved, after the due time). The share is on time of finished;
- satisfied, basically satisfied, not satisfied: the residents' check-back answers
  (回访, at a kiosk, by phone or recorded by staff) given during the month: each case's
  latest answer, dated ``checked_back_at``. The share is satisfied or basically satisfied of
  all answers;
- reopened: cases reopened during the month (a dispatcher's reopening or a resident's
  answer that reopened it, dated in the case's timeline), each counted once however often;
- closed as fixed: cases closed during the month with the reason "fixed" (a satisfied
  answer, or no answer within the check-back window);
- solved in the community: of those closed as fixed, the ones never sent beyond the
  community (not ``escalated`` to a property company or district department): solved by
  the grid worker or the residents' committee. The share is of the closed as fixed.

Every figure is read by two grouped queries: the month's cases by (grid, category, unit) with
a conditional count per figure, and the reopened cases by the same key; the tables are sums of
those groups. ``district_case_figures`` reads the same figures for every community, one row
each, for district staff. Counts only: no name, number or words of anyone leave here.
"""

import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Float, and_, case, distinct, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..clock import from_site, site_today, to_site
from ..communities import scope, settings
from ..communities.models import Community
from ..exports import append_rows, fit_columns, sheet_title
from ..extensions import db
from ..i18n import current_locale, localized
from . import services
from ..i18n import lazy_gettext as _l
from .labels import UNIT_KIND_LABELS
from .models import Case, CaseEvent

REASON = "case figures: every community's monthly case counts for district staff, no personal data"
# The timeline steps that reopen a case (app/cases/services.py).
REOPEN_ACTIONS = ("reopened", "reopened-to-route", "reopened-by-resident")
FINISHED_STATES = ("resolved", "closed")


# --- months -------------------------------------------------------------------------------

def this_month() -> date:
    """The first day of the community's current month."""
    return site_today().replace(day=1)


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` as the first day of that month; None for anything else."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text or "", re.ASCII)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    # Years far from now have no time-zone rules worth trusting and overflow at the edges.
    if not (1900 <= year <= 9998 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def first_month() -> date:
    """The month of the community's first case (this month when it has none): the figures
    page pages back no further."""
    first = db.session.scalar(select(func.min(Case.created_at)))
    return min(to_site(first).date().replace(day=1), this_month()) if first else this_month()


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The month as stored times (naive UTC), start included, end excluded: in the
    community's time zone, or in ``zone``."""
    def stored(day: date) -> datetime:
        local = datetime(day.year, day.month, day.day)
        if zone is None:
            return from_site(local)
        return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return stored(month), stored(next_month(month))


# --- counting -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    """One row's figures (see the module's docstring for what each counts)."""

    received: int = 0
    accepted_in_time: int = 0
    finished: int = 0
    on_time: int = 0
    late: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    reopened: int = 0
    closed_fixed: int = 0
    solved_locally: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other))))

    @property
    def answered(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def accepted_share(self) -> float | None:
        return _share(self.accepted_in_time, self.received)

    @property
    def on_time_share(self) -> float | None:
        return _share(self.on_time, self.finished)

    @property
    def satisfaction_share(self) -> float | None:
        return _share(self.satisfied + self.basic, self.answered)

    @property
    def local_share(self) -> float | None:
        return _share(self.solved_locally, self.closed_fixed)

    @property
    def empty(self) -> bool:
        return not any(astuple(self))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class seconds_between(FunctionElement):
    """``later - earlier`` in seconds, in the database (each dialect has its own way)."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between(element, compiler, **kw) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    # Julian days are floating point: rounded to the millisecond, a whole number of hours compares exactly.
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def _conditions(start: datetime, end: datetime, hours: int):
    """Each case-row figure as a condition on the case (Counts' order, reopened aside), and
    the condition that a case counts for any of them."""
    def within(column):
        return and_(column >= start, column < end)

    received = within(Case.created_at)
    finished = and_(Case.state.in_(FINISHED_STATES), within(func.coalesce(Case.resolved_at, Case.closed_at)))
    answered = and_(Case.satisfaction.is_not(None), within(Case.checked_back_at))
    closed_fixed = and_(Case.state == "closed", Case.close_reason == "fixed", within(Case.closed_at))
    conditions = {
        "received": received,
        "accepted_in_time": and_(received, Case.first_accepted_at.is_not(None),
                                 seconds_between(Case.first_accepted_at, Case.created_at) <= hours * 3600),
        "finished": finished,
        "on_time": and_(finished, Case.late.is_(False)),
        "late": and_(finished, Case.late.is_(True)),
        "satisfied": and_(answered, Case.satisfaction == "satisfied"),
        "basic": and_(answered, Case.satisfaction == "basic"),
        "unsatisfied": and_(answered, Case.satisfaction == "unsatisfied"),
        "closed_fixed": closed_fixed,
        "solved_locally": and_(closed_fixed, Case.escalated.is_(False)),
    }
    return conditions, or_(received, finished, answered, closed_fixed)


def _grouped(keys: tuple, start: datetime, end: datetime, hours: int, *where) -> dict[tuple, Counts]:
    """The month's figures by the values of ``keys`` (columns of Case): two grouped queries."""
    conditions, counted = _conditions(start, end, hours)
    found: dict[tuple, dict[str, int]] = defaultdict(dict)
    for row in db.session.execute(
            select(*keys, *(func.count(case((condition, 1))) for condition in conditions.values()))
            .where(counted, *where).group_by(*keys)):
        found[tuple(row[:len(keys)])].update(zip(conditions, row[len(keys):]))
    for row in db.session.execute(
            select(*keys, func.count(distinct(Case.id))).select_from(Case)
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(CaseEvent.action.in_(REOPEN_ACTIONS), CaseEvent.at >= start, CaseEvent.at < end, *where)
            .group_by(*keys)):
        found[tuple(row[:len(keys)])]["reopened"] = row[-1]
    return {key: Counts(**values) for key, values in found.items()}


def _rollup(groups: dict[tuple, Counts], position: int) -> dict[int | None, Counts]:
    totals: dict[int | None, Counts] = defaultdict(Counts)
    for key, counts in groups.items():
        totals[key[position]] += counts
    return totals


# --- the tables ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    header: Callable[[int], object]  # given the hours of "accepted within", a lazy string
    value: Callable[[Counts], int | float | None]
    share: bool = False


def _named(text) -> Callable[[int], object]:
    return lambda _hours: text


def _value(name: str) -> Callable[[Counts], int | float | None]:
    return lambda counts: getattr(counts, name)


MEASURES = (
    Measure(_named(_l("Received")), _value("received")),
    Measure(lambda hours: _l("Accepted within %(n)d hours", n=hours), _value("accepted_in_time")),
    Measure(lambda hours: _l("Accepted within %(n)d hours (share)", n=hours), _value("accepted_share"), share=True),
    Measure(_named(_l("Finished (resolved or closed)")), _value("finished")),
    Measure(_named(_l("On time")), _value("on_time")),
    Measure(_named(_l("Late")), _value("late")),
    Measure(_named(_l("On time (share)")), _value("on_time_share"), share=True),
    Measure(_named(_l("Satisfied")), _value("satisfied")),
    Measure(_named(_l("Basically satisfied")), _value("basic")),
    Measure(_named(_l("Not satisfied")), _value("unsatisfied")),
    Measure(_named(_l("Satisfied or basically satisfied (share)")), _value("satisfaction_share"), share=True),
    Measure(_named(_l("Reopened")), _value("reopened")),
    Measure(_named(_l("Closed as fixed")), _value("closed_fixed")),
    Measure(_named(_l("Solved in the community")), _value("solved_locally")),
    Measure(_named(_l("Solved in the community (share)")), _value("local_share"), share=True),
)


@dataclass(frozen=True)
class FigureRow:
    """A grid, category or unit (key None: none of them), or the table's total."""

    key: int | None
    leading: tuple  # the row's text cells: its name, and a code where the table has one
    counts: Counts
    total: bool = False

    def cells(self) -> list:
        return [*(str(cell) for cell in self.leading), *(measure.value(self.counts) for measure in MEASURES)]


@dataclass(frozen=True)
class Table:
    key: str  # "grid", "category" or "unit": the sheet's and the page's name for it
    title: object
    leading: tuple  # headers of the text columns
    rows: list[FigureRow]
    total: FigureRow
    hours: int

    def headers(self) -> list[str]:
        return [*(str(header) for header in self.leading), *(str(measure.header(self.hours)) for measure in MEASURES)]

    @property
    def all_rows(self) -> list[FigureRow]:
        return [*self.rows, self.total]

    @property
    def share_columns(self) -> frozenset[int]:
        return frozenset(len(self.leading) + index for index, measure in enumerate(MEASURES) if measure.share)


@dataclass(frozen=True)
class CaseFigures:
    month: date  # its first day
    hours: int  # CASE_ACCEPT_HOURS when read
    start: datetime  # naive UTC, included
    end: datetime  # naive UTC, excluded
    total: Counts
    tables: tuple[Table, Table, Table]  # by grid, by category, by unit

    @property
    def month_text(self) -> str:
        return self.month.strftime("%Y-%m")

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)


def case_figures(month: date | None = None) -> CaseFigures:
    """The month's figures of the community being worked in (this month's by default)."""
    month = month or this_month()
    start, end = month_bounds(month)
    hours = settings.setting("CASE_ACCEPT_HOURS")
    groups = _grouped((Case.grid_id, Case.category_id, Case.unit_id), start, end, hours)
    total = sum(groups.values(), Counts())
    by_grid, by_category, by_unit = (_rollup(groups, position) for position in range(3))

    grid_rows = [FigureRow(grid.id, (grid.name,), by_grid.get(grid.id, Counts())) for grid in services.grids()]
    grid_rows += _unknown(by_grid, {row.key for row in grid_rows}, _l("No grid"), 1)
    category_rows = [FigureRow(rule.id, (localized(rule.category, "name"),),
                               by_category.get(rule.id, Counts()))
                     for rule in services.rules(active_only=False) if rule.active or rule.id in by_category]
    category_rows += _unknown(by_category, {row.key for row in category_rows}, _l("No category"), 1)
    unit_rows = [FigureRow(unit.id, (unit.name, UNIT_KIND_LABELS[unit.kind]), by_unit[unit.id])
                 for unit in services.units() if unit.id in by_unit]
    unit_rows += _unknown(by_unit, {row.key for row in unit_rows}, _l("In the community (no unit)"), 2)

    def table(key, title, leading, rows):
        blanks = ("",) * (len(leading) - 1)
        return Table(key, title, leading, rows, FigureRow(None, (_l("Community total"), *blanks), total, total=True),
                     hours)

    return CaseFigures(month=month, hours=hours, start=start, end=end, total=total, tables=(
        table("grid", _l("By grid"), (_l("Grid"),), grid_rows),
        table("category", _l("By category"), (_l("Category"),), category_rows),
        table("unit", _l("By unit"), (_l("Unit"), _l("Kind")), unit_rows),
    ))


def _unknown(found: dict, listed: set, label, width: int) -> list[FigureRow]:
    """The row of the cases with none of the table's things, when there are any (a grid
    deleted since counts here too)."""
    counts = sum((counts for key, counts in found.items() if key not in listed), Counts())
    return [] if counts.empty else [FigureRow(None, (label, *("",) * (width - 1)), counts)]


# --- every community, for district staff -------------------------------------------------------

@dataclass(frozen=True)
class CommunityCounts:
    """A community's month (community_id None: the district's total)."""

    community_id: int | None
    name: str
    name_en: str
    hours: int | None  # its CASE_ACCEPT_HOURS (None for the total)
    counts: Counts

    def label(self) -> str:
        if self.community_id is None:
            return str(_l("District total"))
        return self.name_en if self.name_en and current_locale() == "en" else self.name


def district_case_figures(month: date) -> list[CommunityCounts]:
    """Every community's figures of the month, each in its own time zone and with its own
    CASE_ACCEPT_HOURS, then the district's total: the district tier's read across
    communities (the caller audits it, as the district figures' views do)."""
    with scope.across(REASON):
        communities = db.session.scalars(select(Community).order_by(Community.id)).all()
        plans: dict[tuple[str, int], list[int]] = defaultdict(list)
        hours_of = {}
        for community in communities:
            own = settings.own_values(community)
            zone = own.get("BABEL_DEFAULT_TIMEZONE") or settings.district_value("BABEL_DEFAULT_TIMEZONE")
            hours_of[community.id] = own.get("CASE_ACCEPT_HOURS") or settings.district_value("CASE_ACCEPT_HOURS")
            plans[(zone, hours_of[community.id])].append(community.id)
        found: dict[int, Counts] = {}
        for (zone, hours), community_ids in plans.items():
            start, end = month_bounds(month, ZoneInfo(zone))
            for (community_id,), counts in _grouped((Case.community_id,), start, end, hours,
                                                    Case.community_id.in_(community_ids)).items():
                found[community_id] = counts
    rows = [CommunityCounts(community.id, community.name, community.name_en or "", hours_of[community.id],
                            found.get(community.id, Counts())) for community in communities]
    return [*rows, CommunityCounts(None, "", "", None, sum((row.counts for row in rows), Counts()))]


# --- the workbook -------------------------------------------------------------------------------




def figures_xlsx(figures: CaseFigures) -> bytes:
    """The month's three tables as an Excel workbook, a sheet each: a title line naming the
    month, a bold header row, a row per grid, category or unit, and the bold total. Names and
    codes stay text (a name that begins with "=" is never a formula); shares are fractions
    shown as percentages, empty where nothing was there to share."""
    book = Workbook()
    book.remove(book.active)
    title = str(_l("Case figures, %(month)s", month=figures.month_text))
    book.properties.title = title
    bold = Font(bold=True)
    for table in figures.tables:
        sheet = book.create_sheet(sheet_title(f"{table.title} {figures.month_text}"))
        rows = [table.headers(), *(row.cells() for row in table.all_rows)]
        append_rows(sheet, [[f"{title}: {table.title}"], *rows])
        for cell in (*sheet[1], *sheet[2], *sheet[sheet.max_row]):
            cell.font = bold
        for column in table.share_columns:
            for cell in sheet[get_column_letter(column + 1)][2:]:
                cell.number_format = "0.0%"
        fit_columns(sheet, rows, widest=40)
        sheet.freeze_panes = f"{get_column_letter(len(table.leading) + 1)}3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
