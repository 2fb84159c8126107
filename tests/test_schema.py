"""Schema migrations: from an empty database and from the schema before migrations existed."""
import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import config
from tests.conftest import gen_facilitator, gen_workshop
from workshop import create_app, schema
from workshop.extensions import db


def _app(path, migrate: bool):
    return create_app(config.TestingConfig(DATABASE_URL=f"sqlite:///{path}", MIGRATE_ON_START=migrate))


def _head() -> str:
    (head,) = ScriptDirectory(str(schema.MIGRATIONS)).get_heads()  # one head: no forked history
    return head


def _version() -> str:
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def _differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_from_an_empty_database_build_the_models_schema(tmp_path):
    app = _app(tmp_path / "new.db", migrate=True)
    with app.app_context():
        assert _version() == _head()
        assert _differences() == []
        w = gen_workshop()  # and the app works on it
        assert w.current_stage.kind == "trend"
        db.engine.dispose()


def test_a_database_from_before_migrations_is_stamped_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    with _app(path, migrate=False).app_context():  # db.create_all(), as every release before 0001
        gen_workshop(gen_facilitator("early@example.org"), title="Made before migrations")
        # The first released schema (0001): no comments, and strategy stages had no item yet;
        # no reports, share links, nor the workshop's language, organisation and paper (0003),
        # nor invitations (0004), nor a record of applied vote actions (0005), nor indexes on
        # (participant, stage) (0006), nor campaigns (0010), nor sign-ins (0013).
        for table in ("sign_ins", "amendments", "strategy_changes", "campaign_workshops", "kap_questions",
                      "survey_responses",
                      "surveys", "reach_entries", "campaign_reports", "campaigns"):
            db.session.execute(text(f"DROP TABLE {table}"))
        for table in ("comments", "reports", "share_links", "invitations", "vote_actions"):
            db.session.execute(text(f"DROP TABLE {table}"))
        for index in ("ix_votes_participant_stage", "ix_items_participant_stage"):
            db.session.execute(text(f"DROP INDEX {index}"))
        for column in ("language", "org_name", "org_logo", "page_size"):
            db.session.execute(text(f"ALTER TABLE workshops DROP COLUMN {column}"))
        # nor safeguarding, retention, self-paced mode, segments, warnings and aggregates (0009),
        # nor moderation, shuffled ballots, pending items and hidden reasons (0012).
        for table, columns in (("workshops", ("safeguarding", "helpline", "consent_note", "retention_days",
                                              "closed_at", "purged_at", "self_paced", "segment_questions",
                                              "moderation", "shuffle_ballots")),
                               ("items", ("pending",)), ("votes", ("note_hidden",)),
                               ("stages", ("warning", "aggregate")), ("participants", ("segments",
                                                                                       "consented_at"))):
            for column in columns:
                db.session.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        db.session.execute(text("DELETE FROM items"))
        db.session.commit()
        assert "alembic_version" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
    with _app(path, migrate=True).app_context():
        assert _version() == _head()
        assert _differences() == []
        title, language, paper = db.session.execute(
            text("SELECT title, language, page_size FROM workshops")).one()
        assert (title, language, paper) == ("Made before migrations", "en", "A4")
        # 0002 gave the old strategy stage the item its fist-of-five is cast on
        assert db.session.execute(text(
            "SELECT items.title FROM items JOIN stages ON stages.id = items.stage_id "
            "WHERE stages.kind = 'strategy'")).scalars().all() == ["The strategy"]
        db.engine.dispose()


def test_every_revision_downgrades_and_upgrades_again(tmp_path):
    app = _app(tmp_path / "roundtrip.db", migrate=True)
    with app.app_context():
        flask_migrate.downgrade(directory=str(schema.MIGRATIONS), revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        flask_migrate.upgrade(directory=str(schema.MIGRATIONS))
        assert _version() == _head() and _differences() == []
        db.engine.dispose()


def test_restarting_on_a_migrated_database_changes_nothing(tmp_path):
    path = tmp_path / "again.db"
    with _app(path, migrate=True).app_context():
        gen_facilitator()
        db.engine.dispose()
    with _app(path, migrate=True).app_context():
        assert _version() == _head()
        assert db.session.execute(text("SELECT count(*) FROM facilitators")).scalar_one() == 1
        db.engine.dispose()


def test_an_app_on_postgresql_leaves_every_foreign_key_to_the_next_sqlite_database(tmp_path, postgres_url):
    """An app on PostgreSQL in the same process (the scale-out and round-trip tests) migrates its
    database even with MIGRATE_ON_START off: create_all there adds the workshops -> stages key with an
    ALTER, and SQLAlchemy then leaves that key out of every later CREATE TABLE of the model."""
    with create_app(config.TestingConfig(DATABASE_URL=postgres_url, MIGRATE_ON_START=False)).app_context():
        assert _version() == _head()
        db.session.remove()
        db.engine.dispose()
    with _app(tmp_path / "after.db", migrate=False).app_context():
        keys = inspect(db.engine).get_foreign_keys("workshops")
        assert [key["constrained_columns"] for key in keys if key["referred_table"] == "stages"] == [
            ["current_stage_id"]]
        assert _differences() == []
        db.engine.dispose()
