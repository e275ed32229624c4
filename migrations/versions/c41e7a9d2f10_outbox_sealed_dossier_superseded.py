"""Outbox rows keep their template and drop what was sent; dossiers can be superseded

Sent messages lose their subject and bodies (which held working links) and their recipient
is masked, as delivery now does. Messages still waiting keep their plain bodies until they
are sent (delivery reads both forms); new ones are stored encrypted.

Revision ID: c41e7a9d2f10
Revises: 5d1e0c7a9b42
Create Date: 2026-12-04 16:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c41e7a9d2f10"
down_revision = "5d1e0c7a9b42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("template", sa.String(length=40), server_default="", nullable=False)
        )
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(), nullable=True))

    if op.get_context().as_sql:  # SQL printed, or the schema read (backup checks): no rows
        return
    outbox = sa.table(
        "outbox_emails",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("to_address", sa.String),
        sa.column("subject", sa.String),
        sa.column("body_text", sa.Text),
        sa.column("body_html", sa.Text),
    )
    connection = op.get_bind()
    sent = connection.execute(
        sa.select(outbox.c.id, outbox.c.to_address).where(outbox.c.status == "sent")
    ).all()
    for row_id, address in sent:
        local, _, domain = address.rpartition("@")
        connection.execute(
            outbox.update()
            .where(outbox.c.id == row_id)
            .values(to_address=f"{local[:1]}…@{domain}", subject="", body_text="", body_html=None)
        )


def downgrade():
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("superseded_at")
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("template")
