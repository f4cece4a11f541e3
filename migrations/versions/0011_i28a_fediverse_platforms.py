"""fediverse platforms: accounts.platform also takes 'mastodon' and 'bluesky'

Widening the CHECK constraint changes no stored row, so nothing is rebuilt: PostgreSQL drops and
adds the constraint; SQLite edits the constraint's text in the table's stored definition (as 0009
does for the generator constraint), so triggers and views stay as they are.

Revision ID: i28a
Revises: i25
Create Date: 2026-12-06 04:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'i28a'
down_revision = 'i25'
branch_labels = None
depends_on = None

OLD = ("outbox", "x", "instagram")
NEW = (*OLD, "mastodon", "bluesky")
NAME = "ck_accounts_platform"


def _check(values: tuple[str, ...]) -> str:
    return f"platform IN ({', '.join(repr(v) for v in values)})"


def _set(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(NAME), "accounts", type_="check")
        op.create_check_constraint(op.f(NAME), "accounts", _check(new))
        return
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'")).scalar()
    before = f"CONSTRAINT {NAME} CHECK ({_check(old)})"
    if sql is None or sql.count(before) != 1:
        raise RuntimeError(f"accounts: cannot find its constraint {NAME} as {before!r}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'accounts'"),
                 {"sql": sql.replace(before, f"CONSTRAINT {NAME} CHECK ({_check(new)})")})
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    problems = bind.execute(sa.text("PRAGMA integrity_check")).scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check after widening the platform constraint: {problems[:3]}")


def upgrade() -> None:
    _set(OLD, NEW)


def downgrade() -> None:
    count = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM accounts WHERE platform IN ('mastodon', 'bluesky')")).scalar()
    if count:
        raise RuntimeError(f"accounts: {count} Mastodon/Bluesky accounts exist; delete them first")
    _set(NEW, OLD)
