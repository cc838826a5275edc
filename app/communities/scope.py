"""Which community every query is for: the data layer's one choke point.

Every ORM statement that reads, updates or deletes a CommunityScoped model gets
``community_id = <the scope's community>`` from SQLAlchemy's loader criteria (joins,
subqueries, counts and relationship loads included), and every new scoped row takes the
scope's community when it is flushed. Services never filter by community themselves.

Forgetting is loud, never a leak: a statement that names a scoped model with no scope set
raises ScopeMissing, and any other scoped table it reaches reads as empty.

On PostgreSQL each transaction also runs as a role that row-level security confines to
the scope's community (``set_config('role', …)`` and ``linli.community``, both local to the
transaction): a second wall that holds on its own when the first is switched off
(config COMMUNITY_QUERY_SCOPE = False, for the test that shows each wall separately).

The district tier reads across communities only inside ``across(reason)``.
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import current_app, g, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import Engine, Integer, bindparam, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import with_loader_criteria

from ..extensions import db
from .models import CommunityScoped

# PostgreSQL roles the app switches to per transaction (created by migration 0009): the
# first sees one community's rows, the second every community's (the district tier).
SCOPED_ROLE = "linli_scoped"
DISTRICT_ROLE = "linli_district"


class ScopeMissing(RuntimeError):
    """A query of community records ran with no community chosen: a programming error."""


@dataclass(frozen=True)
class Scope:
    community_id: int | None
    # Set by across(): why this code reads every community (the district tier).
    across: str | None = None


_explicit: ContextVar[Scope | None] = ContextVar("community_scope", default=None)


def current_scope() -> Scope | None:
    """A within()/across() block's scope, else the request's (set by routing.py)."""
    scope = _explicit.get()
    if scope is not None:
        return scope
    if has_app_context():
        return g.get("community_scope")
    return None


def current_community_id() -> int:
    scope = current_scope()
    if scope is None or scope.community_id is None:
        raise ScopeMissing("no community is chosen for this work")
    return scope.community_id


def set_request_scope(community_id: int | None) -> None:
    """The community a request works in, for the rest of it (routing.py calls this)."""
    g.community_scope = Scope(community_id) if community_id is not None else None
    _apply_to_open_transaction()


@contextmanager
def _entered(scope: Scope) -> Iterator[None]:
    token = _explicit.set(scope)
    _apply_to_open_transaction()
    try:
        yield
    finally:
        _explicit.reset(token)
        _apply_to_open_transaction()


def within(community_id: int):
    """Work in one community: the command line, housekeeping, a district action that acts
    in each community in turn."""
    return _entered(Scope(community_id))


def across(reason: str):
    """Read or write every community's rows. Only the district tier's named functions use
    it (they audit what they did); ``reason`` says which."""
    return _entered(Scope(None, across=reason))


# --- the first wall: SQLAlchemy ----------------------------------------------------------------

def _queries_scoped() -> bool:
    return not has_app_context() or current_app.config.get("COMMUNITY_QUERY_SCOPE", True)


def _scoped_mappers(state) -> list:
    return [mapper for mapper in state.all_mappers if issubclass(mapper.class_, CommunityScoped)]


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state) -> None:
    if state.is_insert:
        _insert_into_scope(state)
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    scope = current_scope()
    if scope is not None and scope.across is not None:
        return
    if not _queries_scoped():
        return
    if scope is None or scope.community_id is None:
        if _scoped_mappers(state):
            raise ScopeMissing("a query of community records ran with no community chosen")
        # Scoped tables reached some other way (a subquery, a join) read as empty.
        state.statement = state.statement.options(with_loader_criteria(
            CommunityScoped, lambda cls: cls.community_id.is_(None), include_aliases=True))
        return
    state.statement = _scoped(state.statement)
    state.parameters = _with_scope_parameter(state.parameters, scope.community_id)


# The first wall's criterion, made once: the community is a bound parameter of every scoped
# statement, given with each execution (a lambda closing over the community's id is analysed
# again for every statement, and cost more than most reads). Relationship loads do not
# inherit it: each passes through this hook itself, in the scope it runs in.
SCOPE_PARAMETER = "linli_scope_community"
_SCOPE_COMMUNITY = bindparam(SCOPE_PARAMETER, type_=Integer())
_ONE_COMMUNITY = with_loader_criteria(CommunityScoped, lambda cls: cls.community_id == _SCOPE_COMMUNITY,
                                      include_aliases=True, propagate_to_loaders=False)


# A statement built once and run often (a module's prebuilt statements) gets its scoped copy
# made once too: SQLAlchemy then finds the copy's compiled form by a key it computed once,
# where a fresh copy per execution has its key computed again each time.
_scoped_copies: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _scoped(statement):
    copy = _scoped_copies.get(statement)
    if copy is None:
        copy = _scoped_copies[statement] = statement.options(_ONE_COMMUNITY)
    return copy


def _with_scope_parameter(parameters, community_id: int):
    if isinstance(parameters, list):
        return [{**row, SCOPE_PARAMETER: community_id} for row in parameters]
    return {**(parameters or {}), SCOPE_PARAMETER: community_id}


def _insert_into_scope(state) -> None:
    """Rows inserted in bulk (``session.execute(insert(Model), rows)``) take the scope's
    community too, as rows added one by one do at flush."""
    if not state.parameters or not _scoped_mappers(state):
        return
    rows = state.parameters
    if isinstance(rows, dict):
        if "community_id" not in rows:
            state.parameters = {**rows, "community_id": current_community_id()}
    elif any("community_id" not in row for row in rows):
        community_id = current_community_id()
        state.parameters = [{"community_id": community_id, **row} for row in rows]


@event.listens_for(Session, "before_flush")
def _new_rows_take_the_scope(session, _context, _instances) -> None:
    for instance in session.new:
        if isinstance(instance, CommunityScoped) and instance.community_id is None:
            instance.community_id = current_community_id()


# --- a write's few statements on the session's connection ---------------------------------------
#
# A rush of sign-ups takes turns at the database's one writer: what runs between a
# transaction's first write and its commit is done once per sign-up, one after the other,
# while the worker's other threads share the interpreter with it. SQLAlchemy's work per
# statement (about 0.5 ms on SQLite, ten times the driver's) is spent there. These few
# statements run scoped exactly as the session runs them (the scoped copy, the community
# bound; a new row's community from the scope), compiled once, on the session's own
# connection and transaction.

_on_connection: dict[tuple, tuple] = {}


def _compiled_on_connection(statement, dialect):
    found = _on_connection.get((statement, dialect.name))
    if found is None:
        table = getattr(statement, "table", None)
        scoped_table = table is not None and "community_id" in table.c
        inserts = statement.is_dml and statement.is_insert
        compiled = (statement if inserts else _scoped(statement)).compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement with values expanded at execution cannot run on the connection")
        found = _on_connection[(statement, dialect.name)] = (compiled, str(compiled), inserts and scoped_table)
    return found


def execute_on_connection(statement, values: dict) -> list:
    """The rows of `statement` (built once, naming its models) with `values`, run in the
    session's transaction as the session would run it, in the current community's scope.
    For a write's statements between its first write and its commit only; a statement
    writing to a table a board follows is refused (app/boards.py counts those writes as the
    session runs them)."""
    from ..boards import followed

    scope = current_scope()
    if scope is None or scope.community_id is None or scope.across is not None:
        raise ScopeMissing("a statement on the connection runs in one community's scope")
    table = getattr(statement, "table", None)
    if statement.is_dml and table is not None and followed(table.name):
        raise ValueError(f"{table.name} is followed by a board: write to it through the session")
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()  # as the session's autoflush would
    connection = session.connection()
    compiled, sql, takes_community = _compiled_on_connection(statement, connection.dialect)
    if takes_community:
        values = {"community_id": scope.community_id, **values}
    else:
        values = {**values, SCOPE_PARAMETER: scope.community_id}
    for column in compiled.insert_prefetch + compiled.update_prefetch:  # Python-side defaults, as at execution
        if column.key not in values:
            default = column.default if column in compiled.insert_prefetch else column.onupdate
            values = {**values, column.key: default.arg(None) if default.is_callable else default.arg}
    params = compiled.construct_params(values)
    for name, process in compiled._bind_processors.items():
        if name in params:
            params[name] = process(params[name])
    if compiled.positional:
        params = [params[name] for name in compiled.positiontup]
    cursor = connection.connection.cursor()
    try:
        # The engine's cursor events, as SQLAlchemy sends them (the database's scope is set by
        # one of them, _set_database_scope; the tests watch writes by them).
        for before in connection.dispatch.before_cursor_execute:
            sql, params = before(connection, cursor, sql, params, None, False)
        try:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
        except connection.dialect.loaded_dbapi.Error as error:  # as SQLAlchemy raises it: IntegrityError…
            disconnected = connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
            raised = DBAPIError.instance(sql, params, error, connection.dialect.loaded_dbapi.Error,
                                         dialect=connection.dialect, connection_invalidated=disconnected)
            if disconnected:
                connection.invalidate(raised)  # the pool opens a new one, as after SQLAlchemy's own statement
            raise raised from error
        for after in connection.dispatch.after_cursor_execute:
            after(connection, cursor, sql, params, None, False)
        return rows
    finally:
        cursor.close()


# --- the second wall: PostgreSQL row-level security ---------------------------------------------

@event.listens_for(Engine, "connect")
def note_row_security(dbapi_connection, record) -> None:
    """Whether this PostgreSQL database has its row security in place (migration 0009 made
    the policies, and the roles may work on its tables): then every transaction takes a role.
    The roles belong to the server, not to one database, so the tables are what is checked."""
    record.info["linli_rls"] = False
    if type(dbapi_connection).__module__.split(".")[0] != "psycopg":
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(
            # CASE: has_schema_privilege fails outright for a role that does not exist.
            "SELECT CASE WHEN (SELECT count(*) = 2 FROM pg_roles WHERE rolname IN (%s, %s)"
            "                  AND pg_has_role(current_user, oid, 'MEMBER'))"
            " THEN has_schema_privilege(%s, 'public', 'USAGE') AND EXISTS (SELECT 1 FROM pg_policies"
            "      WHERE schemaname = 'public' AND policyname = 'community_rows')"
            " ELSE false END",
            (SCOPED_ROLE, DISTRICT_ROLE, SCOPED_ROLE))
        record.info["linli_rls"] = bool(cursor.fetchone()[0])
    finally:
        cursor.close()
        dbapi_connection.rollback()


_SET_SCOPE = "SELECT set_config('role', %s, true), set_config('linli.community', %s, true)"
_SAVEPOINT_STATEMENTS = ("SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")


def _wanted() -> tuple[str, str]:
    """The role and community setting the current scope runs as."""
    scope = current_scope()
    across_all = scope is not None and scope.across is not None
    community = "" if scope is None or scope.community_id is None else str(scope.community_id)
    return (DISTRICT_ROLE if across_all else SCOPED_ROLE, community)


def _scope_due(connection) -> None:
    if connection.info.get("linli_rls"):
        connection.info["linli_scope_due"] = True


@event.listens_for(Session, "after_begin")
def _transaction_scope(_session, _transaction, connection) -> None:
    connection.info.pop("linli_scope_set", None)
    _scope_due(connection)


@event.listens_for(Engine, "before_cursor_execute")
def _set_database_scope(connection, cursor, statement, _parameters, _context, _executemany) -> None:
    """The scope is set in the database just before the statement that first runs in it:
    a transaction that changes scope several times between two statements (the request's
    community chosen, then a device looked up across communities) sets it once, as the next
    statement needs it, and one that runs no statement sets nothing. Savepoint statements
    read nothing, and a rollback to one would undo a scope set just before it."""
    if connection.info.get("linli_scope_due") and not statement.startswith(_SAVEPOINT_STATEMENTS):
        connection.info["linli_scope_due"] = False
        wanted = _wanted()
        if connection.info.get("linli_scope_set") != wanted:
            cursor.execute(_SET_SCOPE, wanted)
            connection.info["linli_scope_set"] = wanted


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _scope_ends_with_the_transaction(connection) -> None:
    connection.info.pop("linli_scope_due", None)
    connection.info.pop("linli_scope_set", None)


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_undoes_the_scope(connection, _name, _context) -> None:
    """Rolling back to a savepoint undoes a scope set after it: set it again when next needed."""
    connection.info.pop("linli_scope_set", None)
    _scope_due(connection)


def _apply_to_open_transaction() -> None:
    """A scope that changes inside a transaction changes the database's for it too."""
    if not has_app_context() or db.engine.dialect.name != "postgresql":
        return
    session = db.session()
    if session.in_transaction():
        _scope_due(session.connection())
