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
