"""MemoryMessages passes the messages repository contract (the same checks PgMessages passes
against PostgreSQL in tests/integration/notifier/test_pg_messages.py)."""
from __future__ import annotations

import uuid

import pytest

from shared.testing import FakeOutbox
from tests.support.fakes.notifier import MemoryMessages, memory_transactions
from tests.unit.notifier.messages_contract import CHECKS, draft


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_contract(check):
    await check(MemoryMessages(), uuid.uuid4().hex[:10])


async def test_a_transaction_that_raises_leaves_nothing_behind():
    messages, outbox = MemoryMessages(), FakeOutbox()
    transactions = memory_transactions(messages, outbox)
    with pytest.raises(RuntimeError):
        async with transactions() as tx:
            await tx.messages.record_intent(message_id="m", cause_event_id="e", cause_type="order.placed",
                                            customer_key="s:c1", draft=draft())
            raise RuntimeError("rolled back")
    assert messages.rows == {} and outbox.events == []
    async with transactions() as tx:
        await tx.messages.record_intent(message_id="m", cause_event_id="e", cause_type="order.placed",
                                        customer_key="s:c1", draft=draft())
    assert list(messages.rows) == ["m"]
