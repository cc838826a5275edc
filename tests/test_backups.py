"""Backups on the database the suite runs on: SQLite (VACUUM INTO), or PostgreSQL when
DATABASE_URL names one (pg_dump and pg_restore, which must then be installed).

`flask backup` while a real gunicorn takes writes; `flask restore` round trips, migrations
of an older backup, and refusals that change nothing; the console's backups page.
Tests that concern one database only are defined only for it.
"""

import hashlib
import itertools
import re
import sqlite3
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest
from flask import appcontext_pushed
from flask_babel import gettext
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, delete, insert, inspect, select

from app import backups, create_app
from app.audit import AuditEntry
from app.clock import utcnow
from app.extensions import db
from app.kiosk import devices
from app.wall.models import Post
from tests.conftest import work_in_first_community, DATABASE_URL, ON_POSTGRES, empty_tables, reset_postgres
from tests.e2e.conftest import _serve
from tests.e2e.test_rate_limits import RECEIPT_IN_HTML, Device

ENGINE = "PostgreSQL" if ON_POSTGRES else "SQLite"
SUFFIX = ".dump" if ON_POSTGRES else ".db"
OLDER_REVISION = "0006_matchmaking"  # before 0007 added a table and two columns
WRITER_THREADS = 4
SEEDED_POSTS = 20_000
# The server's own limits would stop one kiosk's stream of posts.
BUSY_SERVER_CONFIG = "RATE_LIMITS = {'wall-post': '100000 per minute'}\n"
BACKUP_WRITTEN = re.compile(r"Backup written: (\S+) \(")
SAFETY_COPY = re.compile(r"Safety copy of the database as it was: (\S+)")


_receipts = itertools.count()


def _post_rows(texts):
    # Receipt codes the wall never hands out (it uses digits only), so none collides with a real post's.
    return [{"kind": "wish", "text": text, "public_text": text, "text_key": hashlib.sha1(text.encode()).hexdigest(),
             "state": "approved", "receipt_code": f"T{next(_receipts):07d}", "posted_by": "test"} for text in texts]


def _add_posts(*texts: str) -> None:
    db.session.execute(insert(Post), _post_rows(texts))
    db.session.commit()


def _add_posts_before_communities(*texts: str) -> None:
    """Posts at OLDER_REVISION, whose wall_posts table has no community yet (and still the
    problem columns that cases took over)."""
    reflected = Table("wall_posts", MetaData(), autoload_with=db.engine)
    defaults = {"nickname": "", "location": "", "check_reasons": "", "needs_review": False, "pinned": False,
                "reports_hidden": False, "report_count": 0, "created_at": utcnow(), "reject_reason": "", "reply": ""}
    db.session.execute(insert(reflected), [{**defaults, **row} for row in _post_rows(texts)])
    db.session.commit()


def _delete_post(text: str) -> None:
    db.session.execute(delete(Post).where(Post.text == text))
    db.session.commit()


def _texts() -> set[str]:
    return set(db.session.scalars(select(Post.text)))


def _audit_actions() -> list[tuple[str, str, str]]:
    return [(entry.actor_kind, entry.action, entry.detail)
            for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _said(app, message: str, **params) -> str:
    """A message as the command line prints it: in the site's language, outside any request."""
    with app.app_context():
        return gettext(message, **params)


def _files(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def _backup_texts(path: Path) -> set[str]:
    """The wall posts a backup file holds, read without restoring it."""
    if ON_POSTGRES:
        data = subprocess.run(["pg_restore", "--data-only", "--table=wall_posts", "--file=-", str(path)],
                              capture_output=True, text=True, check=True).stdout
        texts, column = set(), None
        for line in data.splitlines():
            if line.startswith("COPY public.wall_posts ("):
                column = line.partition("(")[2].partition(")")[0].split(", ").index("text")
            elif line == "\\.":
                column = None
            elif column is not None:
                texts.add(line.split("\t")[column])
        return texts
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {row[0] for row in connection.execute("SELECT text FROM wall_posts")}
    finally:
        connection.close()


def _sqlite_file(path: Path, *statements: str) -> Path:
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()
    return path


def _assert_sound(path: Path) -> None:
    if ON_POSTGRES:
        listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
        assert listing.returncode == 0 and "TABLE public wall_posts" in listing.stdout, listing.stderr
        return
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


# --- a backup while a real server takes writes -------------------------------------------

def _kiosk(server, server_app) -> Device:
    """A kiosk of the server's, enrolled as staff would (in-process: no `flask` start-up)."""
    device = Device(server.url)
    device.open_home()
    status, _headers, body = device.post("/device/pairing")
    assert status == 200, body
    with server_app.app_context():
        devices.enroll(re.search(r'id="pairing-code">(\w+)<', body).group(1), "备份测试大厅")
    status, headers, _body = device.post("/device/pairing")
    assert status == 200 and headers.get("HX-Refresh") == "true"
    return device


@pytest.fixture
def server_instance(request, tmp_path):
    """An instance folder for a gunicorn of this test's own; on PostgreSQL it shares the
    test database, emptied first (on SQLite the server has instance/linli.db)."""
    if ON_POSTGRES:
        empty_tables(request.getfixturevalue("migrated_database"))
    instance = tmp_path / "server"
    instance.mkdir()
    return instance


def test_a_backup_taken_under_load_holds_every_acknowledged_write(server_instance):
    with _serve(server_instance, workers=2, extra_config=BUSY_SERVER_CONFIG) as server:
        server_app = create_app(instance_path=str(server_instance), SQLALCHEMY_DATABASE_URI=server.database_url)
        appcontext_pushed.connect(work_in_first_community, server_app)
        with server_app.app_context():
            # Enough data that the copy takes a while: writes overlap it.
            for start in range(0, SEEDED_POSTS, 5_000):
                db.session.execute(insert(Post), _post_rows(
                    f"早先的帖子 {n}：" + "社区花园周六上午整理，欢迎大家一起来。" * 4
                    for n in range(start, start + 5_000)))
            db.session.commit()
        kiosk = _kiosk(server, server_app)

        stop = threading.Event()
        done = []  # (text, sent at, answered at) of acknowledged posts
        failed = []

        def write(thread: int) -> None:
            for n in range(100_000):
                if stop.is_set():
                    return
                text = f"备份时的留言 {thread}-{n}"
                sent = time.monotonic()
                try:
                    status, _headers, body = kiosk.post_to_wall(text)
                except OSError as error:  # refused, reset, timed out: a failed write too
                    status, body = None, repr(error)
                if status == 200 and RECEIPT_IN_HTML.search(body):
                    done.append((text, sent, time.monotonic()))
                else:
                    failed.append((status, body[:300]))

        writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITER_THREADS)]
        for writer in writers:
            writer.start()
        try:
            time.sleep(0.5)
            with server_app.app_context():
                started = time.monotonic()
                made = backups.make_backup()
                ended = time.monotonic()
            time.sleep(0.3)
        finally:
            stop.set()
            for writer in writers:
                writer.join()
            with server_app.app_context():
                db.engine.dispose()
        log = server.log_text()

    in_flight = [answered - sent for _text, sent, answered in done if sent < ended and answered > started]
    others = [answered - sent for _text, sent, answered in done if not (sent < ended and answered > started)]
    print(f"\n{ENGINE} backup of {made.size:,} bytes ({SEEDED_POSTS:,} posts) took {made.seconds:.3f} s; "
          f"{len(done)} posts acknowledged, {len(failed)} failed; {len(in_flight)} overlapped the backup "
          f"(slowest {max(in_flight, default=0) * 1000:.0f} ms; the others' slowest "
          f"{max(others, default=0) * 1000:.0f} ms, median {statistics.median(others or [0]) * 1000:.0f} ms)")
    assert failed == []
    assert "database is locked" not in log and "Traceback" not in log
    assert in_flight, "no write overlapped the backup: the test proved nothing"
    assert made.path.parent == server_instance / "backups" and backups.NAME.match(made.name)
    _assert_sound(made.path)
    acknowledged_before = {text for text, _sent, answered in done if answered < started}
    assert acknowledged_before and acknowledged_before <= _backup_texts(made.path)


# --- restoring ---------------------------------------------------------------------------

def _backup(runner) -> Path:
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    return Path(BACKUP_WRITTEN.search(result.output).group(1))


def test_restore_brings_back_the_data_as_it_was_and_keeps_a_safety_copy(app, run_in_app):
    runner = app.test_cli_runner()
    run_in_app(_add_posts, "备份前的帖子一", "备份前的帖子二")
    backup = _backup(runner)
    assert backup.parent == Path(app.instance_path) / "backups" and backup.suffix == SUFFIX
    run_in_app(_delete_post, "备份前的帖子一")
    run_in_app(_add_posts, "备份后的帖子")

    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    assert run_in_app(_texts) == {"备份前的帖子一", "备份前的帖子二"}
    assert ("system", "backup-restored") in [entry[:2] for entry in run_in_app(_audit_actions)]
    safety_copy = Path(SAFETY_COPY.search(result.output).group(1))
    assert safety_copy.parent == backup.parent and safety_copy.name.startswith("before-restore-")
    assert backups.NAME.match(safety_copy.name)

    # The safety copy holds the database as it was just before.
    _assert_sound(safety_copy)
    assert _backup_texts(safety_copy) == {"备份前的帖子二", "备份后的帖子"}


def test_restore_asks_first_and_a_no_changes_nothing(app, run_in_app):
    runner = app.test_cli_runner()
    run_in_app(_add_posts, "问过再说")
    backup = _backup(runner)
    run_in_app(_add_posts, "还在这里")
    result = runner.invoke(args=["restore", str(backup)], input="n\n")
    assert result.exit_code != 0
    assert "server must be stopped" in result.output
    assert run_in_app(_texts) == {"问过再说", "还在这里"}
    assert _files(backup.parent) == {backup.name}


def _older_backup(app, tmp_path) -> Path:
    """A backup made at OLDER_REVISION, the live database being at the newest again."""
    if ON_POSTGRES:
        with app.app_context():
            db.engine.dispose()
            reset_postgres(DATABASE_URL)
            upgrade(revision=OLDER_REVISION)
            _add_posts_before_communities("旧版本的帖子")
            # pg_dump as make_backup runs it, without its audit entry: this release's audit
            # table has columns the older schema lacks.
            path = tmp_path / "older.dump"
            backups._pg_dump_checked(path)
            upgrade()
        return path
    path = tmp_path / "older.db"
    older = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"},
                       instance_path=str(tmp_path / "older-instance"))
    with older.app_context():
        upgrade(revision=OLDER_REVISION)
        _add_posts_before_communities("旧版本的帖子")
        db.engine.dispose()
    return path


def test_an_older_backup_is_migrated_to_this_version(app, run_in_app, tmp_path):
    older = _older_backup(app, tmp_path)
    run_in_app(_add_posts, "新版本的帖子")
    result = app.test_cli_runner().invoke(args=["restore", str(older), "--yes"])
    assert result.exit_code == 0, result.output

    def schema():
        inspector = inspect(db.engine)
        return (db.session.scalar(db.text("SELECT version_num FROM alembic_version")),
                "kiosk_handoffs" in inspector.get_table_names(),
                {column["name"] for column in inspector.get_columns("notices")})

    with app.app_context():
        head = backups._head_revision()
    revision, has_new_table, notice_columns = run_in_app(schema)
    assert f"(revision {OLDER_REVISION}); the database is now at {head}" in result.output
    assert revision == head and has_new_table and {"updated_at", "updated_by"} <= notice_columns
    assert run_in_app(_texts) == {"旧版本的帖子"}


def _foreign_backups(app, tmp_path) -> list[tuple[str, Path]]:
    """Files a careless hand might pass to restore, with what restore must say of each."""
    junk = tmp_path / "notes.txt"
    junk.write_text("这不是数据库\n" * 100)
    some_sqlite = _sqlite_file(tmp_path / "other-app.db", "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    not_linli = "%(path)s is a database, but not a backup of linli."
    if ON_POSTGRES:
        other_dump = tmp_path / "other-app.dump"
        with app.app_context():
            environment = backups._pg_environment()
        # A real pg_dump archive, of a database without linli's migration table.
        subprocess.run(["pg_dump", "--format=custom", f"--file={other_dump}", "--table=wall_posts"],
                       env=environment, check=True)
        not_a_dump = "%(path)s is not a pg_dump archive (custom format)."
        return [(_said(app, not_a_dump, path=junk), junk), (_said(app, not_a_dump, path=some_sqlite), some_sqlite),
                (_said(app, not_linli, path=other_dump), other_dump)]
    newer = _sqlite_file(tmp_path / "unknown-revision.db",
                         "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",
                         "INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    return [(_said(app, "%(path)s is not a SQLite database.", path=junk), junk),
            (_said(app, not_linli, path=some_sqlite), some_sqlite),
            (_said(app, "%(path)s was made by a version of linli this one does not know (revision %(revision)s).",
                   path=newer, revision="9999_from_the_future"), newer)]


def test_restore_refuses_what_is_not_a_backup_of_linli_and_changes_nothing(app, run_in_app, tmp_path):
    runner = app.test_cli_runner()
    run_in_app(_add_posts, "不能丢的帖子")
    backups_folder = Path(app.instance_path) / "backups"
    missing = tmp_path / "missing.db"
    refusals = [(_said(app, "There is no file %(path)s.", path=missing), missing), *_foreign_backups(app, tmp_path)]
    for message, path in refusals:
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code != 0, (path, result.output)
        assert message in result.output and "Traceback" not in result.output, result.output
        assert run_in_app(_texts) == {"不能丢的帖子"}
        assert _files(backups_folder) == set(), "a refused restore made a safety copy"
    assert "backup-restored" not in [entry[1] for entry in run_in_app(_audit_actions)]


if not ON_POSTGRES:
    def test_restore_refuses_while_the_database_is_in_use(app, run_in_app, database_url):
        runner = app.test_cli_runner()
        run_in_app(_add_posts, "服务器还开着")
        backup = _backup(runner)
        run_in_app(_add_posts, "之后的帖子")
        server = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            server.execute("SELECT count(*) FROM wall_posts").fetchone()  # a connection like a worker's
            result = runner.invoke(args=["restore", str(backup), "--yes"])
        finally:
            server.close()
        in_use = _said(app, "The database is in use. Stop the server (e.g. systemctl stop linli) before restoring, "
                            "then start it again.")
        assert result.exit_code != 0 and in_use in result.output, result.output
        assert run_in_app(_texts) == {"服务器还开着", "之后的帖子"}
        assert _files(backup.parent) == {backup.name}

    def test_backup_never_overwrites_and_writes_checked_files(app, run_in_app, tmp_path):
        runner = app.test_cli_runner()
        run_in_app(_add_posts, "一条")
        first, second = _backup(runner), _backup(runner)
        assert first != second and first.exists() and second.exists()
        _assert_sound(first)
        assert first.stat().st_mode & 0o077 == 0, "backups hold personal data: owner only"
        taken = tmp_path / "taken.db"
        taken.write_bytes(b"someone else's file")
        refused = runner.invoke(args=["backup", "--to", str(taken)])
        assert refused.exit_code != 0
        assert _said(app, "%(path)s exists already; a backup never overwrites a file.", path=taken) in refused.output
        assert taken.read_bytes() == b"someone else's file"
        into_folder = runner.invoke(args=["backup", "--to", str(tmp_path)])
        assert into_folder.exit_code == 0, into_folder.output
        written = Path(BACKUP_WRITTEN.search(into_folder.output).group(1))
        assert written.parent == tmp_path and _backup_texts(written) == {"一条"}
        assert not [name for name in _files(first.parent) | _files(tmp_path) if name.startswith(".")], \
            "a draft was left behind"


def test_pg_dump_gets_no_password_on_its_command_line(make_app, monkeypatch):
    # No connection is made: this holds whichever database the suite runs on.
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql://linli:s3cret-word@db.example:6543/linli?sslmode=require")
    with app.app_context():
        environment = backups._pg_environment()
    assert environment["PGPASSWORD"] == "s3cret-word" and environment["PGHOST"] == "db.example"
    assert environment["PGPORT"] == "6543" and environment["PGSSLMODE"] == "require"
    assert environment["PGDATABASE"] == "linli"
    seen = []
    monkeypatch.setattr(backups.shutil, "which", lambda program: f"/usr/bin/{program}")
    monkeypatch.setattr(backups.subprocess, "run", lambda arguments, **kwargs: seen.append(arguments) or
                        subprocess.CompletedProcess(arguments, 1, "", "could not translate host name"))
    with app.app_context(), pytest.raises(backups.BackupError, match="could not translate host name"):
        backups.make_backup()
    assert seen and seen[0][0] == "pg_dump"
    assert not [argument for arguments in seen for argument in arguments if "s3cret" in argument]


if ON_POSTGRES:
    def test_without_pg_dump_the_command_and_the_console_say_what_to_do(app, staff_client, monkeypatch, tmp_path):
        admin = staff_client("boss", "admin")
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump, no pg_restore
        runner = app.test_cli_runner()
        made = runner.invoke(args=["backup"])
        assert made.exit_code != 0 and "pg_dump --format=custom" in made.output, made.output
        restored = runner.invoke(args=["restore", str(tmp_path / "x.dump"), "--yes"])
        assert restored.exit_code != 0 and "pg_restore --clean --if-exists" in restored.output, restored.output
        page = admin.get("/staff/backups")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert 'id="backups-unavailable"' in text and "pg_dump --format=custom" in text
        assert 'action="/staff/backups"' not in text
        refused = admin.post("/staff/backups")
        assert refused.status_code == 422 and "pg_dump --format=custom" in refused.get_data(as_text=True)


# --- the console -------------------------------------------------------------------------

def test_admin_makes_lists_and_downloads_backups(app, staff_client, run_in_app):
    admin = staff_client("boss", "admin")
    run_in_app(_add_posts, "控制台备份")
    empty = admin.get("/staff/backups")
    assert empty.status_code == 200 and 'id="backup-list"' not in empty.get_data(as_text=True)
    assert 'href="/staff/backups"' in empty.get_data(as_text=True), "the nav links to the page"

    made = admin.post("/staff/backups")
    assert made.status_code == 303
    name = re.search(r"made=([\w.-]+)", made.headers["Location"]).group(1)
    assert backups.NAME.match(name) and name.endswith(SUFFIX)
    page = admin.get(made.headers["Location"]).get_data(as_text=True)
    assert f'href="/staff/backups/{name}"' in page and _said(app, "Backup made: %(name)s", name=name) in page
    forged = admin.get("/staff/backups?made=linli-20990101-000000.db").get_data(as_text=True)
    assert _said(app, "Backup made: %(name)s", name="linli-20990101-000000.db") not in forged

    # With htmx the button swaps #main; a second backup in the same second gets a name of its own.
    again = admin.post("/staff/backups", headers={"HX-Request": "true", "HX-Target": "main"})
    fragment = again.get_data(as_text=True)
    assert again.status_code == 200 and fragment.startswith("<title>") and "<!doctype" not in fragment
    names = re.findall(r'href="/staff/backups/([\w.-]+)"', fragment)
    assert len(names) == 2 and name in names

    download = admin.get(f"/staff/backups/{name}")
    path = Path(app.instance_path) / "backups" / name
    assert download.status_code == 200 and download.data == path.read_bytes()
    assert download.headers["Content-Disposition"] == f"attachment; filename={name}"
    assert download.headers["Cache-Control"] == "no-store"
    download.close()
    entries = [entry for entry in run_in_app(_audit_actions) if entry[1].startswith("backup-")]
    assert [entry[:2] for entry in entries] == [("staff", "backup-made"), ("staff", "backup-made"),
                                                ("staff", "backup-downloaded")]
    assert name in entries[0][2] and name in entries[2][2], "the audit log names the file"


def _listed_backup(app) -> str:
    """A file in the backups folder under a backup's name, as if made earlier."""
    folder = Path(app.instance_path) / "backups"
    folder.mkdir(exist_ok=True)
    name = f"linli-20250301-142233{SUFFIX}"
    (folder / name).write_bytes(b"a backup made earlier")
    return name


def test_only_listed_backups_can_be_downloaded(app, staff_client, run_in_app):
    admin = staff_client("boss", "admin")
    listed = _listed_backup(app)
    assert admin.get(f"/staff/backups/{listed}").data == b"a backup made earlier"
    folder = Path(app.instance_path) / "backups"
    (folder / "notes.txt").write_text("not a backup")
    (folder / "x.db").write_text("not a backup either")
    (folder / f"linli-20250101-000000{SUFFIX}").symlink_to(Path(app.instance_path) / "secret_key")
    (Path(app.instance_path) / "linli.db").write_bytes(b"outside the folder")
    for crafted in ("../linli.db", "..%2Flinli.db", "x.db", "notes.txt", "..", "%2e%2e",
                    f"linli-20250101-000000{SUFFIX}", f"linli-20250101-000001{SUFFIX}", "secret_key"):
        response = admin.get(f"/staff/backups/{crafted}")
        assert response.status_code == 404, crafted
    assert [entry[1] for entry in run_in_app(_audit_actions) if entry[1].startswith("backup-")] == \
        ["backup-downloaded"], "only the listed backup was served"


def test_staff_who_are_not_admins_get_403(app, staff_client, run_in_app):
    # tests/staff/test_access.py asks every route as every role; this one asks with a real file.
    name = _listed_backup(app)
    moderator = staff_client("mod", "moderator")
    assert moderator.get("/staff/backups").status_code == 403
    assert moderator.post("/staff/backups").status_code == 403
    assert moderator.get(f"/staff/backups/{name}").status_code == 403
    assert 'href="/staff/backups"' not in moderator.get("/staff/").get_data(as_text=True)
    assert [entry[1] for entry in run_in_app(_audit_actions) if entry[1].startswith("backup-")] == []
    assert _files(Path(app.instance_path) / "backups") == {name}
