"""One case end to end in real browsers, on a gunicorn of the test's own.

A resident reports a broken street light at an enrolled kiosk (a category tile, the grid,
the place, a call-back number); the dispatcher (a moderator of `main`) routes it to the grid
worker, who accepts it on a phone and sends it back; the dispatcher routes it to a district
department, which sees it in its inbox while another community's moderator cannot open it;
the department accepts it and asks for more time, the community admin approves; resolved;
the resident answers 不满意 with the receipt code at the kiosk, which reopens it; resolved
again, 满意: closed. After every step the kiosk's receipt page shows it on the public
timeline, and no kiosk page ever shows the call-back number, a staff member's name, or an
internal reason or note.

On PostgreSQL every e2e server shares one database: names here carry a tag of this run,
and the case's number is read from the pages.
"""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import update

from app.staff.models import StaffMember
from tests.e2e.conftest import KIOSK_PICKUP_MS, Gunicorn
from tests.e2e.helpers import (PAIRING_CODE, look_up_code, new_kiosk_context, new_laptop_context,
                               new_phone_context, path_is, send_case_form)

TAG = uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    name: str  # the display name: never on a kiosk page
    roles: tuple[str, ...]
    community: str | None = None


OTHER_SLUG, OTHER_NAME = f"cases-{TAG}", f"安康社区{TAG}"
DISTRICT_ADMIN = Account(f"e2e-cases-district-{TAG}", "district cases e2e passphrase", "区管理员周明",
                         ("district-admin",))
COMMUNITY_ADMIN = Account(f"e2e-cases-admin-{TAG}", "community admin cases passphrase", "李主任",
                          ("admin",), "main")
DISPATCHER = Account(f"e2e-cases-mod-{TAG}", "dispatcher cases e2e passphrase", "调度员王芳",
                     ("moderator",), "main")
GRID_WORKER = Account(f"e2e-cases-grid-{TAG}", "grid worker cases e2e passphrase", "网格员苗佳",
                      ("grid-worker",), "main")
# A department's account has no place in any community; district-viewer is a role it may hold.
DEPARTMENT = Account(f"e2e-cases-dept-{TAG}", "department cases e2e passphrase", "市政科张工",
                     ("district-viewer",))
OTHER_MODERATOR = Account(f"e2e-cases-other-{TAG}", "other moderator cases passphrase", "安康审核员赵",
                          ("moderator",), OTHER_SLUG)
ACCOUNTS = (DISTRICT_ADMIN, COMMUNITY_ADMIN, DISPATCHER, GRID_WORKER, DEPARTMENT, OTHER_MODERATOR)

GRID = f"第三网格{TAG}（11–15号楼）"
UNIT = f"区市政设施管理所{TAG}"
CATEGORY = "路灯照明"  # a district category, handled first by the grid worker
PLACE = f"12号楼东侧{TAG}"
PROBLEM = "12号楼东侧的路灯不亮了一个星期，晚上出门看不清台阶。"
CONTACT = "13912345678"
# What staff write that only staff may read.
RETURN_REASON = "这盏灯归区里市政设施管理，网格处理不了"
NOTES = ("已电话联系居民确认位置", "市政所说需要更换灯杆底座")
REPLIES = ("已更换灯泡，路灯恢复照明。", "已更换灯杆底座和线路，连续三晚检查照明正常。")
EXTENSION_REASON = "需要订购新的灯杆底座"
NEVER_ON_A_KIOSK = (CONTACT, RETURN_REASON, *NOTES,
                    *(account.name for account in ACCOUNTS), *(account.username for account in ACCOUNTS))


@pytest.fixture
def cases_server(e2e_database, tmp_path_factory):
    """A gunicorn of this test's own (never live_server) with a second community and the
    accounts of ACCOUNTS (display names set); the test fails if it logged an error."""
    gunicorn = Gunicorn(tmp_path_factory.mktemp("e2e-cases"))
    server = gunicorn.start()
    try:
        def create(account: Account) -> str:
            roles = [arg for role in account.roles for arg in ("--role", role)]
            where = ["--community", account.community] if account.community else []
            return server.flask("staff", "create", account.username, *roles, *where, "--password-stdin",
                                stdin=account.password + "\n")

        def other_community() -> str:
            server.flask("community", "create", OTHER_SLUG, OTHER_NAME)
            return create(OTHER_MODERATOR)

        # Each command is a new Python process: run them side by side.
        with ThreadPoolExecutor(max_workers=len(ACCOUNTS)) as pool:
            done = [pool.submit(other_community)]
            done += [pool.submit(create, account) for account in ACCOUNTS if account is not OTHER_MODERATOR]
            for each in done:
                each.result()
        for account in ACCOUNTS:
            server.sql(update(StaffMember).where(StaffMember.username == account.username)
                       .values(display_name=account.name))
        yield server
        server.assert_no_errors()
    finally:
        gunicorn.stop()


@pytest.fixture
def new_context(browser, cases_server):
    """Browser contexts on cases_server, closed after the test: "laptop" (staff, mouse),
    "phone" (390x844, touch) or "kiosk" (a fresh touch screen, not yet enrolled)."""
    contexts = []

    def make(kind: str = "laptop"):
        if kind == "kiosk":
            context = new_kiosk_context(browser, cases_server)
        elif kind == "phone":
            context = new_phone_context(browser, cases_server)
        else:
            context = new_laptop_context(browser, cases_server)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _sign_in(page, server, account: Account):
    page.goto("/staff/")
    page.locator('input[name="username"]').fill(account.username)
    page.locator('input[name="password"]').fill(account.password)
    # The sign-in page's own URL is /staff/ too: wait for the navigation, not the URL.
    with page.expect_navigation(url=f"{server.url}/staff/"):
        page.locator('main form input[type="submit"]').click()
    expect(page.locator('form[action="/staff/sign-out"]')).to_have_count(1)
    return page


def _enrolled_kiosk(page, server, path: str):
    """The fresh screen shows its pairing code at path; enrolled into `main` as staff would,
    it becomes a kiosk by itself."""
    page.goto(path)
    shown = page.locator("aside#pairing #pairing-code")
    expect(shown).to_have_text(PAIRING_CODE)
    said = server.flask("kiosk", "enroll", shown.inner_text(), "--name", f"报事大屏{TAG}", "--community", "main")
    assert "Kiosk #" in said, said
    expect(page.locator("#heartbeat")).to_have_count(1, timeout=KIOSK_PICKUP_MS)
    expect(page.locator("#pairing")).to_have_count(0)
    page.wait_for_load_state()
    return page


def _settings_form(page, action: str):
    return page.locator(f'form[action="/staff/cases/settings/{action}"]')


def _save_settings(page, form):
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.startswith(page.url.split("?")[0])) as saved:
        form.locator('button[type="submit"]').click()
    assert saved.value.status == 303, saved.value.text()
    page.wait_for_load_state()
    expect(page.locator("main [role=alert]:not(#calendar-warning)")).to_have_count(0)


def _choose(select, text: str) -> None:
    """Choose the option whose text holds this text (or whose value it is)."""
    option = select.locator("option", has_text=text).or_(select.locator(f'option[value="{text}"]'))
    select.select_option(option.first.get_attribute("value"))


def _act(page, server, number: str, action: str, *, choose: dict | None = None, fill: dict | None = None,
         tap: bool = False, lands: str | None = None) -> None:
    """On the case page, one step saved with its fields (element id: value); the page it
    leads to (the case's, unless `lands` says another) shows no error."""
    form = page.locator("form#case-form")
    step = form.locator(f"#step-{action}")
    step.tap() if tap else step.check()
    expect(step).to_be_checked()
    for field, text in (choose or {}).items():
        _choose(form.locator(f"select#{field}"), text)
    for field, value in (fill or {}).items():
        form.locator(f"#{field}").fill(value)
    path = f"/staff/cases/{number}"
    with page.expect_response(lambda r: path_is(path)(r) and r.request.method == "POST") as saved:
        button = form.locator("#save-case")
        button.tap() if tap else button.click()
    assert saved.value.status == 303, f"{action}: {saved.value.status}\n{saved.value.text()}"
    page.wait_for_url(f"{server.url}{lands or path}")
    page.wait_for_load_state()
    expect(page.locator("#case-page [role=alert]")).to_have_count(0)


def _staff_state(page, state: str) -> None:
    expect(page.locator("#case-page #case-state")).to_have_class(re.compile(rf"\bstate-{state}\b"))


def _fits_the_phone(page) -> None:
    wider = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wider <= 0, f"{page.url} is {wider}px wider than the phone's screen"


def _kiosk_shows_nothing_private(kiosk) -> None:
    html = kiosk.content()
    shown = [secret for secret in NEVER_ON_A_KIOSK if secret in html]
    assert not shown, f"{kiosk.url} shows {shown}"


def _public_progress(kiosk, receipt: str, state: str, steps: list[str]):
    """The kiosk's receipt page for this code: the case's state and its public timeline,
    step by step; nothing private on it. The timeline's items."""
    response = kiosk.goto(f"/c/main/cases/receipt?code={receipt}")
    assert response.status == 200, response.status
    expect(kiosk.locator("#case-receipt #case-state")).to_have_class(re.compile(rf"\bstatus-{state}\b"))
    items = kiosk.locator("#case-receipt #case-timeline > li")
    expect(items).to_have_class([re.compile(rf"\bstep-{step}$") for step in steps])
    _kiosk_shows_nothing_private(kiosk)
    return items


def _answer(kiosk, fixed: str, satisfaction: str) -> None:
    """The resident's check back on the receipt page: fixed or not, and how satisfied."""
    form = kiosk.locator("form#check-back")
    expect(form).to_be_visible()
    for name, value in (("fixed", fixed), ("satisfaction", satisfaction)):
        choice = form.locator(f'input[name="{name}"][value="{value}"]')
        form.locator(f'label[for="{choice.get_attribute("id")}"]').tap()
        expect(choice).to_be_checked()
    with kiosk.expect_response(path_is("/c/main/cases/check-back")) as answered:
        form.locator("#send-answer").tap()
    assert answered.value.status == 200, answered.value.text()
    expect(kiosk.locator("form#check-back")).to_have_count(0)
    expect(kiosk.locator("#case-receipt [role=alert]")).to_have_count(0)
    _kiosk_shows_nothing_private(kiosk)


def test_one_case_from_the_kiosk_to_closed(cases_server, new_context):
    server = cases_server

    # 1. Set up: the community admin adds a grid worked by the grid worker; the district
    # admin adds a department and makes the department's account one of its staff.
    admin = _sign_in(new_context().new_page(), server, COMMUNITY_ADMIN)
    admin.goto("/staff/cases/settings")
    form = _settings_form(admin, "grids")
    form.locator('input[name="name"]').fill(GRID)
    form.locator('select[name="worker"]').select_option(label=GRID_WORKER.name)
    _save_settings(admin, form)
    grid_row = admin.locator(f'li[id^="grid-"]:has(input[name="name"][value="{GRID}"])')
    expect(grid_row.locator('select[name="worker"] option:checked')).to_have_text(GRID_WORKER.name)

    district = _sign_in(new_context().new_page(), server, DISTRICT_ADMIN)
    district.goto("/staff/cases/settings")
    form = _settings_form(district, "units")
    form.locator('input[name="name"]').fill(UNIT)
    form.locator('select[name="kind"]').select_option("department")
    _save_settings(district, form)
    form = _settings_form(district, "unit-staff")
    form.locator('input[name="username"]').fill(DEPARTMENT.username)
    form.locator('select[name="unit"]').select_option(label=UNIT)
    _save_settings(district, form)

    # 2. A resident reports the problem at the kiosk: a category tile, the grid, the place,
    # the words and a call-back number; the receipt code comes back.
    kiosk = _enrolled_kiosk(new_context("kiosk").new_page(), server, "/c/main/cases/new")
    report = kiosk.locator("form#case-form")
    tile = report.locator("label.kind-option", has_text=CATEGORY)
    tile.tap()
    expect(tile.locator("input")).to_be_checked()
    report.locator("select#grid").select_option(label=GRID)
    report.locator("input#place").tap()
    report.locator("input#place").fill(PLACE)
    report.locator("textarea#text").tap()
    report.locator("textarea#text").fill(PROBLEM)
    report.locator("input#contact").tap()
    report.locator("input#contact").fill(CONTACT)
    receipt = send_case_form(kiosk)
    _kiosk_shows_nothing_private(kiosk)

    # The resident looks it up by the code on the pad: received, one step so far.
    kiosk.goto("/c/main/cases/receipt")
    looked = look_up_code(kiosk, "/c/main/cases/receipt", receipt, "#check-case")
    assert looked.status == 200, looked.status
    expect(kiosk.locator("#case-receipt #case-state")).to_have_class(re.compile(r"\bstatus-received\b"))
    received_label = kiosk.locator("#case-receipt #case-state").inner_text()
    expect(kiosk.locator("#case-receipt")).to_contain_text(PLACE)
    _kiosk_shows_nothing_private(kiosk)
    steps = ["received"]
    _public_progress(kiosk, receipt, "received", steps)

    # 3. The dispatcher finds it to route, with the grid the resident chose, and routes it to
    # the grid worker (an internal note with it).
    dispatcher = _sign_in(new_context().new_page(), server, DISPATCHER)
    dispatcher.goto("/staff/cases?show=to-route")
    row = dispatcher.locator("table.cases-list tbody tr", has_text=PLACE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(GRID)
    number = row.get_attribute("id").removeprefix("case-")
    assert re.fullmatch(r"\d{10}", number), number
    row.get_by_role("link", name=number).click()
    expect(dispatcher).to_have_url(f"{server.url}/staff/cases/{number}")
    _staff_state(dispatcher, "received")
    expect(dispatcher.locator("#level option:checked")).to_have_attribute("value", "grid")
    expect(dispatcher.locator("#grid option:checked")).to_contain_text(GRID)
    _act(dispatcher, server, number, "route", fill={"note": NOTES[0]})
    expect(dispatcher.locator("#case-timeline li.step-note")).to_contain_text(NOTES[0])
    steps.append("routed")
    _public_progress(kiosk, receipt, "received", steps)

    # 4. The grid worker, on a phone, finds it in their list, accepts it, then sends it back.
    worker = _sign_in(new_context("phone").new_page(), server, GRID_WORKER)
    worker.goto("/staff/cases/mine")
    card = worker.locator(f"article#case-{number}")
    expect(card).to_contain_text(PLACE)
    _fits_the_phone(worker)
    card.get_by_role("link").tap()
    expect(worker).to_have_url(f"{server.url}/staff/cases/{number}")
    _fits_the_phone(worker)
    _act(worker, server, number, "accept", tap=True)
    _staff_state(worker, "accepted")
    steps.append("accepted")
    _public_progress(kiosk, receipt, "accepted", steps)

    # Sent back, it is no longer theirs: they land on their list, without it.
    _act(worker, server, number, "return", fill={"reason": RETURN_REASON}, tap=True, lands="/staff/cases/mine")
    expect(worker.locator(f"article#case-{number}")).to_have_count(0)
    # For the resident a case sent back is received again; the reason stays inside.
    _public_progress(kiosk, receipt, "returned", steps)
    expect(kiosk.locator("#case-receipt #case-state")).to_have_text(received_label)

    # 5. The dispatcher routes it to the district department.
    dispatcher.goto("/staff/cases?show=to-route")
    expect(dispatcher.locator(f"tr#case-{number}")).to_have_count(1)
    dispatcher.goto(f"/staff/cases/{number}")
    _staff_state(dispatcher, "returned")
    expect(dispatcher.locator("#case-timeline li.step-returned")).to_contain_text(RETURN_REASON)
    _act(dispatcher, server, number, "route", choose={"level": "department", "unit": UNIT})
    _staff_state(dispatcher, "received")
    steps.append("routed")
    _public_progress(kiosk, receipt, "received", steps)

    # 6. Another community's moderator cannot open it, nor find it in their lists.
    other = _sign_in(new_context().new_page(), server, OTHER_MODERATOR)
    expect(other.locator("a.brand")).to_contain_text(OTHER_NAME)
    response = other.goto(f"/staff/cases/{number}")
    assert response.status == 404, response.status
    for show in ("open", "to-route"):
        other.goto(f"/staff/cases?show={show}")
        expect(other.locator("table.cases-list")).to_be_visible()
        expect(other.locator(f"tr#case-{number}")).to_have_count(0)
    # The grid worker, no longer its handler, cannot either.
    response = worker.goto(f"/staff/cases/{number}")
    assert response.status in (403, 404), response.status

    # 7. The department sees it in its inbox, opens it, accepts it and asks for more time.
    department = _sign_in(new_context().new_page(), server, DEPARTMENT)
    department.goto("/staff/cases/unit")
    row = department.locator(f"tr#case-{number}")
    expect(row).to_contain_text(PLACE)
    row.get_by_role("link", name=number).click()
    expect(department).to_have_url(f"{server.url}/staff/cases/{number}")
    _act(department, server, number, "accept")
    _staff_state(department, "accepted")
    steps.append("accepted")
    _public_progress(kiosk, receipt, "accepted", steps)

    until = date.today() + timedelta(days=30)  # well after the due date, whatever the time zone
    # The end of that day, stored as the next day's midnight, reads as that day.
    until_shown = format_date(until, "medium", locale="zh_Hans")
    assert str(until.day) in until_shown and until_shown.endswith("日")
    _act(department, server, number, "request-extension",
         fill={"until": until.isoformat(), "reason": EXTENSION_REASON, "note": NOTES[1]})
    _staff_state(department, "accepted")
    expect(department.locator("#case-timeline li.step-extension-requested")).to_contain_text(until_shown)
    # Asked for, not yet granted: nothing new for the resident.
    _public_progress(kiosk, receipt, "accepted", steps)
    expect(kiosk.locator("#case-receipt")).not_to_contain_text(EXTENSION_REASON)

    # 8. The community admin approves the extension; the new due date shows publicly.
    admin.goto(f"/staff/cases/{number}")
    _act(admin, server, number, "approve-extension")
    expect(admin.locator("#case-timeline li.step-extended")).to_contain_text(until_shown)
    steps.append("extended")
    items = _public_progress(kiosk, receipt, "accepted", steps)
    expect(items.last).to_contain_text(until_shown)
    expect(kiosk.locator("#case-receipt")).not_to_contain_text(EXTENSION_REASON)

    # 9. The department resolves it with a public reply.
    department.goto(f"/staff/cases/{number}")
    _act(department, server, number, "resolve", fill={"reply": REPLIES[0]})
    _staff_state(department, "resolved")
    steps.append("resolved")
    items = _public_progress(kiosk, receipt, "resolved", steps)
    expect(items.last).to_contain_text(REPLIES[0])

    # 10. The resident answers at the kiosk: not fixed, 不满意. The case opens again.
    form = kiosk.locator("form#check-back")
    expect(form.locator("label", has=kiosk.locator('input[value="unsatisfied"]'))).to_have_text("不满意")
    _answer(kiosk, "no", "unsatisfied")
    expect(kiosk.locator("#case-receipt #case-state")).to_have_class(re.compile(r"\bstatus-reopened\b"))
    steps.append("reopened-by-resident")
    _public_progress(kiosk, receipt, "reopened", steps)

    # 11. The department resolves it again; the resident answers fixed, 满意: closed.
    department.goto(f"/staff/cases/{number}")
    _staff_state(department, "reopened")
    _act(department, server, number, "resolve", fill={"reply": REPLIES[1]})
    _staff_state(department, "resolved")
    steps.append("resolved")
    items = _public_progress(kiosk, receipt, "resolved", steps)
    expect(items.last).to_contain_text(REPLIES[1])

    form = kiosk.locator("form#check-back")
    expect(form.locator("label", has=kiosk.locator('input[value="satisfied"]'))).to_have_text("满意")
    _answer(kiosk, "yes", "satisfied")
    expect(kiosk.locator("#case-receipt #case-state")).to_have_class(re.compile(r"\bstatus-closed\b"))
    steps.append("checked-back")
    _public_progress(kiosk, receipt, "closed", steps)

    # Staff see the whole story, the resident's answers with it.
    dispatcher.goto(f"/staff/cases/{number}")
    _staff_state(dispatcher, "closed")
    expect(dispatcher.locator("#case-timeline li.step-checked-back")).to_have_count(1)
    expect(dispatcher.locator("#case-timeline li.step-reopened-by-resident")).to_have_count(1)
