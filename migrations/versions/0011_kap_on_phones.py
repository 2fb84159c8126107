"""The KAP survey on phones: a response knows the stage and the phone it was given on; a survey keeps
the totals of collected answers that retention deleted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept", sa.JSON(), nullable=False, server_default="[]"))
    # survey_responses was made whole in 0010: a batch copy of it (SQLite) adds the foreign keys.
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("participant_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_survey_responses_stage_id"), ["stage_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_responses_participant_id"), ["participant_id"],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_survey_responses_stage_id_stages"), "stages",
                                    ["stage_id"], ["id"], ondelete="CASCADE")
        batch_op.create_foreign_key(batch_op.f("fk_survey_responses_participant_id_participants"),
                                    "participants", ["participant_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_survey_responses_participant_id_participants"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_survey_responses_stage_id_stages"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_survey_responses_participant_id"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_stage_id"))
        batch_op.drop_column("participant_id")
        batch_op.drop_column("stage_id")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_column("kept")
