"""user deactivation"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models

# revision identifiers, used by Alembic (no branch labels, no dependencies).
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy on SQLite): the table keeps AUTOINCREMENT.
    op.add_column(
        "user_account",
        sa.Column("deactivated_at", app.models.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table(
        "user_account", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("deactivated_at")
