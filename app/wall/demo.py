"""Demo content for the message wall: every kind and state, so a newcomer sees a living
wall and a queue with something in it (its problem cards come from the cases' demo)."""

from datetime import timedelta

from ..clock import utcnow
from ..extensions import db
from . import services
from .models import Post

# (kind, text, nickname, place, hours ago, what happens next)
POSTS = [
    ("greeting", "祝全体邻居冬至快乐，记得吃饺子！", "3号楼王奶奶", "", 3, "approve pin"),
    ("thanks", "感谢网格员小刘帮我家修好了楼道灯，晚上回家再也不摸黑了。", "李大爷", "", 26, "approve"),
    ("wish", "希望社区能开一个智能手机班，教我们老年人用手机挂号、买菜。", "", "", 30, "approve"),
    ("suggestion", "建议在小区东门加一个电动车充电棚，现在大家都从楼上拉电线，太危险了。",
     "热心居民", "", 50, "approve"),
    ("thanks", "Thank you to the volunteers who helped me register for the health check. Very kind!",
     "Anna (Bldg 6)", "", 8, "approve"),
    ("wish", "想找一起晨练打太极的伙伴，每天早上六点半在小花园。", "老赵", "", 2, "pending"),
    ("suggestion", "My phone is 13912345678, please call me about the English corner idea.", "Tom", "", 1, "held"),
    ("greeting", "新年快乐，万事如意！", "", "", 0, "pending"),
]


def load() -> None:
    services.set_publish_first("greeting", True)
    services.add_watched_word("代开发票", "block")
    services.add_watched_word("贷款", "hold")
    services.add_watched_word("加微信", "flag")
    now = utcnow()
    # Oldest first, so ids follow time as they do in real use.
    for kind, text, nickname, place, hours, plan in sorted(POSTS, key=lambda row: -row[4]):
        receipt = services.create_post(kind, text, nickname=nickname, location=place, posted_by="demo")
        post = db.session.query(Post).filter_by(receipt_code=receipt.code).one()
        post.created_at = now - timedelta(hours=hours)
        db.session.commit()
        for step in plan.split(" "):
            action = step
            if action == "approve":
                services.approve(post.id, None)
                post.published_at = post.created_at + timedelta(minutes=40)
                db.session.commit()
            elif action == "pin":
                services.set_pinned(post.id, True)

