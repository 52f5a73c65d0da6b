"""Bounded events (issue 10, item 1) against the real stack.

At the edge: a delivery whose events Kafka could not take — the 11,000-line order of the issue, an
event over AFTERCART_INGEST_MAX_EVENT_BYTES, more events than one delivery may derive — is refused
with a 413 before the 200, and nothing of it is stored.

In the relay: whatever the cause, an outbox row Kafka refuses for good is parked with its reason
and never blocks the rows behind it from any store; later rows of the same key and subject (the same
order) wait behind it, parked as held; the admin API lists, replays and discards parked rows; the
`ingest_outbox_parked_rows` gauge and /readyz say so.

Every test runs on an ingest of its own (a PostgreSQL schema of the test's): no other relay on the
database — another test's, a dev system's — ever meets a row they leave unpublishable, even if
the edge's check were broken.
"""
from __future__ import annotations

import asyncio
import random

import httpx
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import REGISTRY

from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app
from shared.events.envelope import Envelope, utcnow
from tests.integration.ingest.conftest import TOKEN, IngestClient
from tests.support.pg_schema import isolated_schema
from tests.support.spine import read_all
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def lone_overrides() -> dict:
    """IngestSettings of the test's own ingest other than the defaults (parametrize to change)."""
    return {}


@pytest.fixture
async def lone(stack, uid, lone_overrides) -> IngestClient:
    """An ingest app on a schema of its own, with a registered store."""
    async with isolated_schema(stack.service_dsn("ingest"), f"it_bounded_{uid}") as dsn:
        settings = IngestSettings(database_url=dsn, kafka_bootstrap=stack.bootstrap_servers(), api_token=TOKEN,
                                  reconcile_interval_s=0, relay_idle_poll_s=0.02, **lone_overrides)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(app.state.service.runtime.connected.wait(), 60)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as http:
                client = IngestClient(http=http, app=app, store_id=f"b-{uid}", source=f"https://b-{uid}.example/",
                                      secret=f"secret-{uid}-abcdefghij")
                r = await http.post("/stores", headers=AUTH, json={"store_id": client.store_id,
                                                                    "source_url": client.source,
                                                                    "webhook_secret": client.secret})
                assert r.status_code == 201, r.text
                yield client


async def _nothing_stored(ingest, o: dict) -> None:
    assert await ingest.deliveries() == []
    assert await ingest.events_of(f"order/{o['id']}") == []
    assert await ingest.pool.fetchval("SELECT count(*) FROM snapshots WHERE store_id = $1", ingest.store_id) == 0


def _send(ingest, body: dict, topic: str = "order.created"):
    return deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic, body=body)


async def test_the_11000_line_order_is_refused_at_the_edge_and_nothing_is_stored(lone, uid):
    """The issue's order: 11,000 minimal lines, a ≈ 100 KB body, two events of ≈ 1.08 MB each."""
    o = order(uid)
    o["line_items"] = [{"id": n} for n in range(1, 11_001)]
    r = await _send(lone, o)
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "too_many_line_items" and "10000" in r.json()["message"]
    await _nothing_stored(lone, o)


@pytest.mark.parametrize("lone_overrides", [{"max_event_bytes": 50_000}])
async def test_an_event_over_the_size_limit_is_refused_and_one_under_it_goes_through(lone, uid):
    def with_lines(n: int) -> dict:
        o = order(uid)
        o["line_items"] = [{"id": i, "product_id": 7, "quantity": 1, "total": "1.00", "name": "n" * 100}
                           for i in range(1, n + 1)]
        return o

    big = with_lines(300)  # ≈ 60 KB per event
    r = await _send(lone, big)
    assert r.status_code == 413 and r.json()["error"] == "event_too_large", r.text
    assert "50000" in r.json()["message"]
    await _nothing_stored(lone, big)
    fits = with_lines(100)
    r = await _send(lone, fits)
    assert r.status_code == 200 and r.json() == {"outcome": "applied", "events": 2}


async def test_more_events_than_a_delivery_may_derive_are_refused(lone, uid):
    o = order(uid, status="refunded")
    o["refunds"] = [{"id": n, "reason": "", "total": "-0.01"} for n in range(1, 601)]  # one event each
    r = await _send(lone, o)
    assert r.status_code == 413 and r.json()["error"] == "too_many_events", r.text
    await _nothing_stored(lone, o)


# --- The relay -------------------------------------------------------------------------------


async def _row(pool, *, topic: str, key: str, subject: str, size: int, store: str = "a") -> tuple[int, str]:
    """An outbox row written directly (as rows written before the edge's limits existed, or with a
    limit the topic doesn't share): a valid envelope padded to `size` bytes. Returns (seq, event id)."""
    env = Envelope(id=f"ev-{random.getrandbits(64):x}", source=f"/stores/{store}", type="order.placed",
                   subject=subject, time=utcnow(), data={"pad": ""})
    pad = max(0, size - len(env.to_bytes()))
    payload = Envelope(**{**env.model_dump(), "data": {"pad": "x" * pad}}).to_bytes()
    seq = await pool.fetchval(
        "INSERT INTO outbox (event_id, event_type, topic, key, source, subject, payload)"
        " VALUES ($1, 'order.placed', $2, $3, $4, $5, $6) RETURNING seq",
        env.id, topic, key, env.source, subject, payload)
    return seq, env.id


async def _published(pool, seq: int, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await pool.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE seq = $1", seq):
        assert asyncio.get_running_loop().time() < deadline, f"outbox row {seq} not published"
        await asyncio.sleep(0.05)


async def _parked(http, expect: int, timeout: float = 20.0, **params) -> list[dict]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await http.get("/outbox/parked", headers=AUTH, params=params)
        assert r.status_code == 200, r.text
        if len(r.json()) == expect or asyncio.get_running_loop().time() > deadline:
            return r.json()
        await asyncio.sleep(0.05)


async def _gauge(value: float, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while REGISTRY.get_sample_value("ingest_outbox_parked_rows") != value:
        assert asyncio.get_running_loop().time() < deadline, REGISTRY.get_sample_value("ingest_outbox_parked_rows")
        await asyncio.sleep(0.05)


def _parked_total(reason: str) -> float:
    return REGISTRY.get_sample_value("ingest_outbox_parked_total", {"reason": reason}) or 0.0


async def test_a_row_kafka_refuses_is_parked_and_never_blocks_the_others(lone, uid):
    http, pool = lone.http, lone.pool
    too_large = _parked_total("MessageSizeTooLargeError")
    # 1.1 MB: over the producer's 1 MiB request limit, like the 11,000-line order's events were.
    big, _ = await _row(pool, topic="orders.v1", key=f"a-{uid}:c1", subject="order/1", size=1_100_000)

    o = order(uid)
    r = await _send(lone, o)
    assert r.status_code == 200 and r.json()["events"] == 2
    for seq in await pool.fetch("SELECT seq FROM outbox WHERE subject = $1", f"order/{o['id']}"):
        await _published(pool, seq["seq"])  # another store's order, written after the row that can't go

    [parked] = await _parked(http, 1)
    assert (parked["seq"], parked["error_type"], parked["behind"]) == (big, "MessageSizeTooLargeError", None)
    assert parked["bytes"] > 1_048_576 and "max_request_size" in parked["reason"]
    assert parked["key"] == f"a-{uid}:c1" and parked["subject"] == "order/1" and parked["topic"] == "orders.v1"
    assert _parked_total("MessageSizeTooLargeError") == too_large + 1
    [event] = (await http.get("/stores/a/orders/1/events", headers=AUTH)).json()
    assert event["seq"] == big and event["published_at"] is None
    assert event["parked"].startswith("MessageSizeTooLargeError: ")
    await _gauge(1)
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["dependencies"]["outbox"].startswith("degraded: 1 parked")

    # The same order's later event waits behind it (held); the same customer's other order goes on.
    held, _ = await _row(pool, topic="orders.v1", key=f"a-{uid}:c1", subject="order/1", size=500)
    other, _ = await _row(pool, topic="orders.v1", key=f"a-{uid}:c1", subject="order/2", size=500)
    await _published(pool, other)
    rows = await _parked(http, 2)
    assert [(p["seq"], p["error_type"], p["behind"]) for p in rows] == [(big, "MessageSizeTooLargeError", None),
                                                                        (held, "held", big)]
    r = await http.post(f"/outbox/parked/{held}/replay", headers=AUTH)
    assert r.status_code == 409 and str(big) in r.json()["detail"]
    assert (await http.post("/outbox/parked/999999999/replay", headers=AUTH)).status_code == 404

    # Discarding the head releases what waited behind it.
    r = await http.delete(f"/outbox/parked/{big}", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"seq": big, "released": [held]}
    await _published(pool, held)
    assert await _parked(http, 0) == []
    [gone] = await _parked(http, 1, discarded=True)
    assert gone["seq"] == big and gone["discarded_at"] is not None
    assert not await pool.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE seq = $1", big)
    await _gauge(0)
    assert (await http.get("/readyz")).json()["dependencies"]["outbox"] == "up"
    stats = (await http.get("/outbox", headers=AUTH)).json()
    assert stats["depth"] == 0 and stats["parked"] == 0  # a discarded row is no longer waiting


async def test_a_record_the_broker_refuses_is_parked_replayed_once_the_limit_is_raised(lone, stack, uid):
    """The broker's own limit (the topic's max.message.bytes) below the producer's: the refusal comes
    back asynchronously, fails the records batched with it and leaves the idempotent producer's
    sequence with a gap. The relay publishes each of them alone on a fresh producer, parks only the
    one the broker refuses, and the rows behind it flow; raised limit → replay → published, in order."""
    http, pool, topic = lone.http, lone.pool, f"bounded.{uid}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "4096"})])
        async with pool.acquire() as conn, conn.transaction():  # one batch for the relay
            s1, e1 = await _row(conn, topic=topic, key="k1", subject="order/1", size=300)
            big, eb = await _row(conn, topic=topic, key="k2", subject="order/2", size=10_000)
            s2, e2 = await _row(conn, topic=topic, key="k3", subject="order/3", size=300)
            s3, e3 = await _row(conn, topic=topic, key="k2", subject="order/2", size=300)
        for seq in (s1, s2):
            await _published(pool, seq)
        rows = await _parked(http, 2)
        assert [(p["seq"], p["error_type"], p["behind"]) for p in rows] == [
            (big, "MessageSizeTooLargeError", None), (s3, "held", big)]
        s4, e4 = await _row(pool, topic=topic, key="k1", subject="order/1", size=300)
        await _published(pool, s4)  # the producer is not left with a gap in its sequence

        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                  configs={"max.message.bytes": "1048588"})])
        await asyncio.sleep(1.0)  # the broker applies topic config changes asynchronously
        r = await http.post(f"/outbox/parked/{big}/replay", headers=AUTH)
        assert r.status_code == 200 and r.json() == {"seq": big, "released": [big, s3]}
        for seq in (big, s3):
            await _published(pool, seq)
        assert await _parked(http, 0) == []
        records = await read_all(stack.bootstrap_servers(), topic, expect=5)
        assert [orjson.loads(rec.value)["id"] for rec in records] == [e1, e2, e4, eb, e3]
    finally:
        await admin.close()
