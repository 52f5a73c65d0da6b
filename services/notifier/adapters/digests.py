"""PgDigests: the other pending messages a digest can take in — same customer, same address, email,
due within the window — locked (SKIP LOCKED: another sender's are left to it) and then leased to
the digest being sent, so no sender takes them on their own while it is on its way. If the digest
isn't sent, the lease runs out and they go out on their own (or in the next digest).
Its in-memory twin is tests/support/fakes/notifier.py's MemoryDigests.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import asyncpg

from services.notifier.domain.delivery import StoredMessage

# The message columns a StoredMessage holds (what gating adds on its way out is no column).
_COLUMNS = ", ".join(f.name for f in fields(StoredMessage) if f.name not in ("headers", "digest_parts"))
_PARTS = (f"SELECT {_COLUMNS} FROM messages WHERE status = 'pending' AND channel = 'email'"
          " AND customer_key = $1 AND to_address = $2 AND message_id <> $3 AND next_attempt_at <= $4"
          " ORDER BY next_attempt_at, created_at LIMIT $5 FOR UPDATE SKIP LOCKED")


class PgDigests:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def candidates(self, lead: StoredMessage, due_by: datetime, limit: int = 20) -> list[StoredMessage]:
        rows = await self.db.fetch(_PARTS, lead.customer_key, lead.to_address, lead.message_id, due_by, limit)
        return [StoredMessage(**dict(r)) for r in rows]

    async def take(self, lead_id: str, part_ids: list[str], lease_until: datetime) -> None:
        """Lease the parts to the digest `lead_id` (the lead's own row is leased by the claim)."""
        await self.db.execute(
            "UPDATE messages SET digest_id = $1, next_attempt_at = $3 WHERE message_id = ANY($2::text[])",
            lead_id, part_ids, lease_until)
        await self.db.execute("UPDATE messages SET digest_id = $1 WHERE message_id = $1", lead_id)
