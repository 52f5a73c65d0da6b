"""Reading a WooCommerce order payload (REST v3 shape) into what order events carry.

Pure parsing: no comparison with earlier states (that is orders.py). Amounts become Decimal
and are written back with the order's own decimals; `*_gmt` dates become UTC.

`OrderView.fields` is already the JSON every order event carries (OrderEvent of
shared/events/orders.py, dumped), built directly rather than through the pydantic models: this
runs for every webhook, and validating our own output cost half of the derivation. A unit test
holds it equal to the models' own dump (tests/unit/ingest/test_order_fields.py).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.ingest.domain.consent_meta import consent_meta
from services.ingest.domain.derivation import StoreContext, resource_id
from services.ingest.domain.money import ZERO, fmt, order_decimals, to_decimal, within_range
from services.ingest.domain.text import text_or_none
from services.ingest.domain.times import parse_gmt, stamp
from services.ingest.domain.tracking import Shipment, shipments
from shared.ids import customer_key, normalize_email

PAID_STATUSES = frozenset({"processing", "completed"})  # wc_get_is_paid_statuses()
# Order meta where multilingual plugins keep the shopper's language: WPML ("wpml_language") and
# TranslatePress ("trp_language"). [assumed keys; the store's locale is the fallback]
LOCALE_META_KEYS = ("wpml_language", "trp_language")


def guest_fallback_key(store_id: str, order_id: int) -> str:
    """Key for an order with no customer to key by (a guest without email, or an order.deleted
    for an order never seen): the order itself, so its events stay together."""
    return f"{store_id}:o{order_id}"


@dataclass(frozen=True)
class RefundEntry:
    refund_id: int
    amount: Decimal  # positive, though WooCommerce lists refunds with negative totals
    reason: str | None


@dataclass(frozen=True)
class OrderView:
    order_id: int
    status: str
    modified: str | None  # canonical date_modified_gmt
    modified_at: datetime | None
    created_at: datetime | None
    paid_at: datetime | None
    completed_at: datetime | None
    dp: int  # decimals of the store's prices
    total: Decimal
    customer_key: str  # partition key of orders.v1
    refunds: tuple[RefundEntry, ...]  # oldest first (ids grow with time)
    shipments: tuple[Shipment, ...]
    # OrderEvent's JSON; "previous_status" (None here) is the caller's to fill in.
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None or self.status in PAID_STATUSES




def _meta(payload: dict, keys: tuple[str, ...]) -> str | None:
    for entry in payload.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") in keys and text_or_none(entry.get("value")):
            return text_or_none(entry.get("value"))
    return None


def iso(moment: datetime | None) -> str | None:
    """A UTC moment as events carry it: what pydantic writes for UtcDateTime (ISO-8601, "Z")."""
    if moment is None:
        return None
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds").replace("+00:00", "Z")


def _customer(store: StoreContext, payload: dict, order_id: int) -> dict[str, Any]:
    billing = payload.get("billing") or {}
    email = text_or_none(billing.get("email"))
    customer_id = int(payload.get("customer_id") or 0)
    if customer_id or normalize_email(email):
        key = customer_key(store.store_id, customer_id, email)
    else:
        # Hashing "" would put every email-less guest (POS, phone orders) under one key.
        key = guest_fallback_key(store.store_id, order_id)
    return {"key": key, "id": customer_id or None, "email": email,
            "first_name": text_or_none(billing.get("first_name")), "last_name": text_or_none(billing.get("last_name")),
            "locale": _meta(payload, LOCALE_META_KEYS) or store.locale}


_ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state",
                   "postcode", "country")


def _address(part: object, *, phone: bool = False) -> dict[str, Any] | None:
    """WooCommerce's billing/shipping object as Address's JSON (blanks None); None when it's all blank."""
    if not isinstance(part, dict):
        return None
    out = {k: text_or_none(part.get(k)) for k in _ADDRESS_FIELDS}
    out["phone"] = text_or_none(part.get("phone")) if phone else None
    return out if any(v is not None for v in out.values()) else None


def _line_item(item: dict, dp: int, n: int) -> dict[str, Any]:
    """A line (the n-th) as LineItem's JSON."""
    return {"line_id": int(item["id"]), "product_id": int(item.get("product_id") or 0),
            "variation_id": int(item.get("variation_id") or 0) or None, "sku": text_or_none(item.get("sku")),
            # REST names carry HTML entities ("&ndash;"); consumers escape for their medium.
            "name": html.unescape(str(item.get("name") or "")), "quantity": int(item.get("quantity") or 0),
            "total": fmt(to_decimal(item.get("total"), f"line_items[{n}].total"), dp),
            "subtotal": (fmt(to_decimal(item.get("subtotal"), f"line_items[{n}].subtotal"), dp)
                         if text_or_none(item.get("subtotal")) is not None else None)}


def _refunds(payload: dict) -> tuple[RefundEntry, ...]:
    entries = [RefundEntry(refund_id=int(r["id"]), amount=abs(to_decimal(r.get("total"), f"refunds[{n}].total")),
                           reason=text_or_none(r.get("reason")))
               for n, r in enumerate(payload.get("refunds") or []) if isinstance(r, dict) and "id" in r]
    return tuple(sorted(entries, key=lambda r: r.refund_id))


def read_order(store: StoreContext, payload: dict) -> OrderView:
    order_id = resource_id(payload)
    status = text_or_none(payload.get("status"))
    if status is None:
        raise ValueError("order payload without status")
    dp = order_decimals(payload.get("total"))
    lines = [_line_item(li, dp, n) for n, li in enumerate(payload.get("line_items") or [])]
    total = to_decimal(payload.get("total"), "total")
    modified_at = parse_gmt(payload.get("date_modified_gmt"), "date_modified_gmt")
    created_at = parse_gmt(payload.get("date_created_gmt"), "date_created_gmt")
    paid_at = parse_gmt(payload.get("date_paid_gmt"), "date_paid_gmt")
    completed_at = parse_gmt(payload.get("date_completed_gmt"), "date_completed_gmt")
    subtotal = within_range(sum((Decimal(li["total"]) for li in lines), ZERO), "the sum of line_items[].total")
    customer = _customer(store, payload, order_id)
    fields = {
        "store_id": store.store_id, "order_id": order_id,
        "order_number": text_or_none(payload.get("number")) or str(order_id), "status": status,
        "previous_status": None, "customer": customer, "currency": text_or_none(payload.get("currency")) or "",
        # The sum of the lines as the event writes them.
        "total": fmt(total, dp), "subtotal_after_discounts": fmt(subtotal, dp),
        "tax": fmt(to_decimal(payload.get("total_tax"), "total_tax"), dp),
        "shipping": fmt(to_decimal(payload.get("shipping_total"), "shipping_total"), dp),
        "discount": fmt(to_decimal(payload.get("discount_total"), "discount_total"), dp), "line_items": lines,
        "shipping_country": text_or_none((payload.get("shipping") or {}).get("country")),
        "dates": {"created": iso(created_at), "paid": iso(paid_at), "completed": iso(completed_at)},
        "payment_url": text_or_none(payload.get("payment_url")),
        "payment_method_title": text_or_none(payload.get("payment_method_title")),
        "billing_address": _address(payload.get("billing"), phone=True),
        "shipping_address": _address(payload.get("shipping")),
        "consent_meta": consent_meta(payload.get("meta_data")),
    }
    return OrderView(order_id=order_id, status=status, modified=stamp(modified_at), modified_at=modified_at,
                     created_at=created_at, paid_at=paid_at, completed_at=completed_at, dp=dp, total=total,
                     customer_key=customer["key"], refunds=_refunds(payload),
                     shipments=tuple(shipments(payload.get("meta_data"))), fields=fields)
