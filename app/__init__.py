"""linli: the community-center lobby kiosk and noticeboard."""

import os
from pathlib import Path

from flask import Flask, request
from flask.globals import _cv_request
from jinja2 import StrictUndefined

from .connections import sqlite_engine_options  # (importing it registers the SQLite connection pragmas)
from .config import Config, from_environment, instance_secret_key, normalise_database_url
from .extensions import babel, csrf, db, htmx, init_migrations, login

ROOT = Path(__file__).resolve().parent.parent
YEAR = 365 * 24 * 3600


class LinliFlask(Flask):
    def get_send_file_max_age(self, filename):
        # Static URLs carry a content hash (see assets.py), so a versioned file never changes.
        if request.args.get("v"):
            return YEAR
        return super().get_send_file_max_age(filename)

    # A page builds its links with url_for: a wall page about fifty, most of them a few
    # endpoints with the same arguments. Within a request a link depends only on the endpoint,
    # its arguments (with their types: 1 and True differ), the script root and, for a
    # community's page, the community (the url_defaults: its slug, a static file's version).
    # So each distinct link is built once per worker and then looked up.
    URL_MEMO_SIZE = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._built_urls: dict[tuple, str] = {}
        self._expects_community: dict[str, bool] = {}
        self._synchronous: dict = {}

    def ensure_sync(self, func):
        # Flask asks, for every hook of every request, whether the function is a coroutine
        # function; the answer for a function does not change, so it is asked once.
        wrapped = self._synchronous.get(func)
        if wrapped is None:
            wrapped = self._synchronous[func] = super().ensure_sync(func)
        return wrapped

    def url_for(self, endpoint: str, /, **values) -> str:
        context = _cv_request.get(None)
        if context is None or self.debug or any(name[:1] == "_" for name in values):
            return super().url_for(endpoint, **values)
        asked = context.request
        if endpoint[:1] == ".":
            endpoint = f"{asked.blueprint}{endpoint}" if asked.blueprint is not None else endpoint[1:]
        expects = self._expects_community.get(endpoint)
        if expects is None:
            try:
                expects = self.url_map.is_endpoint_expecting(endpoint, "community")
            except KeyError:  # no such endpoint: Flask's BuildError says so
                return super().url_for(endpoint, **values)
            self._expects_community[endpoint] = expects
        try:
            key = (endpoint, asked.script_root, _community_slug() if expects and "community" not in values else None,
                   *sorted((name, type(value), value) for name, value in values.items()))
            built = self._built_urls.get(key)
        except TypeError:  # an unhashable argument (a list of values for one name)
            return super().url_for(endpoint, **values)
        if built is None:
            built = super().url_for(endpoint, **values)
            if len(self._built_urls) >= self.URL_MEMO_SIZE:
                self._built_urls.clear()
            self._built_urls[key] = built
        return built


def _community_slug() -> str:
    from .communities.routing import current_community

    return current_community().slug


def create_app(config: dict | None = None, **overrides) -> Flask:
    """Build the app. Configuration: defaults, instance/config.py, environment, arguments."""
    instance_path = overrides.pop("instance_path", None) or os.environ.get("LINLI_INSTANCE") \
        or str(ROOT / "instance")
    app = LinliFlask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    app.config.update(config or {})
    app.config.update(overrides)

    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{Path(instance_path) / 'linli.db'}"
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance_path)

    # A misspelt name in a template fails loudly instead of rendering as nothing.
    app.jinja_env.undefined = StrictUndefined
    _init_extensions(app)
    from . import inputs

    inputs.init_app(app)  # before the blueprints: their <int:...> rules take its converter
    from .communities import routing, settings

    routing.init_app(app)  # first: every later step of a request works in its community
    settings.init_app(app)
    _register_blueprints(app)
    from .kiosk import page_cache

    page_cache.init_app(app)  # after the routing: a kept page's key is read ahead of it

    from . import assets, cli, errors, labels, polls, security, web

    web.init_app(app)
    polls.init_app(app)  # before security's proxy fix: it sees the scheme Flask sees
    labels.init_app(app)
    assets.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from .communities.settings import community_zone
    from . import i18n
    from .i18n import select_locale

    db.init_app(app)
    if os.environ.get("LINLI_SERVING") != "1":
        init_migrations(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=community_zone)
    i18n.init_app(app)
    htmx.init_app(app)
    login.init_app(app)
    login.login_view = "staff.home"
    login.login_message = None  # the sign-in page says what to do
    # Sessions live on the server (app/staff/services.py) and end there; Flask-Login's
    # own protection would only rewrite the cookie of every anonymous kiosk visit.
    login.session_protection = None


def _register_blueprints(app: Flask) -> None:
    from .cases import bp as cases_bp
    from .classes import bp as classes_bp
    from .experts import bp as experts_bp
    from .friends import bp as friends_bp
    from .home import bp as home_bp
    from .households import bp as households_bp
    from .kiosk import bp as kiosk_bp
    from .notices import bp as notices_bp
    from .staff import bp as staff_bp
    from .wall import bp as wall_bp

    from .communities.routing import PREFIX

    app.register_blueprint(kiosk_bp)
    app.register_blueprint(staff_bp)
    # What residents see is a community's: its pages are under /c/<slug>/.
    for public in (home_bp, cases_bp, classes_bp, experts_bp, friends_bp, households_bp, notices_bp, wall_bp):
        app.register_blueprint(public, url_prefix=PREFIX + (public.url_prefix or ""))
