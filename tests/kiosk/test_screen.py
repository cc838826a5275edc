"""What every kiosk screen has: large text, versioned static files, no stored pages, health."""

import re


def test_large_text_toggles_for_this_screen(client):
    assert 'class="kiosk"' in client.get("/c/main/").get_data(as_text=True)
    response = client.post("/large-text", data={"next": "/c/main/notices/"})
    assert response.status_code == 303 and response.headers["Location"] == "/c/main/notices/"
    page = client.get("/c/main/notices/").get_data(as_text=True)
    assert 'class="kiosk large-text"' in page and 'aria-pressed="true"' in page
    htmx = client.post("/large-text", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Refresh"] == "true"
    assert 'class="kiosk"' in client.get("/c/main/").get_data(as_text=True)


def test_static_files_have_versioned_urls_cached_for_a_year(client):
    page = client.get("/c/main/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(urls) == 3 and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        response.close()
    unversioned = client.get(urls[0].split("?")[0])
    assert "max-age=31536000" not in unversioned.headers.get("Cache-Control", "")
    unversioned.close()


def test_pages_are_not_stored_on_the_shared_screen(client):
    assert client.get("/c/main/").headers["Cache-Control"] == "no-store"


def test_health(client):
    assert client.get("/healthz").get_json()["ok"] is True
