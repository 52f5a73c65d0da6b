"""Reviews handlers: one per order event type, registered in HANDLERS at the bottom."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.reviews.adapters.requests import PgReviewRequests
from services.reviews.domain.timing import due_at, reviewable_products
from shared.events.envelope import Envelope, derived_event_id


@dataclass(frozen=True)
class Deps:
    """What the handlers need besides the event and the transaction (wired by bootstrap)."""
    request_delay_days: int = 7


async def on_order_completed(event: Envelope, conn: asyncpg.Connection, deps: Deps) -> None:
    d = event.data
    products = reviewable_products(d.get("line_items") or [])
    if not products:
        return
    await PgReviewRequests(conn).add(
        request_id=derived_event_id(event.id, "review.request"), cause_event_id=event.id,
        store_id=d["store_id"], order_id=d["order_id"], customer_key=d["customer"]["key"],
        product_ids=products, due_at=due_at(event.time, deps.request_delay_days))


async def on_order_refunded(event: Envelope, conn: asyncpg.Connection, deps: Deps) -> None:
    # Don't ask for a review of an order the customer sent back.
    if (event.data.get("refund") or {}).get("is_full"):
        await PgReviewRequests(conn).cancel_for_order(event.data["store_id"], event.data["order_id"])


HANDLERS = {
    "order.completed": on_order_completed,
    "order.refunded": on_order_refunded,
}
