"""Demo content for a first start: what a newcomer sees on an empty install.

Each area adds its own loader to LOADERS; `flask init` runs them once per database, in two
communities: the first (its kiosk at /) and a second, so the district console and the
community switcher have something to show.
"""

from datetime import timedelta


from .clock import utcnow
from .communities import scope, services as communities
from .communities.models import Community
from .communities.routing import default_community_id
from .extensions import db
from .models import SiteFlag
from .notices import services as notices
from .cases import demo as cases_demo
from .classes import demo as classes_demo
from .experts import demo as experts_demo
from .friends import demo as friends_demo
from .households import demo as households_demo
from .wall import demo as wall_demo

DEMO_FLAG = "demo_loaded_at"
# The demo's two communities: the first keeps its slug (main), the second is /c/hepingli/.
DEMO_COMMUNITIES = [("幸福里社区", "Xingfuli Community"), ("和平里社区", "Heping Community")]
SECOND_SLUG = "hepingli"


def _notices() -> None:
    now = utcnow()
    notices.add_notice(
        "本周六上午社区义诊",
        "11月28日（周六）上午9点至11点，社区卫生服务中心医生在一楼大厅免费量血压、测血糖，请带好医保卡。",
        title_en="Free health check this Saturday morning",
        body_en="Saturday 28 November, 9–11 am in the ground-floor lobby: doctors from the community "
                "health centre check blood pressure and blood sugar for free. Please bring your medical "
                "insurance card.",
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=4),
    )
    notices.add_notice(
        "防范电信诈骗：公检法不会电话要求转账",
        "凡是自称公安、检察院、法院，要求您转账到“安全账户”的，都是诈骗。拿不准时，请到社区服务台或拨打110。",
        title_en="Beware of phone fraud: the police never ask you to transfer money",
        body_en="Anyone who says they are the police, the procuratorate or a court and asks you to move money "
                "into a “safe account” is a fraudster. If in doubt, ask at the community desk or call 110.",
        starts_at=now - timedelta(days=3), ends_at=now + timedelta(days=27),
    )
    notices.add_notice(
        "冬季供暖报修电话已开通",
        "暖气不热、漏水，请在服务台登记，或在本屏“留言墙”提交问题，网格员会在两个工作日内上门。",
        title_en="Winter heating repairs: how to report",
        body_en="If your radiator is cold or leaking, register at the service desk or report it on this screen's "
                "message wall; your grid worker will visit within two working days.",
        starts_at=now - timedelta(days=6), ends_at=now + timedelta(days=60),
    )
    notices.add_notice(
        "明日8:00–14:00 3号楼至7号楼停水",
        "因主管道维修，明天8:00至14:00，3号楼至7号楼停水，请提前储水。",
        title_en="Water cut tomorrow 8:00–14:00, buildings 3 to 7",
        body_en="Because of main pipe repairs, buildings 3 to 7 have no water tomorrow from 8:00 to 14:00. "
                "Please store some water in advance.",
        # Announced from now until the water cut ends: the banner on top of every kiosk screen.
        urgent=True, starts_at=now, ends_at=now + timedelta(hours=44),
    )


LOADERS = [_notices, wall_demo.load, cases_demo.load, experts_demo.load, classes_demo.load, friends_demo.load,
           households_demo.load]


def demo_loaded() -> bool:
    return db.session.get(SiteFlag, DEMO_FLAG) is not None


def load_demo_content() -> bool:
    """Load every area's demo content once; False when it was loaded before."""
    if demo_loaded():
        return False
    first = db.session.get(Community, default_community_id())
    first.name, first.name_en = DEMO_COMMUNITIES[0]
    db.session.commit()
    second = communities.by_slug(SECOND_SLUG)
    second_id = second.id if second else communities.create_community(SECOND_SLUG, *DEMO_COMMUNITIES[1])
    for community_id in (first.id, second_id):
        with scope.within(community_id):
            for loader in LOADERS:
                loader()
    db.session.add(SiteFlag(key=DEMO_FLAG, value=utcnow().isoformat()))
    db.session.commit()
    return True
