"""batch.first: the hot reads of a join storm, run on the driver's cursor with their SQL compiled once,
answer what SQLAlchemy's execution answers (row or None, every column), on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import event

import config
from workshop import batch, create_app
from workshop.auth import create_facilitator
from workshop.extensions import db
from workshop.flow import access, workshops

# Every read that goes through batch.first, with parameters that find a row and ones that do not.
READS = [(access.WORKSHOP_HEAD, "code"), (access.PHONE_ENTRY, "code"), (access.VERSION, "workshop_id")]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reads.db'}"
    return request.getfixturevalue("postgres_url")


def test_every_hot_read_answers_as_sqlalchemy_does(database_url, tmp_path):
    app = create_app(config.TestingConfig(DATABASE_URL=database_url, UPLOAD_DIR=str(tmp_path / "up"),
                                          LOG_LEVEL="WARNING"))
    with app.app_context():
        facilitator = create_facilitator("reads@example.org", "Reads", "correct horse battery")
        workshop = workshops.create_workshop(facilitator, title="Reads", topic="Hot reads", safeguarding=True)
        phone = workshops.join(workshop, None, "", workshop.groups[0], consent=True)
        cases = [{"code": workshop.code, "token": phone.token}, {"code": workshop.code, "token": "nobody's"},
                 {"code": "NOSUCH", "token": phone.token}, {"workshop_id": workshop.id},
                 {"workshop_id": workshop.id + 1000}]
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        seen = {"row": 0, "none": 0}
        for statement, key in READS:
            for params in (case for case in cases if key in case):
                wanted = db.session.execute(statement, params).first()
                before = len(statements)
                got = batch.first(statement, params)
                assert len(statements) == before  # the driver's cursor, not SQLAlchemy's execution
                if wanted is None:
                    assert got is None, (statement, params)
                    seen["none"] += 1
                else:
                    assert_same_rows([got], [wanted])
                    seen["row"] += 1
        assert seen == {"row": 5, "none": 3}
        head = access.get_workshop(workshop.code, head=True)
        assert (head.id, head.code, bool(head.safeguarding)) == (workshop.id, workshop.code, True)
        db.session.remove()
        db.engine.dispose()


def assert_same_rows(got: list, wanted: list) -> None:
    """Rows from the driver's cursor are SQLAlchemy's: same fields, same values, same Python types
    (on SQLite a boolean is a bool, a datetime a datetime, JSON a dict: the columns' conversions)."""
    assert [row._fields for row in got] == [tuple(row._fields) for row in wanted], (got, wanted)
    assert [tuple(row) for row in got] == [tuple(row) for row in wanted], (got, wanted)
    types = [[type(v) for v in row] for row in got]
    assert types == [[type(v) for v in row] for row in wanted], (got, wanted)


def test_every_statement_of_the_vote_path_answers_as_sqlalchemy_does(database_url, tmp_path):
    """Each statement a vote sends through run_together (the lock, the workshop read again, the action's
    record, the item, the phone's votes, the write) gives what SQLAlchemy's execution gives, and writes
    what it would write (a datetime, a column's default), without going through SQLAlchemy's execution."""
    from datetime import timedelta

    from sqlalchemy import bindparam, select, update

    from workshop.flow import phases, votes
    from workshop.flow.access import LOCK_PARTICIPANT
    from workshop.models import Item, Stage, Vote, utcnow
    from workshop.stages.base import ADD_VOTE, CHANGE_VOTE, ITEM_STATE, MY_VOTES
    app = create_app(config.TestingConfig(DATABASE_URL=database_url, UPLOAD_DIR=str(tmp_path / "up"),
                                          LOG_LEVEL="WARNING"))
    with app.app_context():
        facilitator = create_facilitator("votes@example.org", "Votes", "correct horse battery")
        workshop = workshops.create_workshop(facilitator, title="Votes", topic="The vote path")
        stage = workshop.current_stage
        phone = workshops.join(workshop, None, "", workshop.groups[0])
        shown, hidden = Item(stage=stage, title="Shown"), Item(stage=stage, title="Hidden", hidden=True)
        db.session.add_all([shown, hidden])
        db.session.commit()
        phases.set_phase(workshop, stage.id, "vote")
        ids = {"stage": stage.id, "participant": phone.id}
        when = utcnow() - timedelta(minutes=5)
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        # the writes: a new vote (its note_hidden from the column's default), then a change of it
        new = {**ids, "item": shown.id, "crit": "", "val": 2, "cid": "c-1", "text": "", "now": when}
        assert batch.run_together([(ADD_VOTE, new)], commit=True) == [[]]
        stored = db.session.execute(
            select(Vote.value, Vote.note_hidden, Vote.updated_at, Vote.client_id)).one()
        assert tuple(stored) == (2, False, when, "c-1") and type(stored.updated_at) is type(when)
        assert batch.run_together([(CHANGE_VOTE, {**new, "val": 3, "cid": "c-2"})], commit=True) == [[]]
        assert not db.session().in_transaction()
        assert db.session.execute(select(Vote.value, Vote.client_id)).one() == (3, "c-2")
        db.session.commit()
        # a JSON parameter (psycopg adapts no dict by itself): read back by both ways below
        settings = {"dots": 4, "show_groups": True, "note": "é"}
        set_settings = (update(Stage.__table__).where(Stage.__table__.c.id == bindparam("sid"))
                        .values(settings=bindparam("settings")))
        batch.run_together([(set_settings, {"sid": stage.id, "settings": settings})], commit=True)
        assert db.session.execute(select(Stage.settings).where(Stage.id == stage.id)).scalar_one() == settings
        # the reads, each with parameters that find rows and ones that do not
        reads = [(votes._LIVE_WORKSHOP, {"wid": workshop.id}), (votes._LIVE_WORKSHOP, {"wid": 0}),
                 (ITEM_STATE, {"item": shown.id}), (ITEM_STATE, {"item": hidden.id}),
                 (ITEM_STATE, {"item": 0}),
                 (MY_VOTES, ids), (MY_VOTES, {**ids, "participant": 0})]
        found = 0
        for statement, params in reads:
            wanted = db.session.execute(statement, params).all()
            before = len(statements)
            got = batch.run_together([(statement, params)])[0]
            assert len(statements) == before, statement  # the driver's cursor, not SQLAlchemy's execution
            assert_same_rows(got, wanted)
            found += bool(wanted)
            db.session.rollback()
        assert found == 4
        assert batch.run_together([(votes._LIVE_WORKSHOP, {"wid": workshop.id})])[0][0].settings == settings
        db.session.rollback()
        # the lock (no rows back) and the action's record (its client id back the first time only)
        record = votes._first_application()
        locked, first = batch.run_together([(LOCK_PARTICIPANT, {"pid": phone.id, "now": when}),
                                            (record, {"pid": phone.id, "cid": "c-9"})])
        again = batch.run_together([(record, {"pid": phone.id, "cid": "c-9"})])[0]
        assert (locked, [tuple(row) for row in first], again) == ([], [("c-9",)], [])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_a_write_on_the_drivers_cursor_gets_the_scalar_defaults_and_refuses_computed_ones():
    """SQLAlchemy's execution fills a column's default (a vote's note_hidden); the driver's cursor
    gets the same values from batch, and a default that is a function is refused, not left out."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert
    from sqlalchemy.dialects import postgresql

    from workshop.stages.base import ADD_VOTE, CHANGE_VOTE
    dialect = postgresql.psycopg.dialect()
    plan = batch._plan(ADD_VOTE, dialect)
    assert plan.defaults == {"note_hidden": False} and "%(note_hidden)s" in plan.sql
    assert batch._plan(CHANGE_VOTE, dialect).defaults == {}
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("made", String, default=lambda: "now"))
    with pytest.raises(ValueError, match="computed"):
        batch._plan(insert(table).values(id=1), dialect)


def test_a_write_with_its_commit_is_stored_in_one_go_and_a_failed_one_leaves_nothing(database_url, tmp_path):
    """run_together(..., commit=True), as a vote's last statement: on PostgreSQL its COMMIT rides in the
    write's pipeline. Seen committed from another connection, the session goes on with no transaction
    left open; a write that fails takes the statements before it in the same call with it."""
    from sqlalchemy import bindparam, create_engine, select, update
    from sqlalchemy.exc import IntegrityError

    from workshop.models import Participant
    app = create_app(config.TestingConfig(DATABASE_URL=database_url, UPLOAD_DIR=str(tmp_path / "up"),
                                          LOG_LEVEL="WARNING"))
    table = Participant.__table__  # (either driver's errors come as SQLAlchemy's)
    rename = update(table).where(table.c.id == bindparam("pid")).values(name=bindparam("name"))
    renumber = update(table).where(table.c.id == bindparam("pid")).values(id=bindparam("new_id"))
    with app.app_context():
        facilitator = create_facilitator("commit@example.org", "Commit", "correct horse battery")
        workshop = workshops.create_workshop(facilitator, title="Commit", topic="One trip")
        first, second = (workshops.join(workshop, None, "", workshop.groups[0]) for _phone in range(2))
        ids = first.id, second.id
        db.session.commit()
        other = create_engine(database_url)
        names = select(table.c.name).where(table.c.id.in_(ids)).order_by(table.c.id)
        assert list(db.session.scalars(names)) == ["", ""]
        db.session.commit()
        try:
            with batch.one_trip():
                assert batch.run_together([(rename, {"pid": ids[0], "name": "Ada"})], commit=True) == [[]]
            assert not db.session().in_transaction()
            with other.connect() as conn:
                assert list(conn.scalars(names)) == ["Ada", ""]
            # the second statement breaks the primary key: the rename before it is not kept either
            with pytest.raises(IntegrityError), batch.one_trip():
                batch.run_together([(rename, {"pid": ids[0], "name": "Lost"}),
                                    (renumber, {"pid": ids[1], "new_id": ids[0]})], commit=True)
            db.session.rollback()
            # the same with the failing write alone in its call, after another in the transaction
            with pytest.raises(IntegrityError), batch.one_trip():
                batch.run_together([(rename, {"pid": ids[0], "name": "Lost"})])
                batch.run_together([(renumber, {"pid": ids[1], "new_id": ids[0]})], commit=True)
            db.session.rollback()
            with other.connect() as conn:
                assert list(conn.scalars(names)) == ["Ada", ""]
            assert list(db.session.scalars(names)) == ["Ada", ""]  # the session is usable again
            with batch.one_trip():  # and a write with its commit after the failures
                batch.run_together([(rename, {"pid": ids[1], "name": "Bo"})], commit=True)
            with other.connect() as conn:
                assert list(conn.scalars(names)) == ["Ada", "Bo"]
        finally:
            other.dispose()
            db.session.remove()
            db.engine.dispose()
