"""PgMessages: the notifier's message rows (the send intent, then its result), and their history.

Bound to the unit of work's connection for everything that writes (`tx.messages`); the API reads
the history straight off the pool (one statement, no transaction needed), so `db` is either.
tests/support/fakes/notifier.py's MemoryMessages is its in-memory twin (same methods, same rules).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

from services.notifier.domain.delivery import MessageSummary, StoredMessage
from services.notifier.domain.messages import Draft

_CLAIM = ("SELECT message_id, cause_event_id, cause_type, customer_key, channel, template, to_address, subject,"
          " body_text, body_html, status, attempts FROM messages"
          " WHERE status = 'pending' AND next_attempt_at <= now()"
          " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED")
_HISTORY = ("SELECT message_id, cause_event_id, cause_type, template, channel, status, attempts, created_at,"
            " sent_at FROM messages WHERE customer_key = $1 ORDER BY created_at DESC LIMIT $2")


class PgMessages:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def record_intent(self, *, message_id: str, cause_event_id: str, cause_type: str,
                            customer_key: str, draft: Draft) -> bool:
        """Insert the send intent; False if this message was already recorded."""
        return bool(await self.db.fetchval(
            "INSERT INTO messages (message_id, cause_event_id, cause_type, customer_key, template,"
            " to_address, subject, body_text, body_html) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            " ON CONFLICT (message_id) DO NOTHING RETURNING 1",
            message_id, cause_event_id, cause_type, customer_key, draft.template, draft.to_address,
            draft.subject, draft.text, draft.html))

    async def claim_due(self, limit: int) -> list[StoredMessage]:
        """Due pending messages, locked for this transaction (other senders skip them)."""
        return [StoredMessage(**dict(r)) for r in await self.db.fetch(_CLAIM, limit)]

    async def mark_sent(self, message_id: str) -> None:
        await self.db.execute(
            "UPDATE messages SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL"
            " WHERE message_id = $1", message_id)

    async def mark_retry(self, message_id: str, error: str, delay_s: float) -> None:
        await self.db.execute(
            "UPDATE messages SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3"
            " WHERE message_id = $1", message_id, error,
            datetime.now(timezone.utc) + timedelta(seconds=delay_s))

    async def mark_failed(self, message_id: str, error: str) -> None:
        await self.db.execute(
            "UPDATE messages SET status = 'failed', attempts = attempts + 1, last_error = $2"
            " WHERE message_id = $1", message_id, error)

    async def history(self, customer_key: str, limit: int) -> list[MessageSummary]:
        """A customer's messages, newest first (no addresses, no bodies)."""
        return [MessageSummary(**dict(r)) for r in await self.db.fetch(_HISTORY, customer_key, limit)]
