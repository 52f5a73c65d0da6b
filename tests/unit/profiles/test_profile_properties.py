"""Profiles equal a plain reference computation over the same random order histories, whatever
duplicates and replays the stream carries (an outbox relay re-sending a batch after a crash, a
worker killed and replaying from its last commit): nothing is ever counted twice."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from services.profiles import handlers
from services.profiles.adapters.tables import TableCatalogue, TableProfiles
from services.profiles.adapters.unit_of_work import ProfilesUnitOfWork
from services.profiles.domain.profile import ProductFacts
from services.profiles.domain.segments import Thresholds
from shared.events.envelope import Event
from shared.events.registry import model_for

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
KEY = "s1:c7"
CATEGORIES = {1: ("Tea",), 2: ("Tea", "Gifts"), 3: ("Cups",)}

# An order's possible life stories (statuses in order) and the event type of each step.
STORIES = [
    [("order.placed", "pending"), ("order.paid", "processing"), ("order.completed", "completed")],
    [("order.placed", "processing"), ("order.completed", "completed"), ("order.refunded", "completed")],
    [("order.placed", "processing"), ("order.refunded", "refunded")],
    [("order.placed", "pending"), ("order.cancelled", "cancelled")],
    [("order.placed", "on-hold"), ("order.paid", "processing")],
    [("order.placed", "failed")],
    [("order.placed", "processing"), ("order.completed", "completed"), ("order.deleted", "trash")],
]


def order_data(order_id, status, currency, total, items, refunded, created, paid):
    data = {"store_id": "s1", "order_id": order_id, "order_number": str(order_id), "status": status,
            "customer": {"key": KEY, "id": 7}, "currency": currency, "total": total,
            "subtotal_after_discounts": total, "tax": "0", "shipping": "0", "discount": "0",
            "line_items": [{"line_id": i, "product_id": p, "name": f"p{p}", "quantity": q, "total": "1"}
                           for i, (p, q) in enumerate(items)],
            "dates": {"created": created.isoformat(), "paid": paid.isoformat() if paid else None}}
    return data


@st.composite
def histories(draw):
    n = draw(st.integers(1, 5))
    events, finals = [], {}
    clock = T0
    for order_id in range(1, n + 1):
        story = draw(st.sampled_from(STORIES))
        currency = draw(st.sampled_from(["EUR", "EUR", "JPY"]))
        total = str(draw(st.integers(1, 500))) if currency == "JPY" else f"{draw(st.integers(1, 50000)) / 100:.2f}"
        items = draw(st.lists(st.tuples(st.sampled_from([1, 2, 3, 4]), st.integers(1, 3)), min_size=1, max_size=3))
        created = clock
        refunded = Decimal(0)
        paid = None
        for step, (etype, status) in enumerate(story):
            clock += timedelta(minutes=draw(st.integers(1, 600)))
            if status in ("processing", "completed") and paid is None:
                paid = clock
            data = order_data(order_id, status, currency, total, items, refunded, created, paid)
            if etype == "order.refunded":
                full = status == "refunded"
                refunded = Decimal(total) if full else (Decimal(total) / 2).quantize(
                    Decimal(1) if currency == "JPY" else Decimal("0.01"))
                data["refund"] = {"refund_id": 1, "amount": str(refunded), "refunded_total_so_far": str(refunded),
                                  "is_full": full, "line_items": None}
            if etype == "order.deleted":
                data = {"store_id": "s1", "order_id": order_id, "status": "trash", "customer": {"key": KEY}}
            events.append((f"e{order_id}-{step}", etype, clock, data))
            finals[order_id] = {"status": "deleted" if etype == "order.deleted" else status, "currency": currency,
                                "total": Decimal(total), "refunded": refunded, "items": items, "created": created,
                                "paid": paid is not None}
    # The stream as Kafka may deliver it: every event once, in order, plus re-sent earlier runs.
    replays = draw(st.lists(st.tuples(st.integers(0, len(events) - 1), st.integers(1, 4)), max_size=4))
    stream = list(events)
    for start, length in replays:
        at = draw(st.integers(start + 1, len(stream)))
        stream[at:at] = events[start:start + length]
    return stream, finals


def reference(finals):
    """The profile computed straight from each order's final state."""
    counted = {oid: f for oid, f in finals.items()
               if f["status"] in ("processing", "completed", "refunded") and f["total"] - f["refunded"] > 0}
    ltv: dict[str, Decimal] = {}
    for f in counted.values():
        ltv[f["currency"]] = ltv.get(f["currency"], Decimal(0)) + f["total"] - f["refunded"]
    bought: dict[int, int] = {}
    for f in counted.values():
        for p, q in f["items"]:
            bought[p] = bought.get(p, 0) + q
    cats: dict[str, int] = {}
    for p, q in bought.items():
        for c in CATEGORIES.get(p, ()):
            cats[c] = cats.get(c, 0) + q
    return {"orders": len(counted), "ltv": {c: str(v) for c, v in sorted(ltv.items())},
            "products": sorted(bought), "categories": sorted(cats)}


def run(stream):
    profiles, catalogue = {}, {}
    cat = TableCatalogue(catalogue)
    for pid, names in CATEGORIES.items():
        cat.put("s1", pid, ProductFacts(categories=names))
    published = []
    for event_id, etype, time, data in stream:
        tx = ProfilesUnitOfWork(profiles=TableProfiles(profiles), catalogue=cat, thresholds=lambda s: Thresholds())
        event = Event(id=event_id, type=etype, source="/stores/s1", subject="order/1", time=time, version=1,
                      data=model_for(etype, 1).model_validate(data))
        asyncio.run(handlers.HANDLERS[etype](event, tx))
        published += [o for _, o in tx.outbox.records]
    return published


@settings(max_examples=150, deadline=None)
@given(histories())
def test_profile_equals_the_reference_whatever_the_duplicates(history):
    stream, finals = history
    published = run(stream)
    seen: set[str] = set()
    once = run([e for e in stream if not (e[0] in seen or seen.add(e[0]))])  # each event once, in order
    last = published[-1].envelope.data
    assert last == once[-1].envelope.data  # replays changed nothing
    want = reference(finals)
    assert (last["orders"], last["lifetime_value_by_currency"], last["products"], last["categories"]) == (
        want["orders"], want["ltv"], want["products"], want["categories"])
    # Replays never publish again: one profile.updated per distinct event that changed something.
    assert len(published) == len(once)
