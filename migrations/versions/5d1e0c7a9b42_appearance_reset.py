"""Signatures remember when their entry last became less identifying

Revision ID: 5d1e0c7a9b42
Revises: 772ecf689746
Create Date: 2026-12-04 17:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5d1e0c7a9b42"
down_revision = "772ecf689746"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appearance_reset_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("signatures", schema=None) as batch_op:
        batch_op.drop_column("appearance_reset_at")
