"""The delivery pipeline (pipeline/batch.py) on the in-memory batch store: a batch is derived in
arrival order and written at once; a refused delivery spoils nothing else; a snapshot moved by
another instance makes the batch derive again."""
from __future__ import annotations

import pytest

from services.ingest.domain.delivery import InvalidPayload, Result, SnapshotConflict
from services.ingest.metrics import ingest_metrics
from services.ingest.pipeline import ingest, ingest_batch
from tests.support.fakes.ingest import MemoryDeliveryBatch
from tests.support.ingest_payloads import order_state
from tests.unit.ingest.deliveries import delivery, figure

METRICS = ingest_metrics()


def _types(batch: MemoryDeliveryBatch, order_id: int) -> list[str]:
    return [e.envelope.type for e in batch.outbox.events if e.envelope.subject == f"order/{order_id}"]


def _key(order_id: int) -> tuple[str, str, str]:
    return ("s1", "order", str(order_id))


async def test_only_the_invalid_delivery_of_a_batch_is_refused():
    batch = MemoryDeliveryBatch()
    broken = order_state("processing", 1, order_id=2)
    broken["line_items"] = [{"id": "not-a-number"}]  # the derivation refuses it
    before = figure("ingest_deliveries_total", topic="order.created", outcome="invalid_payload")
    results = await ingest_batch(batch, [
        delivery(order_state("processing", 1, order_id=1), "order.created"), delivery(broken, "order.created"),
        delivery({"id": 5, "code": "x"}, "coupon.created"), delivery(order_state("pending", 1, order_id=3),
                                                                       "order.created")], METRICS)

    assert results[0] == Result("applied", 2) and results[2] == Result("ignored_topic", 0)
    assert isinstance(results[1], InvalidPayload) and str(results[1]).startswith("ValueError")
    assert results[3] == Result("applied", 1)
    assert batch.writes == [3]  # one write for the whole batch, the refused delivery not in it
    assert [(r.topic, r.resource_id, r.outcome) for r in batch.rows] == [
        ("order.created", "1", "applied"), ("coupon.created", "5", "ignored_topic"), ("order.created", "3", "applied")]
    assert _types(batch, 2) == [] and batch.state(_key(2)) is None  # nothing of it: as if it never came
    assert figure("ingest_deliveries_total", topic="order.created", outcome="invalid_payload") == before + 1


async def test_a_resource_twice_in_one_batch_is_diffed_against_the_first():
    batch = MemoryDeliveryBatch()
    results = await ingest_batch(batch, [delivery(order_state("pending", 1), "order.created"),
                                         delivery(order_state("completed", 2))], METRICS)
    assert results == [Result("applied", 1), Result("applied", 3)]
    assert _types(batch, 727) == ["order.placed", "order.paid", "order.status_changed", "order.completed"]
    changed = batch.outbox.of_type("order.status_changed")[0].envelope.data
    assert (changed["from"], changed["to"]) == ("pending", "completed")
    # One snapshot write for the two: the state the second left.
    assert batch.snapshots[_key(727)][0] == 1 and batch.state(_key(727))["status"] == "completed"


async def test_the_same_fact_twice_in_a_batch_counts_once():
    batch = MemoryDeliveryBatch()
    same = order_state("processing", 1)
    results = await ingest_batch(batch, [delivery(same, "order.created") for _ in range(3)], METRICS)
    assert results == [Result("applied", 2), Result("duplicate", 0), Result("duplicate", 0)]
    assert _types(batch, 727) == ["order.placed", "order.paid"]


async def test_a_value_storage_refuses_is_retried_alone_and_only_its_delivery_is_refused():
    batch = MemoryDeliveryBatch()
    # The payload's text is cleaned of control characters before anything is stored; a NUL in what
    # is stored as given (the delivery id header, here) still fails the whole write in PostgreSQL.
    nul = delivery(order_state("processing", 1, order_id=2), "order.created", delivery_id="d\u0000")
    results = await ingest_batch(batch, [delivery(order_state("processing", 1, order_id=1), "order.created"), nul,
                                         delivery(order_state("processing", 1, order_id=3), "order.created")],
                                 METRICS)
    assert results[0] == Result("applied", 2) and results[2] == Result("applied", 2)
    assert isinstance(results[1], InvalidPayload) and "cannot be stored" in str(results[1])
    assert results[1].code == "unstorable_value" and results[1].status == 400
    assert batch.writes == [1, 1]  # the batch failed whole, then one delivery at a time
    assert batch.state(_key(2)) is None and _types(batch, 2) == []
    with pytest.raises(InvalidPayload):  # alone, the caller hears it (the webhook answers 400)
        await ingest(batch, nul, METRICS)


async def test_a_created_delivery_skips_its_read_and_a_known_resource_is_judged_after_all():
    batch = MemoryDeliveryBatch()
    assert await ingest(batch, delivery(order_state("completed", 2), origin="reconcile"), METRICS) == Result(
        "applied", 3)
    conflicts = figure("ingest_snapshot_conflicts_total")
    batch.reads.clear()
    results = await ingest_batch(batch, [delivery(order_state("processing", 1), "order.created"),
                                         delivery(order_state("processing", 2, order_id=9), "order.created")],
                                 METRICS)
    # First attempt: both taken as new, nothing read; the write finds 727 known, so all is read again.
    assert batch.reads == [set(), {_key(727), _key(9)}]
    assert results == [Result("stale", 0), Result("applied", 2)]
    assert figure("ingest_snapshot_conflicts_total") == conflicts + 1
    assert _types(batch, 727) == ["order.placed", "order.paid", "order.completed"]


async def test_a_snapshot_another_instance_moves_between_read_and_write_is_derived_again():
    batch = MemoryDeliveryBatch()
    await ingest(batch, delivery(order_state("processing", 1), "order.created"), METRICS)
    on_hold, completed = order_state("on-hold", 2), order_state("completed", 3)
    raced = {}

    async def other_instance() -> None:
        raced["b"] = await ingest(batch, delivery(on_hold), METRICS)

    batch.after_next_read = other_instance
    conflicts = figure("ingest_snapshot_conflicts_total")
    assert await ingest(batch, delivery(completed), METRICS) == Result("applied", 2)
    assert raced["b"] == Result("applied", 2) and figure("ingest_snapshot_conflicts_total") == conflicts + 1
    events = [(e.envelope.type, e.envelope.data.get("from")) for e in batch.outbox.events]
    assert events == [("order.placed", None), ("order.paid", None), ("order.status_changed", "processing"),
                      ("order.on_hold", None), ("order.status_changed", "on-hold"), ("order.completed", None)]
    assert batch.snapshots[_key(727)][0] == 3


async def test_a_resource_that_keeps_moving_gives_up_after_ten_attempts_and_stores_nothing():
    batch = MemoryDeliveryBatch()
    await ingest(batch, delivery(order_state("processing", 1), "order.created"), METRICS)

    async def move() -> None:  # another instance writes it between every read and write
        rev, state = batch.snapshots[_key(727)]
        batch.snapshots[_key(727)] = (rev + 1, state)
        batch.after_next_read = move

    batch.after_next_read = move
    conflicts = figure("ingest_snapshot_conflicts_total")
    with pytest.raises(SnapshotConflict):
        await ingest(batch, delivery(order_state("completed", 2)), METRICS)
    assert figure("ingest_snapshot_conflicts_total") == conflicts + 10
    assert batch.writes == [1] and _types(batch, 727) == ["order.placed", "order.paid"]


@pytest.mark.parametrize("topic,body,outcome", [
    ("coupon.created", {"id": 5}, "ignored_topic"),
    ("order.updated", {"code": "woocommerce_rest_cannot_view", "message": "no", "data": {"status": 401}},
     "error_body"),
    ("order.updated", {"id": "abc", "status": "processing"}, "invalid_resource"),
])
async def test_what_derives_nothing_is_recorded_with_its_outcome(topic, body, outcome):
    batch = MemoryDeliveryBatch()
    metric_topic = topic if topic != "coupon.created" else "unknown"  # labels stay a fixed set
    before = figure("ingest_deliveries_total", topic=metric_topic, outcome=outcome)
    assert await ingest(batch, delivery(body, topic), METRICS) == Result(outcome, 0)
    assert [(r.topic, r.outcome, r.events) for r in batch.rows] == [(topic, outcome, [])]
    assert batch.snapshots == {} and batch.outbox.events == []
    assert figure("ingest_deliveries_total", topic=metric_topic, outcome=outcome) == before + 1


async def test_events_produced_are_counted_by_type_once_committed():
    batch = MemoryDeliveryBatch()
    before = figure("ingest_events_produced_total", type="order.placed")
    await ingest_batch(batch, [delivery(order_state("pending", 1, order_id=n), "order.created") for n in (1, 2)],
                       METRICS)
    assert figure("ingest_events_produced_total", type="order.placed") == before + 2


class _Exploding(dict):
    """A payload that breaks our own code in a way no payload should (stands in for a bug of ours
    that one delivery's content happens to hit)."""

    def get(self, key, default=None):
        if key == "line_items":
            raise RuntimeError("a bug")
        return super().get(key, default)


async def test_whatever_fails_while_one_delivery_is_prepared_is_that_deliverys_answer_alone():
    batch = MemoryDeliveryBatch()
    absurd = order_state("processing", 1, order_id=2)
    absurd["line_items"][0]["quantity"] = 1e30  # int() of it can't be serialized: once a 500 for the batch
    huge = order_state("processing", 1, order_id=3)
    huge["line_items"] = [{"id": n} for n in range(1, 10_002)]
    bug = _Exploding(order_state("processing", 1, order_id=4))
    year_9999 = order_state("processing", 1, order_id=5, date_paid_gmt="9999-01-01T00:00:00")
    out_of_range = figure("ingest_deliveries_total", topic="order.created", outcome="value_out_of_range")
    results = await ingest_batch(batch, [delivery(order_state("processing", 1, order_id=1), "order.created"),
                                         delivery(absurd, "order.created"), delivery(huge, "order.created"),
                                         delivery(bug, "order.created"), delivery(year_9999, "order.created"),
                                         delivery(order_state("processing", 1, order_id=6), "order.created")],
                                 METRICS)
    assert results[0] == Result("applied", 2) and results[5] == Result("applied", 2)
    assert [(r.status, r.code) for r in results[1:5]] == [
        (400, "value_out_of_range"), (413, "too_many_line_items"), (500, "internal_error"),
        (400, "value_out_of_range")]
    assert "line_items[0].quantity" in str(results[1]) and "date_paid_gmt" in str(results[4])
    assert results[3].detail == "RuntimeError in get"  # what the log says: where, not the payload
    assert batch.writes == [2]  # one write, with only the two good deliveries
    assert [r.resource_id for r in batch.rows] == ["1", "6"]
    assert all(batch.state(_key(n)) is None and _types(batch, n) == [] for n in (2, 3, 4, 5))
    assert figure("ingest_deliveries_total", topic="order.created", outcome="value_out_of_range") == out_of_range + 2


async def test_control_characters_are_stripped_from_what_is_derived_not_from_what_is_kept():
    batch = MemoryDeliveryBatch()
    o = order_state("processing", 1)
    o["billing"]["first_name"] = "An\x00n\x1be"
    d = delivery(o, "order.created")
    assert await ingest(batch, d, METRICS) == Result("applied", 2)
    assert {e.envelope.data["customer"]["first_name"] for e in batch.outbox.events} == {"Anne"}
    [row] = batch.rows
    assert row.body == d.body and b"\\u0000" in row.body  # the delivery as received
    assert [len(p) for p in row.payloads] == [len(e.envelope.to_bytes()) for e in row.events]
