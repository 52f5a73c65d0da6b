"""Loyalty handlers: one per order event type, registered in HANDLERS at the bottom.

Ledger rows and the loyalty.v1 events announcing them are written in the consumer's
transaction (rows to the ledger, events to the outbox), keyed by the causing event's id.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.domain.points import earning_base, points_for, reversal_for
from shared.db import outbox
from shared.events.follow_up import follow_up_event
from shared.events.envelope import Envelope, Outgoing, derived_event_id


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides the event and the transaction (wired by bootstrap)."""
    points_per_unit: Decimal = Decimal("1")


def _announce(cause: Envelope, event_type: str, key: str, data: dict) -> Outgoing:
    return follow_up_event(service="loyalty", cause_id=cause.id, event_type=event_type, key=key, time=cause.time,
                      data=data)


async def _move(event: Envelope, conn: asyncpg.Connection, *, bucket: str, points: int, reason: str,
                announce: str | None) -> None:
    d = event.data
    key = d["customer"]["key"]
    if points == 0:
        return
    ledger = PgLedger(conn)
    await ledger.append(entry_id=derived_event_id(event.id, f"ledger:{bucket}"), cause_event_id=event.id,
                        customer_key=key, store_id=d["store_id"], order_id=d["order_id"], bucket=bucket,
                        points=points, reason=reason)
    if announce:
        await outbox.write(conn, [_announce(event, announce, key, {
            "store_id": d["store_id"], "customer_key": key, "order_id": d["order_id"], "points": abs(points),
            "bucket": bucket})])


async def on_order_paid(event: Envelope, conn: asyncpg.Connection, deps: Deps) -> None:
    pts = points_for(earning_base(event.data), deps.points_per_unit)
    await _move(event, conn, bucket="pending", points=pts, reason="order.paid", announce="points.pending")


async def on_order_completed(event: Envelope, conn: asyncpg.Connection, deps: Deps) -> None:
    d = event.data
    pending = await PgLedger(conn).order_points(d["store_id"], d["order_id"], "pending")
    if pending > 0:
        await _move(event, conn, bucket="pending", points=-pending, reason="order.completed", announce=None)
        await _move(event, conn, bucket="available", points=pending, reason="order.completed",
                    announce="points.available")


async def on_order_refunded(event: Envelope, conn: asyncpg.Connection, deps: Deps) -> None:
    d = event.data
    ledger = PgLedger(conn)
    earned = await ledger.earned_for_order(d["store_id"], d["order_id"])
    pending = await ledger.order_points(d["store_id"], d["order_id"], "pending")
    remaining = max(pending, 0) + max(await ledger.order_points(d["store_id"], d["order_id"], "available"), 0)
    # A full refund takes back everything the order still holds (proportional floors would leave
    # a point or two behind); a partial one its share, never more than what is left.
    take = remaining if d["refund"].get("is_full") else min(
        reversal_for(d["refund"]["amount"], d["total"], earned), remaining)
    # Take back from pending first (not yet spendable), then from available.
    from_pending = min(take, max(pending, 0))
    await _move(event, conn, bucket="pending", points=-from_pending, reason="order.refunded", announce=None)
    await _move(event, conn, bucket="available", points=-(take - from_pending), reason="order.refunded",
                announce=None)
    if take:
        await outbox.write(conn, [_announce(event, "points.reversed", d["customer"]["key"], {
            "store_id": d["store_id"], "customer_key": d["customer"]["key"], "order_id": d["order_id"],
            "points": take})])


async def on_order_cancelled(event: Envelope, conn: asyncpg.Connection, deps: Deps) -> None:
    d = event.data
    pending = await PgLedger(conn).order_points(d["store_id"], d["order_id"], "pending")
    await _move(event, conn, bucket="pending", points=-pending, reason="order.cancelled",
                announce="points.reversed")


HANDLERS = {
    "order.paid": on_order_paid,
    "order.completed": on_order_completed,
    "order.refunded": on_order_refunded,
    "order.cancelled": on_order_cancelled,
}
