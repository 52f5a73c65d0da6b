"""Orders deleted for good (issue 15 point 3), against the store simulator over real HTTP, ingest's
real PostgreSQL and Kafka: the merchant deletes an order for good (what DELETE /orders/<id>?force=true
does, tests/unit/storesim/test_rest_writes.py; no webhook is sent), and the next reconcile finds the
order 404 and publishes one order.deleted with `permanent: true` — for an order that was live and
for one trashed first."""
from __future__ import annotations

from services.ingest.adapters.woo_rest import client_for
from shared.events.envelope import Envelope
from shared.events.registry import ORDERS
from tests.support.kafka_tail import TopicTail


async def _reconcile(ingest) -> dict:
    r = ingest.app.state.service.reconciler
    store = await r.stores.get(ingest.store_id)
    client = client_for(store)
    try:
        return await r.store(store, client)
    finally:
        await client.close()


async def test_an_order_deleted_for_good_yields_one_permanent_order_deleted(ingest, rest_store, stack, uid):
    s = rest_store.store
    mug = s.create_product("Mug", "12.00", sku=f"MUG-{uid}")
    live, trashed, kept = (s.create_order([(mug["id"], 1)], billing={"email": f"{n}-{uid}@example.com"})
                           for n in ("live", "trashed", "kept"))
    s.pay_order(live["id"])
    assert (await _reconcile(ingest))["order"] == {"applied": 3}

    tail = await TopicTail.at_end(stack.bootstrap_servers(), ORDERS.name)
    try:
        s.trash_order(trashed["id"])  # to the trash first (its webhook is lost)
        assert (await _reconcile(ingest))["order"].get("applied") == 1
        for order_id in (live["id"], trashed["id"]):
            s.delete_order(order_id)
        summary = await _reconcile(ingest)
        assert summary["order"]["deleted_for_good"] == 2
        again = await _reconcile(ingest)
        assert "deleted_for_good" not in again["order"]

        source = f"/stores/{ingest.store_id}"
        records = await tail.collect(lambda rec: Envelope.from_bytes(rec.value).source == source
                                     and Envelope.from_bytes(rec.value).type == "order.deleted", expect=3)
    finally:
        await tail.close()
    deleted = [(e.subject, e.data["permanent"], e.data["previous_status"])
               for e in map(lambda rec: Envelope.from_bytes(rec.value), records)]
    assert sorted(deleted) == sorted([(f"order/{trashed['id']}", False, "pending"),
                                      (f"order/{live['id']}", True, "processing"),
                                      (f"order/{trashed['id']}", True, "trash")])
    assert [e["type"] for e in await ingest.events_of(f"order/{kept['id']}")] == ["order.placed"]
    gone = await ingest.pool.fetchval("SELECT count(*) FROM snapshots WHERE store_id = $1 AND resource = 'order'"
                                      " AND state->>'gone' = 'true'", ingest.store_id)
    assert gone == 2
