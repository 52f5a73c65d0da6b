"""The registry: every event type ingest publishes has a data model, and models reject bad data."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.events.registry import DATA_MODELS, UnknownEventType, validate_data
from shared.events.registry import CATALOG, CUSTOMERS, ORDERS


def test_every_ingest_event_type_has_a_v1_model():
    for topic in (ORDERS, CUSTOMERS, CATALOG):
        for event_type in topic.event_types:
            assert (event_type, 1) in DATA_MODELS, event_type


def test_unknown_type_or_version():
    with pytest.raises(UnknownEventType):
        validate_data("order.placed", 2, {})
    with pytest.raises(LookupError):
        validate_data("order.teleported", 1, {})


def _order(**over):
    data = {"store_id": "s1", "order_id": 1, "order_number": "1", "status": "processing",
            "customer": {"key": "s1:c1"}, "currency": "EUR", "total": "10.00", "subtotal_after_discounts": "8.00",
            "tax": "0.00", "shipping": "2.00", "discount": "0.00", "line_items": [], "dates": {}}
    data.update(over)
    return data


def test_order_data_validates_and_status_changed_uses_from_and_to():
    changed = validate_data("order.status_changed", 1, _order(**{"from": "pending", "to": "processing"}))
    assert (changed.from_status, changed.to_status) == ("pending", "processing")
    assert changed.model_dump(mode="json", by_alias=True)["from"] == "pending"


@pytest.mark.parametrize("bad", [{"total": "ten"}, {"total": 10.5}, {"dates": {"created": "2026-01-01T00:00:00"}},
                                 {"customer": {}}, {"total": "NaN"}])
def test_bad_order_data_is_rejected(bad):
    with pytest.raises(ValidationError):
        validate_data("order.placed", 1, _order(**bad))


def test_refund_amount_is_never_negative():
    refund = {"refund_id": 5, "amount": "-1.00", "refunded_total_so_far": "1.00", "is_full": False}
    with pytest.raises(ValidationError):
        validate_data("order.refunded", 1, _order(refund=refund))
    ok = validate_data("order.refunded", 1, _order(refund=dict(refund, amount="1.00")))
    assert ok.refund.line_items is None


def test_unknown_fields_are_ignored_for_forward_compatibility():
    assert validate_data("product.deleted", 1, {"store_id": "s1", "product_id": 3, "new_field": 1}).product_id == 3
