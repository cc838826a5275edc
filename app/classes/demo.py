"""A term of realistic courses for a first start: open, full with a waitlist, a lottery,
one running, finished ones with ratings (one poorly rated), and a needs survey."""

import random
from datetime import datetime, time, timedelta

from ..clock import site_today
from ..experts import services as experts
from . import services
from .services import CourseData

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ("秀兰", "建国", "桂英", "志强", "丽华", "国平", "玉梅", "德明", "淑珍", "海燕", "文", "军", "红霞", "子涵",
         "雨桐", "明", "春生", "晓东", "凤英", "宏伟")


def _resident(index: int) -> tuple[str, str]:
    """An invented resident: a name and a number in a range no real line uses here."""
    return SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)], f"1380000{index:04d}"


def _expert(name: str) -> int | None:
    """The directory's expert of that name (the directory's demo loads first)."""
    expert = experts.find_expert(name)
    return expert.id if expert else None


def _course(days_from_today: int, weeks: int, opens_days: int, closes_days: int, **fields) -> int:
    today = site_today()
    if "expert" in fields:
        fields["teacher_expert_id"] = _expert(fields.pop("expert"))
    starts = today + timedelta(days=days_from_today)
    data = CourseData(
        term_starts=starts, term_ends=starts + timedelta(weeks=weeks) - timedelta(days=1),
        signup_opens_at=datetime.combine(today + timedelta(days=opens_days), time(9, 0)),
        signup_closes_at=datetime.combine(today + timedelta(days=closes_days), time(18, 0)),
        **fields)
    course = services.save_course(None, data)
    services.set_status(course.id, "open")
    return course.id


def _sign_up(course_id: int, first: int, count: int) -> list[str]:
    """Residents sign up one a minute from shortly after the window opened (whatever the
    hour the demo is loaded at)."""
    start = services.get_course(course_id).signup_opens_at + timedelta(minutes=10)
    codes = []
    for index in range(first, first + count):
        name, mobile = _resident(index)
        outcome = services.sign_up(course_id, name, mobile, source="assisted" if index % 5 == 0 else "kiosk",
                                   created_by="kiosk:demo", now=start + timedelta(minutes=index - first))
        codes.append(outcome.code)
    return codes


def _finished(course_id: int, ratings: list[tuple[int, str]]) -> None:
    """Mark everyone present at most meetings, then collect ratings from the first ones."""
    course = services.get_course(course_id)
    signups = services.roster(course_id)
    for number, meeting in enumerate(course.meetings):
        for place, signup in enumerate(signups):
            if (number + place) % 4:
                services.set_attendance(meeting.id, signup.id, "present", None)
    for signup, (stars, comment) in zip(signups, ratings):
        services.rate(signup.code, stars, comment)


def load() -> None:
    tuesday_thursday = {"weekdays": (1, 3), "start_time": time(9, 30), "minutes": 90}

    calligraphy = _course(
        7, 12, -2, 5, title="书法入门（楷书）", title_en="Calligraphy for beginners (regular script)",
        category="calligraphy", teacher="王老师", expert="王秀兰", venue="二楼书画室",
        venue_en="Calligraphy room, 2nd floor",
        capacity=20, description="从握笔、坐姿到基本笔画，十二周写好一幅楷书作品。笔墨纸砚由社区提供。",
        description_en="From holding the brush to the basic strokes: in twelve weeks, a finished piece in "
                       "regular script. Brushes, ink and paper are provided.", **tuesday_thursday)
    _sign_up(calligraphy, 0, 13)

    lego = _course(
        5, 10, -3, 4, title="乐高搭建小课堂", title_en="LEGO building for children", category="children",
        teacher="陈老师", expert="陈晓雨", venue="儿童活动室", venue_en="Children's room", capacity=12,
        eligibility="6至12岁儿童，家长陪同", eligibility_en="Children aged 6 to 12, with a parent",
        description="动手搭建，学一点简单的机械原理。", description_en="Build things and learn some simple mechanics.",
        weekdays=(5,), start_time=time(10, 0), minutes=60)
    _sign_up(lego, 20, 16)  # 12 seats, 4 on the waitlist

    _course(10, 8, 2, 9, title="合唱团：老歌新唱", title_en="Community choir: old songs, new voices",
            category="music", teacher="李老师", expert="李建国", venue="多功能厅", venue_en="Multi-purpose hall",
            capacity=30, description="每周四下午一起唱歌，不识谱也能参加。",
            description_en="Sing together every Thursday afternoon; no need to read music.",
            weekdays=(3,), start_time=time(14, 30), minutes=90)

    _course(9, 4, -1, 6, title="快乐家庭：和孩子好好说话", title_en="Happy families: talking with your children",
            category="family", teacher="刘老师", venue="三楼会议室", venue_en="Meeting room, 3rd floor", capacity=25,
            description="四次亲子沟通工作坊，带着问题来。", description_en="Four workshops on talking with children; "
            "bring your questions.", weekdays=(6,), start_time=time(15, 0), minutes=90)

    today = site_today()
    law = _course(
        8, 3, -1, 7, title="民法典与养老：遗嘱、赡养和防骗", title_en="The Civil Code for older people: wills, "
        "support and fraud", category="law", teacher="孙律师", expert="孙立平", venue="一楼报告厅",
        venue_en="Lecture hall, 1st floor", capacity=50, description="三次讲座，律师现场答疑。",
        description_en="Three talks with a lawyer answering questions.",
        start_time=time(19, 0), minutes=90,
        dates=(today + timedelta(days=8), today + timedelta(days=15), today + timedelta(days=22)))
    _sign_up(law, 40, 6)

    fitness = services.save_course(None, CourseData(
        title="28天健身营", title_en="28-day fitness camp", category="fitness", teacher="周教练",
        teacher_expert_id=_expert("周强"), venue="健身室", venue_en="Fitness room", capacity=15, mode="lottery",
        eligibility="18至65岁，身体健康", eligibility_en="Aged 18 to 65, in good health",
        description="四周每天晚上练习，报名人数多时抽签决定。", description_en="Four weeks of evening training; "
        "drawn by lot when many enter.", term_starts=today + timedelta(days=6), term_ends=today + timedelta(days=33),
        signup_opens_at=datetime.combine(today - timedelta(days=1), time(9, 0)),
        signup_closes_at=datetime.combine(today + timedelta(days=1), time(9, 0)),
        weekdays=(0, 1, 2, 3, 4), start_time=time(19, 30), minutes=60))
    services.set_status(fitness.id, "open")
    _sign_up(fitness.id, 60, 9)

    baduanjin = _course(
        -21, 12, -35, -22, title="八段锦晨练", title_en="Baduanjin morning exercise", category="elderly",
        teacher="赵老师", expert="赵德明", venue="一楼广场", venue_en="Ground-floor square", capacity=40,
        description="舒缓的传统健身功法，适合中老年人。", description_en="A gentle traditional exercise, "
        "good for older people.", weekdays=(0, 2, 4), start_time=time(7, 30), minutes=45)
    _sign_up(baduanjin, 80, 22)

    reading = _course(
        -94, 12, -110, -95, title="读书会：城南旧事", title_en="Reading club: My Memories of Old Beijing",
        category="reading", teacher="吴老师", expert="吴文静", venue="社区图书室", venue_en="Community library",
        capacity=20, description="每周读一章，一起聊。", description_en="A chapter a week, talked over together.",
        weekdays=(2,), start_time=time(15, 0), minutes=90)
    _sign_up(reading, 110, 14)
    painting = _course(
        -94, 12, -110, -95, title="国画山水", title_en="Chinese landscape painting", category="calligraphy",
        teacher="郑老师", expert="郑国华", venue="二楼书画室", venue_en="Calligraphy room, 2nd floor", capacity=16,
        weekdays=(4,), start_time=time(9, 30), minutes=120)
    _sign_up(painting, 130, 10)
    services.sync_statuses()
    _finished(reading, [(5, "吴老师讲得生动，下学期还来。"), (5, ""), (4, "希望多读几本书。"),
                        (5, "很开心认识了新朋友"), (4, ""), (5, "")])
    _finished(painting, [(2, "进度太快，跟不上。"), (3, ""), (2, "教室太挤。"), (3, "")])

    survey = services.save_survey(
        "下学期您想参加哪些课程？（可多选）",
        ["智能手机使用", "太极拳", "烘焙", "英语口语", "摄影", "书法进阶"],
        question_en="Which classes would you join next term? (tap all that apply)",
        options_en=["Using a smartphone", "Tai chi", "Baking", "Spoken English", "Photography", "Advanced calligraphy"])
    services.set_survey_state(survey.id, "published")
    options = [option.id for option in survey.options]
    rng = random.Random(37)
    for _answer in range(37):  # smartphones and tai chi are the usual favourites
        services.answer_survey(survey.id, rng.choices(options, weights=(9, 7, 4, 3, 4, 5), k=rng.randint(1, 3)))
