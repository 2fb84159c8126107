"""Moderation and fair ballots: a workshop may hold phones' ideas and comments for approval and
shuffles ballots per phone; items and comments can wait for approval, comments and reasons be hidden.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FALSE, TRUE = sa.false(), sa.true()


def upgrade():
    # Plain ADD COLUMNs (no table copy): every existing row gets the default.
    op.add_column("workshops", sa.Column("moderation", sa.Boolean(), nullable=False, server_default=FALSE))
    op.add_column("workshops", sa.Column("shuffle_ballots", sa.Boolean(), nullable=False, server_default=TRUE))
    op.add_column("items", sa.Column("pending", sa.Boolean(), nullable=False, server_default=FALSE))
    op.add_column("votes", sa.Column("note_hidden", sa.Boolean(), nullable=False, server_default=FALSE))
    op.add_column("comments", sa.Column("hidden", sa.Boolean(), nullable=False, server_default=FALSE))
    op.add_column("comments", sa.Column("pending", sa.Boolean(), nullable=False, server_default=FALSE))


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("pending")
        batch_op.drop_column("hidden")
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_column("note_hidden")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("pending")
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_column("shuffle_ballots")
        batch_op.drop_column("moderation")
