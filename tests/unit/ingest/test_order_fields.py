"""Order events' data is built as plain JSON (order_payload.read_order), not through the pydantic
models: it must be exactly what the models would write, in the corners too."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.ingest.domain import StoreContext, derive_order_events
from services.ingest.domain.order_payload import iso
from shared.events.registry import validate_data
from tests.support.ingest_payloads import order_state

STORE = StoreContext(store_id="s1", locale="de_DE")


def _models_dump(event) -> dict:
    env = event.envelope
    return validate_data(env.type, env.version, env.data).model_dump(mode="json", by_alias=True)


@pytest.mark.parametrize("moment", [datetime(2026, 3, 2, 10, 0, 0, tzinfo=timezone.utc),
                                    datetime(2026, 3, 2, 10, 0, 0, 120, tzinfo=timezone.utc)])
def test_iso_writes_times_as_the_models_do(moment):
    from shared.events.orders import OrderDates
    assert iso(moment) == OrderDates(created=moment).model_dump(mode="json")["created"]
    assert iso(None) is None


@pytest.mark.parametrize("variant", ["plain", "microseconds", "guest_without_email", "zero_decimals",
                                     "tracking_and_refunds", "no_lines"])
def test_every_order_event_carries_what_its_model_would_write(variant):
    over: dict = {}
    if variant == "microseconds":
        over = {"date_created_gmt": "2026-03-02T09:58:00.250000", "date_paid_gmt": "2026-03-02T09:59:00.000001"}
    state = order_state("processing", 0, **over)
    later = order_state("completed", 3, paid_minute=1, completed_minute=3,
                        refunds=[(901, "4.00")] if variant == "tracking_and_refunds" else [],
                        tracking=["1Z999"] if variant == "tracking_and_refunds" else [], **over)
    for s in (state, later):
        if variant == "guest_without_email":
            s["customer_id"], s["billing"] = 0, {**s["billing"], "email": ""}
        if variant == "zero_decimals":
            s.update(currency="JPY", total="1500", total_tax="0", shipping_total="0", discount_total="0")
            for li in s["line_items"]:
                li["total"] = "700"
        if variant == "no_lines":
            s["line_items"] = []
    first = derive_order_events(STORE, None, state, "order.created")
    second = derive_order_events(STORE, first.snapshot, later, "order.updated")
    events = first.events + second.events
    types = [e.envelope.type for e in events]
    assert types[:3] == ["order.placed", "order.paid", "order.status_changed"]
    if variant == "tracking_and_refunds":
        assert {"order.shipped", "order.refunded"} <= set(types)
    for event in events:
        assert event.envelope.data == _models_dump(event), event.envelope.type
    placed = events[0].envelope.data
    if variant == "zero_decimals":
        assert placed["total"] == "1500" and placed["subtotal_after_discounts"] == "1400"
    if variant == "guest_without_email":
        assert placed["customer"]["key"] == f"s1:o{state['id']}"
    if variant == "microseconds":
        assert placed["dates"]["created"] == "2026-03-02T09:58:00.250000Z"
