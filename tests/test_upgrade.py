"""A database from before communities upgrades into one community with every row.

The fixtures are databases made by the release before communities (migration head
0008_sign_in_throttle): `flask init` with its demo content, `flask seed --posts 60 --courses
4 --experts 6 --cards 6`, an enrolled kiosk, a moderator and a coordinator (one signed in),
a rate count and a phone handoff. tests/fixtures/before-communities.sqlite.db.gz is the SQLite
file; before-communities.postgresql.sql.gz is `pg_dump --no-owner --no-privileges` of the
same steps on PostgreSQL.
"""

import gzip
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, select, text

from app import create_app
from app.communities import scope
from app.communities.models import Community
from app.config import normalise_database_url
from app.extensions import db
from app.staff.models import Membership, StaffMember, StaffSession
from app.wall import services as wall
from app.wall.models import Post
from tests.conftest import DATABASE_URL, ON_POSTGRES, _app_config, reset_postgres

FIXTURES = Path(__file__).parent / "fixtures"
BEFORE = "0008_sign_in_throttle"
# Tables with no community: the platform's own and the staff's.
UNSCOPED = {"alembic_version", "site_flags", "staff_members", "staff_sessions", "sign_in_throttles",
            "kiosk_pairings", "communities", "community_slugs", "staff_memberships", "directory_expert_skills"}
# Tables a later migration renamed: 0010_cases moves the wall's grids to the cases.
MOVED = {"wall_grids": "case_grids"}


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        counts = {name: connection.scalar(text(f"SELECT count(*) FROM {name}"))
                  for name in inspect(engine).get_table_names()}
    engine.dispose()
    return counts


def _community_ids(url: str, tables) -> dict[str, set]:
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        found = {name: set(connection.scalars(text(f"SELECT DISTINCT community_id FROM {name}"))) for name in tables}
    engine.dispose()
    return found


def _sqlite_before(tmp_path) -> str:
    path = tmp_path / "before.db"
    with gzip.open(FIXTURES / "before-communities.sqlite.db.gz") as packed, open(path, "wb") as out:
        shutil.copyfileobj(packed, out)
    return f"sqlite:///{path}"


def _postgres_before() -> str:
    reset_postgres(DATABASE_URL)
    parts = urlsplit(DATABASE_URL)
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
           "PGUSER": parts.username or "", "PGDATABASE": parts.path.lstrip("/")}
    script = gzip.decompress((FIXTURES / "before-communities.postgresql.sql.gz").read_bytes())
    done = subprocess.run(["psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1"], input=script, env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return DATABASE_URL


def test_a_database_from_before_communities_becomes_one_community_with_every_row(tmp_path):
    url = _postgres_before() if ON_POSTGRES else _sqlite_before(tmp_path)
    before = _counts(url)
    assert before.pop("alembic_version") == 1
    assert before["wall_posts"] == 71 and before["class_signups"] == 90 and before["kiosks"] == 1
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        problems = connection.scalar(text("SELECT count(*) FROM wall_posts WHERE kind = 'problem'"))
    engine.dispose()
    assert problems > 0
    before = {MOVED.get(name, name): count for name, count in before.items()}
    app = create_app(_app_config(url), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == BEFORE
        upgrade()
        db.engine.dispose()

    after = _counts(url)
    assert {name: after[name] for name in before} == before, "a table lost or gained rows"
    scoped = sorted(set(before) - UNSCOPED)
    assert len(scoped) == 26
    assert _community_ids(url, scoped) == {name: ({1} if before[name] else set()) for name in scoped}
    # Every problem post became a case of the community, its card kept on the wall.
    assert after["cases"] == problems and _community_ids(url, ["cases"]) == {"cases": {1}}

    with app.app_context():
        assert [(c.id, c.slug) for c in db.session.scalars(select(Community))] == [(1, "main")]
        roles = dict(db.session.execute(select(StaffMember.username, StaffMember.roles)).all())
        assert roles == {"admin": "district-admin", "mod": "", "coord": ""}
        places = dict(db.session.execute(select(StaffMember.username, Membership.roles)
                                         .join(Membership, Membership.member_id == StaffMember.id)
                                         .where(Membership.community_id == 1)).all())
        assert places == {"admin": "admin", "mod": "moderator matchmaker", "coord": "coordinator"}
        assert set(db.session.scalars(select(StaffSession.community_id))) == {1}
        with scope.within(1):
            codes = db.session.scalars(select(Post.receipt_code)).all()
            assert len(codes) == 71 and all(wall.receipt(code) is not None for code in codes)
        db.engine.dispose()

    # The upgraded database serves the first community's pages, old links redirected.
    client = app.test_client()
    assert client.get("/wall/").headers["Location"] == "/c/main/wall/"
    page = client.get("/c/main/wall/")
    assert page.status_code == 200 and 'id="post-' in page.get_data(as_text=True)
