"""PgConsent: each customer's marketing consent as last stated (`consents`) and the marketing
contacts the 7-day budget counts (`marketing_contacts`). Its in-memory twin is
tests/support/fakes/notifier.py's MemoryConsent.

Budget checks of one customer are serialised with a transaction-scoped advisory lock on the
customer key, so two senders can't both take the last slot; it is only tried, never waited for
(gating defers the message a moment when another sender holds it).
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.notifier.domain.consent import ConsentRecord


class PgConsent:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def get(self, customer_key: str) -> ConsentRecord | None:
        row = await self.db.fetchrow(
            "SELECT marketing, source, changed_at, timezone FROM consents WHERE customer_key = $1",
            customer_key)
        return ConsentRecord(**dict(row)) if row else None

    async def put(self, customer_key: str, store_id: str, record: ConsentRecord) -> None:
        await self.db.execute(
            "INSERT INTO consents (customer_key, store_id, marketing, source, changed_at, timezone)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (customer_key) DO UPDATE SET marketing = EXCLUDED.marketing,"
            " source = EXCLUDED.source, changed_at = EXCLUDED.changed_at, timezone = EXCLUDED.timezone,"
            " updated_at = now()",
            customer_key, store_id, record.marketing, record.source, record.changed_at, record.timezone)

    async def forget(self, customer_key: str) -> None:
        await self.db.execute("DELETE FROM consents WHERE customer_key = $1", customer_key)

    async def lock_customer(self, customer_key: str) -> bool:
        """Hold this customer's budget until the transaction ends; False when another transaction
        holds it (never waits: two senders locking two customers in opposite order can't deadlock)."""
        return bool(await self.db.fetchval("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 3))",
                                           customer_key))

    async def contacts(self, customer_key: str, since: datetime, *, excluding: str) -> list[datetime]:
        """Times of the marketing messages let through since `since` (not `excluding`, the one being
        decided: a retried message doesn't count itself), except those that failed for good."""
        rows = await self.db.fetch(
            "SELECT c.at FROM marketing_contacts c JOIN messages m ON m.message_id = c.message_id"
            " WHERE c.customer_key = $1 AND c.at > $2 AND c.message_id <> $3 AND m.status <> 'failed'",
            customer_key, since, excluding)
        return [r["at"] for r in rows]

    async def add_contact(self, message_id: str, customer_key: str, at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO marketing_contacts (message_id, customer_key, at) VALUES ($1, $2, $3)"
            " ON CONFLICT (message_id) DO NOTHING", message_id, customer_key, at)
