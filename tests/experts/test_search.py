"""Finding experts by taps on the A–Z pad, over 224 realistic names and 22 skills.

The expected pinyin is written out by hand below: an oracle that owes nothing to pypinyin
or to app/experts/pinyin.py. A tap string fits a reading when its earlier syllables are
each typed as the first letter, as zh/ch/sh, or whole, and the last one in part (ü as v or
u); a name's surname fits by every reading a resident may use (曾: zeng and ceng). Each
check compares what search() returns with what the oracle says, both ways: everyone who
should be found is, and nobody is found who fits none of the readings (pypinyin's rarer
readings of the surnames with several, listed in RARE_READINGS, may also find them: they
are allowed, never required). A common surname is found by its own reading only, not by
the rare ones pypinyin lists for the character (王 is not found by y for yù).

Also: Chinese typed on a keyboard, hidden experts, name order and the page size, pypinyin
never loading in the web process, and the weekly cap on help requests.
"""

import json
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.experts import services
from app.experts.models import CATEGORIES
from app.experts.services import PAGE_SIZE, ExpertData

ROOT = Path(__file__).resolve().parents[2]
ALL = 10_000  # a limit above the number of experts: search() then returns every match

# --- the oracle, written by hand -----------------------------------------------------------

# Surnames and their readings. A surname with several readings lists every one a resident
# may tap, the one it has as a surname first.
SURNAMES = {
    "张": ["zhang"], "王": ["wang"], "李": ["li"], "刘": ["liu"], "陈": ["chen"], "杨": ["yang"],
    "黄": ["huang"], "赵": ["zhao"], "吴": ["wu"], "周": ["zhou"], "徐": ["xu"], "孙": ["sun"],
    "马": ["ma"], "朱": ["zhu"], "胡": ["hu"], "郭": ["guo"], "何": ["he"], "林": ["lin"],
    "罗": ["luo"], "高": ["gao"], "郑": ["zheng"], "梁": ["liang"], "谢": ["xie"], "宋": ["song"],
    "唐": ["tang"], "许": ["xu"], "韩": ["han"], "冯": ["feng"], "邓": ["deng"], "彭": ["peng"],
    "欧阳": ["ou", "yang"], "司马": ["si", "ma"], "诸葛": ["zhu", "ge"], "上官": ["shang", "guan"],
}
HETERONYM_SURNAMES = {
    "曾": ["zeng", "ceng"], "单": ["shan", "dan", "chan"], "解": ["xie", "jie"], "仇": ["qiu", "chou"],
    "朴": ["piao", "pu"], "区": ["ou", "qu"], "查": ["zha", "cha"], "覃": ["qin", "tan"],
    "吕": ["lv"],  # typed lv or lu
    "乐": ["yue", "le"], "盖": ["ge", "gai"],
}
# Readings pypinyin also lists for some of those surnames (仇 jū, 朴 pō…): these may find the
# expert too, but need not.
RARE_READINGS = {"仇": ["ju"], "朴": ["po"], "查": ["chai"], "覃": ["yan"], "单": [], "解": [], "曾": []}
GIVEN_NAMES = {
    "建国": ["jian", "guo"], "秀兰": ["xiu", "lan"], "海燕": ["hai", "yan"], "志强": ["zhi", "qiang"],
    "丽华": ["li", "hua"], "晓东": ["xiao", "dong"], "文": ["wen"], "明": ["ming"],
    "淑珍": ["shu", "zhen"], "春生": ["chun", "sheng"], "玉梅": ["yu", "mei"], "桂英": ["gui", "ying"],
}
SKILLS = {
    "书法": (["shu", "fa"], "calligraphy"), "国画": (["guo", "hua"], "calligraphy"),
    "篆刻": (["zhuan", "ke"], "calligraphy"), "诗词": (["shi", "ci"], "literature"),
    "朗诵": (["lang", "song"], "literature"), "摄影": (["she", "ying"], "photography"),
    "唱歌": (["chang", "ge"], "music"), "二胡": (["er", "hu"], "music"), "钢琴": (["gang", "qin"], "music"),
    "广场舞": (["guang", "chang", "wu"], "dance"), "太极拳": (["tai", "ji", "quan"], "health"),
    "编织": (["bian", "zhi"], "crafts"), "剪纸": (["jian", "zhi"], "crafts"),
    "法律咨询": (["fa", "lv", "zi", "xun"], "law"), "家电维修": (["jia", "dian", "wei", "xiu"], "repairs"),
    "自行车修理": (["zi", "xing", "che", "xiu", "li"], "repairs"),
    "电脑手机": (["dian", "nao", "shou", "ji"], "other"), "养生保健": (["yang", "sheng", "bao", "jian"], "health"),
    "中医推拿": (["zhong", "yi", "tui", "na"], "health"), "烹饪": (["peng", "ren"], "other"),
    "绿植养护": (["lv", "zhi", "yang", "hu"], "crafts"), "象棋": (["xiang", "qi"], "other"),
}
SKILL_NAMES = list(SKILLS)
GIVEN = list(GIVEN_NAMES)
ZH = ("zh", "ch", "sh")


def spellings(reading: str) -> set[str]:
    """How a resident may tap a reading: ü as v or as u."""
    return {reading, reading.replace("v", "u")}


def _either(options) -> str:
    return "(?:" + "|".join(sorted(options, key=lambda option: (-len(option), option))) + ")"


def pattern(syllables: list[list[str]]) -> str:
    """A regular expression for every tap string that fits: the earlier syllables each as
    their first letter, zh/ch/sh or whole, the last one in part."""
    heads, alternatives = "", []
    for readings in syllables:
        written = {spelt for reading in readings for spelt in spellings(reading)}
        alternatives.append(heads + _either({w[:end] for w in written for end in range(1, len(w) + 1)}))
        heads += _either(written | {w[0] for w in written} | {w[:2] for w in written if w[:2] in ZH})
    return "|".join(alternatives)


@dataclass
class Person:
    display: str
    surname: str
    given: str
    skills: list[str]
    index: int
    id: int = 0
    name_readings: list[list[str]] = field(default_factory=list)  # the readings a resident uses
    sort_readings: list[str] = field(default_factory=list)  # a reading a syllable (the surname's as a surname)
    fits: re.Pattern | None = None  # taps that must find them
    may_fit: re.Pattern | None = None  # taps that may find them (pypinyin's rarer readings too)

    def __post_init__(self):
        surname = SURNAMES.get(self.surname) or HETERONYM_SURNAMES[self.surname]
        given = [[syllable] for syllable in GIVEN_NAMES[self.given]]
        if self.surname in HETERONYM_SURNAMES:
            self.name_readings = [list(surname)] + given
        else:
            self.name_readings = [[syllable] for syllable in surname] + given
        self.sort_readings = [options[0] for options in self.name_readings]
        rare = [self.name_readings[0] + RARE_READINGS.get(self.surname[0], [])] + self.name_readings[1:]
        skills = [pattern([[syllable] for syllable in SKILLS[skill][0]]) for skill in self.skills]
        self.fits = re.compile("|".join([pattern(self.name_readings)] + skills))
        self.may_fit = re.compile("|".join([pattern(rare)] + skills))

    def taps(self) -> set[str]:
        """What a resident may tap for this name, for every reading and ü spelling: initials,
        full pinyin, the surname whole and the given name's first letter, zh/ch/sh forms,
        initials then the last syllable whole."""
        found = set()
        written = [sorted({s for reading in options for s in spellings(reading)}) for options in self.name_readings]
        for syllables in product(*written):
            found.add("".join(s[0] for s in syllables))
            found.add("".join(syllables))
            found.add("".join(s[0] for s in syllables[:-1]) + syllables[-1])
            found.add(syllables[0] + syllables[1][0])
            if syllables[0][:2] in ZH:
                found.add(syllables[0][:2] + "".join(s[0] for s in syllables[1:]))
                found.add(syllables[0][:2] + syllables[1][0])
        return found


def people() -> list[Person]:
    """224 distinct names: each heteronym surname with 8 given names, each other surname
    with 4 (a different 4 for each); 1 or 2 skills each."""
    names = [(surname, GIVEN[t]) for surname in HETERONYM_SURNAMES for t in range(8)]
    names += [(surname, GIVEN[(i * 5 + t * 7) % len(GIVEN)]) for i, surname in enumerate(SURNAMES) for t in range(4)]
    everyone = []
    for n, (surname, given) in enumerate(names):
        skills = [SKILL_NAMES[n % len(SKILLS)]]
        second = SKILL_NAMES[(n * 7 + 3) % len(SKILLS)]
        if n % 3 and second not in skills:
            skills.append(second)
        everyone.append(Person(surname + given, surname, given, skills, n))
    return everyone


@dataclass
class Directory:
    people: list[Person]
    load_seconds: float

    def by_name(self, display: str) -> Person:
        return next(person for person in self.people if person.display == display)

    def expected(self, taps: str, *, allowed: bool = False, category: str | None = None) -> list[int]:
        """Ids of those the taps must find (allowed: may find), in name order."""
        found = [person for person in self.people if (person.may_fit if allowed else person.fits).fullmatch(taps)
                 and (category is None or any(SKILLS[skill][1] == category for skill in person.skills))]
        return [person.id for person in sorted(found, key=lambda person: (" ".join(person.sort_readings), person.id))]


def found(query: str, category: str | None = None, limit: int = ALL) -> list[int]:
    return [expert.id for expert in services.search(query, category, limit=limit)]


@pytest.fixture
def directory(app):
    """Every skill saved in one call, then every expert in one (one pinyin process each).
    Holds an app context: these tests make no requests."""
    everyone = people()
    assert len({person.display for person in everyone}) == len(everyone) >= 200
    with app.app_context():
        started = time.perf_counter()
        skill_ids = {skill.name: skill.id for skill in services.save_skills(
            [(name, category, "") for name, (_readings, category) in SKILLS.items()])}
        saved = services.save_experts([(None, ExpertData(
            name=person.display, mobile=f"139{person.index + 1:08d}", display_name=person.display,
            skill_ids=[skill_ids[skill] for skill in person.skills], consent_on=date(2024, 3, 1),
            consent_scope="显示姓名、技能和简介")) for person in everyone])
        load_seconds = time.perf_counter() - started
        for person, expert in zip(everyone, saved):
            assert expert.display_name == person.display
            person.id = expert.id
        yield Directory(everyone, load_seconds)


def mismatches(directory: Directory, queries, category: str | None = None) -> list[str]:
    """Each query against the oracle: all who must be found are, nobody else but those who
    may be; the list is in the app's name order."""
    names = {person.id: person.display for person in directory.people}
    problems = []
    for query in sorted(queries):
        experts = services.search(query, category, limit=ALL)
        got = [expert.id for expert in experts]
        must, may = set(directory.expected(query, category=category)), set(
            directory.expected(query, allowed=True, category=category))
        if missing := must - set(got):
            problems.append(f"{query!r} misses {sorted(names[i] for i in missing)}")
        if extra := set(got) - may:
            problems.append(f"{query!r} wrongly finds {sorted(names[i] for i in extra)}")
        if len(got) != len(set(got)):
            problems.append(f"{query!r} lists someone twice")
        order = [(expert.sort_key, expert.id) for expert in experts]
        if order != sorted(order):
            problems.append(f"{query!r} is not in name order")
    return problems


# Each test below loads all 224 experts afresh (about 3 s: two pinyin processes), so the
# checks are grouped into three tests.

# --- names ---------------------------------------------------------------------------------

HETERONYM_CASES = {  # name: taps that must find it, from the letters of each reading
    "曾建国": ["zjg", "cjg", "zengjianguo", "cengjianguo", "zengj", "cengj", "z", "c", "zeng", "ceng"],
    "单秀兰": ["sxl", "dxl", "cxl", "shxl", "chxl", "shanxiulan", "danxiulan", "chanxiulan", "s", "d", "ch"],
    "解海燕": ["xhy", "jhy", "xiehaiyan", "jiehaiyan", "xieh", "jieh", "x", "j"],
    "仇志强": ["qzq", "czq", "chzq", "qiuzhiqiang", "chouzhiqiang", "qzhq", "qiuzh", "q", "ch"],
    "朴丽华": ["plh", "piaolihua", "pulihua", "piaol", "pul", "p"],
    "区晓东": ["qxd", "oxd", "ouxiaodong", "quxiaodong", "oux", "qux", "q", "o"],
    "查文": ["zw", "cw", "zhw", "chw", "zhawen", "chawen", "zhaw", "chaw", "ch", "zh"],
    "覃明": ["qm", "tm", "qinming", "tanming", "qinm", "tanm", "t", "q"],
    "吕建国": ["ljg", "lvjg", "lujg", "lvjianguo", "lujianguo", "lvj", "luj", "lv", "lu"],  # ü as v or u
    "乐秀兰": ["yxl", "lxl", "yuexiulan", "lexiulan", "yuex", "lex", "y"],
    "盖海燕": ["ghy", "geh", "gaih", "gehaiyan", "gaihaiyan", "g"],
}


def test_every_name_is_found_by_initials_full_and_partial_pinyin_of_every_reading(directory):
    assert directory.load_seconds < 10, f"loading took {directory.load_seconds:.1f} s"
    queries = set().union(*(person.taps() for person in directory.people))
    # Taps that fit nobody, or only others: one letter too many, a syllable typed in part
    # before the last, the given name alone, the syllables in reverse; and single letters.
    for person in directory.people:
        full = [options[0] for options in person.name_readings]
        queries |= {"".join(s[0] for s in full) + "x", "".join(full) + "q", full[0][:-1] + full[1][0],
                    "".join(s[0] for s in full[1:]), "".join(reversed(full))}
    queries |= set("abcdefghijklmnopqrstuvwxyz")
    assert len(queries) > 1500
    problems = mismatches(directory, queries)
    assert not problems, f"{len(problems)} of {len(queries)} queries wrong:\n" + "\n".join(problems[:40])

    # The examples, spelled out.
    zhang = directory.by_name("张建国").id
    for taps in ("zjg", "zhangjianguo", "zhangj", "zhj", "zhjg", "zhangjg", "zjianguo", "zhangjiang"):
        assert zhang in found(taps), taps
    for taps in ("zjgx", "zhanj", "zhanjg", "jg", "jianguo", "cjg", "zhangjianguox"):
        assert zhang not in found(taps), taps
    problems = []
    for name, taps in HETERONYM_CASES.items():
        person = directory.by_name(name)
        for tap in taps:
            assert person.fits.fullmatch(tap), (name, tap)  # the oracle agrees with the cases
            if person.id not in found(tap):
                problems.append(f"{tap!r} does not find {name}")
    assert not problems, "\n".join(problems)
    assert directory.by_name("曾建国").id not in found("zhjg")  # zeng has no zh
    assert directory.by_name("吕建国").id not in found("lojg")

    # A common surname is found by its own reading only, not by the rare ones pypinyin lists
    # for the character (王 yù, 吴 tūn, 邓 shàn, 冯 píng, 许 hǔ, 彭 bāng, 司 cí, 朱 shū).
    for name, taps in (("王建国", "yjg"), ("吴文", "tw"), ("邓淑珍", "ssz"), ("冯晓东", "pxd"), ("许海燕", "hhy"),
                       ("彭秀兰", "bxl"), ("司马文", "cmw"), ("朱建国", "shjg")):
        assert directory.by_name(name).id not in found(taps), (name, taps)

    # Letters no name or skill starts with find nobody.
    nothing = [letter for letter in "abcdefghijklmnopqrstuvwxyz" if not directory.expected(letter, allowed=True)]
    assert {"i", "u", "v"} <= set(nothing)
    for taps in (*nothing, "zjgx", "jianguo", "xyz", "qqq", "vvv", "sff", "shuufa"):
        assert found(taps) == [], taps


# --- skills, categories, Chinese typed on a keyboard ---------------------------------------

def test_every_skill_finds_every_expert_who_has_it_by_pinyin_or_chinese(directory):
    queries = set()
    for skill, (syllables, _category) in SKILLS.items():
        having = {person.id for person in directory.people if skill in person.skills}
        assert len(having) >= 5, skill
        taps = set()
        for written in product(*[sorted(spellings(s)) for s in syllables]):
            taps |= {"".join(s[0] for s in written), "".join(written), written[0] + written[1][0],
                     written[0] + written[1][:2], "".join(s[0] for s in written[:-1]) + written[-1]}
            if written[0][:2] in ZH:
                taps.add(written[0][:2] + "".join(s[0] for s in written[1:]))
        for tap in taps:
            assert having <= set(found(tap)), (skill, tap)
        queries |= taps
    problems = mismatches(directory, queries)
    assert not problems, "\n".join(problems[:40])
    calligraphers = {person.id for person in directory.people if "书法" in person.skills}
    assert set(found("sf")) >= calligraphers and set(found("shuf")) >= calligraphers
    # ü in a skill: 法律 falv or falu, 绿植 lvzh or luzh.
    assert set(found("falu")) == set(found("falv")) >= {p.id for p in directory.people if "法律咨询" in p.skills}
    assert set(found("luzh")) == set(found("lvzh")) >= {p.id for p in directory.people if "绿植养护" in p.skills}

    # A category narrows the list, with or without taps.
    for category in CATEGORIES:
        having = {person.id for person in directory.people if any(SKILLS[s][1] == category for s in person.skills)}
        assert set(found("", category)) == having, category
    problems = []
    for category in ("calligraphy", "law", "health", "music"):
        problems += mismatches(directory, {"z", "s", "sf", "zh", "l", "lv", "lu", "w", "y", "ch", "cjg"}, category)
    assert not problems, "\n".join(problems)

    # Chinese typed on a keyboard: a part of the shown name, or of a skill.
    def containing(text: str) -> set[int]:
        return {person.id for person in directory.people
                if text in person.display or any(text in skill for skill in person.skills)}

    assert set(found("书法")) == calligraphers
    jianguo = {person.id for person in directory.people if person.given == "建国"}
    assert len(jianguo) >= 10 and set(found("建国")) == jianguo
    for text in (*GIVEN, *SKILL_NAMES, *HETERONYM_SURNAMES, "张", "欧阳", "曾建国", " 书法 ", "书法abc"):
        experts = services.search(text, limit=ALL)
        expected = containing("".join(re.findall(r"[\u3400-\u9fff]", text)))
        assert expected and {expert.id for expert in experts} == expected, text
        order = [(expert.sort_key, expert.id) for expert in experts]
        assert order == sorted(order), text
    assert found("没有这个人") == []


# --- name order and page size; hidden experts ----------------------------------------------

def test_results_come_a_page_at_a_time_in_name_order_and_hidden_experts_are_not_found(directory):
    names = {person.id: person for person in directory.people}

    def name_order(ids) -> list[int]:
        return sorted(ids, key=lambda i: (" ".join(names[i].sort_readings), i))

    everyone = found("")
    assert sorted(everyone) == sorted(names)
    # The names' pinyin order, a surname with several readings by its reading as a surname.
    assert everyone == name_order(everyone)
    long_lists = 0
    for query in ("", "z", "zh", "s", "l", "x", "c", "y", "sf", "建国", "书法"):
        every = found(query)
        page = [expert.id for expert in services.search(query)]  # as the kiosk asks: no limit given
        assert page == every[:PAGE_SIZE], query
        long_lists += len(every) > PAGE_SIZE
        assert every == name_order(every), query
    assert long_lists >= 5

    hidden = [directory.by_name("张建国"), directory.by_name("曾建国"), directory.by_name("吕建国")]
    hidden_ids = {person.id for person in hidden}
    for person in hidden:
        services.set_listed(person.id, False)
    for taps in sorted({taps for person in hidden for taps in person.taps()}):
        assert not hidden_ids & set(found(taps)), taps
    for text in ("", "建国", "张建国", "曾", "吕", *hidden[0].skills):
        assert not hidden_ids & set(found(text)), text
    for skill in hidden[0].skills:
        assert not hidden_ids & set(found("", SKILLS[skill][1])), skill
    # Others with the same letters still are; listed again, they are found again.
    others = {person.id for person in directory.people if person.fits.fullmatch("zjg")} - hidden_ids
    assert others and others <= set(found("zjg"))
    for person in hidden:
        services.set_listed(person.id, True)
    problems = mismatches(directory, {taps for person in hidden for taps in person.taps()})
    assert not problems, "\n".join(problems)


def test_surnames_with_several_readings_sort_by_their_surname_reading(app):
    order = ["陈文", "覃明", "唐明", "王文", "曾文", "张文"]  # chen, qin, tang, wang, zeng, zhang
    with app.app_context():
        skill = services.save_skill("书法", "calligraphy")
        services.save_experts([(None, ExpertData(
            name=name, mobile=f"139{n:08d}", display_name=name, skill_ids=[skill.id], consent_on=date(2024, 3, 1),
            consent_scope="显示姓名和技能")) for n, name in enumerate(reversed(order))])
        assert [expert.display_name for expert in services.search("")] == order


# --- pypinyin stays out of the web process -------------------------------------------------

WEB_PROCESS = textwrap.dedent("""
    import json, sys
    from datetime import date
    from flask_migrate import upgrade
    from app import create_app
    from app.communities import scope
    from app.experts import services

    folder = sys.argv[1]
    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/linli.db"},
                     instance_path=f"{folder}/instance")
    with app.app_context(), scope.within(1):
        upgrade()
        skill = services.save_skill("书法", "calligraphy", "Calligraphy")
        expert = services.save_expert(None, services.ExpertData(
            name="曾建国", mobile="13900000001", display_name="曾建国", skill_ids=[skill.id],
            consent_on=date(2024, 3, 1), consent_scope="显示姓名和技能"))
        searches = {query: [e.id for e in services.search(query)]
                    for query in ("zjg", "cjg", "cengjianguo", "zengj", "sf", "shuf", "书法", "zz")}
        expert_id = expert.id
    loaded = sorted(name for name in sys.modules if name.split(".")[0] == "pypinyin")
    print(json.dumps({"expert": expert_id, "searches": searches, "pypinyin": loaded}))
""")


def test_pypinyin_never_loads_in_the_web_process(tmp_path):
    (tmp_path / "instance").mkdir()
    env = {key: value for key, value in __import__("os").environ.items() if key != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-c", WEB_PROCESS, str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["pypinyin"] == []
    expert = answer["expert"]
    assert answer["searches"] == {"zjg": [expert], "cjg": [expert], "cengjianguo": [expert], "zengj": [expert],
                                  "sf": [expert], "shuf": [expert], "书法": [expert], "zz": []}


# --- the weekly cap on help requests -------------------------------------------------------

def test_an_expert_takes_at_most_their_weekly_cap_of_requests(app):
    with app.app_context():
        skill = services.save_skill("书法", "calligraphy")
        first, second = services.save_experts([(None, ExpertData(
            name=name, mobile=mobile, display_name=name, skill_ids=[skill.id], consent_on=date(2024, 3, 1),
            consent_scope="显示姓名和技能", weekly_cap=3)) for name, mobile in
            (("王建国", "13900000001"), ("李秀兰", "13900000002"))])
        first_id, second_id = first.id, second.id

        def ask(expert_id: int, n: int) -> services.Receipt:
            return services.ask(expert_id, ["learn"], "想学楷书", "林芳", f"136{n:08d}", created_by="test")

        receipts = [ask(first_id, n) for n in range(3)]
        assert len({receipt.code for receipt in receipts}) == 3
        assert all(receipt.expert == "王建国" for receipt in receipts)
        assert services.requests_left(services.get_expert(first_id)) == 0
        with pytest.raises(services.DirectoryError) as refused:
            ask(first_id, 3)
        with force_locale("en"):
            assert "as many requests as they can take this week" in str(refused.value)
        assert len(services.inbox()) == 3
        assert ask(second_id, 4).expert == "李秀兰"
        assert services.requests_left(services.get_expert(second_id)) == 2
