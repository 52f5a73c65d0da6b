"""Loyalty's integration tests run in a PostgreSQL schema of their own (its migrations applied
there): nothing shared with other tests or a dev system using the loyalty database."""
from __future__ import annotations

import pytest

from services.loyalty.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.support.pg_schema import isolated_schema


@pytest.fixture
async def loyalty_dsn(stack, uid):
    async with isolated_schema(stack.service_dsn("loyalty"), f"loy_{uid}") as dsn:
        yield dsn


@pytest.fixture
async def pool(loyalty_dsn):
    pool = await create_pool(loyalty_dsn, 1, 4)
    await apply_migrations(pool, MIGRATIONS, "loyalty")
    yield pool
    await pool.close()
