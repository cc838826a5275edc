"""Demo content for the message wall: every kind and state, so a newcomer sees a living
wall and a queue with something in it."""

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
    ("problem", "小区正门口没有人行横道，接送孩子过马路很危险。", "", "正门", 72,
     "approve status:in_progress reply:已联系交警部门，正在规划斑马线和减速带，预计下月施工。"),
    ("problem", "7号楼和8号楼之间的路灯坏了两个星期了。", "", "7号楼旁", 20,
     "approve status:resolved reply:路灯已于周二修好，谢谢反映！"),
    ("problem", "垃圾站旁的垃圾桶夏天味道很大，能不能每天多清运一次？", "", "北门垃圾站", 5, "approve"),
    ("wish", "想找一起晨练打太极的伙伴，每天早上六点半在小花园。", "老赵", "", 2, "pending"),
    ("suggestion", "My phone is 13912345678, please call me about the English corner idea.", "Tom", "", 1, "held"),
    ("greeting", "新年快乐，万事如意！", "", "", 0, "pending"),
]


def load() -> None:
    services.add_grid("第一网格（1–5号楼）", "刘建国")
    services.add_grid("第二网格（6–10号楼）", "陈芳")
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
            action, _, value = step.partition(":")
            if action == "approve":
                services.approve(post.id, None)
                post.published_at = post.created_at + timedelta(minutes=40)
                db.session.commit()
            elif action == "pin":
                services.set_pinned(post.id, True)
            elif action == "status":
                services.set_problem_status(post.id, value)
            elif action == "reply":
                services.set_reply(post.id, value)
    problems = db.session.query(Post).filter_by(kind="problem").order_by(Post.id).all()
    grid_ids = [grid.id for grid in services.grids()]
    services.assign_grid(problems[1].id, grid_ids[1])
    services.assign_grid(problems[2].id, grid_ids[0])
