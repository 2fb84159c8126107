"""Pre-testing and safeguarding: consent, segments, retention, self-paced mode, content warnings, aggregates.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-10 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite supports it with a default): a batch copy of these tables trips over
    # the columns earlier revisions appended (a circular column order in Alembic's batch mode).
    for table, column in (
            ("workshops", sa.Column("safeguarding", sa.Boolean(), nullable=False, server_default=sa.false())),
            ("workshops", sa.Column("helpline", sa.Text(), nullable=False, server_default="")),
            ("workshops", sa.Column("consent_note", sa.Text(), nullable=False, server_default="")),
            ("workshops", sa.Column("retention_days", sa.Integer(), nullable=True)),
            ("workshops", sa.Column("closed_at", sa.DateTime(), nullable=True)),
            ("workshops", sa.Column("purged_at", sa.DateTime(), nullable=True)),
            ("workshops", sa.Column("self_paced", sa.Boolean(), nullable=False, server_default=sa.false())),
            ("workshops", sa.Column("segment_questions", sa.JSON(), nullable=False, server_default="{}")),
            ("stages", sa.Column("warning", sa.Text(), nullable=False, server_default="")),
            ("stages", sa.Column("aggregate", sa.JSON(), nullable=True)),
            ("participants", sa.Column("segments", sa.JSON(), nullable=False, server_default="{}")),
            ("participants", sa.Column("consented_at", sa.DateTime(), nullable=True))):
        op.add_column(table, column)


def downgrade():
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("consented_at")
        batch_op.drop_column("segments")
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_column("aggregate")
        batch_op.drop_column("warning")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        for column in ("segment_questions", "self_paced", "purged_at", "closed_at", "retention_days",
                       "consent_note", "helpline", "safeguarding"):
            batch_op.drop_column(column)
