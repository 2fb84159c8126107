"""Several statements in one database round trip, and the reads of a rule answered from them.

A vote runs once per tap in the room. On PostgreSQL each statement is a round trip to
the server (and the transaction's BEGIN one more), and with thousands of phones those
waits, not the statements, were the vote's cost: about nine per vote. `run_together`
sends a list of statements at once, through psycopg's pipeline (BEGIN if one is due, every
statement, one Sync: one round trip), in the session's own transaction; on SQLite, which
has no round trips, it runs them one after another.

`first` runs one read the same way, on the session's connection with its SQL compiled once: the
few reads a join storm makes thousands of times (a workshop's head, a phone's socket entry, the
version) cost SQLAlchemy's work per execution (cache key, parameter and result processing) more
than the database's.

Rows fetched ahead for a rule (the vote's item and the phone's own votes) are kept with
`remember` and handed out once by `read`: a rule asks for them as it always did, and
gets them without a statement. `forget` drops what is left (after a write, or at the end).
"""
from __future__ import annotations

from collections import namedtuple
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from .extensions import db

_PREFETCHED = "charrette.prefetched"
_BEGIN_DUE = "charrette.begin_due"
# id(statement) -> (statement, its PostgreSQL SQL, the values of the columns it fills by default)
_COMPILED: dict[int, tuple[Any, str, dict]] = {}
_READS: dict[tuple[int, str], tuple] = {}  # (id(statement), dialect) -> (statement, SQL, names, row type)


@contextmanager
def one_trip():
    """Let the first `run_together` of a transaction carry its BEGIN (PostgreSQL).

    psycopg starts a transaction with a BEGIN of its own and waits for it, even in a
    pipeline: a round trip for nothing. Inside this block the connection is switched to
    autocommit while it has no transaction, and `run_together` sends BEGIN itself, in its
    pipeline; COMMIT and ROLLBACK (the session's, as always) end that transaction as any
    other. On leaving, an unfinished transaction is rolled back.

    The connection goes back to the pool when the session's transaction ends (its commit or
    rollback, inside the block), and under gevent another greenlet may take it out while this
    one waits: nothing here touches it afterwards. The pool turns autocommit off again as the
    connection comes back (`init_engine`), before anyone else can have it. (Setting it off here,
    after the commit, changed a connection another vote was using: with two processes on
    PostgreSQL, 110 of 8,000 votes failed and 107 were stored other than acknowledged.)
    """
    conn = db.session.connection()
    raw = conn.connection.driver_connection if conn.dialect.name == "postgresql" else None
    if raw is None or raw.autocommit or raw.info.transaction_status != _idle():
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
    """Turn off the autocommit `one_trip` turned on, as each connection comes back to the pool."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _autocommit_off(dbapi_connection, _record):
        if dbapi_connection is not None and not dbapi_connection.closed and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False


def _idle():
    from psycopg.pq import TransactionStatus
    return TransactionStatus.IDLE


def run_together(batch: list[tuple[Any, dict]], commit: bool = False) -> list[list]:
    """Run (statement, parameters) pairs in order in the session's transaction; return each one's rows.

    One pair (the vote's write) goes the same way, without a pipeline: on PostgreSQL the
    driver's cursor, its SQL compiled once, without SQLAlchemy's work per execution.
    With `commit`, the transaction is committed after them: on PostgreSQL its COMMIT goes
    in the same pipeline (the statements and the COMMIT, one round trip), then the session
    ends its transaction with no round trip of its own (the driver sees it is over).

    Rows are named tuples (`row.item_id`) either way; a statement without rows gives [].
    Only plain values go in and come out (no type conversions of SQLAlchemy's): ints,
    strings, booleans, datetimes, JSON.
    """
    conn = db.session.connection()  # the session's transaction, begun if it was not
    if conn.dialect.name != "postgresql":
        results = [conn.execute(statement, params) for statement, params in batch]
        rows = [result.all() if result.returns_rows else [] for result in results]
        if commit:
            db.session.commit()
        return rows
    from psycopg.rows import namedtuple_row

    raw = conn.connection.driver_connection
    if commit:
        rows = _pipelined(raw, batch, conn.dialect, commit=True)
        db.session.commit()  # psycopg finds its transaction over: nothing is sent
        return rows
    if len(batch) == 1 and not db.session.info.get(_BEGIN_DUE):  # one statement is one round trip anyway
        statement, params = batch[0]
        with raw.cursor(row_factory=namedtuple_row) as cursor:
            sql, defaults = _sql(statement, conn.dialect)
            cursor.execute(sql, {**defaults, **params})
            return [cursor.fetchall() if cursor.description is not None else []]
    return _pipelined(raw, batch, conn.dialect)


def _pipelined(raw, batch: list[tuple[Any, dict]], dialect, commit: bool = False) -> list[list]:
    """Send BEGIN if one is due (`one_trip`), the statements and COMMIT if asked, in one pipeline."""
    from psycopg.rows import namedtuple_row

    cursors = []
    with raw.pipeline():  # leaving it sends the Sync and reads every result
        if db.session.info.pop(_BEGIN_DUE, False) and raw.info.transaction_status == _idle():
            raw.execute("BEGIN")  # in the pipeline: no round trip of its own (see `one_trip`)
        for statement, params in batch:
            cursor = raw.cursor(row_factory=namedtuple_row)
            sql, defaults = _sql(statement, dialect)
            cursor.execute(sql, {**defaults, **params})
            cursors.append(cursor)
        if commit:
            raw.execute("COMMIT")
    results = [cursor.fetchall() if cursor.description is not None else [] for cursor in cursors]
    for cursor in cursors:
        cursor.close()
    return results


def _sql(statement, dialect) -> tuple[str, dict]:
    """Return a statement's PostgreSQL text with named parameters (`%(pid)s`), compiled once, and the
    values of the columns an INSERT or UPDATE fills from their scalar defaults (SQLAlchemy's execution
    would put them in). A default that is computed (a function) has no value here: refused."""
    kept = _COMPILED.get(id(statement))
    if kept is None or kept[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        defaults = {}
        for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
            if column.default is None or not column.default.is_scalar:
                raise ValueError(f"{column}: give it a value in the statement (its default is computed)")
            defaults[column.key] = column.default.arg
        kept = _COMPILED[id(statement)] = (statement, str(compiled), defaults)
    return kept[1], kept[2]


def first(statement, params: dict):
    """Return the first row of a read (a named tuple), or None, in the session's transaction.

    Only plain values come out (no type conversions of SQLAlchemy's): on SQLite a boolean
    is 0 or 1. Parameters are the statement's bindparams, by name.
    """
    conn = db.session.connection()
    _statement, sql, names, row_type = _read_of(statement, conn.dialect)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params if names is None else tuple(params[name] for name in names))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else row_type(*row)


def _read_of(statement, dialect) -> tuple:
    """Return (statement, SQL, positional parameter names or None, row type), made once per dialect."""
    kept = _READS.get((id(statement), dialect.name))
    if kept is None or kept[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        names = list(compiled.positiontup) if compiled.positional else None
        row_type = namedtuple("Row", list(statement.selected_columns.keys()))
        kept = _READS[(id(statement), dialect.name)] = (statement, str(compiled), names, row_type)
    return kept


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
