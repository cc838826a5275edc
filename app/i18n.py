"""Locale selection: an explicit choice, then the browser's primary language, then the default."""

from datetime import datetime, time, timedelta
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_timedelta
from babel.support import NullTranslations
from flask import current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_locale, gettext
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .clock import to_site
from .config import LOCALES
from .extensions import babel

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


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the catalog in force looked up once per app context
    and locale. Flask-Babel finds it again for every message (the locale, its name, its
    cache: about 12 µs each on the kiosk's hardware), and a page translates hundreds of
    labels. A `force_locale` block sets another Locale object, which is looked up in turn."""

    def in_force(self) -> tuple | None:
        """(the Locale, its catalog, its name) in force now; None outside an app context."""
        context = _cv_app.get(None)
        if context is None:
            return None
        babel_context = context.g.__dict__.get("_flask_babel")
        if babel_context is not None:
            kept = babel_context.__dict__.get("linli_in_force")
            if kept is not None and kept[0] is babel_context.__dict__.get("babel_locale"):
                return kept
        catalog = super().get_translations()  # Flask-Babel's choice of locale (select_locale) made here
        babel_context = context.g._flask_babel
        locale = babel_context.babel_locale
        kept = babel_context.linli_in_force = (locale, catalog, str(locale))
        return kept

    def get_translations(self):
        kept = self.in_force()
        return super().get_translations() if kept is None else kept[1]


def _catalog():
    """The catalog in force; outside an app context none, as with Flask-Babel."""
    kept = babel.domain_instance.in_force() if _cv_app.get(None) is not None else None
    return NullTranslations() if kept is None else kept[1]


@pass_context
def _template_gettext(context, text: str, **variables) -> str:
    """`_()` and `gettext()` in templates, as Jinja's newstyle gettext does them (escaped,
    always %-formatted), without its two layers of context calls per message."""
    found = _catalog().ugettext(text)
    if context.eval_ctx.autoescape:
        found = Markup(found)
    return found % variables


def _gettext_now(text: str, **variables) -> str:
    found = _catalog().ugettext(text)
    return found % variables if variables else found


def _pgettext_now(context: str, text: str, **variables) -> str:
    found = _catalog().upgettext(context, text)
    return found % variables if variables else found


def lazy_gettext(text: str, **variables) -> LazyString:
    """Flask-Babel's lazy_gettext, translated through the catalog in force (above)."""
    return LazyString(_gettext_now, text, **variables)


def lazy_pgettext(context: str, text: str, **variables) -> LazyString:
    """Flask-Babel's lazy_pgettext, translated through the catalog in force (above)."""
    return LazyString(_pgettext_now, context, text, **variables)


def init_app(app) -> None:
    """Templates translate through the catalog in force straight away (Flask-Babel's callables
    look the domain up first, per message). `_` and `gettext` are then replaced by
    `_template_gettext`, which does what Jinja's newstyle wrapper of `gettext` does."""
    app.jinja_env.install_gettext_callables(
        gettext=_gettext_now,
        ngettext=lambda singular, plural, n: _catalog().ungettext(singular, plural, n),
        pgettext=lambda context, text: _catalog().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _catalog().unpgettext(context, singular, plural, n),
        newstyle=True)
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)


def current_locale() -> str:
    """The catalog in force for this request: exactly one of LOCALES."""
    kept = babel.domain_instance.in_force()
    return str(get_locale()) if kept is None else kept[2]


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
