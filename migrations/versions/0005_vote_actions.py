"""Vote actions already applied, so a late copy of an old one never overwrites a newer vote.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "vote_actions",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name=op.f("fk_vote_actions_participant_id_participants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("participant_id", "client_id", name=op.f("pk_vote_actions")),
    )
    # Votes stored before this revision: their latest actions count as applied.
    op.execute("INSERT INTO vote_actions (participant_id, client_id) SELECT DISTINCT participant_id, client_id"
               " FROM votes WHERE client_id != ''")


def downgrade():
    op.drop_table("vote_actions")
