"""user deactivation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 19:35:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # A plain ADD COLUMN (no table copy on SQLite): the table keeps AUTOINCREMENT.
    op.add_column(
        "user_account",
        sa.Column("deactivated_at", app.models.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table(
        "user_account", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("deactivated_at")
