"""Reads that run on the database driver's own connection, outside the ORM.

What is answered on every tap and almost always the same (an unchanged poll, a page kept as
rendered) asks the database a handful of small questions. Through SQLAlchemy's execution
each costs more than the read itself, so these statements are compiled once per dialect to
the driver's SQL and run together on one connection from the engine's pool.

They run outside the session, so the community scope does not apply: each statement names
the community itself. On PostgreSQL they run as the district role, as `scope.across` does
(they read a device's row in whichever community it was enrolled), on a pool of their
own whose connections take that role once, when they connect, and run each statement as it
comes (autocommit): a read costs one round trip per statement, where a transaction of the
app's pool would add three (BEGIN, the role's set_config, ROLLBACK). They only ever read:
every statement is a SELECT built here.
"""

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Dialect, Engine, Executable, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from .communities.scope import DISTRICT_ROLE, note_row_security


class Statement:
    """A statement built once (by `build`, on first use) and compiled once per dialect."""

    def __init__(self, build: Callable[[], Executable]):
        self.build = build
        self._compiled: dict[str, tuple[str, tuple | None, dict]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, tuple | None, dict]:
        """Its SQL as the driver takes it, the order of its parameters (None where the driver
        takes them by name), and the values of its constants."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.build().compile(dialect=dialect)
            constants = {name: value for name, value in compiled.params.items() if value is not None}
            found = self._compiled[dialect.name] = (
                str(compiled), tuple(compiled.positiontup) if compiled.positional else None, constants)
        return found


def stored_time(value: datetime | str | None) -> datetime | None:
    """A timestamp as the driver returns it (SQLite's is the text SQLAlchemy stored) as a datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


_making = threading.Lock()


def engine_of(app) -> Engine:
    """The engine driver reads run on, made once per app (a request of its own, or none,
    may ask): the app's own on SQLite; on PostgreSQL, the reading pool (see above)."""
    engine = app.extensions.get("linli_driver_engine")
    if engine is None:
        from .extensions import db

        with _making:
            engine = app.extensions.get("linli_driver_engine")
            if engine is None:
                with app.app_context():
                    main = db.engine
                engine = app.extensions["linli_driver_engine"] = (
                    _reading_engine(main, app.config["SQLALCHEMY_ENGINE_OPTIONS"])
                    if main.dialect.name == "postgresql" else main)
    return engine


def _reading_engine(main: Engine, options: dict) -> Engine:
    # The app's engine options, its pool's size among them: a connection kept for each thread
    # that reads at once, since a new one costs the server a process of its own.
    engine = create_engine(main.url, **{**options, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None})
    event.listen(engine, "connect", _take_the_district_role)
    # Whatever lets the app's connections go (a test's end, a restore) lets these go too.
    event.listen(main, "engine_disposed", lambda _main: engine.dispose())
    return engine


def _take_the_district_role(dbapi_connection, record) -> None:
    """Where the database has its row security in place (scope's own check, made as each
    connection connects), this connection reads as the district role from now on."""
    if "linli_rls" not in record.info:
        note_row_security(dbapi_connection, record)
    if record.info["linli_rls"]:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET ROLE {DISTRICT_ROLE}")
        finally:
            cursor.close()


def read(engine: Engine, asked: list[tuple[Statement, dict]]) -> list[list] | None:
    """The rows of each statement with its values, read on one pooled connection of
    `engine_of`'s engine; None when the database did not answer, which the caller leaves to
    Flask: it meets the same trouble and answers it as it does."""
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            found = []
            for statement, values in asked:
                sql, names, constants = statement.compiled(engine.dialect)
                values = {**constants, **values}
                cursor.execute(sql, [values[name] for name in names] if names is not None else values)
                found.append(cursor.fetchall())
            cursor.close()
        finally:
            connection.close()
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error):
        return None
    return found
