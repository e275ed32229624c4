"""Dialogue sessions: sessions of a pledge, their facilitators, signers' RSVPs and attendance

Revision ID: 263021acd78b
Revises: 9e4b7c2a1d35
Create Date: 2026-12-05 07:29:50.448619

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '263021acd78b'
down_revision = '9e4b7c2a1d35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('series_id', sa.String(length=32), nullable=True),
    sa.Column('series_position', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('duration_minutes BETWEEN 1 AND 1440', name=op.f('ck_sessions_duration_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sessions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_sessions_pledge_id_pledges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('uid', name=op.f('uq_sessions_uid'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_pledge_start', ['pledge_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_series_id'), ['series_id'], unique=False)

    op.create_table('rsvps',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=3), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_rsvps_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_rsvps_signature_id_signatures'), ondelete='CASCADE'),
    sa.CheckConstraint("answer IN ('yes', 'no')", name=op.f('ck_rsvps_answer')),
    sa.PrimaryKeyConstraint('session_id', 'signature_id', name=op.f('pk_rsvps'))
    )
    with op.batch_alter_table('rsvps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rsvps_signature_id'), ['signature_id'], unique=False)

    op.create_table('session_facilitators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_facilitators_session_id_sessions'), ondelete='CASCADE'),
    sa.CheckConstraint("role IN ('woman', 'man', 'other')", name=op.f('ck_session_facilitators_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_facilitators'))
    )
    with op.batch_alter_table('session_facilitators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_facilitators_session_id'), ['session_id'], unique=False)

    op.create_table('attendance',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_attendance_action_id_actions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_attendance_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_attendance_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_attendance_signature_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'signature_id', name=op.f('pk_attendance'))
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_signature_id'), ['signature_id'], unique=False)



def downgrade():
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_signature_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('session_facilitators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_facilitators_session_id'))

    op.drop_table('session_facilitators')
    with op.batch_alter_table('rsvps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rsvps_signature_id'))

    op.drop_table('rsvps')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_series_id'))
        batch_op.drop_index('ix_sessions_pledge_start')

    op.drop_table('sessions')
