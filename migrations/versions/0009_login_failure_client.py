"""login failures counted per client address too

The table holds at most one throttling window of attempts; they are dropped rather than
given a client address they never had (at worst, a window of guessing starts afresh).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic (no branch labels, no dependencies).
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"


def upgrade() -> None:
    op.execute("DELETE FROM login_failure")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        )
        batch_op.drop_index("ix_login_failure_digest_at")
        batch_op.create_index(
            "ix_login_failure_client_email_at", ["client_digest", "email_digest", "at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_client_email_at")
        batch_op.create_index("ix_login_failure_digest_at", ["email_digest", "at"])
        batch_op.drop_column("client_digest")
