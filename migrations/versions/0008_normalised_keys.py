"""recompute email and group name keys as NFKC, case-folded

Keys were `lower()`: full-width, decomposed or case-folded variants of one email or group
name got distinct keys, hence duplicate accounts and groups. The rule is written out here
(not imported from `app.identity`) so this revision keeps doing what it did.

If two existing rows would share a key under the new rule, nothing is changed and the
upgrade stops, naming them: an operator merges or renames them, then migrates again.
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic (no branch labels, no dependencies).
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"

KEY_MAX = {"user_account": 254, "student_group": 200}
JOINERS = str.maketrans({"\u200c": None, "\u200d": None})


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text.strip()).casefold()


class KeyCollision(RuntimeError):
    pass


def _new_keys(table: str, column: str, key_column: str, rule) -> dict[int, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """id -> (old key, new key), after checking that the new keys are unique and fit."""
    rows = op.get_bind().execute(sa.text(f"SELECT id, {column}, {key_column} FROM {table}"))  # noqa: S608
    keys: dict[int, tuple[str, str]] = {}
    holders: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row_id, value, old in rows:
        new = rule(value)
        keys[row_id] = (old, new)
        holders[new].append((row_id, value))
    problems = [
        " and ".join(f"id {i} ({v!r})" for i, v in rows_)
        for rows_ in holders.values()
        if len(rows_) > 1
    ]
    problems += [
        f"id {i} ({v!r}) is longer than {KEY_MAX[table]} characters once normalised"
        for new, rows_ in holders.items()
        if len(new) > KEY_MAX[table]
        for i, v in rows_
    ]
    if problems:
        raise KeyCollision(
            f"Cannot normalise {table}.{key_column}: these rows would collide or overflow: "
            + "; ".join(problems)
            + f". Merge, rename or delete them (they are the same {column} to a person), "
            "then run the migration again. Nothing was changed."
        )
    return keys


def _write(table: str, key_column: str, keys: dict[int, tuple[str, str]]) -> None:
    changed = {i: new for i, (old, new) in keys.items() if old != new}
    update = sa.text(f"UPDATE {table} SET {key_column} = :key WHERE id = :id")  # noqa: S608
    bind = op.get_bind()
    # Two steps, so that a row taking a key another row gives up never meets it.
    for row_id in changed:
        bind.execute(update, {"key": f"\x01migrating {row_id}", "id": row_id})
    for row_id, new in changed.items():
        bind.execute(update, {"key": new, "id": row_id})


def upgrade() -> None:
    users = _new_keys("user_account", "email", "email_key", _key)
    groups = _new_keys("student_group", "name", "name_key", lambda n: _key(n.translate(JOINERS)))
    _write("user_account", "email_key", users)
    _write("student_group", "name_key", groups)


def downgrade() -> None:
    # The former rule (trimmed, lower-cased).
    for table, column, key_column in (
        ("user_account", "email", "email_key"),
        ("student_group", "name", "name_key"),
    ):
        keys = {
            row_id: (old, value.strip().lower())
            for row_id, value, old in op.get_bind().execute(
                sa.text(f"SELECT id, {column}, {key_column} FROM {table}")  # noqa: S608
            )
        }
        _write(table, key_column, keys)
