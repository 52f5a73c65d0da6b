"""Deliveries that share a transaction (group commit) keep every per-delivery guarantee: each gets
its own answer, its own events in arrival order, and one bad delivery spoils nothing else — against
the real PostgreSQL (the pipeline's batch store is PgDeliveryBatch on a pooled connection)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import orjson
import pytest
from prometheus_client import REGISTRY

from services.ingest.adapters.delivery_batch import PgDeliveryBatch
from services.ingest.domain.delivery import Delivery, InvalidPayload, Result
from services.ingest.pipeline import ingest as ingest_one, ingest_batch
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
BUCKETS = ("1.0", "2.0", "4.0", "8.0", "16.0", "32.0", "64.0", "128.0", "256.0", "+Inf")


def _batch_sizes() -> dict[str, float]:
    """Cumulative counts of ingest_commit_batch_deliveries per bucket bound."""
    return {le: REGISTRY.get_sample_value("ingest_commit_batch_deliveries_bucket", {"le": le}) or 0.0
            for le in BUCKETS}


def _conflicts() -> float:
    return REGISTRY.get_sample_value("ingest_snapshot_conflicts_total") or 0.0


async def _apply(ingest, batch: list[Delivery]) -> list:
    async with ingest.pool.acquire() as conn:
        return await ingest_batch(PgDeliveryBatch(conn), batch, ingest.app.state.service.metrics)


async def _store(ingest):
    return await ingest.app.state.service.stores.by_source(ingest.source)


async def test_one_batch_applies_each_delivery_in_order_and_refuses_only_the_bad_ones(ingest, uid):
    store = await _store(ingest)
    t = datetime.now(timezone.utc).replace(microsecond=0)
    a1 = order(uid, status="processing", modified=t - timedelta(minutes=1))
    a2 = dict(order(uid, status="completed", modified=t, order_id=a1["id"]))
    nul = order(uid)  # its delivery id holds a NUL, which PostgreSQL refuses: fails the batch's statement
    broken = order(uid)
    broken["line_items"] = [{"id": "not-a-number"}]  # the derivation refuses it
    other = order(uid)

    def d(topic, body, delivery_id=None):
        return Delivery(store=store, topic=topic, payload=body, body=orjson.dumps(body), delivery_id=delivery_id)

    batch = [d("order.created", a1), d("order.updated", a2), d("order.created", nul, "d\u0000"),
             d("order.created", broken),
             d("coupon.created", {"id": 5}), d("order.created", other)]
    results = await _apply(ingest, batch)

    assert results[0] == Result("applied", 2) and results[1] == Result("applied", 2)
    assert isinstance(results[2], InvalidPayload) and "cannot be stored" in str(results[2])
    assert isinstance(results[3], InvalidPayload) and "ValueError" in str(results[3])
    assert results[4] == Result("ignored_topic", 0) and results[5] == Result("applied", 2)
    types = [e["type"] for e in await ingest.events_of(f"order/{a1['id']}")]
    assert types == ["order.placed", "order.paid", "order.status_changed", "order.completed"]
    rows = await ingest.deliveries()
    assert [(r["topic"], r["resource_id"], r["outcome"], r["events"]) for r in rows] == [
        ("order.created", str(a1["id"]), "applied", 2), ("order.updated", str(a1["id"]), "applied", 2),
        ("coupon.created", "5", "ignored_topic", 0), ("order.created", str(other["id"]), "applied", 2)]
    for refused in (nul, broken):  # nothing of the refused ones: no row, no snapshot, no event
        assert await ingest.events_of(f"order/{refused['id']}") == []
        assert await ingest.pool.fetchval("SELECT count(*) FROM snapshots WHERE store_id = $1 AND resource_id = $2",
                                          ingest.store_id, str(refused["id"])) == 0


async def test_the_same_fact_twice_in_a_batch_counts_once(ingest, uid):
    store = await _store(ingest)
    o = order(uid)
    body = orjson.dumps(o)
    same = [Delivery(store=store, topic="order.created", payload=o, body=body) for _ in range(3)]
    results = await _apply(ingest, same)
    assert results == [Result("applied", 2), Result("duplicate", 0), Result("duplicate", 0)]
    assert len(await ingest.events_of(f"order/{o['id']}")) == 2
    assert await ingest.pool.fetchval("SELECT count(*) FROM snapshots WHERE store_id = $1 AND resource_id = $2",
                                      ingest.store_id, str(o["id"])) == 1


async def _hold_snapshots(ingest, *order_ids: int) -> tuple[asyncpg.Connection, object]:
    """Lock orders' snapshot rows from another connection: a batch that needs one waits."""
    conn = await ingest.pool.acquire()
    tx = conn.transaction()
    await tx.start()
    await conn.execute("SELECT 1 FROM snapshots WHERE store_id = $1 AND resource = 'order'"
                       " AND resource_id = ANY($2::text[]) FOR UPDATE", ingest.store_id, [str(i) for i in order_ids])
    return conn, tx


async def _until(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def _blocked_pids(ingest) -> list[int]:
    """Backends of ingest's group commit waiting for a lock the test holds."""
    rows = await ingest.pool.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        " AND query LIKE 'WITH saved AS (INSERT INTO snapshots%' ORDER BY backend_start")
    return [r["pid"] for r in rows]


def _blocked(ingest, n: int):
    async def check() -> bool:
        return len(await _blocked_pids(ingest)) == n
    return check


def _queued(app, n: int):
    async def check() -> bool:
        return app.commit.queued == n
    return check


def _sender(ingest):
    def send(body, topic="order.created"):
        return deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic, body=body)
    return send


TWO_LANES = pytest.mark.parametrize("ingest_overrides", [{"commit_lanes": 2}])  # the default is one


async def test_with_one_lane_deliveries_arriving_while_it_commits_share_the_next_commit(ingest, uid):
    app, send = ingest.app.state.service, _sender(ingest)
    assert app.commit.lanes == 1  # the default
    a = order(uid)
    assert (await send(a)).status_code == 200
    conn, tx = await _hold_snapshots(ingest, a["id"])
    before = _batch_sizes()
    try:  # the only lane waits on order a; everything else queues behind it
        stuck = asyncio.create_task(send(order(uid, status="completed", order_id=a["id"]), "order.updated"))
        await _until(_blocked(ingest, 1))
        others = [order(uid) for _ in range(10)]
        queued = [asyncio.create_task(send(o)) for o in others]
        await _until(_queued(app, 10))
        assert not any(t.done() for t in queued)
    finally:
        await tx.rollback()
        await ingest.pool.release(conn)
    assert (await stuck).json() == {"outcome": "applied", "events": 2}
    answers = await asyncio.gather(*queued)
    assert [(r.status_code, r.json()) for r in answers] == [(200, {"outcome": "applied", "events": 2})] * 10
    after = _batch_sizes()
    assert after["16.0"] - before["16.0"] == 2 and after["8.0"] - before["8.0"] == 1  # 1, then 10 at once
    for o in others:
        assert [e["type"] for e in await ingest.events_of(f"order/{o['id']}")] == ["order.placed", "order.paid"]


@TWO_LANES
async def test_deliveries_arriving_while_every_lane_is_busy_share_the_next_commit(ingest, uid):
    app, send = ingest.app.state.service, _sender(ingest)
    a, b = order(uid), order(uid)
    assert [(await send(o)).status_code for o in (a, b)] == [200, 200]
    conn, tx = await _hold_snapshots(ingest, a["id"], b["id"])
    before = _batch_sizes()
    try:  # both lanes wait: one on order a, one on order b
        stuck = []
        for n, o in enumerate((a, b), start=1):
            stuck.append(asyncio.create_task(send(order(uid, status="completed", order_id=o["id"]), "order.updated")))
            await _until(_blocked(ingest, n))
        others = [order(uid) for _ in range(12)]
        queued = [asyncio.create_task(send(o)) for o in others]
        await _until(_queued(app, 12))
    finally:
        await tx.rollback()
        await ingest.pool.release(conn)
    for task in stuck:
        assert (await task).json() == {"outcome": "applied", "events": 2}
    answers = await asyncio.gather(*queued)
    assert [(r.status_code, r.json()) for r in answers] == [(200, {"outcome": "applied", "events": 2})] * 12
    after = _batch_sizes()
    assert after["16.0"] - before["16.0"] == 3 and after["8.0"] - before["8.0"] == 2  # 1, 1, then 12 at once
    for o in others:
        assert [e["type"] for e in await ingest.events_of(f"order/{o['id']}")] == ["order.placed", "order.paid"]


@TWO_LANES
async def test_a_resource_in_flight_keeps_its_order_while_other_resources_pass(ingest, uid):
    send = _sender(ingest)
    t = datetime.now(timezone.utc).replace(microsecond=0)
    a = order(uid, status="pending", modified=t - timedelta(minutes=2))
    a["date_paid_gmt"] = None
    assert (await send(a)).status_code == 200
    conn, tx = await _hold_snapshots(ingest, a["id"])
    try:
        paid = asyncio.create_task(send(order(uid, status="processing", order_id=a["id"],
                                              modified=t - timedelta(minutes=1)), "order.updated"))
        await _until(_blocked(ingest, 1))
        done = asyncio.create_task(send(order(uid, status="completed", order_id=a["id"], modified=t),
                                        "order.updated"))
        other = order(uid)
        r = await send(other)  # the free lane serves another order meanwhile
        assert r.status_code == 200 and r.json()["outcome"] == "applied"
        assert not paid.done() and not done.done()
        assert len(await _blocked_pids(ingest)) == 1 and ingest.app.state.service.commit.queued == 1  # waits its turn
    finally:
        await tx.rollback()
        await ingest.pool.release(conn)
    assert (await paid).json()["outcome"] == "applied" and (await done).json()["outcome"] == "applied"
    types = [e["type"] for e in await ingest.events_of(f"order/{a['id']}")]
    assert types == ["order.placed", "order.paid", "order.status_changed", "order.status_changed", "order.completed"]


async def test_storage_lost_mid_batch_is_a_503_for_it_and_the_next_delivery_works(ingest, uid):
    send = _sender(ingest)
    first = order(uid)
    assert (await send(first)).status_code == 200
    conn, tx = await _hold_snapshots(ingest, first["id"])
    try:
        stuck = asyncio.create_task(send(order(uid, status="completed", order_id=first["id"]), "order.updated"))
        await _until(_blocked(ingest, 1))
        # The batch's connection is killed while it waits (a PostgreSQL restart, say).
        [pid] = await _blocked_pids(ingest)
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
        r = await stuck
        assert r.status_code == 503 and r.json()["error"] == "storage_unavailable"
    finally:
        await tx.rollback()
        await ingest.pool.release(conn)
    others = [order(uid) for _ in range(3)]
    for r in await asyncio.gather(*(send(o) for o in others)):
        assert r.status_code == 200 and r.json()["outcome"] == "applied"
    assert [d["topic"] for d in await ingest.deliveries()] == ["order.created"] * 4  # not the lost update
    again = await send(order(uid, status="completed", order_id=first["id"]), "order.updated")
    assert again.status_code == 200 and again.json() == {"outcome": "applied", "events": 2}


class _ReadThenRace(PgDeliveryBatch):
    """Instance A's batch store: right after its first read, `race` runs (instance B's commit)."""

    def __init__(self, conn: asyncpg.Connection, race) -> None:
        super().__init__(conn)
        self.race = race

    async def read(self, keys):
        seen = await super().read(keys)
        if self.race is not None:
            race, self.race = self.race, None
            await race()
        return seen


async def test_a_snapshot_moved_by_another_instance_between_read_and_write_is_derived_again(ingest, uid):
    """Instance A reads order o, instance B (its own connection) applies a newer state of o, A's
    write must not overwrite it: nothing of A's first attempt is stored, A derives again against
    B's state."""
    store, metrics = await _store(ingest), ingest.app.state.service.metrics
    t = datetime.now(timezone.utc).replace(microsecond=0)
    placed = order(uid, status="processing", modified=t - timedelta(minutes=2))
    await _apply(ingest, [Delivery(store=store, topic="order.created", payload=placed, body=orjson.dumps(placed))])
    on_hold = order(uid, status="on-hold", order_id=placed["id"], modified=t - timedelta(minutes=1))
    completed = order(uid, status="completed", order_id=placed["id"], modified=t)
    raced = {}

    async def instance_b() -> None:  # commits right after A's first read
        async with ingest.pool.acquire() as conn_b:
            raced["b"] = await ingest_one(PgDeliveryBatch(conn_b), Delivery(
                store=store, topic="order.updated", payload=on_hold, body=orjson.dumps(on_hold)), metrics)

    conflicts = _conflicts()
    async with ingest.pool.acquire() as conn_a:
        [result] = await ingest_batch(_ReadThenRace(conn_a, instance_b), [Delivery(
            store=store, topic="order.updated", payload=completed, body=orjson.dumps(completed))], metrics)
    assert _conflicts() == conflicts + 1
    assert raced["b"] == Result("applied", 2) and result == Result("applied", 2)
    # Derived against the on-hold state B stored, not the processing state A first read.
    events = await ingest.events_of(f"order/{placed['id']}")
    assert [(e["type"], e["data"].get("from")) for e in events] == [
        ("order.placed", None), ("order.paid", None), ("order.status_changed", "processing"),
        ("order.on_hold", None), ("order.status_changed", "on-hold"), ("order.completed", None)]
    assert [d["outcome"] for d in await ingest.deliveries()] == ["applied", "applied", "applied"]
    snap = await ingest.pool.fetchrow("SELECT rev, state FROM snapshots WHERE store_id = $1 AND resource_id = $2",
                                      ingest.store_id, str(placed["id"]))
    assert snap["rev"] == 3 and orjson.loads(snap["state"])["status"] == "completed"


async def test_a_created_delivery_for_a_known_order_is_read_again_and_judged_against_it(ingest, uid):
    """*.created skips its snapshot read on the first attempt (the resource is taken as new). When
    reconciliation got there first, the write's revision check refuses the batch, nothing of that
    attempt is stored, and the next attempt reads the snapshot: the late order.created is stale."""
    store, metrics = await _store(ingest), ingest.app.state.service.metrics
    t = datetime.now(timezone.utc).replace(microsecond=0)
    created = order(uid, status="processing", modified=t - timedelta(minutes=1))
    completed = order(uid, status="completed", order_id=created["id"], modified=t)
    fresh = order(uid, status="processing", modified=t)

    def d(topic, body, origin="webhook"):
        return Delivery(store=store, topic=topic, payload=body, body=orjson.dumps(body), origin=origin)

    async with ingest.pool.acquire() as conn:  # reconciliation saw the order completed already
        batch = PgDeliveryBatch(conn)
        assert await ingest_batch(batch, [d("order.updated", completed, "reconcile")], metrics) == [
            Result("applied", 3)]
        conflicts = _conflicts()
        results = await ingest_batch(batch, [d("order.created", created), d("order.created", fresh)], metrics)

    assert results == [Result("stale", 0), Result("applied", 2)]
    assert _conflicts() == conflicts + 1
    assert [e["type"] for e in await ingest.events_of(f"order/{created['id']}")] == [
        "order.placed", "order.paid", "order.completed"]
    assert [e["type"] for e in await ingest.events_of(f"order/{fresh['id']}")] == ["order.placed", "order.paid"]
    snap = await ingest.pool.fetchrow("SELECT rev, state FROM snapshots WHERE store_id = $1 AND resource_id = $2",
                                      ingest.store_id, str(created["id"]))
    assert snap["rev"] == 1 and orjson.loads(snap["state"])["status"] == "completed"
    assert [(r["topic"], r["outcome"]) for r in await ingest.deliveries()] == [
        ("order.updated", "applied"), ("order.created", "stale"), ("order.created", "applied")]
