"""Locale selection: an explicit choice, then the browser's primary language, then the default."""

from datetime import datetime, time, timedelta
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_timedelta
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, gettext
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .clock import to_site
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


@lru_cache(maxsize=1024)
def accepted_locale(header: str | None) -> str | None:
    """The catalog a browser's Accept-Language header picks (a screen sends the same header
    request after request: it is read once)."""
    return locale_from_accept_language(parse_accept_header(header, LanguageAccept))


def select_locale() -> str:
    if not has_request_context():  # the command line speaks the site's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return (
        accepted_locale(request.headers.get("Accept-Language"))
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_locale() -> str:
    """The catalog in force for this request: exactly one of LOCALES."""
    return str(get_locale())


def html_lang() -> str:
    return HTML_LANG[current_locale()]


def localized(record, field: str) -> str:
    """A record's text in the current language: its `<field>_en` in English when written,
    else the Chinese original."""
    if current_locale() == "en":
        english = getattr(record, f"{field}_en", None)
        if english:
            return english
    return getattr(record, field)


def other_locale() -> str:
    """The language the kiosk's language button switches to."""
    return "en" if current_locale() == "zh_Hans" else "zh_Hans"


@lru_cache(maxsize=4096)
def _ago(locale: str, seconds: int) -> str:
    return format_timedelta(-seconds, granularity="minute", add_direction=True, locale=locale)


@lru_cache(maxsize=4096)
def _age(locale: str, seconds: int) -> str:
    return format_timedelta(seconds, granularity="minute", threshold=1, locale=locale)


def age(delta: timedelta) -> str:
    """How long something has waited: "7 minutes", "3 hours", "2 days", in the reader's
    language; never rounded up to the next unit (7 minutes is not "1 hour")."""
    seconds = max(int(delta.total_seconds()), 0)
    unit = 60 if seconds < 3600 else 3600 if seconds < 86400 else 86400
    return _age(current_locale(), max(seconds // unit, 1 if unit == 60 else 0) * unit)


def time_ago(moment: datetime, now: datetime) -> str:
    """"5 minutes ago" in the reader's language.

    Babel's formatting costs about 50 µs a call, a fifth of a wall render for 20 cards;
    rounding to what is shown (minutes, then hours, then days) lets a small cache answer.
    """
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return gettext("just now")
    unit = 60 if seconds < 3600 else 3600 if seconds < 86400 else 86400
    return _ago(current_locale(), round(seconds / unit) * unit)


def due_by(moment: datetime | str) -> str:
    """A deadline as residents and staff read it. A deadline in working days ends with its
    day, stored as the next midnight: it reads as that day ("2026年10月9日"), not as the
    next day at 00:00. One counted in hours reads with its time. ``moment`` is a stored
    (naive UTC) time, or a timeline step's site-local ISO text."""
    local = datetime.fromisoformat(moment) if isinstance(moment, str) else to_site(moment)
    locale = current_locale()
    if local.time() == time():
        return format_date(local.date() - timedelta(days=1), "medium", locale=locale)
    return format_datetime(local, "short", locale=locale)
