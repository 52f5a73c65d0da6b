"""PgMessages passes the messages repository contract against the real PostgreSQL (the same
checks MemoryMessages passes in tests/unit/notifier/test_memory_messages.py)."""
from __future__ import annotations

import pytest

from services.notifier.adapters.messages import PgMessages
from services.notifier.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from tests.unit.notifier.messages_contract import CHECKS


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_contract(stack, uid, check):
    pool = await create_pool(stack.service_dsn("notifier"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "notifier")
    try:
        # Statement by statement on the pool, as separate transactions would be.
        await check(PgMessages(pool), f"pg{uid}")
    finally:
        await pool.execute("DELETE FROM messages WHERE message_id LIKE $1", f"pg{uid}-%")
        await pool.close()
