"""Order events as the notifier's handlers receive them: complete orders.v1 data, parsed with the
registry's model exactly as the shared consumer loop parses it (so a test event is a valid one)."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.events.envelope import Envelope, Event, event_id
from shared.events.registry import model_for


def order_data(store: str, order_id: int, status: str = "processing", *, email: str | None = "ana@example.com",
               first_name: str | None = "Ana", locale: str | None = None, **extra) -> dict:
    data = {
        "store_id": store, "order_id": order_id, "order_number": str(order_id), "status": status,
        "customer": {"key": f"{store}:c1", "id": 1, "email": email, "first_name": first_name, "locale": locale},
        "currency": "EUR", "total": "59.90", "subtotal_after_discounts": "50.00", "tax": "9.90",
        "shipping": "0.00", "discount": "0.00",
        "line_items": [{"line_id": 1, "product_id": 9, "name": "Blue <Mug>", "quantity": 2, "total": "20.00"},
                       {"line_id": 2, "product_id": 10, "name": "Tea", "quantity": 1, "total": "30.00"}],
        "dates": {"created": "2026-03-01T09:00:00Z"},
    }
    data.update(extra)
    return data


def order_event(event_type: str, data: dict, *, salt: object = "") -> Event:
    """An Event whose id derives from the type and the data (the same call twice is a redelivery)."""
    envelope = Envelope(id=event_id(data["store_id"], data["order_id"], event_type, data["status"], salt),
                        source=f"/stores/{data['store_id']}", type=event_type,
                        subject=f"order/{data['order_id']}", time=datetime.now(timezone.utc), data=data)
    return Event.parse(envelope, model_for(event_type, 1))


def refund(refund_id: int, amount: str, *, is_full: bool = False) -> dict:
    return {"refund_id": refund_id, "amount": amount, "refunded_total_so_far": amount, "is_full": is_full}


def tracking(number: str = "1175", carrier: str | None = "fedex", url: str | None = "https://t.example/1175") -> dict:
    return {"carrier": carrier, "number": number, "url": url}
