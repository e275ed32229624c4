"""The language of each user's emails (organizer and admin accounts)

Existing accounts have none: their mail follows the language of the request that sends it,
as before, until they next log in.

Revision ID: dbda5cc1b048
Revises: 6cbc5f3025c3
Create Date: 2026-11-27 23:00:08.289906

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dbda5cc1b048'
down_revision = '6cbc5f3025c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
