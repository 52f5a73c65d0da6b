"""PgMessages: the notifier's message rows (the send intent, then its result), and their history.

Bound to the unit of work's connection for everything that writes (`tx.messages`); the API reads
the history straight off the pool (one statement, no transaction needed), so `db` is either.
tests/support/fakes/notifier.py's MemoryMessages is its in-memory twin (same methods, same rules).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg

from services.notifier.domain.delivery import MessageSummary, Plan, QueuedMessage, StoredMessage
from services.notifier.domain.messages import Draft

_COLUMNS = ("message_id, cause_event_id, cause_type, customer_key, channel, template, to_address, subject,"
            " body_text, body_html, status, attempts, cause_time, flow, marketing, order_id, order_statuses, locale")
_DUE = ("SELECT message_id FROM messages WHERE status = 'pending' AND next_attempt_at <= now()"
        " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED")
_CLAIM = (f"SELECT {_COLUMNS} FROM messages WHERE status = 'pending' AND next_attempt_at <= now()"
          " ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED")
# Leased: the claimed rows' next attempt moves `$2` seconds on, in the claiming statement, so once
# that transaction commits no other sender takes them while they are on their way; if this sender
# dies, they are due again when the lease runs out (sending.py).
_CLAIM_LEASED = (f"WITH due AS ({_DUE}) UPDATE messages m"
                 " SET next_attempt_at = now() + make_interval(secs => $2) FROM due"
                 " WHERE m.message_id = due.message_id RETURNING "
                 + ", ".join(f"m.{c.strip()}" for c in _COLUMNS.split(",")))
_HISTORY = ("SELECT message_id, cause_event_id, cause_type, template, channel, status, attempts, created_at,"
            " sent_at FROM messages WHERE customer_key = $1 ORDER BY created_at DESC LIMIT $2")


class PgMessages:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def record_intent(self, *, message_id: str, cause_event_id: str, cause_type: str,
                            customer_key: str, draft: Draft, cause_time: datetime | None = None,
                            plan: Plan | None = None) -> bool:
        """Insert the send intent; False if this message was already recorded. `plan` says when
        and how (flow, channel, due time, the order statuses it must still fit): default now, email."""
        p = plan or Plan()
        return bool(await self.db.fetchval(
            "INSERT INTO messages (message_id, cause_event_id, cause_type, customer_key, template,"
            " to_address, subject, body_text, body_html, cause_time, flow, store_id, marketing, order_id,"
            " order_statuses, locale, channel, next_attempt_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,coalesce($18, now()))"
            " ON CONFLICT (message_id) DO NOTHING RETURNING 1",
            message_id, cause_event_id, cause_type, customer_key, draft.template, draft.to_address,
            draft.subject, draft.text, draft.html, cause_time, p.flow or draft.template, p.store_id,
            p.marketing, p.order_id, sorted(p.order_statuses) if p.order_statuses is not None else None,
            draft.locale, p.channel, p.due_at))

    async def cancel_unfit(self, store_id: str, order_id: int, status: str) -> list[str]:
        """Cancel the order's pending messages that no longer fit its new `status`; their ids."""
        rows = await self.db.fetch(
            "UPDATE messages SET status = 'cancelled', status_reason = $4 WHERE store_id = $1 AND order_id = $2"
            " AND status = 'pending' AND order_statuses IS NOT NULL AND NOT ($3 = ANY(order_statuses))"
            " RETURNING message_id", store_id, order_id, status, f"order is now {status}")
        return [r["message_id"] for r in rows]

    async def retime(self, message_id: str, due_at: datetime) -> bool:
        """Move a pending message that hasn't been tried yet to `due_at`; False if none was moved."""
        return bool(await self.db.fetchval(
            "UPDATE messages SET next_attempt_at = $2 WHERE message_id = $1 AND status = 'pending'"
            " AND attempts = 0 AND next_attempt_at <> $2 RETURNING 1", message_id, due_at))

    async def queue(self, *, store_id: str | None = None, flow: str | None = None, status: str = "pending",
                    limit: int = 100) -> list[QueuedMessage]:
        """Messages by due time (scheduled ones by default), optionally one store's or one flow's."""
        rows = await self.db.fetch(
            "SELECT message_id, flow, store_id, customer_key, order_id, channel, marketing, status,"
            " status_reason, attempts, next_attempt_at AS due_at, created_at FROM messages"
            " WHERE status = $1 AND ($2::text IS NULL OR store_id = $2) AND ($3::text IS NULL OR flow = $3)"
            " ORDER BY next_attempt_at LIMIT $4", status, store_id, flow, limit)
        return [QueuedMessage(**dict(r)) for r in rows]

    async def get(self, message_id: str) -> QueuedMessage | None:
        row = await self.db.fetchrow(
            "SELECT message_id, flow, store_id, customer_key, order_id, channel, marketing, status,"
            " status_reason, attempts, next_attempt_at AS due_at, created_at FROM messages WHERE message_id = $1",
            message_id)
        return QueuedMessage(**dict(row)) if row else None

    async def resend(self, message_id: str) -> bool:
        """Send a sent or failed message again, as it was rendered (same id, so the same Message-ID)."""
        return bool(await self.db.fetchval(
            "UPDATE messages SET status = 'pending', attempts = 0, last_error = NULL, status_reason = 'resend',"
            " next_attempt_at = now() WHERE message_id = $1 AND status IN ('sent', 'failed') RETURNING 1",
            message_id))

    async def claim_due(self, limit: int, lease_s: float | None = None) -> list[StoredMessage]:
        """Due pending messages, oldest due first, locked for this transaction (other senders skip
        them); with `lease_s`, also not due again for that long (see _CLAIM_LEASED)."""
        if lease_s is None:
            rows = await self.db.fetch(_CLAIM, limit)
        else:
            rows = await self.db.fetch(_CLAIM_LEASED, limit, float(lease_s))
        return [StoredMessage(**dict(r)) for r in rows]

    async def mark_sent_many(self, message_ids: list[str]) -> None:
        """mark_sent for a whole group of messages in one statement (the sender's group commit)."""
        await self.db.execute(
            "UPDATE messages SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL"
            " WHERE message_id = ANY($1::text[])", message_ids)

    async def defer(self, message_id: str, until: datetime, reason: str) -> None:
        """Gating said not now: due again at `until` (the attempt isn't counted: nothing was tried)."""
        await self.db.execute("UPDATE messages SET next_attempt_at = $2, status_reason = $3"
                              " WHERE message_id = $1 AND status = 'pending'", message_id, until, reason)

    async def mark_suppressed(self, message_id: str, reason: str) -> None:
        await self.db.execute("UPDATE messages SET status = 'suppressed', status_reason = $2"
                              " WHERE message_id = $1 AND status = 'pending'", message_id, reason)

    async def mark_cancelled(self, message_id: str, reason: str) -> None:
        await self.db.execute("UPDATE messages SET status = 'cancelled', status_reason = $2"
                              " WHERE message_id = $1 AND status = 'pending'", message_id, reason)

    async def queue_stats(self) -> tuple[int, float]:
        """(pending messages due now, seconds the oldest of them has been due) for the gauges."""
        row = await self.db.fetchrow(
            "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0) AS age"
            " FROM messages WHERE status = 'pending' AND next_attempt_at <= now()")
        return int(row["n"]), float(row["age"])

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
