"""The district figures (app/district/figures.py): each community's row holds its own counts
and nothing else, the total adds them up, a handful of queries reads any number of
communities, and the CSV and Excel files hold the same numbers and no one's name, number or
words."""

import csv
import io
import zipfile
from datetime import date, time, timedelta

import pytest
from flask import g
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import event, select, update

from app.cases import services as cases
from app.cases.models import Case, Category
from app.classes import services as classes
from app.classes.models import Meeting
from app.clock import site_today, to_site, utcnow
from app.communities import scope
from app.communities.scope import ScopeMissing
from app.district import figures
from app.experts import services as experts
from app.extensions import db
from app.friends import services as friends
from app.kiosk import devices
from app.kiosk.models import Kiosk
from app.notices import services as notices
from app.wall import services as wall
from app.wall.models import KINDS, Post
from app.staff.models import StaffMember
from tests import factories
from tests.factories import enrolled_kiosk, staff_member

FIRST, FIRST_NAME = 1, "邻里屏"
SECOND_NAME = "和平里社区"

# Everything personal (or written by someone) that the content below uses: none of it may
# reach the figures or their files.
PERSONAL = [
    "大厅左侧", "二楼走廊", "门口东侧", "没有领取", "和平里大厅",
    "希望小区多种些花草", "想找一起下象棋的伙伴", "谢谢物业修好了路灯", "周末能放电影吗", "新年快乐各位邻居",
    "北门车棚的灯坏了", "楼道堆满杂物", "电梯异响已经修好", "老张", "北门车棚", "已换新灯管", "灯管已订购",
    "祝大家身体健康", "建议多放几张长椅", "建议开设智能手机课", "东门水管漏水", "楼上邻居每晚敲墙", "5号楼",
    "书法入门", "合唱团", "王老师", "活动室二零一", "张三丰", "李四光", "王五福", "赵六顺", "钱七宝",
    "13800000001", "13800000002", "13800000003", "13800000004", "13800000005",
    "王秀兰", "谢玉", "13912345601", "13912345602", "想学写毛笔字", "家里的柜子要修", "林芳", "13612345678",
    "赵敏", "13612340000", "郑和", "13612341111",
    "周晓雯", "13700001234", "何丽", "13700005678", "高建军", "13900005678", "孙七", "13600001111",
    "喜欢读书", "喜欢看电影", "爱下象棋", "刘一手", "13700009999", "陈二", "13700008888",
    "本周六义诊", "一楼大厅张医生", "停水通知", "和平里停水",
]


def add_community(slug: str = "hepingli", name: str = SECOND_NAME, name_en: str = "") -> int:
    return factories.add_community(slug, name, name_en)


# --- content, through the boards' own services ---------------------------------------------

def kiosks(names: list[str], *, stale: tuple[str, ...] = (), revoked: tuple[str, ...] = (),
           never_collected: tuple[str, ...] = ()) -> None:
    for name in names:
        kiosk_id, _token = enrolled_kiosk(name)
        if name in stale:
            db.session.execute(update(Kiosk).where(Kiosk.id == kiosk_id)
                               .values(last_seen_at=utcnow() - devices.ONLINE_WITHIN - timedelta(minutes=1)))
            db.session.commit()
        if name in revoked:
            devices.revoke(kiosk_id)
    for name in never_collected:  # staff typed the code; the screen never picked its token up
        devices.enroll(devices.pairing_for(None).code, name)


def post(kind: str, text: str, *then: str, nickname: str = "") -> int:
    receipt = wall.create_post(kind, text, nickname=nickname, posted_by="kiosk:test")
    post_id = wall.receipt(receipt.code).id
    for action in then:
        if action == "approve":
            wall.approve(post_id, None)
        elif action == "hide":
            wall.hide(post_id, None)
    return post_id


def dispatcher() -> StaffMember:
    """The community's moderator, who routes its cases to the committee and works them."""
    username = f"dispatcher-{scope.current_community_id()}"
    member = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
    return member or db.session.get(StaffMember, staff_member(username, "moderator"))


def problem(text: str, *then: str, place: str = "", key: str = "roads") -> int:
    """A problem reported at a kiosk: a case, with a wall card if its category is public
    ("approve" puts the card up); "in_progress" and "resolved" are the committee's steps."""
    case = cases.take_in(cases.Intake(db.session.scalar(select(Category.id).where(Category.key == key)), text,
                                      place=place), channel="kiosk", reported_by="kiosk:test")
    steps = {"in_progress": [cases.Step(action="route", level="committee"), cases.Step(action="accept"),
                             cases.Step(action="start", reply="灯管已订购")],
             "resolved": [cases.Step(action="route", level="committee"), cases.Step(action="accept"),
                          cases.Step(action="resolve", reply="已换新灯管")]}
    for action in then:
        if action == "approve":
            wall.approve(case.post_id, None)
        for step in steps.get(action, ()):
            cases.act(case.id, dispatcher(), step)
    return case.id


def course(title: str, capacity: int) -> int:
    today, local_now = site_today(), to_site(utcnow())
    saved = classes.save_course(None, classes.CourseData(
        title=title, category="calligraphy", teacher="王老师", venue="活动室二零一", capacity=capacity,
        mode="first_come", term_starts=today + timedelta(days=7), term_ends=today + timedelta(days=48),
        signup_opens_at=local_now - timedelta(days=1), signup_closes_at=local_now + timedelta(days=3),
        weekdays=(1,), start_time=time(9, 30), minutes=90))
    classes.set_status(saved.id, "open")
    return saved.id


def sign_up(course_id: int, name: str, mobile: str) -> int:
    outcome = classes.sign_up(course_id, name, mobile, created_by="kiosk:test")
    return classes.find_signup(outcome.code).id


def meetings(course_id: int) -> list[int]:
    return list(db.session.scalars(select(Meeting.id).where(Meeting.course_id == course_id)
                                   .order_by(Meeting.starts_at)))


def expert(name: str, mobile: str) -> int:
    skill = experts.save_skills([("书法", "calligraphy", "Calligraphy")])[0]
    return experts.save_experts([(None, experts.ExpertData(
        name=name, mobile=mobile, display_name="王老师", skill_ids=[skill.id], consent_on=date(2026, 1, 5),
        consent_scope="称呼和技能"))])[0].id


def ask(expert_id: int, text: str, name: str, mobile: str, *then: str) -> None:
    receipt = experts.ask(expert_id, ["learn"], text, name, mobile, created_by="kiosk:test")
    for state in then:
        experts.update_request(experts.request_by_code(receipt.code).id, state)


def card(real_name: str, mobile: str, intro: str, *, approve: bool = True) -> friends.Receipt:
    receipt = friends.leave_card(friends.CardData(
        gender="female", age_band="30-34", area="东区", interests=["reading"], looking_for="friends", intro=intro,
        real_name=real_name, mobile=mobile, consent_public=True, consent_matchmaker=True, adult=True),
        created_by="kiosk:test")
    if approve:
        friends.review(friends.card_by_code(receipt.code).id, True)
    return receipt


def fill_first() -> int:
    """Community 1's content; the id of its oldest open problem."""
    kiosks(["大厅左侧", "二楼走廊", "门口东侧"], stale=("二楼走廊",), revoked=("门口东侧",),
           never_collected=("没有领取",))

    post("wish", "希望小区多种些花草", "approve", nickname="老张")
    post("wish", "想找一起下象棋的伙伴", "approve")
    post("thanks", "谢谢物业修好了路灯", "approve")
    post("wish", "周末能放电影吗")  # waiting for review: not on the wall
    post("greeting", "新年快乐各位邻居", "approve", "hide")  # taken down
    problem("北门车棚的灯坏了", "approve", "in_progress", place="北门车棚")
    oldest = problem("楼道堆满杂物")  # open, its card waiting for review
    problem("电梯异响已经修好", "approve", "resolved")  # on the wall, no longer open

    staff_id = staff_member("coord", "coordinator")
    taught = course("书法入门", capacity=2)
    first, second = sign_up(taught, "张三丰", "13800000001"), sign_up(taught, "李四光", "13800000002")
    sign_up(taught, "王五福", "13800000003")  # waitlisted
    one, two, _three, *_ = meetings(taught)
    classes.set_attendance(one, first, "present", staff_id)
    classes.set_attendance(two, first, "present", staff_id)
    classes.set_attendance(two, second, "present", staff_id)
    dropped = course("合唱团", capacity=5)
    sign_up(dropped, "赵六顺", "13800000004")
    classes.set_status(dropped, "drop", reason="报名太少")

    expert_id = expert("王秀兰", "13912345601")
    ask(expert_id, "想学写毛笔字", "林芳", "13612345678", "done")
    ask(expert_id, "家里的柜子要修", "赵敏", "13612340000", "assigned")

    asking, asked = card("周晓雯", "13700001234", "喜欢读书"), card("何丽", "13700005678", "喜欢看电影")
    gone = card("高建军", "13900005678", "爱下象棋")
    interest = friends.express_interest(asked.number, own_code=asking.code, created_by="kiosk:test")
    friends.staff_update_interest(interest.id, "owner-yes")
    friends.express_interest(gone.number, name="孙七", mobile="13600001111", created_by="kiosk:test")
    friends.delete_card(friends.card_by_code(gone.code).id)  # its request goes with it, counted

    notices.add_notice("本周六义诊", "一楼大厅张医生")
    return oldest


def fill_second() -> int:
    """Community 2's content; the id of its oldest open problem."""
    kiosks(["和平里大厅"])
    post("greeting", "祝大家身体健康", "approve")
    post("suggestion", "建议多放几张长椅", "approve")
    post("suggestion", "建议开设智能手机课", "approve")
    oldest = problem("东门水管漏水", "approve")
    problem("楼上邻居每晚敲墙", place="5号楼", key="dispute")  # open, private: never on the wall
    sign_up(course("书法入门", capacity=5), "钱七宝", "13800000005")
    expert_id = expert("谢玉", "13912345602")
    ask(expert_id, "想学写毛笔字", "林芳", "13612345678")
    ask(expert_id, "家里的柜子要修", "郑和", "13612341111", "declined")
    ask(expert_id, "想学写毛笔字", "赵敏", "13612340000", "contacted")
    card("刘一手", "13700009999", "喜欢读书")
    card("陈二", "13700008888", "喜欢看电影", approve=False)  # waiting for the matchmaker
    notices.add_notice("停水通知", "和平里停水")
    return oldest


def reported_days_ago(case_id: int, now, days: int) -> None:
    db.session.execute(update(Case).where(Case.id == case_id).values(created_at=now - timedelta(days=days)))
    db.session.commit()


@pytest.fixture
def two_communities(run_in_app):
    """Both communities filled; the moment the figures are read at."""

    def fill():
        second = add_community()
        oldest = {FIRST: fill_first()}
        with scope.within(second):
            oldest[second] = fill_second()
        now = utcnow()
        reported_days_ago(oldest[FIRST], now, 5)
        with scope.within(second):
            reported_days_ago(oldest[second], now, 2)
        return second, now

    return run_in_app(fill)


def read(run_in_app, now):
    return run_in_app(figures.district_figures, now)


def counts(row: figures.FigureRow) -> dict:
    return {"kiosks": (row.kiosks_online, row.kiosks_enrolled), "posts": dict(row.posts),
            "problems": (row.problems_open, row.oldest_open_problem), "signups": (row.seats_taken, row.waitlisted),
            "attendance": (row.present, row.expected), "help": (row.help_open, row.help_total),
            "matchmaking": (row.cards_up, row.meet_requests, row.introductions)}


def posts(**by_kind) -> dict:
    return dict.fromkeys(KINDS, 0) | by_kind


EXPECTED = {
    FIRST: {"kiosks": (1, 2), "posts": posts(wish=2, thanks=1, problem=2),
            "problems": (2, timedelta(days=5)), "signups": (2, 1), "attendance": (3, 4), "help": (1, 2),
            "matchmaking": (2, 2, 1)},
    2: {"kiosks": (1, 1), "posts": posts(greeting=1, suggestion=2, problem=1),
        "problems": (2, timedelta(days=2)), "signups": (1, 0), "attendance": (0, 0), "help": (2, 3),
        "matchmaking": (1, 0, 0)},
    None: {"kiosks": (2, 3), "posts": posts(wish=2, greeting=1, thanks=1, suggestion=2, problem=3),
           "problems": (4, timedelta(days=5)), "signups": (3, 1), "attendance": (3, 4), "help": (3, 5),
           "matchmaking": (3, 2, 1)},
}


def expected_cells(community_id, label: str) -> list:
    """A row of the files, in their columns' order, from EXPECTED."""
    e = EXPECTED[community_id]
    return [label, *e["kiosks"], *(e["posts"][kind] for kind in KINDS), e["problems"][0],
            e["problems"][1].total_seconds() / 86400, *e["signups"], *e["attendance"], *e["help"], *e["matchmaking"]]


# --- the figures ---------------------------------------------------------------------------

def test_each_community_has_its_own_counts_and_the_total_adds_them_up(run_in_app, two_communities):
    second, now = two_communities
    table = read(run_in_app, now)

    assert [(row.community_id, row.name) for row in table.communities] == [(FIRST, FIRST_NAME), (second, SECOND_NAME)]
    assert counts(table.communities[0]) == EXPECTED[FIRST]
    assert counts(table.communities[1]) == EXPECTED[second]
    assert table.total.community_id is None and counts(table.total) == EXPECTED[None]
    assert table.rows == [*table.communities, table.total] and table.as_of == now
    assert table.communities[0].oldest_open_problem_days == 5.0 and table.total.oldest_open_problem_days == 5.0


def test_a_community_with_nothing_yet_has_a_row_of_zeros(run_in_app, two_communities):
    second, now = two_communities
    empty = run_in_app(add_community, "xingfuli", "幸福里社区")
    table = read(run_in_app, now)
    row = table.communities[-1]
    assert (row.community_id, row.name) == (empty, "幸福里社区")
    assert counts(row) == {"kiosks": (0, 0), "posts": posts(), "problems": (0, None), "signups": (0, 0),
                           "attendance": (0, 0), "help": (0, 0), "matchmaking": (0, 0, 0)}
    assert row.oldest_open_problem_days is None
    assert counts(table.total) == EXPECTED[None]


def test_kiosks_go_offline_and_problems_age_with_the_clock(run_in_app, two_communities):
    _second, now = two_communities
    later = read(run_in_app, now + devices.ONLINE_WITHIN + timedelta(minutes=1))
    assert [row.kiosks_online for row in later.rows] == [0, 0, 0]
    assert [row.kiosks_enrolled for row in later.rows] == [2, 1, 3]
    assert later.total.oldest_open_problem == timedelta(days=5) + devices.ONLINE_WITHIN + timedelta(minutes=1)


def test_the_figures_are_the_same_whatever_scope_they_are_read_in_and_leave_it_as_it_was(app, two_communities):
    second, now = two_communities
    with app.app_context():
        in_first = figures.district_figures(now)
        with scope.within(second):
            assert figures.district_figures(now) == in_first
            greetings = db.session.scalars(select(Post.public_text).where(Post.kind == "greeting")).all()
            assert greetings == ["祝大家身体健康"]
        g.community_scope = None
        assert figures.district_figures(now) == in_first
        with pytest.raises(ScopeMissing):  # no scope again afterwards: across() did not stay
            db.session.scalars(select(Post)).all()
        db.session.rollback()
    assert counts(in_first.total) == EXPECTED[None]


def test_a_handful_of_queries_reads_any_number_of_communities(app, run_in_app, two_communities):
    _second, now = two_communities
    statements = []

    def counted():
        figures.district_figures(now)  # any first-use queries (connection set-up) are not counted
        statements.clear()
        listener = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            table = figures.district_figures(now)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements), len(table.communities)

    two, _ = run_in_app(counted)

    def more():
        for index in range(3):
            with scope.within(add_community(f"more-{index}", f"第{index}社区")):
                kiosks([f"屏{index}"])
                post("wish", f"第{index}个心愿在这里", "approve")
                problem(f"第{index}个路口的灯坏了", "approve", "in_progress")
                card("刘一手", "13700009999", "喜欢读书")

    run_in_app(more)
    five, communities = run_in_app(counted)
    assert communities == 5
    assert five == two and two <= 15, (two, five)


# --- the files -----------------------------------------------------------------------------

def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def as_text(cells: list) -> list[str]:
    return ["" if cell is None else str(cell) for cell in cells]


def xlsx_rows(body: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_csv_holds_the_same_table_with_localized_headers(app, run_in_app, two_communities):
    second, now = two_communities
    table = read(run_in_app, now)
    with app.app_context():
        body = figures.figures_csv(table)
        header, total_label = figures.headers(), table.total.label()
        with force_locale("en"):
            english = csv_rows(figures.figures_csv(table))
    rows = csv_rows(body)
    assert rows[0] == header and len(header) == len(figures.COLUMNS)
    assert rows[1:] == [as_text(expected_cells(FIRST, FIRST_NAME)), as_text(expected_cells(second, SECOND_NAME)),
                        as_text(expected_cells(None, total_label))]
    assert english[0][:4] == ["Community", "Kiosks online", "Kiosks enrolled", "Published: Wish"]
    assert english[3][0] == "District total" and english[1:3] == rows[1:3]


def test_the_workbook_holds_the_same_numbers_with_a_bold_header_and_set_widths(app, run_in_app, two_communities):
    second, now = two_communities
    table = read(run_in_app, now)
    with app.app_context():
        body = figures.figures_xlsx(table)
        header, total_label = figures.headers(), table.total.label()
        with force_locale("en"):
            english = xlsx_rows(figures.figures_xlsx(table))
    rows = xlsx_rows(body)
    assert rows == [header, expected_cells(FIRST, FIRST_NAME), expected_cells(second, SECOND_NAME),
                    expected_cells(None, total_label)]
    assert english[0][1] == "Kiosks online" and english[3][0] == "District total"
    assert english[1:3] == rows[1:3] and english[3][1:] == rows[3][1:]

    sheet = load_workbook(io.BytesIO(body)).active
    assert all(cell.font.bold for cell in sheet[1]) and not any(cell.font.bold for cell in sheet[2])
    assert all(cell.font.bold for cell in sheet[4])  # the total
    widths = [sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]]
    assert all(8 <= width <= 40 for width in widths), widths
    assert widths[0] >= 2 * len(SECOND_NAME)  # Chinese characters are two wide
    assert sheet.freeze_panes == "B2"


def test_neither_file_holds_a_name_a_number_or_words_of_anyone(app, run_in_app, two_communities):
    _second, now = two_communities
    table = read(run_in_app, now)
    with app.app_context():
        files = {"csv": figures.figures_csv(table).decode("utf-8-sig")}
        workbook = figures.figures_xlsx(table)
    with zipfile.ZipFile(io.BytesIO(workbook)) as parts:
        files["xlsx"] = "\n".join(parts.read(name).decode("utf-8") for name in parts.namelist())
    files["cells"] = "\n".join(str(cell) for row in xlsx_rows(workbook) for cell in row)
    for kind, text in files.items():
        assert FIRST_NAME in text and SECOND_NAME in text, kind  # the files are read, and hold the table
        leaked = [word for word in PERSONAL if word in text]
        assert not leaked, (kind, leaked)


def test_a_community_name_never_becomes_a_formula_and_english_names_are_used_in_english(app, run_in_app):
    formula = '=HYPERLINK("http://example.invalid","点我")'
    run_in_app(add_community, "trap", formula)
    run_in_app(add_community, "hepingli", SECOND_NAME, "Hepingli")
    with app.app_context():
        table = figures.district_figures()
        rows = csv_rows(figures.figures_csv(table))
        workbook = figures.figures_xlsx(table)
        with force_locale("en"):
            english = [row.label() for row in table.communities]
    assert rows[2][0] == "'" + formula
    cell = load_workbook(io.BytesIO(workbook)).active["A3"]
    assert (cell.value, cell.data_type) == (formula, "s")
    assert english == [FIRST_NAME, formula, "Hepingli"]
