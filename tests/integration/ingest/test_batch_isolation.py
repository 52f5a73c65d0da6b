"""Failure isolation in the group commit (issue 10, item 2) against a real ingest: whatever fails
while one delivery is prepared or written — its events' serialization included — is that
delivery's own answer, never its batch-mates'. The issue's case: a line quantity of 10^30 (JSON
reads it as a float, int() makes an integer over 64 bits) among dozens of stores' deliveries
sharing one commit."""
from __future__ import annotations

import asyncio
import random

import orjson
from prometheus_client import REGISTRY

from services.ingest.adapters.delivery_batch import PgDeliveryBatch
from services.ingest.domain.delivery import Delivery, Result
from services.ingest.pipeline import ingest_batch

from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STORES = 40


def _batches_up_to(bound: str) -> float:
    return REGISTRY.get_sample_value("ingest_commit_batch_deliveries_bucket", {"le": bound}) or 0.0


async def _until(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_a_10e30_quantity_in_a_busy_batch_is_refused_alone(ingest, uid, capfd):
    app = ingest.app.state.service
    stores = []
    for n in range(STORES):
        s = {"store_id": f"iso-{uid}-{n}", "source_url": f"https://iso-{uid}-{n}.example/",
             "webhook_secret": f"secret-{uid}-{n}-abcdefghij"}
        assert (await ingest.http.post("/stores", headers=AUTH, json=s)).status_code == 201
        stores.append(s)

    def send(store: dict, body: dict, topic: str = "order.created"):
        return deliver(ingest.http, HOOK, source=store["source_url"], secret=store["webhook_secret"], topic=topic,
                       body=body)

    # The only commit lane waits on a snapshot row the test locks; everything else queues behind it.
    first = order(uid)
    assert (await send(stores[0], first)).status_code == 200
    conn = await ingest.pool.acquire()
    tx = conn.transaction()
    await tx.start()
    await conn.execute("SELECT 1 FROM snapshots WHERE store_id = $1 AND resource_id = $2 FOR UPDATE",
                       stores[0]["store_id"], str(first["id"]))
    small, large = _batches_up_to("32.0"), _batches_up_to("64.0")
    try:
        stuck = asyncio.create_task(send(stores[0], order(uid, status="completed", order_id=first["id"]),
                                         "order.updated"))
        await _until(lambda: _lane_waits(ingest))
        bodies = [order(uid) for _ in stores]
        absurd = bodies[STORES // 2]
        absurd["line_items"][0]["quantity"] = 1e30
        queued = [asyncio.create_task(send(s, b)) for s, b in zip(stores, bodies)]

        async def all_queued() -> bool:
            return app.commit.queued == STORES
        await _until(all_queued)
    finally:
        await tx.rollback()
        await ingest.pool.release(conn)
    assert (await stuck).status_code == 200
    answers = await asyncio.gather(*queued)
    assert _batches_up_to("32.0") - small == 1 and _batches_up_to("64.0") - large == 2  # the 40 in one commit

    bad = answers[STORES // 2]
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"] == "value_out_of_range" and "line_items[0].quantity" in bad.json()["message"]
    others = [r for n, r in enumerate(answers) if n != STORES // 2]
    assert [(r.status_code, r.json()) for r in others] == [(200, {"outcome": "applied", "events": 2})] * (STORES - 1)
    stored = await ingest.pool.fetch("SELECT store_id, resource_id, outcome FROM deliveries WHERE store_id = ANY($1)",
                                     [s["store_id"] for s in stores])
    expected = [(s["store_id"], str(b["id"]), "applied") for s, b in zip(stores, bodies) if b is not absurd]
    expected += [(stores[0]["store_id"], str(first["id"]), "applied")] * 2  # placed, then completed
    assert sorted(tuple(r) for r in stored) == sorted(expected)
    assert await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE source = $1 AND subject = $2",
                                      f"/stores/{stores[STORES // 2]['store_id']}", f"order/{absurd['id']}") == 0

    # The log names the refusal and the delivery — its id, topic and store — and nothing personal.
    delivery_id = bad.request.headers["X-WC-Webhook-Delivery-ID"]
    lines = [orjson.loads(line) for line in capfd.readouterr().out.splitlines() if delivery_id in line]
    [line] = [entry for entry in lines if entry.get("event") == "delivery_refused"]
    assert line["reason"] == "value_out_of_range" and "line_items[0].quantity" in line["detail"]
    assert (line["topic"], line["store_id"]) == ("order.created", stores[STORES // 2]["store_id"])
    assert absurd["billing"]["email"] not in str(line) and absurd["billing"]["first_name"] not in str(line)


async def _lane_waits(ingest) -> bool:
    rows = await ingest.pool.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND query LIKE 'WITH saved AS (INSERT INTO snapshots%'")
    return len(rows) == 1


def _digits(n: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(n))  # random: it doesn't compress


async def test_a_value_past_what_postgresql_indexes_fails_no_batch_mate(ingest, uid):
    """Values over the size of an index entry (not a DataError): once the whole batch's statement
    failed on them and every delivery of the batch got 503. An id of 10,000 digits is no id (the
    row is kept, without it); a delivery id that long — the edge caps the header, reconciliation or
    a future path may not — refuses its delivery alone."""
    store = await ingest.app.state.service.stores.by_source(ingest.source)
    coupon = {"id": _digits(10_000), "code": "x"}
    batch = [(order(uid), "order.created", None), (coupon, "coupon.created", None), (order(uid), "order.created", None),
             (order(uid), "order.created", _digits(10_000))]
    async with ingest.pool.acquire() as conn:
        results = await ingest_batch(PgDeliveryBatch(conn), [
            Delivery(store=store, topic=t, payload=b, body=orjson.dumps(b), delivery_id=d) for b, t, d in batch],
            ingest.app.state.service.metrics)
    assert results[:3] == [Result("applied", 2), Result("ignored_topic", 0), Result("applied", 2)]
    assert (results[3].status, results[3].code) == (400, "unstorable_value")
    rows = await ingest.deliveries()
    assert [(r["topic"], r["resource_id"]) for r in rows] == [
        ("order.created", str(batch[0][0]["id"])), ("coupon.created", None), ("order.created", str(batch[2][0]["id"]))]
