"""Reads that run on the database driver's own connection, outside the ORM.

What is answered on every tap and almost always the same (an unchanged poll, a page kept as
rendered) asks the database a handful of small questions. Through SQLAlchemy's execution
each costs more than the read itself, so these statements are compiled once per dialect to
the driver's SQL and run together on one connection from the engine's pool.

They run outside the session, so the community scope does not apply: each statement names
the community itself. On PostgreSQL they run as the district role, as `scope.across` does
(they read a device's row in whichever community it was enrolled).
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Dialect, Engine, Executable
from sqlalchemy.exc import SQLAlchemyError

from .communities.scope import DISTRICT_ROLE


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


def engine_of(app) -> Engine:
    """The app's engine, looked up once (a request of its own, or none, may ask)."""
    engine = app.extensions.get("linli_driver_engine")
    if engine is None:
        from .extensions import db

        with app.app_context():
            engine = app.extensions["linli_driver_engine"] = db.engine
    return engine


def read(engine: Engine, asked: list[tuple[Statement, dict]]) -> list[list] | None:
    """The rows of each statement with its values, read on one pooled connection (rolled
    back when it goes back to the pool); None when the database did not answer, which the
    caller leaves to Flask: it meets the same trouble and answers it as it does."""
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            if connection.info.get("linli_rls"):
                cursor.execute("SELECT set_config('role', %s, true)", (DISTRICT_ROLE,))
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
