"""One contract for the batch store and its fake: MemoryDeliveryBatch runs it in tests/unit/ingest,
PgDeliveryBatch against PostgreSQL in tests/integration/ingest — so the pipeline's unit tests on the
fake can be trusted. Observed through the interface only (read, write)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import orjson
import pytest

from services.ingest.domain.delivery import DeliveryRow, Snapshot, SnapshotConflict, UnstorableValue
from services.ingest.domain.derivation import StoreContext, build_event
from shared.events.registry import ORDERS


def _event(store_id: str, order_id: int, event_type: str):
    return build_event(StoreContext(store_id=store_id), topic=ORDERS.name, key=f"{store_id}:o{order_id}",
                       resource="order", rid=order_id, moment="2026-03-02T10:00:00", event_type=event_type,
                       discriminator=None, subject=f"order/{order_id}",
                       time=datetime(2026, 3, 2, 10, tzinfo=timezone.utc), data={"order_id": order_id})


def _row(store_id: str, order_id: int, events: list, outcome: str = "applied") -> DeliveryRow:
    return DeliveryRow(store_id=store_id, topic="order.updated", resource="order", resource_id=str(order_id),
                       delivery_id=None, webhook_id=None, origin="webhook", body=b"{}", outcome=outcome,
                       events=events)


def _json(state: dict) -> str:
    """A snapshot as the pipeline hands it to the store: its JSON."""
    return orjson.dumps(state).decode()


async def check_delivery_batch_contract(batch, store_id: str) -> None:
    a, b = (store_id, "order", "1"), (store_id, "order", "2")
    assert await batch.read({a, b}) == {}  # never seen: absent
    assert await batch.read(set()) == {}

    placed, paid = _event(store_id, 1, "order.placed"), _event(store_id, 1, "order.paid")
    # A fact twice in one batch belongs to the first delivery; a row without events adds none.
    added = await batch.write({a: (0, _json({"status": "pending", "n": 1}))},
                              [_row(store_id, 1, [placed]), _row(store_id, 1, [placed, paid]),
                               _row(store_id, 2, [], outcome="ignored_topic")])
    assert added == [1, 1, 0]
    [snap] = (await batch.read({a, b})).values()
    assert (snap.rev, snap.state) == (1, {"status": "pending", "n": 1})
    snap.state["status"] = "mutated"  # a read hands out a copy
    assert (await batch.read({a}))[a].state["status"] == "pending"

    # A revision that moved, or a resource that exists when 0 was read (as "never seen"): nothing
    # of the write happens, not even what was right in it.
    completed = _event(store_id, 1, "order.completed")
    for stale in ({a: (0, _json({"status": "x"}))}, {a: (2, _json({"status": "x"}))},
                  {b: (0, _json({"status": "y"})), a: (0, _json({"status": "x"}))}):
        with pytest.raises(SnapshotConflict):
            await batch.write(stale, [_row(store_id, 1, [completed])])
    assert (await batch.read({a, b})) == {a: Snapshot(rev=1, state={"status": "pending", "n": 1})}

    # A value PostgreSQL refuses: nothing of the write happens either.
    with pytest.raises(UnstorableValue):
        await batch.write({a: (1, _json({"status": "completed\u0000"}))}, [_row(store_id, 1, [completed])])
    assert (await batch.read({a}))[a].rev == 1

    # The refused writes left no event behind: the outbox takes `completed` now, and not twice.
    added = await batch.write({a: (1, _json({"status": "completed"})), b: (0, _json({"status": "pending"}))},
                              [_row(store_id, 1, [placed, completed]), _row(store_id, 2, [completed])])
    assert added == [1, 0]
    got = await batch.read({a, b})
    assert (got[a].rev, got[a].state, got[b].rev) == (2, {"status": "completed"}, 1)
    # Only the snapshots named are written; the others keep their revision.
    assert await batch.write({}, [_row(store_id, 1, [paid])]) == [0]
    assert (await batch.read({a}))[a].rev == 2

    # A held delivery (a refund's lines awaited): its new facts count as added once, whichever
    # batch repeats them; a fact the outbox already has is not held again.
    c = (store_id, "order", "3")
    refunded = _event(store_id, 3, "order.on_hold")
    assert await batch.write({c: (0, _json({"held": True}))},
                             [replace(_row(store_id, 3, [refunded, paid]), held=True)]) == [1]
    assert await batch.write({c: (1, _json({"held": True, "n": 2}))},
                             [replace(_row(store_id, 3, [refunded]), held=True), _row(store_id, 3, [refunded])]) == [0, 0]
    assert (await batch.read({c}))[c] == Snapshot(rev=2, state={"held": True, "n": 2})
