"""Events as reviews' consumer loop hands them over: an envelope parsed with the producer's model
from the registry (so a test event that ingest could not produce fails here, not silently)."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.events.envelope import Envelope, Event, event_id
from shared.events.registry import model_for

COMPLETED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def line(line_id: int, product_id: int, variation_id: int | None = None, quantity: int = 1) -> dict:
    return {"line_id": line_id, "product_id": product_id, "variation_id": variation_id, "name": f"p{product_id}",
            "quantity": quantity, "total": "10.00"}


def order_event(store_id: str, type_: str, order_id: int, *, line_items: list[dict] | None = None,
                full_refund: bool | None = None, refund_lines: list[dict] | None = None, time: datetime = COMPLETED_AT,
                cause: str = "", country: str | None = "DE", status: str | None = None, from_status: str | None = None,
                tracking: dict | None = None, customer: str = "c7") -> Event:
    items = [line(1, 5, 51), line(2, 5, 52), line(3, 9)] if line_items is None else line_items
    data = {"store_id": store_id, "order_id": order_id, "order_number": str(order_id),
            "status": status or type_.removeprefix("order."), "currency": "EUR", "total": "30.00",
            "subtotal_after_discounts": "30.00", "tax": "0.00", "shipping": "0.00", "discount": "0.00",
            "customer": {"key": f"{store_id}:{customer}", "email": "x@example.com", "first_name": "Ann",
                         "locale": "de_DE"},
            "line_items": items, "dates": {}, "shipping_country": country}
    if full_refund is not None:
        data["refund"] = {"refund_id": 1, "amount": "30.00" if full_refund else "10.00", "line_items": refund_lines,
                          "refunded_total_so_far": "30.00" if full_refund else "10.00", "is_full": full_refund}
    if type_ == "order.status_changed":
        data["from"], data["to"] = from_status, status
    if type_ == "order.shipped":
        data["tracking"] = tracking or {"number": f"T{order_id}"}
    if type_ == "order.deleted":
        data = {"store_id": store_id, "order_id": order_id, "customer": {"key": f"{store_id}:{customer}"}}
    envelope = Envelope(id=event_id(store_id, order_id, type_, full_refund, cause, status, time),
                        source=f"/stores/{store_id}", type=type_, subject=f"order/{order_id}", time=time, data=data)
    return Event.parse(envelope, model_for(type_, 1))


def other_event(type_: str, data: dict, time: datetime = COMPLETED_AT, cause: str = "") -> Event:
    envelope = Envelope(id=event_id(type_, cause, sorted(data.items())), source="/stores/x", type=type_,
                        subject="x", time=time, data=data)
    return Event.parse(envelope, model_for(type_, 1))
