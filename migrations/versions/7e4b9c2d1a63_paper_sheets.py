"""Paper sheets: printed sign-up sheets (their codes, languages, numbered commitments and
scan fingerprints), and which sheet a signature was signed on

Revision ID: 7e4b9c2d1a63
Revises: 5c1d2e8f7a90
Create Date: 2026-12-05 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e4b9c2d1a63'
down_revision = '5c1d2e8f7a90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('paper_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('commitment_ids', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('scan_sha256', sa.String(length=64), nullable=True),
    sa.Column('scan_file', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_paper_sheets_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_paper_sheets_pledge_id_pledges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_sheets')),
    sa.UniqueConstraint('code', name=op.f('uq_paper_sheets_code'))
    )
    with op.batch_alter_table('paper_sheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_sheets_pledge_id'), ['pledge_id'], unique=False)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_sheet_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_signatures_paper_sheet_id'), ['paper_sheet_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_signatures_paper_sheet_id_paper_sheets'), 'paper_sheets', ['paper_sheet_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signatures_paper_sheet_id_paper_sheets'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_signatures_paper_sheet_id'))
        batch_op.drop_column('paper_sheet_id')

    with op.batch_alter_table('paper_sheets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_sheets_pledge_id'))

    op.drop_table('paper_sheets')
