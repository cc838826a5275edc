"""Extensions, created unbound; create_app binds them."""

from functools import cached_property
from pathlib import Path

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints, so that migrations can alter them on SQLite and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        """The messages' domain, whose catalog each request looks up once (app/i18n.py)."""
        from .i18n import RequestDomain

        return RequestDomain(domain=self.domain)


babel = _Babel()
htmx = Htmx()
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def init_migrations(app):
    """Alembic through Flask-Migrate, for `flask db`, `flask init` and restores. The web
    server's workers never migrate (app/gunicorn_conf.py sets LINLI_SERVING), so they
    leave Alembic, Mako and Pygments unimported: about 12 MB less per worker."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    return app.extensions["migrate"]
login = LoginManager()
