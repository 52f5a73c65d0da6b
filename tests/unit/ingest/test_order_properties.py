"""Property: whatever order WooCommerce's states arrive in, with repeats, late arrivals, same-second
variants and trash/restore, the snapshot chain never publishes one event id twice, never moves
backwards, and ends on the newest state it was given."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.domain import derive_order_events
from services.ingest.domain.times import parse_gmt
from tests.support.ingest_payloads import Chain, assert_valid, order_state

STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "failed", "refunded", "ready-for-pickup")
PAID = ("processing", "completed")
DELETE = {"id": 727}
NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


@st.composite
def histories(draw) -> list[dict]:
    """One order's states as WooCommerce would produce them: one save per minute, paid and
    completed dates set when the order enters those statuses, refunds and tracking numbers only
    ever added; sometimes a second state in the same second that differs in an unrelated field."""
    states: list[dict] = []
    status, paid, completed, refunds, tracking = "pending", None, None, [], []
    for minute in range(draw(st.integers(1, 7))):
        new = draw(st.sampled_from(STATUSES))
        if new in PAID and paid is None:
            paid = minute
        if new == "completed" and status != "completed":
            completed = minute
        status = new
        if draw(st.integers(0, 3)) == 0:
            refunds = [*refunds, (500 + len(refunds), "1.00")]
        if draw(st.integers(0, 3)) == 0:
            tracking = [*tracking, f"1Z{minute:04d}"]
        state = order_state(status, minute, paid_minute=paid, completed_minute=completed, refunds=refunds,
                            tracking=tracking)
        states.append(state)
        if draw(st.integers(0, 4)) == 0:
            states.append(dict(state, customer_note=f"note {minute}"))
    return states


@st.composite
def deliveries(draw) -> tuple[list[dict], list[tuple[dict, str]]]:
    states = draw(histories())
    picks = draw(st.lists(st.one_of(st.integers(0, len(states) - 1), st.just(-1)), min_size=1, max_size=25))
    topics = st.sampled_from(("order.created", "order.updated", "order.updated", "order.restored"))
    return states, [(DELETE, "order.deleted") if i < 0 else (states[i], draw(topics)) for i in picks]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_any_delivery_order_publishes_each_event_once_and_ends_newest(case):
    states, sequence = case
    c = Chain(derive_order_events)
    newest = None
    for body, topic in sequence:
        before = c.snapshot["modified"] if c.snapshot else None
        c.deliver(body, topic, now=NOW)
        after = c.snapshot["modified"] if c.snapshot else None
        if before and after:
            assert parse_gmt(after) >= parse_gmt(before), "state moved backwards"
        if body is not DELETE:
            newest = max(newest or body["date_modified_gmt"], body["date_modified_gmt"])

    ids = [e.envelope.id for e in c.events]
    assert len(ids) == len(set(ids)), "an event id was published twice"
    assert c.types.count("order.placed") <= 1 and c.types.count("order.paid") <= 1
    if newest is not None:
        assert c.snapshot["modified"] == newest
        statuses_at_newest = {s["status"] for s in states if s["date_modified_gmt"] == newest}
        assert c.snapshot["status"] in statuses_at_newest
        assert c.types.count("order.placed") == 1
        # Every refund and tracking number of the newest state was announced, exactly once.
        final = next(s for s in states if s["date_modified_gmt"] == newest)
        refunded = [e.envelope.data["refund"]["refund_id"] for e in c.of_type("order.refunded")]
        assert sorted(refunded) == sorted({r["id"] for r in final["refunds"]} | set(refunded))
        assert {r["id"] for r in final["refunds"]} <= set(refunded) and len(refunded) == len(set(refunded))
        shipped = [e.envelope.data["tracking"]["number"] for e in c.of_type("order.shipped")]
        assert len(shipped) == len(set(shipped))
        assert {m["tracking_number"] for meta in final["meta_data"] if meta["key"] == "_wc_shipment_tracking_items"
                for m in meta["value"]} <= set(shipped)
    assert_valid(c.events)
