"""Links (app/__init__.py's url_for): each distinct one is built once per worker, and what it
depends on (the community, the arguments and their types) is part of what it is kept under."""

import pytest
from flask import url_for
from werkzeug.routing import BuildError

from tests.factories import add_community, rename_community


def _wall_links(client, slug: str) -> set[str]:
    page = client.get(f"/c/{slug}/wall/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    return {part.split('"', 1)[0] for part in text.split('href="/c/')[1:]}


def test_each_communitys_pages_link_to_its_own_pages_asked_in_turn(client, run_in_app):
    second = run_in_app(add_community)
    for slug in ("main", "hepingli", "main", "hepingli"):
        links = _wall_links(client, slug)
        assert links and all(link.startswith(f"{slug}/") for link in links), (slug, links)

    run_in_app(rename_community, second, "heping")
    links = _wall_links(client, "heping")
    assert links and all(link.startswith("heping/") for link in links), links


def test_arguments_of_different_types_make_different_links(app):
    with app.test_request_context("/c/main/wall/"):
        app.preprocess_request()
        assert url_for("wall.index", kind=1) == "/c/main/wall/?kind=1"
        assert url_for("wall.index", kind=True) == "/c/main/wall/?kind=True"
        assert url_for("wall.index", kind=1) == "/c/main/wall/?kind=1"
        assert url_for(".index") == url_for("wall.index") == "/c/main/wall/"
        assert url_for("wall.index", _external=True) == "http://localhost/c/main/wall/"
        assert url_for("wall.index", kind=["a", "b"]) == "/c/main/wall/?kind=a&kind=b"


def test_a_link_to_no_page_is_still_an_error(app):
    with app.test_request_context("/c/main/wall/"):
        app.preprocess_request()
        with pytest.raises(BuildError):
            url_for("wall.nowhere")
        with pytest.raises(BuildError):
            url_for("wall.nowhere")
