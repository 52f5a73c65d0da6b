"""orders.v1 and customers.v1 events as loyalty's consumer loop hands them over: an envelope parsed
with its producer's model from the registry (so a test event that ingest could not produce fails
here, not silently)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from shared.events.envelope import Envelope, Event, event_id
from shared.events.registry import model_for

WHEN = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def line(line_id: int, total: str, *, product_id: int | None = None, quantity: int = 1) -> dict:
    return {"line_id": line_id, "product_id": product_id or 100 + line_id, "name": f"item {line_id}",
            "quantity": quantity, "total": total}


def order_event(store_id: str, type_: str, order_id: int, **kwargs) -> Event:
    envelope = order_envelope(store_id, type_, order_id, **kwargs)
    return Event.parse(envelope, model_for(type_, 1))


def order_envelope(store_id: str, type_: str, order_id: int, *, customer_key: str | None = None,
                total: str | None = None, subtotal: str | None = None, tax: str = "10.00", shipping: str = "0.00",
                currency: str = "USD", time: datetime = WHEN, refund: dict | None = None,
                line_items: list[dict] | None = None, status: str | None = None, extra: dict | None = None) -> Envelope:
    """An order of one 100.00 line plus 10.00 tax unless told otherwise; `total` defaults to the
    lines + tax + shipping."""
    lines = line_items if line_items is not None else [line(1, subtotal or "100.00")]
    goods = sum((Decimal(li["total"]) for li in lines), Decimal("0"))
    subtotal = subtotal or f"{goods}"
    total = total or f"{Decimal(subtotal) + Decimal(tax) + Decimal(shipping)}"
    data = {"store_id": store_id, "order_id": order_id, "order_number": str(order_id),
            "status": status or _status(type_, refund), "currency": currency, "total": total,
            "subtotal_after_discounts": subtotal, "tax": tax, "shipping": shipping, "discount": "0.00",
            "customer": {"key": customer_key or f"{store_id}:c7", "email": "x@example.com"},
            "line_items": lines, "dates": {"paid": time.isoformat()}, **(extra or {})}
    if refund is not None:
        data["refund"] = {"refunded_total_so_far": refund["amount"], **refund}
    return Envelope(id=event_id(store_id, order_id, type_, str(refund), time.isoformat(), status),
                    source=f"/stores/{store_id}", type=type_, subject=f"order/{order_id}", time=time, data=data)


def _status(type_: str, refund: dict | None) -> str:
    """The WooCommerce status an order has when ingest emits `type_`."""
    if type_ == "order.refunded":
        return "refunded" if refund and refund.get("is_full") else "processing"
    return {"order.paid": "processing", "order.on_hold": "on-hold", "order.restored": "processing",
            "order.placed": "pending"}.get(type_, type_.removeprefix("order."))


def refund(refund_id: int, amount: str, *, full: bool = False, lines: list[tuple] | None = None) -> dict:
    """`lines`: (order line id, refunded total) pairs; None = the refund's lines are not known."""
    out = {"refund_id": refund_id, "amount": amount, "is_full": full}
    if lines is not None:
        out["line_items"] = [{"line_id": lid, "quantity": 1, "total": tot} for lid, tot in lines]
    return out


def later(minutes: int) -> datetime:
    return WHEN + timedelta(minutes=minutes)


def customer_event(store_id: str, type_: str, data: dict, *, time: datetime = WHEN) -> Event:
    envelope = customer_envelope(store_id, type_, data, time=time)
    return Event.parse(envelope, model_for(type_, 1))


def customer_envelope(store_id: str, type_: str, data: dict, *, time: datetime = WHEN) -> Envelope:
    return Envelope(id=event_id(store_id, type_, str(sorted(data.items()))), source=f"/stores/{store_id}",
                    type=type_, subject=f"customer/{data.get('to_key') or data.get('key')}", time=time,
                    data={"store_id": store_id, **data})
