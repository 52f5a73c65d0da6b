from datetime import datetime, timezone

import orjson

from shared.events.envelope import Envelope, derived_event_id, event_id


def test_envelope_roundtrip_keeps_utc_and_schema():
    env = Envelope(id=event_id("s1", "order", 5, "2026-01-01T00:00:00", "order.placed", None),
                   source="/stores/s1", type="order.placed", subject="order/5",
                   time=datetime(2026, 1, 1, 12, 0), data={"total": "10.00"})
    raw = env.to_bytes()
    body = orjson.loads(raw)
    assert body["specversion"] == "1.0"
    assert body["dataschema"] == "aftercart:order.placed:v1"
    assert body["time"].endswith("Z") or body["time"].endswith("+00:00")
    back = Envelope.from_bytes(raw)
    assert back == env
    assert back.time.tzinfo is not None and back.time.utcoffset().total_seconds() == 0


def test_ids_are_deterministic_and_distinct():
    a = event_id("s1", "order", 5, "2026-01-01T00:00:00", "order.paid", None)
    assert a == event_id("s1", "order", 5, "2026-01-01T00:00:00", "order.paid", None)
    assert a != event_id("s1", "order", 5, "2026-01-01T00:00:01", "order.paid", None)
    assert derived_event_id(a, "points.pending") != derived_event_id(a, "points.available")


def test_non_utc_times_are_converted():
    from datetime import timedelta
    t = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    env = Envelope(id="x", source="/s", type="t", subject="s", time=t, data={})
    assert env.time == datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_to_bytes_is_exactly_what_pydantic_would_write():
    """to_bytes skips pydantic's dump for speed; the bytes must not change for consumers."""
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    import orjson

    from shared.events.envelope import Envelope

    for when in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                 datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=timezone(timedelta(hours=2)))):
        env = Envelope(id="e1", source="/stores/s", type="order.paid", subject="order/1", time=when,
                       data={"total": Decimal("10.50"), "at": when, "lines": [{"n": 1, "x": None}], "ok": True})
        reference = env.model_dump(mode="json")
        reference["dataschema"] = env.dataschema
        assert env.to_bytes() == orjson.dumps(reference)
