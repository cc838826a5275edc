"""Locale selection, <html lang>, localized dates, and complete catalogs."""

import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.notices.services import add_notice

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = {locale: ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
            for locale in ("zh_Hans", "en")}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("en", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("en-GB,en;q=0.9", "en"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-TW,zh;q=0.9", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("fr-FR,fr;q=0.9", "zh-Hans"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("en;q=0,zh-CN", "zh-Hans"),
        ("", "zh-Hans"),
    ],
)
def test_browser_language_picks_the_catalog(client, accept_language, expected):
    response = client.get("/c/main/", headers={"Accept-Language": accept_language})
    assert response.status_code == 200
    assert html_lang(response) == expected


def test_pages_are_translated(client):
    chinese = client.get("/c/main/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    english = client.get("/c/main/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "通知公告" in chinese and "Notices" not in chinese
    assert "Notices" in english and "通知公告" not in english


def test_locale_does_not_leak_between_requests(client):
    for language, expected in [("en", "en"), ("zh-CN", "zh-Hans"), ("en", "en")]:
        assert html_lang(client.get("/c/main/", headers={"Accept-Language": language})) == expected


def test_the_language_button_beats_the_browser(client):
    zh_browser = {"Accept-Language": "zh-CN,zh;q=0.9"}
    response = client.post("/language", data={"locale": "en", "next": "/c/main/notices/"}, headers=zh_browser)
    assert response.status_code == 303
    assert response.headers["Location"] == "/c/main/notices/"
    assert html_lang(client.get("/c/main/", headers=zh_browser)) == "en"

    client.post("/language", data={"locale": "zh_Hans"}, headers={"Accept-Language": "en"})
    assert html_lang(client.get("/c/main/", headers={"Accept-Language": "en"})) == "zh-Hans"


def test_an_unknown_language_is_refused_and_changes_nothing(client):
    response = client.post("/language", data={"locale": "fr"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Something in that request was not right" in response.get_data(as_text=True)
    assert html_lang(client.get("/c/main/", headers={"Accept-Language": "en"})) == "en"


def test_dates_are_shown_in_the_site_time_zone(client, run_in_app):
    notice_id = run_in_app(
        add_notice, "元旦游园会", "一楼大厅", title_en="New Year fair",
        starts_at=datetime(2026, 1, 1, 0, 30), ends_at=datetime(2099, 1, 1),
    )
    english = client.get(f"/c/main/notices/{notice_id}", headers={"Accept-Language": "en"})
    chinese = client.get(f"/c/main/notices/{notice_id}", headers={"Accept-Language": "zh-CN"})
    # 00:30 UTC is 08:30 in Asia/Shanghai.
    assert "Jan 1, 2026, 8:30:00\u202fAM" in english.get_data(as_text=True)
    assert "2026年1月1日 08:30:00" in chinese.get_data(as_text=True)


def test_the_time_zone_is_configurable(make_app, run_in_app):
    app = make_app(BABEL_DEFAULT_TIMEZONE="Europe/London")
    with app.app_context():
        notice_id = add_notice("冬至", "", starts_at=datetime(2026, 1, 1, 0, 30), ends_at=datetime(2099, 1, 1))
    page = app.test_client().get(f"/c/main/notices/{notice_id}", headers={"Accept-Language": "en"})
    assert "Jan 1, 2026, 12:30:00\u202fAM" in page.get_data(as_text=True)


def _entries(locale):
    with CATALOGS[locale].open("rb") as handle:
        return [message for message in read_po(handle, locale=locale) if message.id]


@pytest.mark.parametrize("locale", sorted(CATALOGS))
def test_catalog_has_no_empty_or_fuzzy_entries(locale):
    entries = _entries(locale)
    assert entries, f"{locale} catalog is empty"
    empty = [m.id for m in entries if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not empty, f"{locale}: untranslated {empty}"
    assert not fuzzy, f"{locale}: fuzzy {fuzzy}"


def _source_messages() -> set[str]:
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for directory in ("app", "templates"):
        method_map = [("**.py", "python")] if directory == "app" else [("**.html", "jinja2")]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map=method_map, keywords=keywords
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", sorted(CATALOGS))
def test_catalog_covers_every_message_in_the_source(locale):
    missing = _source_messages() - {m.id if isinstance(m.id, str) else m.id[0] for m in _entries(locale)}
    assert not missing, f"{locale} lacks {sorted(missing)}: run `make messages` and translate"


def test_chinese_catalog_is_really_chinese():
    # Punctuation alone (a list's separator, a label's colon) has a full-width form instead.
    untranslated = [m.id for m in _entries("zh_Hans")
                    if re.search("[A-Za-z]", m.id if isinstance(m.id, str) else m.id[0])
                    and not re.search(r"[\u4e00-\u9fff]", m.string if isinstance(m.string, str) else m.string[0])]
    punctuation = {m.id: m.string for m in _entries("zh_Hans") if isinstance(m.id, str) and not re.search(r"\w", m.id)}
    assert all(re.fullmatch("[\u3000-\u303f\uff00-\uffef]+", text) for text in punctuation.values()), punctuation
    assert not untranslated, f"zh_Hans entries with no Chinese: {untranslated}"


# Labels whose different English words mean the same thing, so one Chinese word serves both.
SAME_MEANING = [
    {(None, "Kiosk"), (None, "Kiosks")},
    {(None, "Start work"), (None, "Work started")},
    {(None, "Case"), (None, "Cases")},
]


def _source(lazy) -> tuple[str | None, str] | None:
    """The (context, msgid) a lazily translated label was made from."""
    args = getattr(lazy, "_args", None)
    if not args:
        return None
    return (args[0], args[1]) if len(args) == 2 else (None, args[0])


def test_labels_of_different_meanings_never_share_a_chinese_word(app):
    """Every stored code's label, across the areas (app/labels.py): two labels from different
    source messages (or contexts, pgettext) read the same in Chinese only where they mean
    the same; one English word meaning two things needs a context of its own ("Open" is a
    course taking sign-ups, or a help request not yet finished)."""
    from flask_babel import force_locale

    labels = app.jinja_env.globals["labels"]
    readings: dict[str, set] = {}
    with app.test_request_context(), force_locale("zh_Hans"):
        for names in vars(labels).values():
            for mapping in vars(names).values():
                if not isinstance(mapping, dict):
                    continue
                for label in mapping.values():
                    source = _source(label)
                    if source is not None:
                        readings.setdefault(str(label), set()).add(source)
    assert len(readings) > 150, "the labels were not found"
    clashes = {chinese: sources for chinese, sources in readings.items()
               if len(sources) > 1 and not any(sources <= same for same in SAME_MEANING)}
    assert clashes == {}, f"different meanings, one Chinese word: {clashes}"


def test_one_english_word_in_two_contexts_reads_differently():
    """Where a message has contexts of its own, each context's Chinese differs from the
    others' and from the message without context: otherwise the context was not needed."""
    by_id: dict[str, dict] = {}
    for message in _entries("zh_Hans"):
        if isinstance(message.id, str) and message.id and re.search("[A-Za-z]", message.id):
            by_id.setdefault(message.id, {})[message.context] = message.string
    shared = {msgid: contexts for msgid, contexts in by_id.items()
              if len(contexts) > 1 and len(set(contexts.values())) < len(contexts)}
    assert shared == {}, f"contexts that read the same: {shared}"


def test_a_request_translates_in_the_language_in_force_and_a_forced_one(app):
    """The catalog is looked up once per request and language: a force_locale block inside
    a request reads its own, templates and lazy labels alike, and the request's comes back."""
    from flask import render_template_string
    from flask_babel import force_locale

    from app.i18n import current_locale, lazy_gettext

    label = lazy_gettext("Large text")
    with app.test_request_context("/c/main/", headers={"Accept-Language": "zh-CN"}):
        assert (current_locale(), str(label), render_template_string("{{ _('Large text') }}")) == \
            ("zh_Hans", "大字", "大字")
        with force_locale("en"):
            assert (current_locale(), str(label), render_template_string("{{ _('Large text') }}")) == \
                ("en", "Large text", "Large text")
        assert (current_locale(), str(label)) == ("zh_Hans", "大字")
    with app.test_request_context("/c/main/", headers={"Accept-Language": "en"}):
        assert (current_locale(), str(label)) == ("en", "Large text")


def test_a_lazy_label_outside_the_app_reads_as_written():
    from app.i18n import lazy_gettext

    assert str(lazy_gettext("Large text")) == "Large text"
    assert str(lazy_gettext("No. %(number)s", number=7)) == "No. 7"
