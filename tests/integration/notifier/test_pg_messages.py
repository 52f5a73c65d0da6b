"""PgMessages passes the messages repository contract against the real PostgreSQL (the same
checks MemoryMessages passes in tests/unit/notifier/test_memory_messages.py), in a schema of its
own (migrations applied fresh there, nothing shared with other tests or a dev system)."""
from __future__ import annotations

import pytest

from services.notifier.adapters.messages import PgMessages
from services.notifier.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.support.pg_schema import isolated_schema
from tests.unit.notifier.messages_contract import CHECKS


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_contract(stack, uid, check):
    async with isolated_schema(stack.service_dsn("notifier"), f"msg_{uid}") as dsn:
        pool = await create_pool(dsn, 1, 3)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            # Statement by statement on the pool, as separate transactions would be.
            await check(PgMessages(pool), f"pg{uid}")
        finally:
            await pool.close()
