"""Locale selection: an explicit choice, then the browser's primary language, then the default."""

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale

from .config import LOCALES

# Primary language tags of Accept-Language, and the catalog each one reads.
PRIMARY_TAGS = {"zh": "zh_Hans", "en": "en"}
HTML_LANG = {"zh_Hans": "zh-Hans", "en": "en"}
LANGUAGE_NAMES = {"zh_Hans": "中文", "en": "English"}


def locale_from_accept_language(accept_languages) -> str | None:
    """The first catalog named by a primary tag, in the browser's order of preference.

    Werkzeug's best_match would pick "en" for "zh-CN,zh;q=0.9,en;q=0.8" (it wants
    exact tags), so the primary tag is mapped here instead.
    """
    for tag, quality in accept_languages:
        if quality <= 0:
            continue
        catalog = PRIMARY_TAGS.get(tag.replace("_", "-").split("-")[0].lower())
        if catalog:
            return catalog
    return None


def select_locale() -> str:
    if not has_request_context():  # the command line speaks the site's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return (
        locale_from_accept_language(request.accept_languages)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_locale() -> str:
    """The catalog in force for this request: exactly one of LOCALES."""
    return str(get_locale())


def html_lang() -> str:
    return HTML_LANG[current_locale()]


def other_locale() -> str:
    """The language the kiosk's language button switches to."""
    return "en" if current_locale() == "zh_Hans" else "zh_Hans"
