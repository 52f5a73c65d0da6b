"""What an order.refunded event says about its refund.

The order payload lists refunds as {id, reason, total: "-16.20"}; the refund's lines (which items,
how many) are only in the refund resource (GET /orders/<id>/refunds/<rid>), which the caller may
pass as `details`. WooCommerce writes refund lines with negative quantities and totals and points
at the order line through the meta `_refunded_item_id`; events carry them positive.
"""
from __future__ import annotations

from datetime import datetime

from services.ingest.domain.money import ZERO, fmt, to_decimal, within_range
from services.ingest.domain.order_payload import OrderView, RefundEntry
from services.ingest.domain.times import parse_gmt
from shared.events.envelope import Envelope
from shared.events.orders import OrderRefunded, Refund, RefundLine


def _int_or_none(value: object) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and int(text) > 0 else None


def _refunded_item_id(item: dict) -> int | None:
    for meta in item.get("meta_data") or []:
        if isinstance(meta, dict) and meta.get("key") == "_refunded_item_id":
            return _int_or_none(meta.get("value"))
    return None


def _lines(details: dict, dp: int) -> list[RefundLine]:
    return [RefundLine(line_id=_refunded_item_id(li), product_id=_int_or_none(li.get("product_id")),
                       variation_id=_int_or_none(li.get("variation_id")), sku=(li.get("sku") or None),
                       name=li.get("name") or None, quantity=abs(int(li.get("quantity") or 0)),
                       total=fmt(abs(to_decimal(li.get("total"), f"refund line_items[{n}].total")), dp))
            for n, li in enumerate(details.get("line_items") or []) if isinstance(li, dict)]


def refund_data(view: OrderView, entry: RefundEntry, details: dict | None) -> Refund:
    """The refund as the event carries it. `is_full` is true for the refund that leaves the order
    fully refunded: refunds so far reach the total, or the order is `refunded` and this is its
    newest refund (a merchant can mark an order refunded for less than its total)."""
    so_far = within_range(sum((r.amount for r in view.refunds if r.refund_id <= entry.refund_id), ZERO),
                          "the sum of refunds[].total")
    newest = view.refunds[-1].refund_id == entry.refund_id
    is_full = so_far >= view.total or (view.status == "refunded" and newest)
    reason = entry.reason
    if details is not None:
        reason = (str(details.get("reason") or "").strip() or None) or reason
    return Refund(refund_id=entry.refund_id, amount=fmt(entry.amount, view.dp), reason=reason,
                  line_items=_lines(details, view.dp) if details is not None else None,
                  refunded_total_so_far=fmt(so_far, view.dp), is_full=is_full)


def refund_time(details: dict | None, fallback: datetime) -> datetime:
    """When the refund was made: the refund's own date when known, else the order's modification."""
    if details is not None:
        return parse_gmt(details.get("date_created_gmt"), "refund date_created_gmt") or fallback
    return fallback


def _decimals(amount: str) -> int:
    return len(amount.partition(".")[2])


def with_refund_lines(envelope: Envelope, details: dict) -> Envelope:
    """A held order.refunded event completed with the refund resource's lines (and its reason, when
    it has one): what reconcile would have derived with `details` in hand. Same id: one fact, once."""
    refund = dict(envelope.data["refund"])
    refund["line_items"] = [line.model_dump(mode="json") for line in _lines(details, _decimals(refund["amount"]))]
    refund["reason"] = (str(details.get("reason") or "").strip() or None) or refund.get("reason")
    data = OrderRefunded.model_validate({**envelope.data, "refund": refund})  # still the contract
    return envelope.model_copy(update={"data": data.model_dump(mode="json", by_alias=True)})
