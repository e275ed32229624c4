"""Signer safety: a random public id per signature, the role shown only by choice, when the
wall may show a signer (publication), self-hiding, discreet mail; the wall pages by
(public_since, public_id) instead of confirmation time and database id

Existing signatures each get a public id; full-name and initial signers keep showing their
role (as before), anonymous and organization-only signers stop; everyone confirmed is
published from the day of their confirmation (the NOW they had).

Revision ID: 772ecf689746
Revises: be3ba8c72be8
Create Date: 2026-12-04 16:14:51.078126

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '772ecf689746'
down_revision = 'be3ba8c72be8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        # Nullable until every row has one (below).
        batch_op.add_column(sa.Column('public_id', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('show_role', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('publication', sa.String(length=10), server_default='now', nullable=False))
        batch_op.add_column(sa.Column('public_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('self_hidden', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('discreet_mail', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_signatures_publication'),
            "publication IN ('now', 'week', 'month', 'on_close', 'never')",
        )

    # Plain SQL, so that offline (--sql) runs, which backups use, work too. A public id is
    # 16 random hex digits from the database's own generator (the app's are URL-safe
    # base64, of the same length); the day is stored as SQLAlchemy stores a datetime.
    if op.get_bind().dialect.name == 'postgresql':
        random_id = "substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)"
        day = "date_trunc('day', confirmed_at)"
    else:
        random_id = "lower(hex(randomblob(8)))"
        day = "date(confirmed_at) || ' 00:00:00.000000'"
    op.execute("UPDATE signatures SET show_role = true WHERE visibility IN ('full', 'initial')")
    op.execute(f"UPDATE signatures SET public_id = {random_id}")
    op.execute(
        f"UPDATE signatures SET public_since = {day}"
        " WHERE status = 'confirmed' AND confirmed_at IS NOT NULL"
    )

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=24), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_signatures_public_id'), ['public_id'])
        batch_op.drop_index(batch_op.f('ix_signatures_wall'))
        batch_op.create_index('ix_signatures_wall', ['pledge_id', 'status', 'public_since', 'public_id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_signatures_wall_country'))
        batch_op.create_index('ix_signatures_wall_country', ['pledge_id', 'status', 'country', 'public_since', 'public_id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_signatures_wall_role'))
        batch_op.create_index('ix_signatures_wall_role', ['pledge_id', 'status', 'role', 'public_since', 'public_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_signatures_public_id'), type_='unique')
        batch_op.drop_constraint(op.f('ck_signatures_publication'), type_='check')
        batch_op.drop_index('ix_signatures_wall_role')
        batch_op.create_index(batch_op.f('ix_signatures_wall_role'), ['pledge_id', 'status', 'role', 'confirmed_at', 'id'], unique=False)
        batch_op.drop_index('ix_signatures_wall_country')
        batch_op.create_index(batch_op.f('ix_signatures_wall_country'), ['pledge_id', 'status', 'country', 'confirmed_at', 'id'], unique=False)
        batch_op.drop_index('ix_signatures_wall')
        batch_op.create_index(batch_op.f('ix_signatures_wall'), ['pledge_id', 'status', 'confirmed_at', 'id'], unique=False)
        batch_op.drop_column('discreet_mail')
        batch_op.drop_column('self_hidden')
        batch_op.drop_column('public_since')
        batch_op.drop_column('publication')
        batch_op.drop_column('show_role')
        batch_op.drop_column('public_id')
