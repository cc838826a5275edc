"""Share to the group from the console: the poster's QR code leads to the phone page, the
text is two lines in Chinese, whatever the console's language; only what residents can see
is shared."""

import io
import re

import zxingcpp
from PIL import Image

from app.classes import services as classes
from app.notices.services import add_notice
from tests.classes.test_routes import new_course
from tests.factories import STAFF_PASSWORD, staff_member

BASE = "http://192.168.1.20:8000"
EN = {"Accept-Language": "en"}


def test_a_course_gets_a_poster_and_two_lines_leading_to_its_phone_page(make_app):
    app = make_app(HANDOFF_BASE_URL=BASE)
    with app.app_context():
        course_id = new_course(title="乐高机器人编程")
        staff_member("coord", "coordinator")
    coordinator = app.test_client()
    assert coordinator.post("/staff/sign-in", data={"username": "coord", "password": STAFF_PASSWORD}).status_code == 303

    detail = coordinator.get(f"/staff/classes/{course_id}", headers=EN).get_data(as_text=True)
    assert f'href="/staff/share/course/{course_id}"' in detail
    page = coordinator.get(f"/staff/share/course/{course_id}", headers=EN)
    assert page.status_code == 200
    text = re.search(r'<textarea id="share-text"[^>]*>(.*?)</textarea>', page.get_data(as_text=True), re.S).group(1)
    lines = text.strip().split("\n")
    url = f"{BASE}/c/main/classes/{course_id}"
    assert len(lines) == 2 and lines[0].startswith("【乐高机器人编程】") and lines[1] == url
    assert "地点：二楼书画室" in lines[0]  # Chinese for the group, though the console is in English

    poster = coordinator.get(f"/staff/share/course/{course_id}/poster.png")
    assert poster.status_code == 200 and poster.mimetype == "image/png"
    image = Image.open(io.BytesIO(poster.data))
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [url]


def test_only_what_residents_see_is_shared(run_in_app, staff_client):
    draft = run_in_app(new_course)
    run_in_app(classes.set_status, draft, "drop", reason="人数不够")
    coordinator = staff_client("coord", "coordinator")
    refused = coordinator.get(f"/staff/share/course/{draft}", headers=EN)
    assert refused.status_code == 404 and "nothing to share" in refused.get_data(as_text=True)
    assert coordinator.get(f"/staff/share/course/{draft}/poster.png").status_code == 404
    # Each kind is shared by those who look after it.
    assert staff_client("mod", "moderator").get(f"/staff/share/course/{draft}").status_code == 403


def test_a_notice_is_shared_by_its_writers(run_in_app, staff_client):
    notice_id = run_in_app(add_notice, "本周六上午社区义诊", "一楼大厅免费量血压。")
    moderator = staff_client("mod", "moderator")
    assert f"/staff/share/notice/{notice_id}" in moderator.get("/staff/notices").get_data(as_text=True)
    page = moderator.get(f"/staff/share/notice/{notice_id}").get_data(as_text=True)
    assert "【本周六上午社区义诊】一楼大厅免费量血压。" in page
    poster = moderator.get(f"/staff/share/notice/{notice_id}/poster.png")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(poster.data)))
    assert [barcode.text for barcode in found] == [f"http://localhost/c/main/notices/{notice_id}"]
