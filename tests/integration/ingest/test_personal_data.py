"""Personal data in ingest's own database (issue 15 point 5), on real PostgreSQL and Kafka, in a
schema of the test's own (so the scan below reads ingest's whole database and nothing else):

- erasure: a customer who shopped as a guest, registered, ordered and was refunded (that refund
  still held for its lines), whose events were published, is deleted in WooCommerce; with the
  customer.erased that ingest derives, the same transaction drops their delivery bodies and takes
  email and names out of every event payload (outbox, published or not, and held_events). Then
  every text, json and bytea column of every table is searched for their email, names and phone:
  none is left (and before the erasure the same scan finds them, so it can fail).
- retention: a delivery body older than the retention is dropped by the sweep, its SHA-256 and
  outcome kept; a newer one is untouched.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import random
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from services.ingest.adapters.retention import PgRetention
from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app
from services.ingest.retention import Retention
from tests.integration.ingest.conftest import TOKEN, closed_port
from tests.support.pg_schema import isolated_schema
from tests.support.woo import deliver, order, payload, wc_time

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
_SCANNED = ("text", "character varying", "character", "json", "jsonb", "bytea")


@pytest.fixture
async def private(stack, uid):
    """Ingest on a schema of its own, a store whose REST API can't be reached (refunds stay held)."""
    dead = closed_port()
    async with isolated_schema(stack.service_dsn("ingest"), f"it_pd_{uid}") as dsn:
        settings = IngestSettings(database_url=dsn, kafka_bootstrap=stack.bootstrap_servers(), api_token=TOKEN,
                                  reconcile_interval_s=0, refund_details_wait_s=3_600, refund_details_poll_s=0.2)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(app.state.service.runtime.connected.wait(), 60)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest") as http:
                source, secret = f"https://pd-{uid}.example/", f"secret-{uid}-abcdefghij"
                r = await http.post("/stores", headers=AUTH, json={
                    "store_id": f"pd-{uid}", "source_url": source, "webhook_secret": secret,
                    "rest_url": f"http://127.0.0.1:{dead.getsockname()[1]}", "consumer_key": "ck_pd",
                    "consumer_secret": "cs_pd"})
                assert r.status_code == 201, r.text

                async def send(topic: str, body: dict) -> dict:
                    r = await deliver(http, HOOK, source=source, secret=secret, topic=topic, body=body)
                    assert r.status_code == 200, r.text
                    return r.json()

                yield app.state.service.runtime.pool, send, f"pd-{uid}"
    dead.close()


async def _findings(pool, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text/json/bytea column of every table holding a needle."""
    columns = await pool.fetch("SELECT table_name, column_name, data_type FROM information_schema.columns"
                               " WHERE table_schema = current_schema() AND data_type = ANY($1::text[])",
                               list(_SCANNED))
    assert len({c["table_name"] for c in columns}) >= 8  # the whole database: deliveries, outbox, snapshots…
    found = []
    for c in columns:
        table, column = f'"{c["table_name"]}"', f'"{c["column_name"]}"'
        for needle in needles:
            if c["data_type"] == "bytea":
                # Bodies and payloads are UTF-8 JSON: the needle's bytes, as sent and lower-cased.
                hit = await pool.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE position($1::bytea IN {column})"
                                          f" > 0 OR position($2::bytea IN {column}) > 0)",
                                          needle.encode(), needle.lower().encode())
            else:
                hit = await pool.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table}"
                                          f" WHERE strpos(lower({column}::text), lower($1)) > 0)", needle)
            if hit:
                found.append((c["table_name"], c["column_name"], needle))
    return found


def _person(uid: str) -> dict:
    return {"email": f"Zelda.Quux-{uid}@Example.com", "first_name": f"Zelda{uid}", "last_name": f"Quux{uid}",
            "phone": f"+44 20 {random.randint(1000, 9999)} {uid[:4]}"}


def _with_person(body: dict, who: dict) -> dict:
    body = copy.deepcopy(body)
    body["billing"].update(who)
    body["shipping"].update({k: v for k, v in who.items() if k != "email"})
    return body


async def _published(pool, store_id: str, expect: int) -> None:
    for _ in range(300):
        n = await pool.fetchval("SELECT count(*) FROM outbox WHERE source = $1 AND published_at IS NOT NULL",
                                f"/stores/{store_id}")
        if n >= expect:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {n} of {expect} events were published")


async def test_an_erased_customer_leaves_no_personal_data_in_ingest_s_database(private, uid):
    pool, send, store_id = private
    who = _person(uid)
    guest = _with_person(order(uid, status="processing"), who)  # shopped as a guest first
    assert (await send("order.created", guest))["outcome"] == "applied"
    customer_id = random.randint(10_000, 2_000_000_000)
    customer = copy.deepcopy(payload("customer.v3.docs.json"))
    customer.update(id=customer_id, email=who["email"], first_name=who["first_name"], last_name=who["last_name"],
                    username=f"zelda{uid}")
    customer["billing"].update(who)
    assert (await send("customer.created", customer))["events"] == 2  # registered, linked from the guest key
    own = _with_person(order(uid, status="processing", customer_id=customer_id), who)
    assert (await send("order.created", own))["outcome"] == "applied"
    refunded = dict(copy.deepcopy(own), refunds=[{"id": own["id"] + 1, "reason": "", "total": "-5.00"}],
                    date_modified_gmt=wc_time(datetime.now(timezone.utc) + timedelta(seconds=5)))
    assert (await send("order.updated", refunded))["events"] == 1
    assert await pool.fetchval("SELECT count(*) FROM held_events WHERE store_id = $1", store_id) == 1
    await _published(pool, store_id, expect=6)  # guest: placed, paid; registered, linked; own: placed, paid
    needles = [who["email"], who["first_name"], who["last_name"], who["phone"]]
    before = await _findings(pool, needles)
    assert {t for t, _, _ in before} >= {"deliveries", "outbox", "held_events"}  # the scan sees them

    assert (await send("customer.deleted", {"id": customer_id})) == {"outcome": "applied", "events": 1}
    assert await _findings(pool, needles) == []

    # Pseudonymized, not gone: the facts and keys stay for every consumer's history.
    erased = await pool.fetchval("SELECT count(*) FROM outbox WHERE source = $1 AND event_type = 'customer.erased'",
                                 f"/stores/{store_id}")
    assert erased == 1
    placed = await pool.fetchval("SELECT convert_from(payload, 'UTF8')::jsonb->'data'->'customer' FROM outbox"
                                 " WHERE source = $1 AND subject = $2 AND event_type = 'order.placed'",
                                 f"/stores/{store_id}", f"order/{own['id']}")
    assert f":c{customer_id}" in placed and "email" not in placed
    bodies = await pool.fetch("SELECT body, body_sha256, outcome FROM deliveries WHERE store_id = $1"
                              " AND topic <> 'customer.deleted' ORDER BY id", store_id)
    assert len(bodies) == 4 and all(b["body"] == b"" and len(b["body_sha256"]) == 32 for b in bodies)
    assert [b["outcome"] for b in bodies] == ["applied"] * 4


async def test_delivery_bodies_past_the_retention_are_dropped_their_hash_and_outcome_kept(private, uid):
    pool, send, store_id = private
    old, new = order(uid, status="processing"), order(uid, status="pending")
    await send("order.created", old)
    await send("order.created", new)
    rows = await pool.fetch("SELECT id, body, outcome FROM deliveries WHERE store_id = $1 ORDER BY id", store_id)
    await pool.execute("UPDATE deliveries SET received_at = now() - interval '31 days' WHERE id = $1", rows[0]["id"])

    assert await Retention(PgRetention(pool), retention_days=30).sweep() == 1
    after = await pool.fetch("SELECT body, body_sha256, body_dropped_at, outcome FROM deliveries WHERE store_id = $1"
                             " ORDER BY id", store_id)
    assert after[0]["body"] == b"" and after[0]["body_sha256"] == hashlib.sha256(rows[0]["body"]).digest()
    assert after[0]["outcome"] == rows[0]["outcome"] == "applied" and after[0]["body_dropped_at"] is not None
    assert after[1]["body"] == rows[1]["body"] and after[1]["body_sha256"] is None
    assert await Retention(PgRetention(pool), retention_days=30).sweep() == 0  # done once
