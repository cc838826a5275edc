"""SQLite connection settings, and migrations that match the models on every database."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db


def test_every_sqlite_connection_gets_the_pragmas(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"},
                     instance_path=str(tmp_path))
    with app.app_context():
        for _ in range(2):  # a fresh pooled connection each time
            with db.engine.connect() as connection:
                def pragma(name):
                    return connection.execute(text(f"PRAGMA {name}")).scalar()

                assert pragma("journal_mode") == "wal"
                assert pragma("synchronous") == 1  # NORMAL
                assert pragma("busy_timeout") == 5000
                assert pragma("foreign_keys") == 1
            db.engine.dispose()


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_migrations_go_down_and_up_again(tmp_path):
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"},
                     instance_path=str(tmp_path))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"notices", "staff_members", "site_flags"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == tables


# --- SQLite's writers take turns (app/connections.py) ------------------------------------------------

def _turn_taking(path, **kwargs):
    import sqlite3

    from app.connections import TurnTakingConnection

    connection = sqlite3.connect(path, factory=TurnTakingConnection, **kwargs)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def _flock_is_free(path) -> bool:
    """Whether a process other than a holder could take the turn's file lock now."""
    import fcntl
    import os

    fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing frees a lock this descriptor took
    return True


def test_a_sqlite_writer_holds_its_turn_from_its_first_write_to_the_end_of_its_transaction(tmp_path):
    import sqlite3

    path = str(tmp_path / "turns.db")
    connection = _turn_taking(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    turn = connection._turn
    assert not turn.threads.locked()

    connection.execute("SELECT count(*) FROM notes").fetchone()  # reading takes no turn
    assert not turn.threads.locked()

    for end in ("commit", "rollback", "close"):
        if end == "close":
            connection = _turn_taking(path)
            turn = connection._turn
        connection.execute("INSERT INTO notes VALUES ('a')")
        assert turn.threads.locked() and not _flock_is_free(path)
        assert turn.take() is False  # a second connection of this thread leaves it to SQLite's lock, never waits
        getattr(connection, end)()
        assert not turn.threads.locked() and _flock_is_free(path), end

    connection = _turn_taking(path)
    with pytest.raises(sqlite3.OperationalError):
        connection.execute("INSERT INTO no_such_table VALUES (1)")  # failed before any transaction began
    assert not connection.in_transaction and not connection._turn.threads.locked() and _flock_is_free(path)
    connection.close()
    assert [row[0] for row in sqlite3.connect(path).execute("SELECT text FROM notes")] == ["a"]  # the commit only


def test_a_forked_worker_queues_afresh_and_still_waits_for_its_parents_turn(tmp_path):
    import os

    path = str(tmp_path / "turns.db")
    connection = _turn_taking(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.execute("INSERT INTO notes VALUES ('a')")
    turn = connection._turn
    assert turn.threads.locked()
    child = os.fork()
    if child == 0:  # the worker: its own queue and file, and the parent's write still holds the turn
        os._exit(0 if not turn.threads.locked() and turn.fd is None and not _flock_is_free(path) else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    connection.commit()
    assert _flock_is_free(path)
    connection.close()


def test_sqlite_writers_of_other_processes_wait_for_the_turn(tmp_path):
    """A worker process holding a write transaction holds the turn's file lock; this
    process's writer waits for it, then writes after it."""
    import subprocess
    import sys
    import threading

    path = str(tmp_path / "turns.db")
    setup = _turn_taking(path)
    setup.execute("CREATE TABLE notes (text TEXT)")
    setup.commit()
    setup.close()
    other = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys; from app.connections import TurnTakingConnection\n"
         f"c = sqlite3.connect({path!r}, factory=TurnTakingConnection)\n"
         "c.execute(\"INSERT INTO notes VALUES ('first')\"); print('holding', flush=True)\n"
         "sys.stdin.readline(); c.commit()"],
        cwd=str(Path(__file__).resolve().parent.parent), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "holding"
        assert not _flock_is_free(path)
        wrote = threading.Event()

        def write_second():
            connection = _turn_taking(path)
            connection.execute("INSERT INTO notes VALUES ('second')")
            connection.commit()
            connection.close()
            wrote.set()

        writer = threading.Thread(target=write_second)
        writer.start()
        assert not wrote.wait(timeout=0.5)  # waiting for the other process's turn
        other.stdin.write("\n")
        other.stdin.flush()
        assert other.wait(timeout=10) == 0
        writer.join(timeout=10)
        assert wrote.is_set()
    finally:
        other.kill()
    rows = sqlite3_rows(path, "SELECT text FROM notes ORDER BY rowid")
    assert rows == ["first", "second"]


def sqlite3_rows(path, query):
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute(query)]
    finally:
        connection.close()


def test_many_sqlite_writers_at_once_all_commit(tmp_path):
    import threading

    path = str(tmp_path / "turns.db")
    setup = _turn_taking(path)
    setup.execute("CREATE TABLE notes (writer INTEGER, n INTEGER)")
    setup.commit()
    setup.close()
    errors = []

    def write(writer):
        connection = _turn_taking(path, check_same_thread=False)
        try:
            for n in range(25):
                connection.execute("INSERT INTO notes VALUES (?, ?)", (writer, n))
                connection.execute("UPDATE notes SET n = n WHERE writer = ?", (writer,))
                connection.commit()
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sqlite3_rows(path, "SELECT count(*) FROM notes") == [150]


# --- a connection idle in the pool is pinged before use (app/connections.py) ---------------------------

def test_a_connection_idle_in_the_pool_is_pinged_and_replaced_if_it_dropped(app):
    """PostgreSQL: a server that dropped the idle connection costs a reconnect, not a failed
    request. SQLite: a file does not drop connections, and none is pinged."""
    from sqlalchemy import create_engine

    from app import connections

    with app.app_context():
        engine = db.engine
        engine.dispose()
        seen = []
        with engine.connect() as connection:
            record = connection.connection._connection_record
            dbapi_connection = connection.connection.dbapi_connection
            if engine.dialect.name == "postgresql":
                first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            else:
                dbapi_connection.set_trace_callback(seen.append)
        record.info["linli_idle_since"] -= connections.PING_AFTER_IDLE_SECONDS + 1
        if engine.dialect.name == "postgresql":
            other = create_engine(engine.url)
            with other.connect() as connection:
                assert connection.exec_driver_sql("SELECT pg_terminate_backend(%s)", (first,)).scalar() is True
            other.dispose()
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT 1").scalar() == 1
                assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != first
        else:
            with engine.connect() as connection:
                assert connection.connection.dbapi_connection is dbapi_connection  # the idle one, reused
                connection.exec_driver_sql("SELECT 2").scalar()
            dbapi_connection.set_trace_callback(None)
            assert seen == ["SELECT 2"]
        engine.dispose()
