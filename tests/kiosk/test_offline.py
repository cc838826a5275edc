"""The kiosk loads nothing from another host: the lobby may be cut off from the internet."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# An absolute or protocol-relative URL, or a CSS import/url() that could reach one.
FOREIGN = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import""", re.IGNORECASE)


def test_our_templates_styles_and_scripts_name_no_other_host():
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/css/*.css"), *ROOT.glob("static/js/*.js")]
    assert len(files) > 5
    offenders = {str(f.relative_to(ROOT)): FOREIGN.findall(f.read_text()) for f in files}
    assert {name: hits for name, hits in offenders.items() if hits} == {}


def test_rendered_pages_name_no_other_host(client):
    for path in ("/", "/c/main/notices/", "/staff/", "/nowhere"):
        html = client.get(path).get_data(as_text=True)
        assert FOREIGN.findall(html) == [], path


def test_htmx_is_vendored_pinned_and_licensed():
    vendored = sorted(p.name for p in (ROOT / "static" / "vendor").iterdir())
    assert "htmx-2.0.11.min.js" in vendored and "htmx-2.0.11.LICENSE.txt" in vendored
    assert (ROOT / "static/vendor/htmx-2.0.11.min.js").read_text().count('version:"2.0.11"') == 1
