"""Connection settings every database connection gets: a ping for a connection that sat idle
in the pool, SQLite's pragmas, and SQLite's writers taking turns."""

import fcntl
import os
import sqlite3
import threading
import time

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

BUSY_TIMEOUT_MS = 5000
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
# A pooled connection idle this long is pinged before use: a database server restarted, or a
# firewall that dropped the idle connection, costs a reconnect instead of a failed request.
# Connections in steady use (every request of a busy minute) are not pinged at all, where
# pool_pre_ping would add a round trip to every checkout.
PING_AFTER_IDLE_SECONDS = 10.0


@event.listens_for(Pool, "checkin")
def _note_idle_since(dbapi_connection, record) -> None:
    if dbapi_connection is not None:
        record.info["linli_idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """A file on this machine does not drop connections: SQLite's are never pinged."""
    since = record.info.get("linli_idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS \
            or isinstance(dbapi_connection, sqlite3.Connection):
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # the driver's own error for a dropped connection
        raise DisconnectionError("the pooled connection no longer answers") from error  # the pool reconnects


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL lets readers and one writer work at once; busy_timeout waits for the lock
    instead of failing with "database is locked"; SQLite enforces foreign keys only
    when asked, per connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _WriterTurn:
    """One writer at a time for one database file, handed on the moment it is free.

    SQLite lets one connection write at a time; the others wait in its busy handler, which
    sleeps and looks again after 1, 2, 5 … up to 100 ms. In a rush of sign-ups most of that
    sleep is idle time while the lock is long free. Here the threads of one process queue on
    a lock that wakes the next at once, and the one thread at the head of each process waits
    for an flock on a file beside the database (`<database>-writer`), polled every
    fraction of a millisecond. An flock goes with its process: a worker that dies holding it
    frees it. A wait longer than SQLite's busy timeout gives up and leaves the turn to
    SQLite's own lock, as without this."""

    def __init__(self, path: str):
        self.path = path
        self._start_afresh()

    def _start_afresh(self) -> None:
        """A new process (a forked worker) queues its own threads and opens its own file:
        one shared with its parent would share the parent's flock."""
        if getattr(self, "fd", None) is not None:
            os.close(self.fd)  # the parent's copy; closing it here leaves the parent's lock as it is
        self.threads = threading.Lock()
        self.holder = None
        self.fd = None

    def _file(self) -> int:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self.fd

    def take(self) -> bool:
        me = threading.get_ident()
        if self.holder == me:  # a second connection of this thread: SQLite decides, as without turns
            return False
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        if not self.threads.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            return False
        pause = 0.00005
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        self.threads.release()
                        return False
                    time.sleep(pause)
                    pause = min(pause * 2, 0.0005)
        except OSError:  # no file beside the database (read-only folder): SQLite's lock alone
            self.threads.release()
            return False
        self.holder = me
        return True

    def give_back(self) -> None:
        self.holder = None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_turns: dict[str, _WriterTurn] = {}
_turns_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _turns_lock
    _turns_lock = threading.Lock()
    for turn in _turns.values():
        turn._start_afresh()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _turn_for(database: str) -> _WriterTurn | None:
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    path = os.path.abspath(database) + "-writer"
    with _turns_lock:
        return _turns.setdefault(path, _WriterTurn(path))


class _TurnCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        return self.connection._in_turn(super().execute, sql, parameters)

    def executemany(self, sql, parameters):
        return self.connection._in_turn(super().executemany, sql, parameters)


class TurnTakingConnection(sqlite3.Connection):
    """A SQLite connection that takes its writer's turn before the statement that opens a write
    transaction (the ones before which sqlite3 itself begins one) and gives it back when the
    transaction ends: commit, rollback, close, or a failed statement that left none open."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._turn = _turn_for(os.fspath(database))
        self._holding = False

    def cursor(self, factory=_TurnCursor):
        return super().cursor(factory)

    def execute(self, sql, parameters=()):  # sqlite3's own shortcut makes a plain cursor
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, parameters):
        return self.cursor().executemany(sql, parameters)

    def _in_turn(self, run, sql, parameters):
        if self._turn is not None and not self._holding and not self.in_transaction \
                and sql.lstrip()[:6].upper() in _WRITES:
            self._holding = self._turn.take()
        try:
            return run(sql, parameters)
        finally:
            self._after()

    def _after(self) -> None:
        if self._holding and not self.in_transaction:
            self._give_back()

    def _give_back(self) -> None:
        self._holding = False
        self._turn.give_back()

    def commit(self):
        try:
            return super().commit()
        finally:
            self._after()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._after()

    def close(self):
        try:
            return super().close()
        finally:
            if self._holding:
                self._give_back()


def sqlite_engine_options(options: dict) -> dict:
    """Engine options for a SQLite database file: writers that take turns."""
    connect_args = {**options.get("connect_args", {}), "factory": TurnTakingConnection}
    return {**options, "connect_args": connect_args}
