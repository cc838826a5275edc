"""The street office's case figures: a seeded month of cases (taken in and worked through the
services, then dated inside March 2025), the figures function against counts made by hand,
the console's page and its .xlsx download against both, the month's edges in the community's
time zone, the settings the figures and the check back read, and another community's cases
kept out."""

import html
import io
import re
from datetime import date, datetime, timedelta

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import select, update

from app.cases import figures, services
from app.cases.models import Case, CaseEvent, Category
from app.cases.services import CaseError, Intake, Step
from app.clock import utcnow
from app.communities import scope, settings
from app.communities.services import create_community
from app.extensions import db
from app.staff.models import StaffMember
from tests.factories import staff_member

MARCH = date(2025, 3, 1)
ENGLISH = {"Accept-Language": "en"}
# Counts' order: received, accepted within 24 h, finished, on time, late, satisfied, basically
# satisfied, not satisfied, reopened, closed as fixed, solved in the community.
FIELDS = ("received", "accepted_in_time", "finished", "on_time", "late", "satisfied", "basic", "unsatisfied",
          "reopened", "closed_fixed", "solved_locally")
ZERO = (0,) * len(FIELDS)

# By hand, from the cases _seed() makes (A to G; F1 falls in April, H is another community's).
BY_GRID = {
    "第一网格": (2, 1, 2, 1, 1, 1, 1, 0, 0, 2, 1),  # A, B (F1 is April's)
    "第二网格": (1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1),  # C received and reopened; E finished
    "No grid": (3, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0),  # D, F2, G
}
BY_CATEGORY = {
    "roads": (2, 1, 2, 2, 0, 2, 0, 0, 0, 2, 2),  # A, D; E finished
    "lighting": (2, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0),  # B, F2
    "sanitation": (1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0),  # C
    "parking": (1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0),  # G
}
BY_UNIT = {
    "区城管局": (1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0),  # B
    "安居物业": (1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0),  # G
    "In the community (no unit)": (4, 2, 2, 2, 0, 2, 0, 1, 1, 2, 2),  # A, C, D, F2; E
}
TOTAL = (6, 2, 4, 3, 1, 2, 1, 1, 1, 3, 2)


def local(*parts) -> datetime:
    """A time in Shanghai (UTC+8 all year), as stored: naive UTC."""
    return datetime(*parts) - timedelta(hours=8)


def category(key: str) -> int:
    return db.session.scalar(select(Category.id).where(Category.key == key))


def member(member_id: int) -> StaffMember:
    return db.session.get(StaffMember, member_id)


def file(text: str, key: str, grid_id: int | None = None) -> Case:
    return services.take_in(Intake(category(key), text, grid_id=grid_id), channel="walk_in", reported_by="staff:desk")


def act(case_id: int, member_id: int, action: str, **fields) -> Case:
    return services.act(case_id, member(member_id), Step(action=action, **fields))


def dated(case_id: int, **times) -> None:
    db.session.execute(update(Case).where(Case.id == case_id).values(**times))
    db.session.commit()


def _seed() -> dict:
    """March 2025 in community 1 (Asia/Shanghai), every case worked through the services:

    A roads, grid 1, the grid worker: accepted after 2 h, resolved, satisfied, closed as fixed.
    B lighting, grid 1, a district department: accepted after 30 h, resolved late, basically
      satisfied, closed as fixed (escalated).
    C sanitation, grid 2, the committee: accepted after exactly 24 h, resolved, not satisfied:
      reopened on 20 March.
    D roads, no grid: received, nothing more.
    E roads, grid 2, the grid worker: received on 28 February at 23:00, resolved 2 March,
      satisfied, closed as fixed 3 March.
    G parking, no grid, a property company: closed as not theirs without being resolved.
    F1 lighting, grid 1: received at local midnight on 1 April (31 March in UTC).
    F2 lighting, no grid: received at local midnight on 1 March (28 February in UTC).
    H roads, in a second community, in March.
    """
    dispatcher = staff_member("disp", "moderator")
    worker1, worker2 = staff_member("gw1", "grid-worker"), staff_member("gw2", "grid-worker")
    staff_member("cg1", "district-viewer")
    staff_member("wy1", "district-viewer")
    grid1, grid2 = services.add_grid("第一网格", worker1), services.add_grid("第二网格", worker2)
    department = services.add_unit("区城管局", "department").id
    company = services.add_unit("安居物业", "property").id
    services.set_unit_staff("cg1", department)
    services.set_unit_staff("wy1", company)
    department_staff = db.session.scalar(select(StaffMember.id).where(StaffMember.username == "cg1"))

    a = file("北门路面有个坑", "roads", grid1)
    act(a.id, dispatcher, "route", level="grid")
    act(a.id, worker1, "accept")
    act(a.id, worker1, "resolve", reply="已填平")
    services.check_back(a.receipt_code, True, "satisfied")
    dated(a.id, created_at=local(2025, 3, 3, 9), first_accepted_at=local(2025, 3, 3, 11),
          accepted_at=local(2025, 3, 3, 11), resolved_at=local(2025, 3, 5, 10), checked_back_at=local(2025, 3, 6, 10),
          closed_at=local(2025, 3, 6, 10))

    b = file("3号楼路灯坏了", "lighting", grid1)
    act(b.id, dispatcher, "route", level="department", unit_id=department)
    act(b.id, department_staff, "accept")
    dated(b.id, due_at=utcnow() - timedelta(hours=1))
    act(b.id, department_staff, "resolve", reply="已更换灯泡")
    services.check_back(b.receipt_code, True, "basic")
    dated(b.id, created_at=local(2025, 3, 4, 9), first_accepted_at=local(2025, 3, 5, 15),
          accepted_at=local(2025, 3, 5, 15), resolved_at=local(2025, 3, 12, 10), checked_back_at=local(2025, 3, 14, 9),
          closed_at=local(2025, 3, 14, 9))

    c = file("垃圾站没有清运", "sanitation", grid2)
    act(c.id, dispatcher, "route", level="committee")
    act(c.id, dispatcher, "accept")
    act(c.id, dispatcher, "resolve", reply="已清运")
    services.check_back(c.receipt_code, True, "unsatisfied")
    dated(c.id, created_at=local(2025, 3, 10, 8), first_accepted_at=local(2025, 3, 11, 8),
          checked_back_at=local(2025, 3, 20, 10), accepted_at=local(2025, 3, 20, 10))
    db.session.execute(update(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.action == "reopened-by-resident")
                       .values(at=local(2025, 3, 20, 10)))
    db.session.commit()

    d = file("路口红绿灯时间太短", "roads")
    dated(d.id, created_at=local(2025, 3, 15, 12))

    e = file("南门人行道地砖松动", "roads", grid2)
    act(e.id, dispatcher, "route", level="grid")
    act(e.id, worker2, "accept")
    act(e.id, worker2, "resolve", reply="已重新铺设")
    services.check_back(e.receipt_code, True, "satisfied")
    dated(e.id, created_at=local(2025, 2, 28, 23), first_accepted_at=local(2025, 3, 1, 9),
          accepted_at=local(2025, 3, 1, 9), resolved_at=local(2025, 3, 2, 10), checked_back_at=local(2025, 3, 3, 10),
          closed_at=local(2025, 3, 3, 10))

    g = file("地下车库有人乱停车", "parking")
    act(g.id, dispatcher, "route", level="property", unit_id=company)
    act(g.id, dispatcher, "close", close_reason="not_ours", reason="请联系物业公司车管")
    dated(g.id, created_at=local(2025, 3, 10, 10), closed_at=local(2025, 3, 11, 10))

    f1 = file("5号楼路灯闪烁", "lighting", grid1)
    dated(f1.id, created_at=local(2025, 4, 1, 0))
    f2 = file("小区花园路灯不亮", "lighting")
    dated(f2.id, created_at=local(2025, 3, 1, 0))

    second = create_community("second", "第二社区", "Second")
    with scope.within(second):
        h = file("第二社区门口路面塌陷", "roads")
        dated(h.id, created_at=local(2025, 3, 5, 10))
    return {"second": second, "grids": (grid1, grid2), "units": (department, company)}


@pytest.fixture
def seeded(app):
    with app.app_context():
        return _seed()


def as_tuple(counts: figures.Counts) -> tuple:
    return tuple(getattr(counts, name) for name in FIELDS)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def measure_cells(counts: tuple) -> list:
    """A row's figure cells, shares included, in the table's order."""
    c = dict(zip(FIELDS, counts))
    return [c["received"], c["accepted_in_time"], share(c["accepted_in_time"], c["received"]), c["finished"],
            c["on_time"], c["late"], share(c["on_time"], c["finished"]), c["satisfied"], c["basic"], c["unsatisfied"],
            share(c["satisfied"] + c["basic"], c["satisfied"] + c["basic"] + c["unsatisfied"]), c["reopened"],
            c["closed_fixed"], c["solved_locally"], share(c["solved_locally"], c["closed_fixed"])]


def hand_rows(app) -> dict[str, list[list]]:
    """What each sheet should hold below its header, made from the counts by hand (English)."""
    with app.app_context():
        names = {key: (name_en,) for key, name_en in db.session.execute(select(Category.key, Category.name_en))}
        order = list(db.session.scalars(select(Category.key).order_by(Category.position, Category.id)))
    return {
        "grid": [[name, *measure_cells(counts)] for name, counts in BY_GRID.items()]
        + [["Community total", *measure_cells(TOTAL)]],
        "category": [[*names[key], *measure_cells(BY_CATEGORY.get(key, ZERO))] for key in order]
        + [["Community total", *measure_cells(TOTAL)]],
        "unit": [["区城管局", "District department", *measure_cells(BY_UNIT["区城管局"])],
                 ["安居物业", "Property company", *measure_cells(BY_UNIT["安居物业"])],
                 ["In the community (no unit)", "", *measure_cells(BY_UNIT["In the community (no unit)"])],
                 ["Community total", "", *measure_cells(TOTAL)]],
    }


def blank_as_none(rows: list[list]) -> list[list]:
    """An empty text cell reads back from a workbook as no value."""
    return [[None if cell == "" else cell for cell in row] for row in rows]


def workbook(body: bytes) -> dict[str, list[list]]:
    """Each sheet's rows, by its title."""
    book = load_workbook(io.BytesIO(body))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


# --- the figures function ----------------------------------------------------------------------

def test_the_months_figures_match_the_cases_counted_by_hand(app, seeded):
    with app.app_context():
        month = figures.case_figures(MARCH)
    assert (month.month_text, month.hours) == ("2025-03", 24)
    assert (month.start, month.end) == (datetime(2025, 2, 28, 16), datetime(2025, 3, 31, 16))
    assert as_tuple(month.total) == TOTAL
    grid = month.table("grid")
    assert {str(row.leading[0]): as_tuple(row.counts) for row in grid.rows} == BY_GRID
    assert [row.key for row in grid.rows] == [*seeded["grids"], None]
    category = month.table("category")
    with app.app_context():
        key_of = {category.id: category.key for category in db.session.scalars(select(Category))}
    assert {key_of[row.key]: as_tuple(row.counts) for row in category.rows} == {
        key: BY_CATEGORY.get(key, ZERO) for key in
        ("roads", "lighting", "sanitation", "property", "utilities", "safety", "noise", "parking", "dispute", "other")}
    unit = month.table("unit")
    assert {str(row.leading[0]): as_tuple(row.counts) for row in unit.rows} == BY_UNIT
    for table in month.tables:  # every table adds up to the community's total
        assert as_tuple(sum((row.counts for row in table.rows), figures.Counts())) == TOTAL
        assert table.total.counts == month.total
    assert month.total.accepted_share == 2 / 6 and month.total.on_time_share == 3 / 4
    assert month.total.satisfaction_share == 3 / 4 and month.total.local_share == 2 / 3


def test_the_months_edges_are_the_communitys_midnights(app, seeded):
    with app.app_context():
        february, april = figures.case_figures(date(2025, 2, 1)), figures.case_figures(date(2025, 4, 1))
    # E at 23:00 on 28 February (Shanghai) is February's; F2 at midnight on 1 March (still
    # February in UTC) is March's; F1 at midnight on 1 April (31 March in UTC) is April's.
    assert (february.total.received, april.total.received) == (1, 1)
    assert february.table("category").rows[0].counts.received == 1  # E: roads
    assert next(row for row in april.table("grid").rows if row.key == seeded["grids"][0]).counts.received == 1


def test_another_communitys_cases_stay_in_their_own_figures(app, seeded):
    with app.app_context():
        with scope.within(seeded["second"]):
            second = figures.case_figures(MARCH)
        first = figures.case_figures(MARCH)
        district = figures.district_case_figures(MARCH)
    assert as_tuple(first.total) == TOTAL
    assert as_tuple(second.total) == (1, *ZERO[1:])
    assert [(row.community_id, row.counts.received) for row in district] == [(1, 6), (seeded["second"], 1), (None, 7)]
    assert as_tuple(district[0].counts) == TOTAL and district[0].hours == 24


def test_the_accept_hours_are_the_communitys_setting(app, seeded):
    with app.app_context():
        assert settings.setting("CASE_ACCEPT_HOURS") == 24
        settings.save_community_settings(1, {"CASE_ACCEPT_HOURS": "48"})
        month = figures.case_figures(MARCH)
        with scope.within(seeded["second"]):
            second = figures.case_figures(MARCH)
    assert month.hours == 48 and month.total.accepted_in_time == 3  # B, accepted after 30 hours, now counts
    assert "Accepted within 48 hours" in month.table("grid").headers()
    assert second.hours == 24


def test_the_cases_settings_are_registered_with_their_defaults(app):
    assert {"CASE_ACCEPT_HOURS", "CASE_CHECK_BACK_DAYS"} <= set(settings.SETTINGS)
    assert (app.config["CASE_ACCEPT_HOURS"], app.config["CASE_CHECK_BACK_DAYS"]) == (24, 7)
    for text in ("0", "721", "abc", "1.5"):
        with pytest.raises(settings.SettingError):
            settings.SETTINGS["CASE_ACCEPT_HOURS"].parse(text, "CASE_ACCEPT_HOURS")
    assert settings.SETTINGS["CASE_CHECK_BACK_DAYS"].parse(" 10 ", "CASE_CHECK_BACK_DAYS") == 10


def test_the_check_back_window_is_the_communitys_setting(app):
    with app.app_context():
        assert current_app.config["CASE_CHECK_BACK_DAYS"] == 7
        dispatcher = staff_member("disp", "moderator")
        case = file("楼道灯不亮", "lighting")
        act(case.id, dispatcher, "route", level="committee")
        act(case.id, dispatcher, "accept")
        act(case.id, dispatcher, "resolve", reply="已修好")
        dated(case.id, resolved_at=utcnow() - timedelta(days=8))
        with pytest.raises(CaseError) as refused:
            services.check_back(case.receipt_code, True, "satisfied")
        assert refused.value.field == "code"
        db.session.rollback()
        settings.save_community_settings(1, {"CASE_CHECK_BACK_DAYS": "10"})
        assert services.check_back(case.receipt_code, True, "satisfied").state == "closed"


# --- the console -------------------------------------------------------------------------------

def page_tables(body: str) -> dict[str, list[list[str]]]:
    """The page's tables as text, by their key, header row first."""
    tables = {}
    for key, table in re.findall(r'<table class="table figures" id="case-figures-(\w+)">(.*?)</table>', body, re.S):
        tables[key] = [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                       for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]
    return tables


def shown(cell, column: int, shares: frozenset[int]) -> str:
    """A workbook cell as the page shows it (English)."""
    if column in shares:
        return "—" if cell is None else f"{cell * 100:.1f}%"
    return "" if cell is None else str(cell)


def test_the_workbook_and_the_page_agree_with_the_cases(app, seeded, staff_client):
    client = staff_client("mod", "moderator")
    response = client.get("/staff/cases/figures.xlsx?month=2025-03", headers=ENGLISH)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == 'attachment; filename="linli-cases-2025-03.xlsx"'
    sheets = workbook(response.data)
    assert list(sheets) == ["By grid 2025-03", "By category 2025-03", "By unit 2025-03"]

    with app.test_request_context(headers=ENGLISH):
        month = figures.case_figures(MARCH)
        headers = [table.headers() for table in month.tables]
        titles = [str(table.title) for table in month.tables]
        cells = [[row.cells() for row in table.all_rows] for table in month.tables]
    expected = hand_rows(app)
    page = page_tables(client.get("/staff/cases/figures?month=2025-03", headers=ENGLISH).get_data(as_text=True))
    for index, (title, table) in enumerate(zip(sheets, month.tables)):
        rows = sheets[title]
        assert rows[0][0] == f"Case figures, 2025-03: {titles[index]}"
        assert rows[1] == headers[index]
        # The workbook holds the figures function's numbers, which are the ones counted by hand.
        assert rows[2:] == blank_as_none(cells[index]) == blank_as_none(expected[table.key]), table.key
        assert page[table.key][0] == rows[1]
        assert page[table.key][1:] == [[shown(cell, column, table.share_columns) for column, cell in enumerate(row)]
                                       for row in rows[2:]], table.key

    book = load_workbook(io.BytesIO(response.data))
    sheet = book["By category 2025-03"]
    assert all(cell.font.bold for cell in sheet[2]) and all(cell.font.bold for cell in sheet[sheet.max_row])
    assert sheet["A3"].data_type == "s" and sheet["A3"].value == "Roads and crossings"
    assert sheet["D3"].number_format == "0.0%"  # accepted within 24 hours, as a share
    assert sheet.freeze_panes == "B3"
    assert book.properties.title == "Case figures, 2025-03"


def test_the_page_draws_the_chart_on_the_server(seeded, staff_client):
    client = staff_client("mod", "moderator")
    body = client.get("/staff/cases/figures?month=2025-03", headers=ENGLISH).get_data(as_text=True)
    chart = re.search(r'<svg class="chart" id="case-figures-chart".*?</svg>', body, re.S).group(0)
    assert "style=" not in chart and "<script" not in chart
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)  # no inline script, no library for the chart
    assert all(src.startswith("/static/") for src in re.findall(r'<script[^>]*\bsrc="([^"]+)"', body))
    # Four categories had cases; each has a bar for received, on time and late.
    assert len(re.findall(r"<rect [^>]*><title>", chart)) == 12
    assert "<title>Received: 2</title>" in chart and "<title>Finished late: 1</title>" in chart
    assert '<input type="month" name="month" value="2025-03"' in body


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "abc", "0000-01", "9999-12", "2025-3-1", "２０２５-03",
                                   "2025-03'--", "x" * 500])
def test_a_bad_month_shows_this_month_with_a_message(app, staff_client, month):
    client = staff_client("mod", "moderator")
    response = client.get("/staff/cases/figures", query_string={"month": month}, headers=ENGLISH)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="month-error"' in body and "Please choose a month as year and month" in body
    assert "Traceback" not in body
    with app.app_context():
        current = figures.this_month().strftime("%Y-%m")
    assert f'<input type="month" name="month" value="{current}"' in body
    download = client.get("/staff/cases/figures.xlsx", query_string={"month": month})
    assert download.status_code == 200 and f"linli-cases-{current}.xlsx" in download.headers["Content-Disposition"]


def test_no_month_is_this_month_without_a_message(app, staff_client):
    client = staff_client("mod", "moderator")
    response = client.get("/staff/cases/figures", headers=ENGLISH)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="month-error"' not in body
    with app.app_context():
        current = figures.this_month().strftime("%Y-%m")
    assert f"Case figures, {current}" in body and 'id="case-figures-chart-empty"' in body


def test_the_month_links_page_from_the_first_case_to_this_month(app, seeded, staff_client):
    client = staff_client("mod", "moderator")
    with app.app_context():
        first = figures.first_month()
        current = figures.this_month()
    assert first <= MARCH  # the seeded month holds cases
    links = re.compile(r'href="/staff/cases/figures\?month=([0-9-]+)" id="(previous|next)-month"')

    def paging(month: date) -> dict:
        asked = {"month": month.strftime("%Y-%m")}
        body = client.get("/staff/cases/figures", query_string=asked).get_data(as_text=True)
        return {side: shown for shown, side in links.findall(body)}

    assert paging(first) == {"next": figures.next_month(first).strftime("%Y-%m")}
    assert paging(current) == {"previous": figures.previous_month(current).strftime("%Y-%m")}
    assert paging(MARCH) == ({"previous": "2025-02", "next": "2025-04"} if first < MARCH else {"next": "2025-04"})
    assert paging(date(1990, 1, 1)) == {}  # asked for by hand: shown, with nowhere further to go


def test_the_figures_are_for_dispatchers(client, staff_client):
    worker = staff_client("gw", "grid-worker")
    assert worker.get("/staff/cases/figures").status_code == 403
    assert worker.get("/staff/cases/figures.xlsx").status_code == 403
    assert client.get("/staff/cases/figures").status_code == 302
    moderator = staff_client("mod", "moderator")
    assert 'href="/staff/cases/figures"' in moderator.get("/staff/cases").get_data(as_text=True)
