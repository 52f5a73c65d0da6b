"""PgMessages: the notifier's message rows (the send intent, then its result)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

from services.notifier.domain.messages import Draft


class PgMessages:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def record_intent(self, *, message_id: str, cause_event_id: str, cause_type: str,
                            customer_key: str, draft: Draft) -> bool:
        """Insert the send intent; False if this message was already recorded."""
        return bool(await self.conn.fetchval(
            "INSERT INTO messages (message_id, cause_event_id, cause_type, customer_key, template,"
            " to_address, subject, body_text, body_html) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            " ON CONFLICT (message_id) DO NOTHING RETURNING 1",
            message_id, cause_event_id, cause_type, customer_key, draft.template, draft.to_address,
            draft.subject, draft.text, draft.html))

    async def claim_due(self, limit: int) -> list[asyncpg.Record]:
        """Due pending messages, locked for this transaction (other senders skip them)."""
        return await self.conn.fetch(
            "SELECT * FROM messages WHERE status = 'pending' AND next_attempt_at <= now()"
            " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED", limit)

    async def mark_sent(self, message_id: str) -> None:
        await self.conn.execute(
            "UPDATE messages SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL"
            " WHERE message_id = $1", message_id)

    async def mark_retry(self, message_id: str, error: str, delay_s: float) -> None:
        await self.conn.execute(
            "UPDATE messages SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3"
            " WHERE message_id = $1", message_id, error,
            datetime.now(timezone.utc) + timedelta(seconds=delay_s))

    async def mark_failed(self, message_id: str, error: str) -> None:
        await self.conn.execute(
            "UPDATE messages SET status = 'failed', attempts = attempts + 1, last_error = $2"
            " WHERE message_id = $1", message_id, error)
