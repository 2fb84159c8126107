"""Several statements in one database round trip, and the reads of a rule answered from them.

A vote runs once per tap in the room. On PostgreSQL each statement is a round trip to
the server (and the transaction's BEGIN one more), and with thousands of phones those
waits, not the statements, were the vote's cost: about nine per vote. `run_together`
sends a list of statements at once, through psycopg's pipeline (BEGIN if one is due, every
statement, one Sync: one round trip), in the session's own transaction; on SQLite, which
has no round trips, it runs them one after another.

Both run on the driver's cursor with each statement's SQL compiled once (`_plan`), not through
SQLAlchemy's execution, and so does `first`, the few reads a join storm makes thousands of times
(a workshop's head, a phone's socket entry, the version): on these small statements SQLAlchemy's
work per execution (cache key, execution context, parameter and result processing) cost more than
the database's. On SQLite, 30% of the server's CPU in a 4,000-phone vote phase. The type
conversions SQLite needs (datetimes, booleans, JSON) are the columns' own, looked up once.

Rows fetched ahead for a rule (the vote's item and the phone's own votes) are kept with
`remember` and handed out once by `read`: a rule asks for them as it always did, and
gets them without a statement. `forget` drops what is left (after a write, or at the end).
"""
from __future__ import annotations

from collections import namedtuple
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from .extensions import db

_PREFETCHED = "charrette.prefetched"
_BEGIN_DUE = "charrette.begin_due"

# How a statement runs on the driver's cursor, made once per statement and database (`_plan`).
_Plan = namedtuple("_Plan", "statement sql positional defaults binds row_type results")
_PLANS: dict[tuple[int, str], _Plan] = {}


@contextmanager
def one_trip():
    """Let the first `run_together` of a transaction carry its BEGIN (PostgreSQL).

    psycopg starts a transaction with a BEGIN of its own and waits for it, even in a
    pipeline: a round trip for nothing. Inside this block the connection is switched to
    autocommit while it has no transaction, and `run_together` sends BEGIN itself, in its
    pipeline; COMMIT and ROLLBACK (the session's, as always) end that transaction as any
    other. On leaving, an unfinished transaction is rolled back. Statements before that BEGIN
    (a phone page's reads, the ORM's too) each run alone, in autocommit: each reads its own
    snapshot, as under READ COMMITTED anyway, and a lone write (one UPDATE) commits itself.
    Used as a decorator, it wraps a whole view (participate.phone).

    The connection goes back to the pool when the session's transaction ends (its commit or
    rollback, inside the block), and under gevent another greenlet may take it out while this
    one waits: nothing here touches it afterwards. The pool turns autocommit off again as the
    connection comes back (`init_engine`), before anyone else can have it. (Setting it off here,
    after the commit, changed a connection another vote was using: with two processes on
    PostgreSQL, 110 of 8,000 votes failed and 107 were stored other than acknowledged.)
    """
    conn = db.session.connection()
    raw = conn.connection.driver_connection if conn.dialect.name == "postgresql" else None
    if raw is None or not _between_transactions(raw):
        yield
        return
    raw.autocommit = True
    db.session.info[_BEGIN_DUE] = True
    try:
        yield
    finally:
        db.session.info.pop(_BEGIN_DUE, None)
        if db.session().in_transaction():  # an unfinished transaction: e.g. an error before the commit
            db.session.rollback()


def init_engine(engine) -> None:
    """Turn off the autocommit `one_trip` turned on (or `first`, on a connection that broke under
    its read), as each connection comes back to the pool."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _autocommit_off(dbapi_connection, _record):
        if dbapi_connection is not None and not dbapi_connection.closed and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False


def _idle():
    from psycopg.pq import TransactionStatus
    return TransactionStatus.IDLE


def _between_transactions(raw) -> bool:
    """Tell whether a psycopg connection may be switched to autocommit: not already, and no
    transaction open (psycopg refuses the switch inside one)."""
    return not raw.autocommit and raw.info.transaction_status == _idle()


def run_together(batch: list[tuple[Any, dict]], commit: bool = False) -> list[list]:
    """Run (statement, parameters) pairs in order in the session's transaction; return each one's rows.

    Every statement runs on the driver's cursor with its SQL planned once (`_plan`), without
    SQLAlchemy's work per execution; on PostgreSQL one pair alone (the vote's write) goes
    without a pipeline. With `commit`, the transaction is committed after them: on PostgreSQL its COMMIT goes
    in the same pipeline (the statements and the COMMIT, one round trip), then the session
    ends its transaction with no round trip of its own (the driver sees it is over).

    Rows are named tuples (`row.item_id`) either way, with the values SQLAlchemy's execution
    gives; a statement that selects or returns nothing gives []. The driver's errors come as
    SQLAlchemy's (IntegrityError, ...).
    """
    conn = db.session.connection()  # the session's transaction, begun if it was not
    with _errors_as_sqlalchemys(conn.dialect):
        return _run_together(conn, batch, commit)


@contextmanager
def _errors_as_sqlalchemys(dialect):
    """Raise the driver's errors as SQLAlchemy's execution would (sqlite3's or psycopg's IntegrityError
    as sqlalchemy.exc.IntegrityError), so a caller catches one kind whatever the database."""
    try:
        yield
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error) from error


def _run_together(conn, batch: list[tuple[Any, dict]], commit: bool) -> list[list]:
    raw = conn.connection.driver_connection
    if conn.dialect.name != "postgresql":
        rows = [_run(raw, _plan(statement, conn.dialect), params) for statement, params in batch]
        if commit:
            db.session.commit()
        return rows
    if commit:
        rows = _pipelined(raw, batch, conn.dialect, commit=True)
        db.session.commit()  # psycopg finds its transaction over: nothing is sent
        return rows
    if len(batch) == 1 and not db.session.info.get(_BEGIN_DUE):  # one statement is one round trip anyway
        statement, params = batch[0]
        return [_run(raw, _plan(statement, conn.dialect), params)]
    return _pipelined(raw, batch, conn.dialect)


def _pipelined(raw, batch: list[tuple[Any, dict]], dialect, commit: bool = False) -> list[list]:
    """Send BEGIN if one is due (`one_trip`), the statements and COMMIT if asked, in one pipeline."""
    sent = []
    with raw.pipeline():  # leaving it sends the Sync and reads every result
        if db.session.info.pop(_BEGIN_DUE, False) and raw.info.transaction_status == _idle():
            raw.execute("BEGIN")  # in the pipeline: no round trip of its own (see `one_trip`)
        for statement, params in batch:
            cursor = raw.cursor()
            plan = _plan(statement, dialect)
            cursor.execute(plan.sql, _named(plan, params))
            sent.append((plan, cursor))
        if commit:
            raw.execute("COMMIT")
    results = [_rows(plan, cursor) for plan, cursor in sent]
    for _used, cursor in sent:
        cursor.close()
    return results


def _named(plan: _Plan, params: dict) -> dict:
    """A PostgreSQL statement's parameters by name: its defaults, then the values given, converted
    where the column's type says so (JSON; psycopg adapts the rest itself)."""
    values = {**plan.defaults, **params}
    for name, convert in plan.binds:
        if name in values:
            values[name] = convert(values[name])
    return values


def _run(raw, plan: _Plan, params: dict) -> list:
    """Run one planned statement on the driver's cursor, outside a pipeline; return its rows or []."""
    cursor = raw.cursor()
    try:
        cursor.execute(plan.sql, _positional(plan, params) if plan.positional else _named(plan, params))
        return _rows(plan, cursor)
    finally:
        cursor.close()


def _positional(plan: _Plan, params: dict) -> tuple:
    """A SQLite statement's parameters in order: its defaults, then the values given, each converted
    where its column's type says so (datetime, boolean, JSON)."""
    values = {**plan.defaults, **params}
    return tuple(values[name] if convert is None else convert(values[name]) for name, convert in plan.binds)


def _rows(plan: _Plan, cursor) -> list:
    """A cursor's rows as the plan's named tuples (SQLite's values converted); [] for a statement that
    selects and returns nothing.

    Plain tuples wrapped in the row type made once: psycopg's own named-tuple rows read the
    cursor's description, made anew for every result (a tenth of a vote's CPU on PostgreSQL).
    The id an INSERT returns there (SQLAlchemy compiles one in) is not read: [] as on SQLite.
    """
    if plan.row_type is None:
        return []
    if plan.results is None:
        return [plan.row_type(*row) for row in cursor.fetchall()]
    return [plan.row_type(*(value if convert is None else convert(value)
                            for value, convert in zip(row, plan.results, strict=True)))
            for row in cursor.fetchall()]


def _plan(statement, dialect) -> _Plan:
    """Return how a statement runs on the driver's cursor, made once per statement and database.

    Its SQL (named parameters on PostgreSQL, `%(pid)s`; positional on SQLite), each parameter's
    conversion where its type has one (on PostgreSQL only JSON's), the values of the columns an
    INSERT or UPDATE fills from their scalar defaults (SQLAlchemy's execution would put them in; a
    default that is computed, a function, has no value here: refused), and the row type of what it
    returns (with, on SQLite, each column's conversion; psycopg converts PostgreSQL's own types).
    """
    kept = _PLANS.get((id(statement), dialect.name))
    if kept is not None and kept.statement is statement:
        return kept
    compiled = statement.compile(dialect=dialect)
    defaults = {}
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        if column.default is None or not column.default.is_scalar:
            raise ValueError(f"{column}: give it a value in the statement (its default is computed)")
        defaults[column.key] = column.default.arg
    columns = list(statement.exported_columns)
    converts = compiled._bind_processors  # parameter name -> its type's conversion, where it has one
    binds, results = tuple(converts.items()), None
    if compiled.positional:  # SQLite: every parameter in order, and the columns' conversions
        binds = tuple((name, converts.get(name)) for name in compiled.positiontup)
        results = [dialect.type_descriptor(column.type).result_processor(dialect, None) for column in columns]
        if not any(results):
            results = None
    row_type = namedtuple("Row", [column.key for column in columns]) if columns else None
    kept = _PLANS[(id(statement), dialect.name)] = _Plan(statement, str(compiled), compiled.positional,
                                                          defaults, binds, row_type, results)
    return kept


def first(statement, params: dict):
    """Return the first row of a read (a named tuple), or None, in the session's transaction.

    Parameters are the statement's bindparams, by name; the values are those SQLAlchemy's
    execution gives.

    On PostgreSQL a read made while no transaction is open runs on its own, in autocommit: psycopg
    would otherwise send a BEGIN and wait for it, and the session's ROLLBACK at the end of the
    request would be one more round trip. A join page's workshop head and a phone socket's entry
    are each one round trip, not three. (Each statement reads its own snapshot under READ
    COMMITTED anyway; a statement after it opens the transaction as usual.)
    """
    conn = db.session.connection()
    raw = conn.connection.driver_connection
    plan = _plan(statement, conn.dialect)
    alone = conn.dialect.name == "postgresql" and _between_transactions(raw)
    with _errors_as_sqlalchemys(conn.dialect):
        if alone:
            raw.autocommit = True
        try:
            rows = _run(raw, plan, params)
        finally:
            if alone and raw.info.transaction_status == _idle():  # (a broken one is not given back)
                raw.autocommit = False
    return rows[0] if rows else None


def remember(statement, params: dict, rows: list) -> None:
    """Keep rows fetched ahead, for the next `read` of the same statement and parameters."""
    db.session.info.setdefault(_PREFETCHED, {})[_key(statement, params)] = rows


def read(statement, params: dict) -> list:
    """Return the statement's rows: the ones fetched ahead (once), else from the database."""
    rows = db.session.info.get(_PREFETCHED, {}).pop(_key(statement, params), None)
    return rows if rows is not None else db.session.execute(statement, params).all()


def peek(statement, params: dict) -> list | None:
    """Return rows fetched ahead without handing them out, or None."""
    return db.session.info.get(_PREFETCHED, {}).get(_key(statement, params))


def forget() -> None:
    """Drop every row fetched ahead (after a write they may be out of date)."""
    db.session.info.pop(_PREFETCHED, None)


def _key(statement, params: dict) -> tuple:
    return id(statement), tuple(sorted(params.items()))
