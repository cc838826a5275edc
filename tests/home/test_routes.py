"""The home screen: tiles, the notices strip, page or fragment, notice pages reached from it."""

from datetime import timedelta

from app.clock import utcnow
from app.notices.services import add_notice


def add(run_in_app, title, *, hours_from_now=-1, hours_long=48, urgent=False):
    now = utcnow()
    return run_in_app(add_notice, title, "", urgent=urgent,
                      starts_at=now + timedelta(hours=hours_from_now),
                      ends_at=now + timedelta(hours=hours_from_now + hours_long))


def test_home_shows_a_tile_for_each_existing_board_only(client):
    page = client.get("/c/main/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="tile-notices"' in page and 'hx-get="/c/main/notices/"' in page and 'href="/c/main/notices/"' in page
    assert 'id="tile-wall"' in page and 'href="/c/main/wall/"' in page
    assert 'id="tile-classes"' in page and 'href="/c/main/classes/"' in page
    assert 'id="tile-experts"' in page and 'href="/c/main/experts/"' in page
    assert 'id="tile-friends"' in page and 'href="/c/main/friends/"' in page


def test_home_shows_current_notices_urgent_first(client, run_in_app):
    add(run_in_app, "普通通知")
    add(run_in_app, "停水通知", urgent=True, hours_from_now=-2)
    add(run_in_app, "明天的通知", hours_from_now=24)
    add(run_in_app, "过期的通知", hours_from_now=-100)
    strip = client.get("/c/main/").get_data(as_text=True)
    assert "明天的通知" not in strip and "过期的通知" not in strip
    assert strip.index("停水通知") < strip.index("普通通知")
    assert "紧急" in strip


def test_home_without_notices_says_so(client):
    assert "No notices right now." in client.get("/c/main/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_htmx_gets_the_region_it_names(client, run_in_app):
    add(run_in_app, "社区义诊")
    full = client.get("/c/main/")
    assert full.get_data(as_text=True).startswith("<!doctype html>")
    assert "HX-Request" in full.headers["Vary"]

    main = client.get("/c/main/", headers={"HX-Request": "true", "HX-Target": "main"}).get_data(as_text=True)
    assert "<html" not in main and "<header" not in main
    assert main.startswith("<title>") and '<main id="main"' in main and "社区义诊" in main

    strip = client.get("/c/main/", headers={"HX-Request": "true", "HX-Target": "notices-strip"}).get_data(as_text=True)
    assert strip.lstrip().startswith('<section id="notices-strip"') and "<main" not in strip

    for headers in ({"HX-Request": "true", "HX-Target": "somewhere-else"},
                    {"HX-Request": "true", "HX-Target": "main", "HX-History-Restore-Request": "true"},
                    {"HX-Target": "main"}):
        assert client.get("/c/main/", headers=headers).get_data(as_text=True).startswith("<!doctype html>")


def test_notice_pages(client, run_in_app):
    showing = add(run_in_app, "社区义诊")
    future = add(run_in_app, "下周的通知", hours_from_now=100)
    ended = add(run_in_app, "结束的通知", hours_from_now=-100)
    assert "社区义诊" in client.get(f"/c/main/notices/{showing}").get_data(as_text=True)
    for notice_id in (future, ended, 9999):
        assert client.get(f"/c/main/notices/{notice_id}").status_code == 404
    listing = client.get("/c/main/notices/", headers={"HX-Request": "true", "HX-Target": "main"}).get_data(as_text=True)
    assert "社区义诊" in listing and "下周的通知" not in listing and "<header" not in listing
