"""The district figures: one row of counts per community and a district total, for district
staff (the console's figures page) and as CSV or Excel files.

Counts and ages only: no name, number or text of anyone leaves here. Every figure is read by
one grouped query for all communities at once (a dozen queries whatever their number), inside
the one scope.across() of this module.

What each figure counts, per community:

- kiosks enrolled: kiosks that collected their device token and are not revoked; kiosks
  online: those of them seen within ONLINE_WITHIN (app/kiosk/devices.py);
- published posts by kind: posts on the wall now (approved, not hidden by reports);
- problems open: open cases (app/cases: received, accepted, in progress, sent back or
  reopened, whatever the wall shows of them); the longest-waiting one's age, from intake;
- seats taken and waitlisted: confirmed and waitlisted sign-ups of the courses open, full or
  running (not drafts, finished or dropped courses; lottery entries not yet drawn are neither);
- attendance: "expected" is the places at meetings whose roll was taken (at least one person
  marked present): each sign-up with a seat, and anyone marked present who has since lost
  theirs; "present" is how many of those places were marked present;
- help requests open (new, assigned or contacted) and in all;
- matchmaking, as counts only: cards on the board now, requests to meet ever made (those
  deleted with their cards included) and introductions made (both sides agreed).

The district total adds the counts up; its longest-waiting problem is the district's longest.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, case, func, or_, select

from ..exports import width
from ..cases import services as cases
from ..cases.models import Case
from ..classes.models import Attendance, Course, Meeting, Signup
from ..clock import utcnow
from ..communities import scope
from ..communities.models import Community
from ..experts.models import OPEN_REQUEST_STATES, HelpRequest
from ..extensions import db
from ..friends import services as friends
from ..friends.models import Card, Interest, Tally
from ..i18n import current_locale
from ..i18n import lazy_gettext as _l
from ..kiosk.devices import ONLINE_WITHIN
from ..kiosk.models import Kiosk
from ..wall import services as wall
from ..wall.labels import KIND_LABELS
from ..wall.models import KINDS, Post

REASON = "district figures: counts of every community's boards for district staff, no personal data"
# Courses whose sign-ups count now: taking sign-ups, full, or in their term.
CURRENT_COURSES = ("open", "full", "running")


@dataclass(frozen=True)
class FigureRow:
    """One community's figures, or (community_id None) the district total."""

    community_id: int | None
    name: str
    name_en: str
    kiosks_online: int
    kiosks_enrolled: int
    posts: Mapping[str, int]  # published posts, by kind: every kind of KINDS
    problems_open: int
    oldest_open_problem: timedelta | None
    seats_taken: int
    waitlisted: int
    present: int
    expected: int
    help_open: int
    help_total: int
    cards_up: int
    meet_requests: int
    introductions: int

    def label(self) -> str:
        """The row's name as the page and the files show it, in the current language."""
        if self.community_id is None:
            return str(_l("District total"))
        return self.name_en if self.name_en and current_locale() == "en" else self.name

    @property
    def oldest_open_problem_days(self) -> float | None:
        age = self.oldest_open_problem
        return None if age is None else round(age.total_seconds() / 86400, 1)

    def cells(self) -> list:
        return [column.value(self) for column in COLUMNS]


@dataclass(frozen=True)
class DistrictFigures:
    communities: list[FigureRow]
    total: FigureRow
    as_of: datetime  # UTC, naive, as stored

    @property
    def rows(self) -> list[FigureRow]:
        """Every community's row, then the total."""
        return [*self.communities, self.total]


@dataclass(frozen=True)
class Column:
    header: object  # a lazy string: read in the language of the request
    value: Callable[[FigureRow], object]


def _posts_of(kind: str) -> Callable[[FigureRow], int]:
    return lambda row: row.posts[kind]


_AGE = Column(_l("Longest-waiting open problem (days)"), attrgetter("oldest_open_problem_days"))
COLUMNS = (
    Column(_l("Community"), FigureRow.label),
    Column(_l("Kiosks online"), attrgetter("kiosks_online")),
    Column(_l("Kiosks enrolled"), attrgetter("kiosks_enrolled")),
    *(Column(_l("Published: %(kind)s", kind=KIND_LABELS[kind]), _posts_of(kind)) for kind in KINDS),
    Column(_l("Problems open"), attrgetter("problems_open")),
    _AGE,
    Column(_l("Seats taken"), attrgetter("seats_taken")),
    Column(_l("Waitlisted"), attrgetter("waitlisted")),
    Column(_l("Attendance: present"), attrgetter("present")),
    Column(_l("Attendance: expected"), attrgetter("expected")),
    Column(_l("Help requests open"), attrgetter("help_open")),
    Column(_l("Help requests in all"), attrgetter("help_total")),
    Column(_l("Matchmaking cards up"), attrgetter("cards_up")),
    Column(_l("Requests to meet"), attrgetter("meet_requests")),
    Column(_l("Introductions made"), attrgetter("introductions")),
)


def headers() -> list[str]:
    return [str(column.header) for column in COLUMNS]


# --- reading ------------------------------------------------------------------------------

def district_figures(now: datetime | None = None) -> DistrictFigures:
    """Every community's figures and the district total, read across communities."""
    now = now or utcnow()
    with scope.across(REASON):
        communities = db.session.execute(
            select(Community.id, Community.name, Community.name_en).order_by(Community.id)).all()
        kiosks = _by_community(select(
            Kiosk.community_id, func.count(case((Kiosk.last_seen_at >= now - ONLINE_WITHIN, 1))), func.count())
            .where(Kiosk.enrolled_at.is_not(None), Kiosk.revoked_at.is_(None)).group_by(Kiosk.community_id))
        # "On the wall" and "on the board" are the boards' own predicates, never restated here.
        posts: dict[int, dict[str, int]] = defaultdict(dict)
        for community_id, kind, count in db.session.execute(
                select(Post.community_id, Post.kind, func.count()).where(wall.on_the_wall())
                .group_by(Post.community_id, Post.kind)):
            posts[community_id][kind] = count
        problems = _by_community(select(Case.community_id, func.count(), func.min(Case.created_at))
                                 .where(cases.is_open()).group_by(Case.community_id))
        signups = _by_community(select(
            Signup.community_id, func.count(case((Signup.state == "confirmed", 1))),
            func.count(case((Signup.state == "waitlisted", 1))))
            .join(Course, Course.id == Signup.course_id).where(Course.status.in_(CURRENT_COURSES))
            .group_by(Signup.community_id))
        attendance = _by_community(_attendance())
        help_requests = _by_community(select(
            HelpRequest.community_id, func.count(case((HelpRequest.state.in_(OPEN_REQUEST_STATES), 1))), func.count())
            .group_by(HelpRequest.community_id))
        cards = _by_community(select(Card.community_id, func.count()).where(friends.on_the_board(now))
                              .group_by(Card.community_id))
        interests = _by_community(select(Interest.community_id, func.count()).group_by(Interest.community_id))
        tallies: dict[int, dict[str, int]] = defaultdict(dict)
        for community_id, name, count in db.session.execute(
                select(Tally.community_id, Tally.name, Tally.count)
                .where(Tally.name.in_(("introductions", "interests-deleted")))):
            tallies[community_id][name] = count

    rows = []
    for community_id, name, name_en in communities:
        online, enrolled = kiosks.get(community_id, (0, 0))
        open_count, oldest = problems.get(community_id, (0, None))
        taken, waitlisted = signups.get(community_id, (0, 0))
        expected, present = attendance.get(community_id, (0, 0))
        help_open, help_total = help_requests.get(community_id, (0, 0))
        tally = tallies.get(community_id, {})
        rows.append(FigureRow(
            community_id=community_id, name=name, name_en=name_en or "",
            kiosks_online=online, kiosks_enrolled=enrolled,
            posts={kind: posts.get(community_id, {}).get(kind, 0) for kind in KINDS},
            problems_open=open_count, oldest_open_problem=None if oldest is None else max(now - oldest, timedelta()),
            seats_taken=taken, waitlisted=waitlisted, present=present, expected=expected,
            help_open=help_open, help_total=help_total,
            cards_up=cards.get(community_id, (0,))[0],
            meet_requests=interests.get(community_id, (0,))[0] + tally.get("interests-deleted", 0),
            introductions=tally.get("introductions", 0),
        ))
    return DistrictFigures(communities=rows, total=_total(rows), as_of=now)


def _by_community(statement) -> dict[int, tuple]:
    """A grouped query's rows by their first column, the community's id."""
    return {row[0]: tuple(row[1:]) for row in db.session.execute(statement)}


def _attendance():
    """Per community: places at meetings whose roll was taken, and how many were marked present."""
    roll_taken = select(Attendance.session_id)
    return (select(Meeting.community_id, func.count(), func.count(Attendance.id).filter(Attendance.present))
            .select_from(Meeting)
            .join(Signup, Signup.course_id == Meeting.course_id)
            .outerjoin(Attendance, and_(Attendance.session_id == Meeting.id, Attendance.signup_id == Signup.id))
            .where(Meeting.id.in_(roll_taken), or_(Signup.state == "confirmed", Attendance.id.is_not(None)))
            .group_by(Meeting.community_id))


def _total(rows: list[FigureRow]) -> FigureRow:
    def added(name: str) -> int:
        return sum(getattr(row, name) for row in rows)

    ages = [row.oldest_open_problem for row in rows if row.oldest_open_problem is not None]
    return FigureRow(
        community_id=None, name="", name_en="",
        kiosks_online=added("kiosks_online"), kiosks_enrolled=added("kiosks_enrolled"),
        posts={kind: sum(row.posts[kind] for row in rows) for kind in KINDS},
        problems_open=added("problems_open"), oldest_open_problem=max(ages) if ages else None,
        seats_taken=added("seats_taken"), waitlisted=added("waitlisted"), present=added("present"),
        expected=added("expected"), help_open=added("help_open"), help_total=added("help_total"),
        cards_up=added("cards_up"), meet_requests=added("meet_requests"), introductions=added("introductions"),
    )


# --- files --------------------------------------------------------------------------------

def _text(value: str) -> str:
    """A community's name as a cell: never run as a formula, nothing a spreadsheet refuses."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def figures_csv(figures: DistrictFigures) -> bytes:
    """The table as CSV: UTF-8 with a byte order mark, so that Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers())
    for row in figures.rows:
        writer.writerow(["" if cell is None else _text(cell) if isinstance(cell, str) else cell
                         for cell in row.cells()])
    return out.getvalue().encode("utf-8-sig")



def figures_xlsx(figures: DistrictFigures) -> bytes:
    """The table as an Excel workbook: a bold header row, a row per community, the total."""
    book = Workbook()
    sheet = book.active
    sheet.title = str(_l("District figures"))[:31]
    bold = Font(bold=True)
    table = [headers(), *(row.cells() for row in figures.rows)]
    for cells in table:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell for cell in cells])
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a name that begins with "=" stays text, never a formula
    for cell in (*sheet[1], *sheet[sheet.max_row]):
        cell.font = bold
    for cell in sheet[get_column_letter(COLUMNS.index(_AGE) + 1)][1:]:
        cell.number_format = "0.0"
    for index in range(len(COLUMNS)):
        widest = max(width(cells[index]) for cells in table)
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(widest + 2, 8), 40)
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
