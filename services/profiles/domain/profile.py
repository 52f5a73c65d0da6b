"""A customer's profile as a pure function of the order events seen for them.

The state keeps the latest known facts per order (status, currency, total, refunded so far, items,
dates) plus the ids of the events applied to it, and every aggregate is computed from those facts.
So applying an event is replay-safe by construction: a redelivered or replayed event (same id) is
skipped, an older event arriving after a newer one for the same order (an outbox relay re-sending a
batch after a crash) doesn't roll the order back, and a refund or cancellation changes the order's
facts rather than subtracting from a running sum — nothing is ever counted twice.

State is plain JSON-able dicts (it lives in a faust table and its changelog):

    state = apply_order(state, event_id, event_type, event_time, order_data)   # new dict, or None if skipped
    view = summarize(state, catalogue_lookup, now, thresholds)                  # the profile.updated data
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from services.profiles.domain.segments import Thresholds, segment

# Orders that count: money was taken and kept (a fully refunded order counts no value; see _value).
COUNTED = frozenset({"processing", "completed", "refunded"})
NOT_COUNTED = frozenset({"pending", "failed", "cancelled", "checkout-draft", "trash", "deleted", "on-hold"})
# Event ids remembered per order: an order has a handful of events; the bound keeps a pathological
# one from growing the state without end (the time check still keeps older events out).
MAX_IDS_PER_ORDER = 64


@dataclass(frozen=True)
class ProductFacts:
    """What the profile needs of a product (from catalog.v1)."""
    categories: tuple[str, ...] = ()
    usage_period_days: int | None = None


Catalogue = Callable[[str, int], ProductFacts | None]  # (store_id, product_id) -> facts


def empty(store_id: str, customer_key: str) -> dict[str, Any]:
    return {"store_id": store_id, "customer_key": customer_key, "orders": {}}


def erased(store_id: str, customer_key: str, time: datetime) -> dict[str, Any]:
    """What is kept of an erased customer: the pseudonymous key and when, nothing else — so an
    order event from before the erasure, read after it (orders.v1 and customers.v1 interleave),
    cannot bring the profile back."""
    return {**empty(store_id, customer_key), "erased_at": time.astimezone(timezone.utc).isoformat()}


def _order_facts(event_type: str, time: datetime, data: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    dates = data.get("dates") or {}
    status = "deleted" if event_type == "order.deleted" else str(data.get("status") or "")
    facts = dict(old or {})
    facts.update({"status": status, "t": time.astimezone(timezone.utc).isoformat()})
    if event_type == "order.deleted":
        return facts  # order.deleted carries no money or items: keep what was known, uncounted
    facts.update({
        "currency": data.get("currency") or facts.get("currency"),
        "total": str(data.get("total") or facts.get("total") or "0"),
        "paid": bool(dates.get("paid")) or facts.get("paid", False),
        "created": dates.get("created") or facts.get("created"),
        "items": [[int(li["product_id"]), int(li.get("quantity") or 0)] for li in data.get("line_items") or []]
        or facts.get("items", []),
    })
    refund = data.get("refund")
    if event_type == "order.refunded" and refund:
        facts["refunded"] = str(max(Decimal(str(refund.get("refunded_total_so_far") or 0)),
                                    Decimal(facts.get("refunded") or "0")))
    return facts


def apply_order(state: dict[str, Any], event_id: str, event_type: str, time: datetime,
                data: dict[str, Any]) -> dict[str, Any] | None:
    """The state after an order event, or None when the event changes nothing (seen before, or
    older than what is known of its order)."""
    if (erased := state.get("erased_at")) and datetime.fromisoformat(erased) >= time:
        return None  # news from before the customer's erasure (topics interleave): nothing to keep
    order_id = str(data["order_id"])
    orders = state.get("orders", {})
    old = orders.get(order_id)
    if old is not None:
        if event_id in old.get("ids", ()):
            return None
        if datetime.fromisoformat(old["t"]) > time:
            return None  # older news than we have (and so is any replay of it)
    facts = _order_facts(event_type, time, data, old)
    facts["ids"] = ((old or {}).get("ids", []) + [event_id])[-MAX_IDS_PER_ORDER:]
    return {**state, "orders": {**orders, order_id: facts}}


def _counted(facts: dict[str, Any]) -> bool:
    status = facts.get("status", "")
    if status in NOT_COUNTED:
        return False
    return status in COUNTED or bool(facts.get("paid"))


def _value(facts: dict[str, Any]) -> Decimal:
    return max(Decimal(facts.get("total") or "0") - Decimal(facts.get("refunded") or "0"), Decimal(0))


def last_event_time(state: dict[str, Any]) -> datetime | None:
    times = [datetime.fromisoformat(f["t"]) for f in state.get("orders", {}).values()]
    return max(times) if times else None


def summarize(state: dict[str, Any], catalogue: Catalogue, now: datetime | None = None,
              thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """The profile.updated data (shared/events/profiles.py ProfileUpdated) for a state. `now`
    (for recency) defaults to the latest event's time, so a profile is a pure function of its
    events: a replay or a second worker computes the same profile."""
    now = now or last_event_time(state) or datetime.now(timezone.utc)
    store_id = state["store_id"]
    counted = [f for f in state.get("orders", {}).values() if _counted(f) and _value(f) > 0]
    ltv: dict[str, Decimal] = {}
    for f in counted:
        ltv[f["currency"]] = ltv.get(f["currency"], Decimal(0)) + _value(f)
    times = sorted(datetime.fromisoformat(f["created"].replace("Z", "+00:00")) if f.get("created")
                   else datetime.fromisoformat(f["t"]) for f in counted)
    quantities: Counter[int] = Counter()
    last_bought: dict[int, tuple[datetime, int]] = {}
    for f, t in zip(sorted(counted, key=_order_time), times):
        for product_id, qty in f.get("items", []):
            quantities[product_id] += qty
            last_bought[product_id] = (t, qty)
    categories: Counter[str] = Counter()
    replenish: dict[str, str] = {}
    for product_id, qty in quantities.items():
        facts = catalogue(store_id, product_id)
        if facts is None:
            continue
        for name in facts.categories:
            categories[name] += qty
        if facts.usage_period_days:
            when, last_qty = last_bought[product_id]
            replenish[str(product_id)] = (when + timedelta(days=facts.usage_period_days * max(last_qty, 1))).isoformat()
    main = max(ltv, key=lambda c: (ltv[c], c)) if ltv else None
    total_items = sum(categories.values())
    orders = len(counted)
    return {
        "store_id": store_id, "customer_key": state["customer_key"], "orders": orders,
        "lifetime_value": str(ltv.get(main, Decimal(0))) if main else "0", "currency": main,
        "lifetime_value_by_currency": {c: str(v) for c, v in sorted(ltv.items())},
        "average_order_value": _average(counted, main, ltv) if main else None,
        "first_order_at": times[0].isoformat() if times else None,
        "last_order_at": times[-1].isoformat() if times else None,
        "products": sorted(quantities),
        "categories": sorted(categories),
        "category_affinity": {c: round(n / total_items, 4) for c, n in sorted(categories.items())} if total_items else {},
        "replenishment_due": dict(sorted(replenish.items(), key=lambda kv: int(kv[0]))),
        "segment": segment(orders, times[-1] if times else None, ltv.get(main, Decimal(0)) if main else Decimal(0),
                           now, thresholds),
    }


def _average(counted: list[dict[str, Any]], currency: str, ltv: dict[str, Decimal]) -> str:
    """Lifetime value / orders in the main currency, to the decimals the store writes amounts in."""
    mine = [f for f in counted if f["currency"] == currency]
    places = min(Decimal(f.get("total") or "0").as_tuple().exponent for f in mine)
    return str((ltv[currency] / len(mine)).quantize(Decimal(1).scaleb(min(int(places), 0))))


def _order_time(f: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(f["created"].replace("Z", "+00:00")) if f.get("created") else datetime.fromisoformat(f["t"])
