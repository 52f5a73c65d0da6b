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


# Templates said once per order, whichever event triggers them (a thank-you follows order.placed
# for a paid order, or order.paid for one that was pending): their id is the order's, not the event's.
ONCE_PER_ORDER = {"order_thanks", "order_completed", "order_cancelled"}
# A placed order that isn't paid yet gets its thank-you when the payment arrives.
UNPAID = {"pending", "failed", "cancelled", "checkout-draft"}


def message_id(event: Envelope, template: str) -> str:
    if template in ONCE_PER_ORDER:
        return derived_event_id(f"{event.data.get('store_id')}:order:{event.data.get('order_id')}", f"email:{template}")
    return derived_event_id(event.id, f"email:{template}")


async def _order_message(event: Envelope, conn: asyncpg.Connection, event_type: str | None = None) -> None:
    draft = compose(event_type or event.type, event.data)
    if draft is None:
        log.info("message_not_needed", event_id=event.id, event_type=event.type)
        return
    await PgMessages(conn).record_intent(
        message_id=message_id(event, draft.template), cause_event_id=event.id,
        cause_type=event.type, customer_key=(event.data.get("customer") or {}).get("key", ""), draft=draft)


async def on_order_placed(event: Envelope, conn: asyncpg.Connection) -> None:
    if event.data.get("status") not in UNPAID:
        await _order_message(event, conn)


async def on_order_paid(event: Envelope, conn: asyncpg.Connection) -> None:
    await _order_message(event, conn, "order.placed")  # the thank-you, once per order


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
    "order.paid": on_order_paid,
    "order.shipped": on_order_shipped,
    "order.completed": on_order_completed,
    "order.cancelled": on_order_cancelled,
    "order.refunded": on_order_refunded,
}
