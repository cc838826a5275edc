"""A district admin's day in real browsers, on a gunicorn of the test's own: a new
community, a kiosk enrolled into it by its pairing code, a moderator given a place in it,
an urgent notice for two of three communities, and the moderator switching between the
communities they work in.

On PostgreSQL every e2e server shares one database, so nothing here sends a notice to
`main` or changes its settings: `main` only gets a kiosk and a moderator, and is the
community the notice must never reach.
"""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import KIOSK_PICKUP_MS, Gunicorn
from tests.e2e.helpers import PAIRING_CODE, htmx_headers, new_kiosk_context, new_laptop_context, path_is

# Kiosks of this server look for urgent notices this often (written into its config).
NOTICES_POLL_SECONDS = 2
ADMIN = ("e2e-district-admin", "district admin e2e passphrase")
MODERATOR = ("e2e-district-mod", "district moderator e2e passphrase")
MAIN, HEPINGLI = "幸福里社区", "和平里社区"
ANLE, ANLE_EN, ANLE_SLUG = "安乐社区", "Anle Community", "anle"
CONSOLE = "工作人员后台"  # "Staff console"
NOTICE_TITLE = "今晚19点消防演练，请勿使用电梯"
ANLE_POST = "希望安乐社区的花园里多放几张长椅，方便老人歇脚。"


@pytest.fixture
def district_server(e2e_database, tmp_path_factory):
    """A gunicorn of this test's own (never live_server), with fast urgent-notice polls;
    the test fails if it logged an error."""
    gunicorn = Gunicorn(tmp_path_factory.mktemp("e2e-district-console"),
                        extra_config=f"NOTICES_POLL_SECONDS = {NOTICES_POLL_SECONDS}\n")
    server = gunicorn.start()
    try:
        server.flask("staff", "create", ADMIN[0], "--role", "district-admin", "--password-stdin",
                     stdin=ADMIN[1] + "\n")
        server.flask("staff", "create", MODERATOR[0], "--role", "moderator", "--community", "main",
                     "--password-stdin", stdin=MODERATOR[1] + "\n")
        yield server
        server.assert_no_errors()
    finally:
        gunicorn.stop()


@pytest.fixture
def new_context(browser, district_server):
    """Browser contexts on district_server, closed after the test: `new_context()` a staff
    laptop, `new_context(kiosk=True)` a fresh touch screen."""
    contexts = []

    def make(kiosk: bool = False):
        if kiosk:
            context = new_kiosk_context(browser, district_server)
        else:
            context = new_laptop_context(browser, district_server)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _sign_in(page, server, username: str, password: str) -> None:
    page.goto("/staff/")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    # The sign-in page's own URL is /staff/ too: wait for the navigation, not the URL.
    with page.expect_navigation(url=f"{server.url}/staff/"):
        page.locator('main form input[type="submit"]').click()
    expect(page.locator('form[action="/staff/sign-out"]')).to_have_count(1)


def _nav(page, label: str):
    """A link of the console's navigation (a badge may follow the label)."""
    return page.locator("#console-nav").get_by_role("link", name=re.compile(rf"^{re.escape(label)}( \d+)?$"))


def _switch(page, server, community: str) -> None:
    """Work in another community with the top bar's switcher."""
    page.locator("select#community-switch").select_option(label=community)
    with page.expect_response(lambda r: path_is("/staff/community")(r) and r.request.method == "POST") as switched:
        with page.expect_navigation(url=f"{server.url}/staff/"):
            page.get_by_role("button", name="切换", exact=True).click()
    assert switched.value.status == 303, switched.value.status
    expect(page.locator("a.brand")).to_have_text(f"{community} · {CONSOLE}")
    expect(page.locator("select#community-switch option:checked")).to_have_text(community)


def _show_pairing_code(kiosk) -> str:
    kiosk.goto("/")
    shown = kiosk.locator("aside#pairing #pairing-code")
    expect(shown).to_have_text(PAIRING_CODE)
    expect(kiosk.locator("#heartbeat")).to_have_count(0)
    return shown.inner_text()


def _enroll(admin, server, kiosk, community: str, slug: str, name: str) -> None:
    """The admin works in `community`, opens Kiosks and types the code the new screen
    shows; the screen becomes a kiosk of that community by itself."""
    code = _show_pairing_code(kiosk)
    _switch(admin, server, community)
    _nav(admin, "大屏").click()
    expect(admin).to_have_url(f"{server.url}/staff/kiosks")
    form = admin.locator("form#enroll-kiosk")
    form.locator('input[name="code"]').fill(code)
    form.locator('input[name="name"]').fill(name)
    # It showed the first community's home: enrolled there it reloads that page; enrolled
    # elsewhere that page is not its own, so it goes to / (which leads to its home).
    collected = {"hx-refresh": "true"} if slug == "main" else {"hx-redirect": "/"}
    with kiosk.expect_response(lambda r: path_is("/device/pairing")(r)
                               and all(r.headers.get(name) == value for name, value in collected.items()),
                               timeout=KIOSK_PICKUP_MS):
        with admin.expect_response(lambda r: path_is("/staff/kiosks")(r) and r.request.method == "POST") as added:
            form.locator('input[type="submit"]').click()
        assert added.value.status == 303, added.value.status  # then the list, at its own address
        expect(admin.locator("#kiosk-list [role=status]")).to_have_text("大屏已添加，几秒钟内下次联络时生效。")
        expect(admin.locator(f'#kiosk-list tr[id^="kiosk-"] input[name="name"][value="{name}"]')).to_have_count(1)
    expect(kiosk.locator("#heartbeat")).to_have_count(1, timeout=KIOSK_PICKUP_MS)
    expect(kiosk.locator("#pairing")).to_have_count(0)
    # It reloads itself into its own community's pages (its home), not an error page.
    expect(kiosk).to_have_url(f"{server.url}/c/{slug}/")
    expect(kiosk.locator("header.kiosk-bar a.brand")).to_have_text(community)


def _urgent_titles(kiosk):
    return kiosk.locator("#urgent .urgent-banner .urgent-title")


def test_a_district_admins_day(district_server, new_context):
    server = district_server

    # 1. The district admin signs in, opens the district page and adds a community.
    admin = new_context().new_page()
    _sign_in(admin, server, *ADMIN)
    _nav(admin, "街道").click()
    expect(admin).to_have_url(f"{server.url}/staff/district")
    communities = admin.locator("table#communities tbody tr")
    expect(communities.filter(has_text=ANLE)).to_have_count(0)
    create = admin.locator("form#create-community")
    create.locator('input[name="name"]').fill(ANLE)
    create.locator('input[name="name_en"]').fill(ANLE_EN)
    create.locator('input[name="slug"]').fill(ANLE_SLUG)
    with admin.expect_response(lambda r: path_is("/staff/district/communities")(r)) as created:
        with admin.expect_navigation(url=f"{server.url}/staff/district"):
            create.get_by_role("button", name="新增社区").click()
    assert created.value.status == 303, created.value.status
    anle_row = communities.filter(has_text=ANLE)
    expect(anle_row).to_have_count(1)
    expect(anle_row.get_by_role("link", name=f"/c/{ANLE_SLUG}/")).to_have_count(1)
    expect(admin.locator("select#community-switch option")).to_contain_text([MAIN, HEPINGLI, ANLE])

    # 2. A new screen shows a pairing code; the admin switches to 安乐社区 and enrolls it there.
    kiosk_anle = new_context(kiosk=True).new_page()
    _enroll(admin, server, kiosk_anle, ANLE, ANLE_SLUG, "安乐社区大厅")

    # 3. The moderator of 幸福里社区 gets a place in 安乐社区 too.
    _nav(admin, "街道").click()
    assign = admin.locator("form#assign-staff")
    assign.locator('input[name="username"]').fill(MODERATOR[0])
    assign.locator('select[name="community"]').select_option(label=ANLE)
    assign.locator('input[name="roles"][value="moderator"]').check()
    with admin.expect_response(lambda r: path_is("/staff/district/staff")(r)) as assigned:
        with admin.expect_navigation(url=f"{server.url}/staff/district"):
            assign.get_by_role("button", name="保存").click()
    assert assigned.value.status == 303, assigned.value.status
    expect(anle_row).to_contain_text(f"({MODERATOR[0]})：审核员")
    expect(communities.filter(has_text=MAIN)).to_contain_text(f"({MODERATOR[0]})：审核员")

    # 4. Screens of 和平里社区 and 幸福里社区 too; an urgent notice for 安乐社区 and 和平里社区 only.
    kiosk_hepingli = new_context(kiosk=True).new_page()
    _enroll(admin, server, kiosk_hepingli, HEPINGLI, "hepingli", "和平里大厅")
    kiosk_main = new_context(kiosk=True).new_page()
    _enroll(admin, server, kiosk_main, MAIN, "main", "幸福里大厅")
    kiosks = {"anle": kiosk_anle, "hepingli": kiosk_hepingli, "main": kiosk_main}
    for kiosk in kiosks.values():
        expect(kiosk.locator("#urgent")).to_have_attribute("hx-trigger", f"every {NOTICES_POLL_SECONDS}s")
        expect(_urgent_titles(kiosk).filter(has_text=NOTICE_TITLE)).to_have_count(0)
    # The statuses of 幸福里社区's kiosk's polls (Playwright hands them over while a call
    # waits on the browser, so the wait below is the page's own, not time.sleep).
    main_polls = []
    kiosk_main.on("response", lambda r: main_polls.append(r.status)
                  if path_is("/c/main/notices/urgent")(r) else None)

    _nav(admin, "街道").click()
    notice = admin.locator("form#district-notice")
    notice.locator('input[name="title"]').fill(NOTICE_TITLE)
    notice.locator('textarea[name="body"]').fill("19:00–19:30 消防演练期间电梯停用，请走楼梯。")
    notice.locator('input[name="urgency"][value="urgent"]').check()
    starts = notice.locator('input[name="starts_at"]').input_value()
    ends = datetime.strptime(starts, "%Y-%m-%dT%H:%M") + timedelta(hours=3)
    notice.locator('input[name="ends_at"]').fill(ends.strftime("%Y-%m-%dT%H:%M"))
    everywhere = notice.get_by_label("所有社区", exact=True)
    expect(everywhere).to_be_checked()
    everywhere.uncheck()
    notice.get_by_label(ANLE, exact=True).check()
    notice.get_by_label(HEPINGLI, exact=True).check()
    expect(notice.get_by_label(MAIN, exact=True)).not_to_be_checked()
    with admin.expect_response(lambda r: path_is("/staff/district/notices")(r)) as sent:
        with admin.expect_navigation(url=re.compile(r"/staff/district\?sent=2$")):
            notice.get_by_role("button", name="发送", exact=True).click()
    polls_before = len(main_polls)
    assert sent.value.status == 303, sent.value.status
    expect(admin.locator("section", has=notice).get_by_role("status")).to_have_text("已发送到 2 个社区。")

    # The kiosks were not reloaded: their own polls bring the banner, within one interval
    # (plus a request's time).
    within_ms = (NOTICES_POLL_SECONDS + 3) * 1000
    for name in ("anle", "hepingli"):
        expect(_urgent_titles(kiosks[name]).filter(has_text=NOTICE_TITLE)).to_have_count(1, timeout=within_ms)
    # 幸福里社区's kiosk asks at least twice after the notice was sent ("no change": 204),
    # and never shows it, nor after a reload.
    kiosk_main.wait_for_timeout((2 * NOTICES_POLL_SECONDS + 1) * 1000)
    polled = main_polls[polls_before:]
    assert len(polled) >= 2 and set(polled) == {204}, polled
    expect(_urgent_titles(kiosk_main).filter(has_text=NOTICE_TITLE)).to_have_count(0)
    kiosk_main.reload()
    expect(kiosk_main.locator("#urgent")).to_have_count(1)
    expect(_urgent_titles(kiosk_main).filter(has_text=NOTICE_TITLE)).to_have_count(0)

    # 5. A resident posts on 安乐社区's kiosk (waiting for a moderator); the moderator, now in
    # two communities, switches between them and sees each one's own queue.
    response = kiosk_anle.request.post(f"/c/{ANLE_SLUG}/wall/posts", headers=htmx_headers(kiosk_anle, "wall-form"),
                                       form={"kind": "wish", "text": ANLE_POST, "nickname": ""})
    assert response.status == 200, f"{response.status}: {response.text()}"
    assert 'id="receipt-code"' in response.text(), response.text()

    moderator = new_context().new_page()
    _sign_in(moderator, server, *MODERATOR)
    expect(moderator.locator("a.brand")).to_have_text(f"{MAIN} · {CONSOLE}")
    expect(moderator.locator("select#community-switch option")).to_have_text([MAIN, ANLE])
    expect(_nav(moderator, "街道")).to_have_count(0)
    expect(_nav(moderator, "大屏")).to_have_count(0)
    rows = moderator.locator("#wall-queue article.queue-row")

    _nav(moderator, "留言墙").click()
    expect(moderator).to_have_url(f"{server.url}/staff/wall")
    expect(moderator.locator("#wall-queue")).to_be_visible()
    expect(rows.filter(has_text=ANLE_POST)).to_have_count(0)
    main_rows = set(rows.evaluate_all("rows => rows.map(r => r.id)"))

    _switch(moderator, server, ANLE)
    _nav(moderator, "留言墙").click()
    expect(moderator).to_have_url(f"{server.url}/staff/wall")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ANLE_POST)
    expect(rows.first).to_have_class(re.compile(r"\bstate-pending\b"))
    assert rows.first.get_attribute("id") not in main_rows

    _switch(moderator, server, MAIN)
    _nav(moderator, "留言墙").click()
    expect(moderator).to_have_url(f"{server.url}/staff/wall")
    expect(moderator.locator("#wall-queue")).to_be_visible()
    expect(rows.filter(has_text=ANLE_POST)).to_have_count(0)
    assert set(rows.evaluate_all("rows => rows.map(r => r.id)")) == main_rows
