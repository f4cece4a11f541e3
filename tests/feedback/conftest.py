"""The repository suite runs on SQLite and on PostgreSQL through one parametrised fixture (`backend`,
read by `migrated_db` / `sessions`); the PostgreSQL half is marked `postgres` (CI's second run).

Selected by fixture, not by a list of names: every test here that asks for a migrated database
(`migrated_db`, `sessions`) runs on both, so a new repository test cannot stay SQLite-only by
accident. A test that is about SQLite itself says so with `@pytest.mark.sqlite_only`."""
from __future__ import annotations

import pytest

DATABASE_FIXTURES = {"migrated_db", "sessions"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames or not DATABASE_FIXTURES & set(metafunc.fixturenames):
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return
    metafunc.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
