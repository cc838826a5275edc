"""`flask seed`: generated content of any size that the boards show as they show real content."""

import re

from sqlalchemy import func, select

from app.classes.models import Course, Meeting
from app.experts.models import Expert
from app.extensions import db
from app.friends.models import Card
from app.seed import seed
from app.wall.models import Post


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_adds_what_it_is_asked_for_and_the_boards_show_it(app, client, run_in_app):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["seed", "--posts", "2500", "--courses", "10", "--experts", "30", "--cards", "6"])
    assert done.exit_code == 0, done.output
    assert re.search(r"Added 2500 posts, 10 courses, 30 experts, 6 cards in [\d.]+ s\.", done.output)

    assert _count(app, Post, Post.state == "approved") == 2500
    # A problem is a case (app/cases), whose card the wall shows: the seed writes none.
    assert _count(app, Post, Post.kind == "problem") == 0
    assert _count(app, Course, Course.status == "open") == 10
    assert _count(app, Meeting) == 10 * 12  # one meeting a week for twelve weeks
    assert _count(app, Expert, Expert.state == "listed") == 30
    assert _count(app, Card, Card.state == "approved") == 6

    with app.app_context():
        newest = db.session.scalar(select(Post).order_by(Post.id.desc()).limit(1))
        bilingual = db.session.scalar(select(Course).limit(1))
        expert = db.session.scalar(select(Expert).order_by(Expert.sort_key).limit(1))
    wall = client.get("/c/main/wall/").get_data(as_text=True)
    assert client.get("/c/main/wall/?kind=problem").status_code == 200
    assert newest.public_text in wall
    course_page = client.get(f"/c/main/classes/{bilingual.id}").get_data(as_text=True)
    assert bilingual.title in course_page and bilingual.title_en
    assert client.get("/c/main/classes/all").get_data(as_text=True).count('class="course-card') == 10
    # The pad finds a seeded expert by the initial of what the card shows.
    initial = client.get("/c/main/experts/", query_string={"q": expert.sort_key[0]}).get_data(as_text=True)
    assert expert.display_name in initial
    assert client.get("/c/main/friends/").get_data(as_text=True).count('class="friend-card"') == 6


def test_the_same_seed_makes_the_same_content(app):
    with app.app_context():
        seed(posts=50, seed_value=7)
        seed(posts=50, seed_value=7)  # again: the same texts, new receipt codes
        rows = db.session.execute(select(Post.text, Post.receipt_code).order_by(Post.id)).all()
    assert [text for text, _ in rows[:50]] == [text for text, _ in rows[50:]]
    assert len({text for text, _ in rows}) == 50 and len({code for _, code in rows}) == 100


def test_seed_refuses_a_negative_size(app):
    done = app.test_cli_runner().invoke(args=["seed", "--posts", "-5"])
    assert done.exit_code != 0 and "-5" in done.output
    assert _count(app, Post) == 0
