"""Headers on every response, CSRF on every state-changing route, no view that answers
both GET and POST, and error pages that are localized and never show a traceback.
That no GET writes to the database is tested by test_get_is_safe.py."""

import re

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import AnyConverter, IntegerConverter

from app.security import SECURITY_HEADERS

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] not in ("", "no-referrer")
    assert "HX-Request" in response.headers.get("Vary", "")


def test_headers_on_pages_static_files_and_errors(client):
    page = client.get("/c/main/")
    static_url = re.search(r'href="(/static/css/kiosk\.css\?v=\w+)"', page.get_data(as_text=True)).group(1)
    responses = [
        page,
        client.get("/c/main/notices/"),
        client.get("/staff/"),
        client.get(static_url),
        client.get("/no-such-page"),
        client.post("/language", data={"locale": "xx"}),
        client.get("/language"),
    ]
    for response in responses:
        assert_security_headers(response)


def test_referrer_policy_keeps_flask_wtf_working_over_https():
    # Flask-WTF refuses every POST over HTTPS when the browser sends no referrer.
    assert SECURITY_HEADERS["Referrer-Policy"] == "same-origin"


# Routes that take no CSRF token, and why.
CSRF_EXEMPT = {
    # The idle reset only forgets this browser's session; it must work from any page,
    # however stale its token.
    "kiosk.reset",
}


def _state_changing_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.methods - SAFE_METHODS and rule.endpoint != "static" and rule.endpoint not in CSRF_EXEMPT]


def test_the_exempt_routes_are_exempt_and_only_forget(csrf_client):
    csrf_client.post("/language", data={"csrf_token": "x"})  # refused: sets nothing
    with csrf_client.session_transaction() as session:
        session["locale"] = "en"
        session["large_text"] = True
    response = csrf_client.post("/reset")
    assert response.status_code == 303 and response.headers["Location"] == "/c/main/"
    with csrf_client.session_transaction() as session:
        assert dict(session) == {}


def _example_url(rule):
    values = {
        name: 1 if isinstance(converter, IntegerConverter) else sorted(converter.items)[0]
        if isinstance(converter, AnyConverter) else "main" if name == "community" else "x"
        for name, converter in rule._converters.items()
    }
    return rule.build(values)[1]


@pytest.fixture
def csrf_client(make_app):
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def test_csrf_sweep_every_state_changing_route_refuses_a_missing_token(make_app, csrf_client):
    rules = _state_changing_rules(make_app())
    endpoints = {rule.endpoint for rule in rules}
    # The sweep must have something to sweep: these routes exist from the foundation on.
    assert {"kiosk.set_language", "kiosk.toggle_large_text", "staff.sign_in", "staff.sign_out"} <= endpoints
    for rule in rules:
        url = _example_url(rule)
        for method in sorted(rule.methods - SAFE_METHODS):
            response = csrf_client.open(url, method=method, data={"locale": "en", "next": "/"})
            assert response.status_code == 400, f"{method} {url} answered {response.status_code}"
            htmx = csrf_client.open(url, method=method, headers={"HX-Request": "true"})
            assert htmx.status_code == 400 and htmx.headers.get("HX-Refresh") == "true", f"{method} {url}"
    # Nothing those requests carried took effect.
    home = csrf_client.get("/c/main/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-Hans"' in home


def test_a_valid_token_from_the_page_is_accepted(csrf_client):
    page = csrf_client.get("/c/main/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    assert csrf_client.post("/language", data={"csrf_token": token, "locale": "en"}).status_code == 303
    htmx = csrf_client.post("/large-text", headers={"HX-Request": "true", "X-CSRFToken": header_token})
    assert htmx.status_code == 200 and htmx.headers["HX-Refresh"] == "true"
    # The same page again, answered from the page cache with the session's token signed there.
    csrf_client.get("/c/main/")  # kept for this session's language and type size
    kept = csrf_client.get("/c/main/").get_data(as_text=True)
    kept_token = re.search(r'name="csrf_token" value="([^"]+)"', kept).group(1)
    assert csrf_client.post("/language", data={"csrf_token": kept_token, "locale": "zh_Hans"}).status_code == 303


def test_a_stale_token_is_refused_with_a_friendly_page(csrf_client, make_app):
    other = make_app(WTF_CSRF_ENABLED=True, SECRET_KEY="another-install").test_client()
    foreign_page = other.get("/c/main/").get_data(as_text=True)
    foreign_token = re.search(r'name="csrf_token" value="([^"]+)"', foreign_page).group(1)
    response = csrf_client.post("/language", data={"csrf_token": foreign_token, "locale": "en"},
                                headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "This page was open for too long" in response.get_data(as_text=True)


def test_no_view_answers_both_get_and_post(app):
    adapter = app.url_map.bind("localhost")
    for rule in _state_changing_rules(app):
        assert "GET" not in rule.methods, f"{rule} accepts GET and POST"
        try:
            endpoint, _ = adapter.match(_example_url(rule), method="GET")
        except (MethodNotAllowed, NotFound):
            continue
        # A page may show a form at the URL it posts to; it must be another view.
        assert endpoint != rule.endpoint


@pytest.mark.parametrize(("language", "text"), [("zh-CN", "找不到这个页面"), ("en", "Page not found")])
def test_not_found_page_is_localized(client, language, text):
    response = client.get("/no-such-page", headers={"Accept-Language": language})
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_a_crash_shows_a_localized_page_without_a_traceback(make_app):
    app = make_app(TESTING=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: /etc/passwd")

    client = app.test_client()
    for language, text in [("zh-CN", "系统出了点问题"), ("en", "Something went wrong on our side")]:
        response = client.get("/boom", headers={"Accept-Language": language})
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert text in body
        assert "Traceback" not in body and "secret internals" not in body and "RuntimeError" not in body


def test_method_not_allowed_and_too_large_are_localized(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    response = client.get("/language", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert "这里不能进行这个操作" in response.get_data(as_text=True)
    big = client.post("/language", data={"locale": "en", "next": "x" * 5000}, headers={"Accept-Language": "en"})
    assert big.status_code == 413 and "That was too much to send" in big.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_going_back_never_leaves_the_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/c/main/"


def test_hsts_only_over_https(client, make_app):
    assert "Strict-Transport-Security" not in client.get("/c/main/").headers
    secure = client.get("/c/main/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Behind a proxy that says the browser came over HTTPS.
    proxied = make_app(PROXY_FIX_HOPS=1).test_client()
    forwarded = proxied.get("/c/main/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"})
    assert forwarded.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.get("/c/main/").headers


def test_a_session_signed_too_long_ago_counts_for_nothing_though_it_was_read_before(client, monkeypatch):
    """The session interface keeps what a cookie said once its signature was checked; it
    stops counting when Flask's own check would refuse the cookie as too old."""
    import time

    assert client.post("/language", data={"locale": "en"}).status_code == 303
    assert '<html lang="en"' in client.get("/c/main/notices/").get_data(as_text=True)
    later = time.time() + 32 * 24 * 3600  # past PERMANENT_SESSION_LIFETIME (31 days)
    monkeypatch.setattr(time, "time", lambda: later)
    assert '<html lang="zh-Hans"' in client.get("/c/main/notices/").get_data(as_text=True)
