"""Generated content of any size, for benchmarks, soak tests and trying the boards at scale:
`flask --app wsgi seed --posts N --courses N --experts N --cards N`.

Bilingual where the boards are (course titles and venues, expert introductions), with
invented names and numbers from the 199 range that no real resident holds. Posts go in by
bulk insert (100,000 take seconds); courses, experts and cards go through the boards' own
services, so what a save computes (meetings, pinyin search keys, card numbers) is real.
The same arguments make the same content.
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select

from .communities.settings import setting
from .boards import bump_version
from .classes import services as classes
from .clock import site_today, utcnow
from .experts import services as experts
from .experts.demo import SKILLS
from .extensions import db
from .friends import services as friends
from .friends.models import AGE_BANDS, GENDERS, INTERESTS, LOOKING_FOR
from .wall import checks
from .wall.models import RESIDENT_KINDS, Post

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊"
            "秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单解仇朴区查")
GIVEN = "伟芳娜敏静秀英丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国海燕志春生晓东文淑珍红玉梅德子涵雨桐宏凤"
POST_TEXTS = {
    "wish": ["希望小区多种些花草", "想找一起下象棋的伙伴", "希望周末能有电影放映",
             "I hope we get a reading corner in the lobby"],
    "greeting": ["祝邻居们新年快乐、身体健康", "祝全体邻居冬至快乐，记得吃饺子！",
                 "Happy Mid-Autumn Festival, neighbours!"],
    "thanks": ["谢谢保安师傅每天辛苦站岗", "感谢志愿者帮我报名体检", "Thanks to the volunteers at the health check"],
    "suggestion": ["建议在东门加一个充电棚", "建议活动室晚上开放到九点", "Could the lobby have a second bench?"],
    "problem": ["3号楼的路灯坏了好几天", "垃圾桶旁边的味道很大，希望多清运一次",
                "The lift in building 5 stops between floors"],
}
NICKNAMES = ["", "", "李阿姨", "老王", "三楼小张", "Anna", "六楼老周"]
PLACES = ["3号楼", "5号楼", "东门", "地下车库", "Building 6"]
COURSES = [
    ("书法入门", "Calligraphy for beginners", "calligraphy"), ("太极拳", "Tai chi", "fitness"),
    ("智能手机课堂", "Using a smartphone", "elderly"), ("合唱团", "Community choir", "music"),
    ("防诈骗讲座", "Staying safe from fraud", "law"), ("少儿编程", "Coding for children", "children"),
    ("读书会", "Book club", "reading"), ("亲子烘焙", "Baking with your child", "family"),
]
VENUES = [("一楼活动室", "Activity room, ground floor"), ("二楼教室", "Classroom, first floor"),
          ("社区广场", "Community square")]
INTROS = [("退休老师，乐意帮忙。", "Retired teacher, happy to help."),
          ("手艺人，周末有空。", "Craftsman, free at weekends."),
          ("热心邻居，随叫随到。", "A neighbour glad to lend a hand."), ("", "")]


@dataclass(frozen=True)
class Seeded:
    posts: int
    courses: int
    experts: int
    cards: int


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _posts(count: int, rng: random.Random) -> None:
    """Approved posts, one every few minutes back from now, in batches of 2,000."""
    now = utcnow()
    taken = set(db.session.scalars(select(Post.receipt_code)))
    # Receipt codes are unique, so they are drawn apart from the content's random numbers.
    codes = random.Random().sample(range(10**8), count + len(taken))
    codes = [code for code in codes if f"{code:08d}" not in taken][:count]
    batch = []
    for number in range(count):
        kind = rng.choice(RESIDENT_KINDS)
        text = f"{rng.choice(POST_TEXTS[kind])}（{number + 1}）"
        at = now - timedelta(minutes=3 * (count - number))
        batch.append({
            "kind": kind, "text": text, "public_text": text,
            "text_key": hashlib.sha256(checks.word_key(text).encode()).hexdigest(),
            "nickname": rng.choice(NICKNAMES), "location": "",
            "state": "approved", "check_reasons": "", "needs_review": False, "pinned": False,
            "reports_hidden": False, "report_count": 0, "receipt_code": f"{codes[number]:08d}",
            "posted_by": "seed", "created_at": at, "published_at": at, "reject_reason": "",
        })
        if len(batch) == 2000:
            db.session.execute(insert(Post), batch)
            batch = []
    if batch:
        db.session.execute(insert(Post), batch)
    bump_version("wall")
    db.session.commit()


def _courses(count: int, rng: random.Random) -> None:
    """This term's courses, open for sign-up: weekly meetings from next week for 12 weeks."""
    today = site_today()
    starts = today + timedelta(days=7 - today.weekday())
    for number in range(count):
        title, title_en, category = COURSES[number % len(COURSES)]
        venue, venue_en = rng.choice(VENUES)
        suffix = f" {number // len(COURSES) + 1}" if number >= len(COURSES) else ""
        course = classes.save_course(None, classes.CourseData(
            title=title + suffix, title_en=title_en + suffix,
            category=category,
            teacher=_name(rng) + "老师", venue=venue, venue_en=venue_en, capacity=rng.choice((12, 20, 30)),
            term_starts=starts, term_ends=starts + timedelta(weeks=12) - timedelta(days=1),
            signup_opens_at=datetime.combine(today - timedelta(days=1), time(9)),
            signup_closes_at=datetime.combine(starts - timedelta(days=1), time(18)),
            weekdays=(rng.randrange(7),), start_time=time(rng.choice((9, 10, 14, 15, 19)), rng.choice((0, 30))),
            minutes=rng.choice((60, 90)), description="每周一次，欢迎邻居参加。",
            description_en="Once a week; neighbours welcome."))
        classes.set_status(course.id, "open")


def _experts(count: int, rng: random.Random) -> None:
    """Listed experts with one or two skills, saved in one batch (one pinyin run)."""
    skill_ids = [skill.id for skill in experts.skills()] or [skill.id for skill in experts.save_skills(SKILLS)]
    names = set()
    while len(names) < count:
        names.add(_name(rng))
    entries = []
    for name in sorted(names):
        intro, intro_en = rng.choice(INTROS)
        entries.append((None, experts.ExpertData(
            name=name, mobile=f"199{rng.randrange(10**8):08d}",
            display_name=name[0] + rng.choice(("老师", "师傅", "阿姨")),
            skill_ids=rng.sample(skill_ids, rng.choice((1, 2))), intro=intro, intro_en=intro_en,
            consent_on=date.today(), consent_scope="称呼、技能和简介")))
    experts.save_experts(entries)


def _cards(count: int, rng: random.Random) -> None:
    """Approved friends cards, each through leave_card and the matchmaker's review."""
    areas = setting("FRIENDS_AREAS")
    for _ in range(count):
        receipt = friends.leave_card(friends.CardData(
            gender=rng.choice(GENDERS), age_band=rng.choice(AGE_BANDS), area=rng.choice(areas),
            interests=rng.sample(INTERESTS, rng.randint(1, 4)), looking_for=rng.choice(LOOKING_FOR),
            intro="喜欢散步聊天，想认识邻居。", real_name=_name(rng), mobile=f"199{rng.randrange(10**8):08d}",
            consent_public=True, consent_matchmaker=True, adult=True), created_by="seed")
        friends.review(friends.card_by_code(receipt.code).id, True)


def seed(posts: int = 0, courses: int = 0, experts: int = 0, cards: int = 0, *, seed_value: int = 1) -> Seeded:
    rng = random.Random(seed_value)
    if posts:
        _posts(posts, rng)
    if experts:
        _experts(experts, rng)
    if courses:
        _courses(courses, rng)
    if cards:
        _cards(cards, rng)
    return Seeded(posts, courses, experts, cards)
