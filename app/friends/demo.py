"""A dozen approved cards and one waiting for the matchmaker, with invented names and
numbers that never reach a public page, and one introduction under way."""

from . import services
from .services import CardData

CARDS = [
    ("female", "60-64", "东区", ["walking", "dance", "cooking"], "friends",
     "退休会计，爱跳广场舞，想找几个一起散步的朋友。"),
    ("male", "65-69", "西区", ["chess", "calligraphy"], "companion", "下棋写字都喜欢，找个棋友。"),
    ("female", "30-34", "南区", ["reading", "films", "travel"], "partner", "喜欢看书看电影，周末常去公园。"),
    ("male", "35-39", "北区", ["sports", "travel"], "partner", "工程师，爱打羽毛球，性格开朗。"),
    ("female", "70+", "东区", ["gardening", "music"], "friends", "老伴走了，想找人一起养花聊天。"),
    ("male", "40-44", "周边社区", ["photography", "walking"], "friends", "周末扫街拍照，欢迎同好。"),
    ("female", "25-29", "西区", ["pets", "cooking"], "partner", "养了一只猫，会做饭。"),
    ("male", "55-59", "南区", ["music", "volunteering"], "companion", "社区志愿者，会拉二胡。"),
    ("female", "45-49", "北区", ["dance", "reading"], "friends", "刚搬来，想认识邻居。"),
    ("male", "60-64", "东区", ["chess", "walking"], "companion", "早上在广场散步，找个伴。"),
    ("female", "50-54", "周边社区", ["travel", "photography"], "friends", "爱旅游，想找驴友。"),
    ("male", "30-34", "西区", ["films", "sports"], "partner", "程序员，周末打球看电影。"),
]
NAMES = ["刘桂芳", "孙德海", "周晓雯", "吴建峰", "郑玉珍", "冯志刚", "陈思雨", "褚永福", "卫丽娜", "蒋国庆", "沈小燕",
         "韩子轩", "杨秋月"]


def load() -> None:
    receipts = []
    for index, (gender, age, area, interests, looking, intro) in enumerate(CARDS + [CARDS[2]]):
        receipts.append(services.leave_card(CardData(
            gender=gender, age_band=age, area=area, interests=interests, looking_for=looking, intro=intro,
            real_name=NAMES[index], mobile=f"1370000{index:04d}", consent_public=True, consent_matchmaker=True,
            adult=True), created_by="kiosk:demo"))
    cards = [services.card_by_code(receipt.code) for receipt in receipts]
    for card in cards[:-1]:  # the last one waits for the matchmaker
        services.review(card.id, True)
    services.express_interest(cards[2].number, own_code=cards[3].code, created_by="kiosk:demo")
    services.express_interest(cards[0].number, name="王大爷", mobile="13700009999", created_by="kiosk:demo")
