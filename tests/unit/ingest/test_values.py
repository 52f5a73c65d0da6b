"""Small value rules: money, times, freshness."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from services.ingest.domain.derivation import DUPLICATE, STALE, resource_id
from services.ingest.domain.money import decimals_of, fmt, to_decimal
from services.ingest.domain.freshness import NEWER, advance, content_hash, freshness
from services.ingest.domain.times import from_loose_date, parse_gmt, stamp


def test_money_never_goes_through_float():
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")
    assert to_decimal(10.8) == Decimal("10.8") and to_decimal("") == 0 and to_decimal(None) == 0
    assert (decimals_of("29.35"), decimals_of("1500"), decimals_of("1.250"), decimals_of("")) == (2, 0, 3, 2)
    assert (fmt(Decimal("16.2"), 2), fmt(Decimal("-0.001"), 2), fmt(Decimal("2.345"), 2)) == ("16.20", "0.00", "2.35")
    with pytest.raises(ValueError):
        to_decimal("12,50")


def test_gmt_fields_without_offset_are_utc():
    utc = datetime(2017, 3, 22, 19, 28, 8, tzinfo=timezone.utc)
    assert parse_gmt("2017-03-22T19:28:08") == utc == parse_gmt("2017-03-22T19:28:08Z")
    assert parse_gmt("2017-03-22T21:28:08+02:00") == utc
    assert stamp(parse_gmt("2017-03-22T21:28:08+02:00")) == "2017-03-22T19:28:08"
    assert parse_gmt(None) is None and parse_gmt("") is None
    with pytest.raises(ValueError):
        parse_gmt("yesterday")
    assert from_loose_date("20240501") == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert from_loose_date("not a date") is None


def test_freshness():
    prev = {"modified": "2026-01-01T10:00:00", "hashes": ["a"]}
    assert freshness(None, "2026-01-01T10:00:00", "a") == NEWER
    assert freshness(prev, "2026-01-01T09:59:59", "b") == STALE
    assert freshness(prev, "2026-01-01T10:00:00", "a") == DUPLICATE
    assert freshness(prev, "2026-01-01T10:00:00", "b") == NEWER
    assert freshness(prev, "2026-01-01T10:00:01", "a") == NEWER
    assert advance(prev, "2026-01-01T10:00:00", "b") == {"modified": "2026-01-01T10:00:00", "hashes": ["a", "b"]}
    assert advance(prev, "2026-01-01T10:00:01", "c") == {"modified": "2026-01-01T10:00:01", "hashes": ["c"]}


def test_content_hash_ignores_volatile_fields_and_key_order():
    assert content_hash({"a": 1, "b": 2, "_links": {"x": 1}}) == content_hash({"b": 2, "a": 1})
    assert content_hash({"related_ids": [1, 2]}) == content_hash({"related_ids": [2, 1]})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


@pytest.mark.parametrize("raw,expected", [(727, 727), ("727", 727), (" 727 ", 727)])
def test_resource_id_accepts_ints_and_numeric_strings(raw, expected):
    assert resource_id({"id": raw}) == expected


@pytest.mark.parametrize("raw", [None, "", "abc", 0, -1, True, 1.5, [1]])
def test_resource_id_rejects_the_rest(raw):
    with pytest.raises(ValueError):
        resource_id({"id": raw})
