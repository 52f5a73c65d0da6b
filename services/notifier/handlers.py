"""Notifier handlers: one per event type, registered in HANDLERS at the bottom.

Each records the send intent (a messages row) in the consumer's transaction; the sender worker
(entrypoints/sender.py) delivers it over SMTP afterwards, so a crash or an SMTP outage never
loses a message and never sends one twice from a redelivered event.
"""
from __future__ import annotations

import asyncpg

from services.notifier.adapters.messages import PgMessages
from services.notifier.domain.messages import compose
from shared.events.envelope import Envelope, derived_event_id
from shared.logging import get_logger

log = get_logger(__name__)


async def _order_message(event: Envelope, conn: asyncpg.Connection) -> None:
    draft = compose(event.type, event.data)
    if draft is None:
        log.info("message_not_needed", event_id=event.id, event_type=event.type)
        return
    await PgMessages(conn).record_intent(
        message_id=derived_event_id(event.id, f"email:{draft.template}"), cause_event_id=event.id,
        cause_type=event.type, customer_key=(event.data.get("customer") or {}).get("key", ""), draft=draft)


async def on_order_placed(event: Envelope, conn: asyncpg.Connection) -> None:
    await _order_message(event, conn)


async def on_order_shipped(event: Envelope, conn: asyncpg.Connection) -> None:
    await _order_message(event, conn)


async def on_order_completed(event: Envelope, conn: asyncpg.Connection) -> None:
    await _order_message(event, conn)


async def on_order_cancelled(event: Envelope, conn: asyncpg.Connection) -> None:
    await _order_message(event, conn)


async def on_order_refunded(event: Envelope, conn: asyncpg.Connection) -> None:
    await _order_message(event, conn)


HANDLERS = {
    "order.placed": on_order_placed,
    "order.shipped": on_order_shipped,
    "order.completed": on_order_completed,
    "order.cancelled": on_order_cancelled,
    "order.refunded": on_order_refunded,
}
