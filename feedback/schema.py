"""The Alembic head revision the code needs. Checked against migrations/ by a test, and used to tell
whether a database needs `memeloop db upgrade` without importing Alembic or the ORM."""

SCHEMA_HEAD = "r25_style"
