"""What ingest publishes fits what Kafka carries and every consumer stores (domain/bounds.py, and the
range checks of money.py, times.py, text.py): the limits, the exact field each refusal names, and
what is normalized instead of refused."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import orjson
import pytest

from services.ingest.domain.bounds import EventLimits, check_integers, check_payload_size, encode_events
from services.ingest.domain.delivery import TooLarge, ValueOutOfRange
from services.ingest.domain.derivation import StoreContext
from services.ingest.domain.money import order_decimals, to_decimal
from services.ingest.domain.orders import derive_order_events
from services.ingest.domain.products import derive_product_events
from services.ingest.domain.text import may_hold_control_characters, without_control_characters
from services.ingest.domain.times import from_loose_date, from_unix, parse_gmt
from deploy.local.storesim.php_json import php_json_encode
from tests.support.ingest_payloads import order_state, payload

STORE = StoreContext(store_id="s1")


def _events(o: dict, topic: str = "order.created"):
    return derive_order_events(STORE, None, o, topic).events


def test_integers_beyond_64_bits_are_named_by_their_path():
    check_integers({"a": [1, 2**63 - 1, -(2**63)], "b": {"c": True}})  # the edges fit
    with pytest.raises(ValueOutOfRange, match=r"^line_items\[1\]\.quantity: 9223372036854775808 "):
        check_integers({"order_id": 1, "line_items": [{"quantity": 1}, {"quantity": 2**63}]})
    with pytest.raises(ValueOutOfRange, match=r"^customer\.id: "):
        check_integers({"customer": {"id": -(2**63) - 1}})


def test_the_check_walks_json_nested_deeper_than_python_recurses():
    deep: object = 2**64
    for _ in range(3000):
        deep = [deep]
    with pytest.raises(ValueOutOfRange):
        check_integers(deep)
    cleaned = without_control_characters({"k": ["a\x00"] * 2, "d": _nested(3000, "x\x01")})
    assert cleaned["k"] == ["a", "a"] and _innermost(cleaned["d"]) == "x"


def _nested(depth: int, leaf: object) -> object:
    for _ in range(depth):
        leaf = {"n": leaf}
    return leaf


def _innermost(value: object) -> object:
    while isinstance(value, dict):
        value = value["n"]
    return value


def test_events_are_serialized_once_checked_and_an_integer_past_2_53_still_goes_through():
    o = order_state("processing", 1)
    o["line_items"][0]["product_id"] = 2**60  # beyond orjson's strict 53 bits, within bigint
    events = _events(o)
    payloads = encode_events(events, EventLimits())
    assert [orjson.loads(p)["data"]["line_items"][0]["product_id"] for p in payloads] == [2**60, 2**60]
    assert payloads == [e.envelope.to_bytes() for e in events]  # the very bytes the outbox would hold


@pytest.mark.parametrize("field,value", [("quantity", 1e30), ("quantity", 1e20), ("product_id", 2**63 + 7),
                                         ("variation_id", 2**63 + 1)])
def test_a_line_value_beyond_64_bits_refuses_the_delivery(field, value):
    o = order_state("processing", 1)
    o["line_items"][0][field] = value
    with pytest.raises(ValueOutOfRange, match=rf"^line_items\[0\]\.{field}: "):
        encode_events(_events(o), EventLimits())


def test_sizes_one_event_events_per_delivery_and_lines_per_order():
    o = order_state("processing", 1)
    o["line_items"] = [{"id": n, "name": "x" * 100, "total": "1.00"} for n in range(1, 301)]
    with pytest.raises(TooLarge) as too_large:
        encode_events(_events(o), EventLimits(max_event_bytes=40_000))
    assert too_large.value.code == "event_too_large" and too_large.value.status == 413
    assert "40000 bytes" in str(too_large.value)
    assert len(encode_events(_events(o), EventLimits(max_event_bytes=70_000))) == 2

    with pytest.raises(TooLarge) as many:
        encode_events(_events(o), EventLimits(max_events=1))
    assert many.value.code == "too_many_events"

    check_payload_size({"line_items": [{}] * 10_000, "refunds": [{}] * 500}, EventLimits())
    with pytest.raises(TooLarge) as lines:
        check_payload_size({"line_items": [{}] * 10_001}, EventLimits())
    assert lines.value.code == "too_many_line_items" and "10000" in str(lines.value)
    with pytest.raises(TooLarge) as refunds:
        check_payload_size({"refunds": [{}] * 501}, EventLimits())
    assert refunds.value.code == "too_many_events"
    check_payload_size({"line_items": "not a list"}, EventLimits())  # the derivation judges that


def test_money_within_10_12_and_6_decimals():
    assert to_decimal("999999999999.999999") == Decimal("999999999999.999999")
    for value in ("1e12", "-1000000000000", 1e20, "100000000000000000000.00"):
        with pytest.raises(ValueOutOfRange, match="total: .* 10\\^12"):
            to_decimal(value, "total")
    assert order_decimals("1.123456") == 6
    with pytest.raises(ValueOutOfRange, match="at most 6"):
        order_decimals("1.1234567")
    o = order_state("processing", 1)
    o["line_items"] = [{"id": n, "total": "900000000000.00"} for n in (1, 2)]  # each fits, not their sum
    with pytest.raises(ValueOutOfRange, match="the sum of line_items"):
        _events(o)


def test_a_product_price_with_more_than_6_decimals_is_rounded_and_a_huge_one_refused():
    p = payload("product.v3.docs.json")
    p.update(price="12.39669421487", regular_price="21.99", sale_price="")
    [event] = derive_product_events(STORE, None, p, "product.updated").events
    assert (event.envelope.data["price"], event.envelope.data["regular_price"]) == ("12.396694", "21.99")
    p["price"] = "1e20"
    with pytest.raises(ValueOutOfRange, match="^price: "):
        derive_product_events(STORE, None, p, "product.updated")


def test_dates_within_1970_2200_and_a_plugin_date_outside_is_dropped():
    assert parse_gmt("1970-01-01T00:00:00") == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert parse_gmt("2200-12-31T23:59:59") is not None
    for value in ("9999-01-01T00:00:00", "1969-12-31T23:59:59", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00"):
        with pytest.raises(ValueOutOfRange, match="date_paid_gmt: .* 1970-2200"):
            parse_gmt(value, "date_paid_gmt")
    assert from_unix(10**12) is None and from_unix(10**20) is None and from_unix(1_700_000_000) is not None
    assert from_loose_date("9999-01-01") is None and from_loose_date("99991231") is None
    o = order_state("completed", 3, tracking=["1Z999"])
    o["meta_data"][-1]["value"][0]["date_shipped"] = str(10**15)  # a plugin's garbage
    [shipped] = [e for e in _events(o) if e.envelope.type == "order.shipped"]
    assert shipped.envelope.data["tracking"]["shipped_at"] is None  # the order goes through without it


def test_control_characters_are_found_in_the_raw_body_without_false_alarms_for_accents():
    o = order_state("processing", 1)
    o["billing"]["first_name"] = "José Éloïse"
    o["line_items"][0]["name"] = "Tab\tNew\nline\rok — “quoted” ©"
    clean = php_json_encode(o)  # WooCommerce's PHP escapes every non-ASCII character as \u00XX
    assert b"\\u00e9" in clean and not may_hold_control_characters(clean)
    assert not may_hold_control_characters(orjson.dumps(o))  # orjson writes them raw (reconcile)
    for dirty in ("a\x00b", "bell\x07", "esc\x1b", "del\x7f", "csi\x9b", "nel\x85", "back\x08", "ff\x0c"):
        o["billing"]["last_name"] = dirty
        assert may_hold_control_characters(php_json_encode(o)), repr(dirty)
        assert may_hold_control_characters(orjson.dumps(o)), repr(dirty)


def test_stripping_keeps_tab_newline_carriage_return_and_cleans_keys_too():
    dirty = {"na\x00me": "A\x00n\u0007n\x9be", "keep": "a\tb\nc\rd", "n": 5, "list": ["x\x7f", None, {"y\x01": "z"}]}
    assert without_control_characters(dirty) == {"name": "Anne", "keep": "a\tb\nc\rd", "n": 5,
                                                 "list": ["x", None, {"y": "z"}]}
    assert dirty["na\x00me"] == "A\x00n\u0007n\x9be"  # a copy: the delivery as received is untouched
    assert without_control_characters(None) is None and without_control_characters("a\x00") == "a"


def test_a_resource_id_is_at_most_20_digits():
    from tests.unit.ingest.deliveries import delivery

    assert delivery({"id": 2**64 - 1}).resource_id == "18446744073709551615"  # BIGINT UNSIGNED's largest
    assert delivery({"id": "1" * 21}).resource_id is None and delivery({"id": True}).resource_id is None
    assert delivery({"id": " 727 "}).resource_id == " 727 "
