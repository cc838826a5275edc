"""Fixtures: a fresh app and database per test, with no app context held while the
client runs (a held context leaks the cached locale and CSRF token between requests).

The database is SQLite unless DATABASE_URL names another (CI runs the suite again on
PostgreSQL). Migrations run once per session; each test then starts from that state.
"""

import os
import shutil
import uuid

import pytest
from flask import appcontext_pushed, g
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.communities.scope import Scope
from app.extensions import db



def _own_database_per_worker(url: str | None) -> str | None:
    """With the suite spread over processes (pytest-xdist), each worker on PostgreSQL gets a
    database of its own (test_gw0, test_gw1…), made here if missing; the URL is put back in
    the environment, so the servers and tools the tests start use it too."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not url.startswith("postgres") or not worker:
        return url
    from urllib.parse import urlsplit, urlunsplit

    from app.config import normalise_database_url

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'test'}_{worker}"
    engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    own = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = own
    return own


DATABASE_URL = _own_database_per_worker(os.environ.get("DATABASE_URL"))
ON_POSTGRES = bool(DATABASE_URL) and DATABASE_URL.startswith("postgres")
TEST_SECRET = "test-secret-key-not-for-production"
# The community every database starts with (migration 0009 makes it); its pages are /c/main/.
FIRST_COMMUNITY = 1


def _app_config(url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        # With REDIS_URL set (the district mode), each app counts in a namespace of its own:
        # every test's database numbers its kiosks from 1.
        "RATE_LIMIT_NAMESPACE": f"test-{uuid.uuid4().hex}",
        # argon2id at its cheapest: a test signs staff in by the hundred (each hash at the
        # default parameters takes 0.15 s); the parameters themselves are argon2-cffi's to test.
        "PASSWORD_HASH_PARAMETERS": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        **extra,
    }


def reset_postgres(url: str) -> None:
    """Drop everything in the test database, so migrations start from nothing."""
    from app.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def empty_tables(url: str) -> None:
    """Remove every row but the migration version, and restart the id sequences."""
    from app.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    tables = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
    if tables:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            # As after the migrations: the first community, whose pages are /c/main/.
            connection.execute(text("INSERT INTO communities (id, slug, name, name_en, settings, created_at)"
                                    " VALUES (1, 'main', '邻里屏', '', '{}', now())"))
            connection.execute(text("SELECT setval('communities_id_seq', 1)"))
            # As after the migrations: the district's case categories.
            connection.execute(text(
                "INSERT INTO case_categories (key, name, name_en, icon, first_handler, deadline_days, urgent_hours,"
                " private, position, active) VALUES (:key, :name, :name_en, 'problem', :first, :days, :hours,"
                " :private, :position, true)"),
                [{"key": key, "name": name, "name_en": name_en, "first": first, "days": days, "hours": hours,
                  "private": private, "position": position}
                 for position, (key, name, name_en, first, days, hours, private) in enumerate(_categories(), 1)])
    engine.dispose()


def _categories():
    """The categories migration 0010 starts every database with."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "app" / "migrations" / "versions" / "0010_cases.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CATEGORIES


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The URL of a database at the newest migration: a template file on SQLite."""
    if ON_POSTGRES:
        reset_postgres(DATABASE_URL)
        url = DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'linli.db'}"
    app = create_app(_app_config(url), instance_path=str(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        # Closing every connection checkpoints SQLite's WAL into the file copied below.
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(migrated_database, tmp_path):
    """A database of this test's own, already migrated and empty."""
    if ON_POSTGRES:
        empty_tables(migrated_database)
        return migrated_database
    path = tmp_path / "linli.db"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on this test's database; keyword arguments override the config."""

    def build(**config):
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        app = create_app(_app_config(database_url, **config), instance_path=str(instance))
        appcontext_pushed.connect(work_in_first_community, app)
        return app

    return build


def work_in_first_community(_app, **_):
    """A test's own app contexts (factories, checks of what was stored) work in the first
    community, as a command inside ``scope.within`` would. A request decides its community
    for itself (app/communities/routing.py sets it first thing, whatever was here)."""
    g.community_scope = Scope(FIRST_COMMUNITY)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_in_app(app):
    """Call a function inside an app context and return its result (ids, not objects)."""

    def run(function, *args, **kwargs):
        with app.app_context():
            return function(*args, **kwargs)

    return run


@pytest.fixture
def staff_client(app, run_in_app):
    """A client signed in as a new staff member: staff_client("mod", "moderator")."""
    from tests.factories import STAFF_PASSWORD, staff_member

    def sign_in(username: str, *roles: str, display_name: str | None = None):
        run_in_app(staff_member, username, *roles, display_name=display_name)
        client = app.test_client()
        response = client.post("/staff/sign-in", data={"username": username, "password": STAFF_PASSWORD})
        assert response.status_code == 303
        return client

    return sign_in


@pytest.fixture
def kiosk_client(app, run_in_app):
    """A client that is an enrolled kiosk (it may post, sign up, ask)."""
    from app.kiosk.devices import DEVICE_COOKIE
    from tests.factories import enrolled_kiosk

    _kiosk_id, token = run_in_app(enrolled_kiosk, "大厅")
    client = app.test_client()
    client.set_cookie(DEVICE_COOKIE, token)
    return client


@pytest.fixture
def coordinator(staff_client):
    """A client signed in as a coordinator (classes and experts)."""
    return staff_client("coord", "coordinator", display_name="课程专员小王")
