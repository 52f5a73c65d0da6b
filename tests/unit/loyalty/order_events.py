"""orders.v1 events as loyalty's consumer loop hands them over: an envelope parsed with ingest's
model from the registry (so a test event that ingest could not produce fails here, not silently)."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.events.envelope import Envelope, Event, event_id
from shared.events.registry import model_for

WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def order_event(store_id: str, type_: str, order_id: int, *, customer_key: str | None = None,
                total: str = "110.00", subtotal: str = "100.00", time: datetime = WHEN,
                refund: dict | None = None, line_items: list[dict] | None = None) -> Event:
    data = {"store_id": store_id, "order_id": order_id, "order_number": str(order_id),
            "status": type_.removeprefix("order."), "currency": "EUR", "total": total,
            "subtotal_after_discounts": subtotal, "tax": "10.00", "shipping": "0.00", "discount": "0.00",
            "customer": {"key": customer_key or f"{store_id}:c7", "email": "x@example.com"},
            "line_items": line_items or [], "dates": {}}
    if refund is not None:
        data["refund"] = {"refunded_total_so_far": refund["amount"], **refund}
    envelope = Envelope(id=event_id(store_id, order_id, type_, str(refund)), source=f"/stores/{store_id}",
                        type=type_, subject=f"order/{order_id}", time=time, data=data)
    return Event.parse(envelope, model_for(type_, 1))


def refund(refund_id: int, amount: str, *, full: bool) -> dict:
    return {"refund_id": refund_id, "amount": amount, "is_full": full}
