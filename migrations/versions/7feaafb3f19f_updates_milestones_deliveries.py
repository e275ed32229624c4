"""Updates: organizers' updates to signers (translated, drafts), step-up milestones, the
fan-out of their emails (one delivery row per signer and update), and the signer's choice

Revision ID: 7feaafb3f19f
Revises: 263021acd78b
Create Date: 2026-12-05 07:28:58.645779

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7feaafb3f19f'
down_revision = '263021acd78b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pledge_milestones',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('goal', sa.Integer(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('goal > 0', name=op.f('ck_pledge_milestones_goal_positive')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_milestones_pledge_id_pledges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pledge_id', 'goal', name=op.f('pk_pledge_milestones'))
    )
    op.create_table('pledge_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'published')", name=op.f('ck_pledge_updates_status')),
    sa.Column('milestone', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_pledge_updates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_updates_pledge_id_pledges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_updates')),
    sa.UniqueConstraint('pledge_id', 'milestone', name=op.f('uq_pledge_updates_pledge_id_milestone'))
    )
    with op.batch_alter_table('pledge_updates', schema=None) as batch_op:
        batch_op.create_index('ix_pledge_updates_published', ['pledge_id', 'status', 'published_at'], unique=False)

    op.create_table('pledge_update_translations',
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['pledge_updates.id'], name=op.f('fk_pledge_update_translations_update_id_pledge_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('update_id', 'locale', name=op.f('pk_pledge_update_translations'))
    )
    op.create_table('update_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.CheckConstraint("status IN ('running', 'paused', 'done')", name=op.f('ck_update_sends_status')),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('next_slot_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_update_sends_started_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['update_id'], ['pledge_updates.id'], name=op.f('fk_update_sends_update_id_pledge_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_sends')),
    sa.UniqueConstraint('update_id', name=op.f('uq_update_sends_update_id'))
    )
    op.create_table('update_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('send_id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.CheckConstraint("state IN ('queued', 'outboxed', 'skipped')", name=op.f('ck_update_deliveries_state')),
    sa.Column('outbox_email_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_email_id'], ['outbox_emails.id'], name=op.f('fk_update_deliveries_outbox_email_id_outbox_emails'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['send_id'], ['update_sends.id'], name=op.f('fk_update_deliveries_send_id_update_sends'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_update_deliveries_signature_id_signatures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['update_id'], ['pledge_updates.id'], name=op.f('fk_update_deliveries_update_id_pledge_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_deliveries')),
    sa.UniqueConstraint('update_id', 'signature_id', name=op.f('uq_update_deliveries_update_id_signature_id'))
    )
    with op.batch_alter_table('update_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_deliveries_outbox_email_id'), ['outbox_email_id'], unique=False)
        batch_op.create_index('ix_update_deliveries_send', ['send_id', 'state', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_update_deliveries_signature_id'), ['signature_id'], unique=False)

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_updates', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('wants_updates')

    with op.batch_alter_table('update_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_deliveries_signature_id'))
        batch_op.drop_index('ix_update_deliveries_send')
        batch_op.drop_index(batch_op.f('ix_update_deliveries_outbox_email_id'))

    op.drop_table('update_deliveries')
    op.drop_table('update_sends')
    op.drop_table('pledge_update_translations')
    with op.batch_alter_table('pledge_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_pledge_updates_published')

    op.drop_table('pledge_updates')
    op.drop_table('pledge_milestones')
