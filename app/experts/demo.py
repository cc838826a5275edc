"""About thirty neighbours with a skill to share (surnames with several readings among
them: 曾, 单, 解, 吕, 仇, 朴, 区, 查, 覃), and help requests in every state."""

from datetime import timedelta

from ..clock import site_today
from . import services
from .services import ExpertData

SKILLS = [
    ("书法", "calligraphy", "Calligraphy"), ("国画", "calligraphy", "Chinese painting"),
    ("文学写作", "literature", "Creative writing"), ("朗诵", "literature", "Recitation"),
    ("摄影", "photography", "Photography"), ("唱歌", "music", "Singing"), ("合唱", "music", "Choir"),
    ("钢琴", "music", "Piano"), ("舞蹈", "dance", "Dance"), ("广场舞", "dance", "Square dancing"),
    ("法律咨询", "law", "Legal advice"), ("政策解读", "law", "Explaining policies"),
    ("编织", "crafts", "Knitting"), ("剪纸", "crafts", "Paper cutting"), ("手工", "crafts", "Handicrafts"),
    ("小家电维修", "repairs", "Small appliance repair"), ("水电维修", "repairs", "Plumbing and wiring"),
    ("自行车维修", "repairs", "Bicycle repair"), ("家具修理", "repairs", "Furniture repair"),
    ("电脑手机", "repairs", "Computers and phones"), ("八段锦", "health", "Baduanjin"), ("太极拳", "health", "Tai chi"),
    ("中医养生", "health", "Traditional health care"), ("健身", "health", "Fitness"), ("烹饪", "other", "Cooking"),
    ("英语", "other", "English"),
]

# (full name, name shown, skills, introduction, usually available)
EXPERTS = [
    ("王秀兰", "王老师", "书法 国画", "退休中学美术老师，写楷书四十年，愿意手把手教。", "周二、周四上午"),
    ("曾国平", "曾*平", "摄影", "业余摄影三十年，拍过小区的四季，可以教手机拍照。", "周末"),
    ("单丽娟", "单老师", "朗诵 文学写作", "退休语文老师，喜欢朗诵和写散文。", "工作日下午"),
    ("解晓东", "解律师", "法律咨询 政策解读", "退休律师，熟悉婚姻家庭、继承和物业纠纷。", "每周三下午"),
    ("吕春生", "吕师傅", "小家电维修 电脑手机", "电工出身，电饭煲、电风扇、手机设置都能帮忙看看。", "每天上午"),
    ("仇海燕", "仇*燕", "编织", "织毛衣、钩针都会，冬天愿意带大家一起织。", "周一、周五下午"),
    ("朴明哲", "朴老师", "舞蹈", "朝鲜族舞蹈爱好者，教过社区舞蹈队。", "周六上午"),
    ("区志强", "区师傅", "水电维修", "水管漏水、开关插座，小问题上门帮看。", "晚上七点后"),
    ("查文", "查老师", "文学写作", "喜欢写小说，愿意帮邻居改写回忆录。", "周末下午"),
    ("覃玉梅", "覃*梅", "唱歌 合唱", "社区合唱团领唱，民歌、红歌都拿手。", "周四下午"),
    ("欧阳娜", "欧阳老师", "英语", "外企退休，可以教简单的英语口语。", "周二晚上"),
    ("李建国", "李老师", "合唱 钢琴", "音乐老师，带过三支合唱团。", "周四下午"),
    ("张淑珍", "张*珍", "编织 剪纸", "剪窗花、织围巾，过年前最忙。", "工作日上午"),
    ("刘德明", "刘师傅", "自行车维修", "修了二十年自行车，补胎换链条。", "周六全天"),
    ("陈晓雨", "陈老师", "手工", "幼儿园老师，带孩子做手工、搭乐高。", "周六上午"),
    ("赵德明", "赵老师", "八段锦 太极拳", "练太极三十年，每天早上在广场带练。", "每天早上七点半"),
    ("孙立平", "孙律师", "法律咨询", "执业律师，每月来社区义务咨询。", "每月第一个周六"),
    ("周强", "周教练", "健身", "健身教练，教科学锻炼、防跌倒。", "工作日晚上"),
    ("吴文静", "吴老师", "文学写作 朗诵", "读书会组织者，喜欢和大家聊书。", "周三下午"),
    ("郑国华", "郑老师", "国画", "擅长山水画，画了半辈子。", "周五上午"),
    ("黄丽华", "黄*华", "广场舞", "广场舞队长，新人随时欢迎。", "每天晚上"),
    ("杨子涵", "杨老师", "钢琴", "音乐学院学生，周末可以教孩子弹琴。", "周日下午"),
    ("何桂英", "何阿姨", "烹饪", "面食、饺子、家常菜都拿手。", "周末上午"),
    ("郭春生", "郭大夫", "中医养生", "退休中医，讲讲四季养生和穴位按摩。", "周二上午"),
    ("马红霞", "马*霞", "剪纸", "非遗剪纸传承人的学生。", "周三上午"),
    ("罗宏伟", "罗师傅", "电脑手机 小家电维修", "帮老人设置手机、视频通话、防诈骗。", "周一到周五下午"),
    ("梁凤英", "梁阿姨", "编织 手工", "钩针小玩偶做得好。", "周四上午"),
    ("宋海", "宋老师", "摄影", "新闻摄影记者，教构图和用光。", "周日上午"),
    ("谢玉", "谢老师", "书法", "隶书、行书都写，春节免费写春联。", "周末上午"),
    ("韩军", "韩师傅", "家具修理", "木工出身，桌椅柜门修修补补。", "周六下午"),
]

REQUESTS = [
    ("王秀兰", ["learn"], "想学写毛笔字，没有基础", "林芳", "13800001001", "new", ""),
    ("解晓东", ["question"], "父母的房子怎么办继承手续", "高建军", "13800001002", "assigned", "已约周三下午"),
    ("吕春生", ["home"], "电饭煲不加热了", "何丽", "13800001003", "contacted", "吕师傅周五上门"),
    ("曾国平", ["event"], "社区运动会需要拍照", "罗明", "13800001004", "done", "已拍摄，照片已交社区"),
    ("区志强", ["home"], "厨房水管漏水", "宋红", "13800001005", "declined", "已转物业维修"),
]


def load() -> None:
    services.save_skills(SKILLS)
    skill_ids = {skill.name: skill.id for skill in services.skills()}
    today = site_today()
    services.save_experts([(None, ExpertData(
        name=name, mobile=f"1390000{number:04d}", display_name=display,
        skill_ids=[skill_ids[skill] for skill in skills.split()], consent_on=today - timedelta(days=30 + number),
        consent_scope="称呼、技能、简介和时间；不公开电话和照片", intro=intro, availability=available))
        for number, (name, display, skills, intro, available) in enumerate(EXPERTS)])
    for name, needs, text, resident, mobile, state, note in REQUESTS:
        expert = services.find_expert(name)
        receipt = services.ask(expert.id, needs, text, resident, mobile, created_by="kiosk:demo")
        if state != "new":
            services.update_request(services.request_by_code(receipt.code).id, state, note=note)
