"""token last use; the token that made each audited change"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.models

# revision identifiers, used by Alembic (no branch labels, no dependencies).
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"


def upgrade() -> None:
    op.add_column(
        "api_token",
        sa.Column("last_used_at", app.models.UTCDateTime(timezone=True), nullable=True),
    )
    # SQLite adds a foreign key only by copying the table: keep its AUTOINCREMENT.
    with op.batch_alter_table(
        "audit_event", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("token_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_audit_event_token_id_api_token",
            "api_token",
            ["token_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "audit_event", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint("fk_audit_event_token_id_api_token", type_="foreignkey")
        batch_op.drop_column("token_name")
        batch_op.drop_column("token_id")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
