"""Dossier covering letter: the organizer's optional letter to the recipients, printed
after the cover

Revision ID: 9e4b7c2a1d35
Revises: 7e4b9c2d1a63
Create Date: 2026-12-05 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9e4b7c2a1d35'
down_revision = '7e4b9c2d1a63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('covering_letter', sa.Text(), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('covering_letter')
