"""The repository suite runs on SQLite and on PostgreSQL through one parametrised fixture (`backend`,
read by `migrated_db` / `sessions`); the PostgreSQL half is marked `postgres` (CI's second run)."""
from __future__ import annotations

import pytest

REPOSITORY_SUITE = {"test_posts", "test_reviews", "test_dashboard", "test_dedupe", "test_learning", "test_polling",
                    "test_read_after_write"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module in REPOSITORY_SUITE and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
