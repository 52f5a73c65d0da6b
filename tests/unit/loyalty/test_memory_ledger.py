"""MemoryLedger, MemoryOrderFacts and MemoryLinks keep their PostgreSQL twins' contracts (the same suite runs against PostgreSQL in
tests/integration/loyalty), and lists entries newest first."""
from __future__ import annotations

from shared.testing import Clock
from tests.support.fakes.loyalty import (MemoryCatalog, MemoryLedger, MemoryLinks, MemoryMembers, MemoryOrderFacts,
                                         MemoryRedemptions, MemoryReferrals)
from tests.unit.loyalty.ledger_contract import check_facts_contract, check_ledger_contract, check_members_contract


async def test_memory_ledger_keeps_the_ledger_contract(uid):
    await check_ledger_contract(MemoryLedger(now=Clock().now), f"s{uid}")


async def test_memory_facts_and_links_keep_their_contract(uid):
    await check_facts_contract(MemoryOrderFacts(), MemoryLinks(), f"s{uid}")


async def test_memory_members_catalog_referrals_redemptions_keep_their_contract(uid):
    await check_members_contract(MemoryMembers(), MemoryCatalog(), MemoryReferrals(), MemoryRedemptions(), f"s{uid}")


async def test_entries_come_newest_first():
    clock = Clock()
    ledger = MemoryLedger(now=clock.now)
    for n, entry_id in enumerate(["z-old", "a-new"]):
        await ledger.append(entry_id=entry_id, cause_event_id="c", customer_key="s:c1", store_id="s",
                            order_id=n, bucket="pending", points=1, reason="order.paid")
        clock.advance(seconds=1)
    assert [e.entry_id for e in await ledger.entries("s:c1")] == ["a-new", "z-old"]
