"""The second wall: PostgreSQL's row-level security keeps each community's rows to itself
even with the data layer's choke point switched off (COMMUNITY_QUERY_SCOPE = False).

PostgreSQL runs beside the suite (127.0.0.1:5432); these tests use it whichever database the
rest of the suite runs on: the suite's own when it runs on PostgreSQL, else a database of
their own on the same server. The first wall alone is shown on SQLite, which has no row
security (tests/test_communities.py).
"""

import os

import pytest
from flask import g
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.communities import scope
from app.communities.models import Community
from app.config import normalise_database_url
from app.extensions import db
from app.notices import services as notices
from app.wall import services as wall
from app.wall.models import Post
from tests.conftest import DATABASE_URL, ON_POSTGRES, _app_config, empty_tables, reset_postgres

SERVER = "postgresql://root@127.0.0.1:5432"
# One per pytest-xdist worker, as the suite's own database is.
OWN_DATABASE = "_".join(filter(None, ("linli_row_security", os.environ.get("PYTEST_XDIST_WORKER"))))
TEXT = {1: "幸福里的花开了", 2: "和平里的花开了"}


@pytest.fixture(scope="module")
def migrated_postgres(tmp_path_factory):
    if ON_POSTGRES:
        url = DATABASE_URL
    else:
        url = f"{SERVER}/{OWN_DATABASE}"
        server = create_engine(normalise_database_url(f"{SERVER}/test"), isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": OWN_DATABASE}):
                connection.execute(text(f"CREATE DATABASE {OWN_DATABASE}"))
        server.dispose()
    reset_postgres(url)
    app = create_app(_app_config(url), instance_path=str(tmp_path_factory.mktemp("rls-instance")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def pg_app(migrated_postgres, tmp_path):
    """An app on PostgreSQL with the choke point switched off: only row security scopes."""
    empty_tables(migrated_postgres)
    app = create_app(_app_config(migrated_postgres, COMMUNITY_QUERY_SCOPE=False),
                     instance_path=str(tmp_path / "instance"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _seed(app) -> dict:
    """Look-alike posts and notices in communities 1 and 2; their ids."""
    made = {}
    with app.app_context():
        db.session.add(Community(slug="hepingli", name="和平里社区"))
        db.session.commit()
        for community_id in (1, 2):
            with scope.within(community_id):
                receipt = wall.create_post("wish", TEXT[community_id], posted_by="test")
                post_id = db.session.scalar(select(Post.id).where(Post.receipt_code == receipt.code))
                wall.approve(post_id, None)
                made[community_id] = {"post": post_id, "notice": notices.add_notice("本周六义诊", ""),
                                      "code": receipt.code}
    return made


def test_row_security_alone_returns_none_of_another_communitys_rows(pg_app):
    made = _seed(pg_app)
    with pg_app.app_context():
        for community_id, other in ((1, 2), (2, 1)):
            with scope.within(community_id):
                assert db.session.scalars(select(Post.text)).all() == [TEXT[community_id]]
                assert db.session.scalar(select(func.count()).select_from(Post)) == 1
                assert db.session.get(Post, made[other]["post"]) is None
                assert wall.receipt(made[other]["code"]) is None or made[other]["code"] == made[community_id]["code"]
                # An unscoped UPDATE changes this community's rows only.
                assert db.session.execute(update(Post).values(pinned=True)).rowcount == 1
                db.session.commit()
        with scope.across("the test counts every community's posts"):
            assert db.session.scalar(select(func.count()).select_from(Post).where(Post.pinned)) == 2


def test_a_transaction_with_no_community_sees_nothing(pg_app):
    _seed(pg_app)
    with pg_app.app_context():
        g.community_scope = None
        assert db.session.scalars(select(Post)).all() == []
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0
        db.session.rollback()


def test_row_security_refuses_writing_into_another_community(pg_app):
    _seed(pg_app)
    with pg_app.app_context(), scope.within(1):
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(insert(Post), [{"community_id": 2, "kind": "wish", "text": "越界", "public_text": "越界",
                                               "text_key": "k", "state": "approved", "receipt_code": "X0000001",
                                               "posted_by": "test"}])
        db.session.rollback()


def test_the_database_scope_follows_each_change_inside_one_transaction(pg_app):
    """The scope is set just before the statement that needs it: changes with no statement
    between them set it once, and a savepoint rolled back, which undoes what was set after
    it, has it set again."""
    _seed(pg_app)

    def database_scope() -> tuple:
        return tuple(db.session.execute(text("SELECT current_user, current_setting('linli.community')")).one())

    with pg_app.app_context(), scope.within(1):
        assert database_scope() == (scope.SCOPED_ROLE, "1")
        with scope.across("the test changes scope twice with no statement between"):
            with scope.within(2):
                pass
            assert database_scope() == (scope.DISTRICT_ROLE, "")
        assert database_scope() == (scope.SCOPED_ROLE, "1")
        savepoint = db.session.begin_nested()
        with scope.within(2):
            assert database_scope() == (scope.SCOPED_ROLE, "2")
            savepoint.rollback()
            assert database_scope() == (scope.SCOPED_ROLE, "2")
            assert db.session.scalars(select(Post.text)).all() == [TEXT[2]]
        assert database_scope() == (scope.SCOPED_ROLE, "1")
        assert db.session.scalars(select(Post.text)).all() == [TEXT[1]]
        db.session.rollback()


def test_the_app_works_as_a_role_that_row_security_binds(pg_app):
    with pg_app.app_context(), scope.within(1):
        user, community, bypass = db.session.execute(text(
            "SELECT current_user, current_setting('linli.community'),"
            " (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)")).one()
        assert (user, community, bypass) == (scope.SCOPED_ROLE, "1", False)
    with pg_app.app_context(), scope.across("the test checks the district role"):
        assert db.session.scalar(text("SELECT current_user")) == scope.DISTRICT_ROLE


def test_pages_show_one_community_with_row_security_alone(pg_app):
    made = _seed(pg_app)
    client = pg_app.test_client()
    first = client.get("/c/main/wall/").get_data(as_text=True)
    second = client.get("/c/hepingli/wall/").get_data(as_text=True)
    assert TEXT[1] in first and TEXT[2] not in first
    assert TEXT[2] in second and TEXT[1] not in second
    assert client.get(f'/c/hepingli/notices/{made[1]["notice"]}').status_code == 404
    assert client.get(f'/c/main/notices/{made[1]["notice"]}').status_code == 200


def test_driver_reads_run_as_the_district_role_and_hold_no_transaction(pg_app):
    """The kept pages', polls' and routing's reads: on a pool of their own whose connections
    took the district role when they connected, and read with no transaction around."""
    from psycopg.pq import TransactionStatus

    from app.driver_reads import Statement, engine_of, read

    _seed(pg_app)
    engine = engine_of(pg_app)
    with pg_app.app_context():
        assert engine is not db.engine
    who = Statement(lambda: select(func.current_user(), func.current_setting("linli.community", True)))
    posts = Statement(lambda: select(func.count()).select_from(Post))
    assert read(engine, [(who, {}), (posts, {})]) == [[(scope.DISTRICT_ROLE, None)], [(2,)]]
    connection = engine.raw_connection()
    try:
        assert connection.driver_connection.autocommit
        assert connection.driver_connection.info.transaction_status == TransactionStatus.IDLE
    finally:
        connection.close()
    with pg_app.app_context():
        db.engine.dispose()
    assert engine.pool.checkedin() == 0  # let go with the app's own connections
