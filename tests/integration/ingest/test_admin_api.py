"""Ingest's internal API (bearer token) against its real database and relay: looking deliveries up,
an order's events, replay, outbox stats, clear 4xx on bad input, /metrics and the OpenAPI document."""
from __future__ import annotations

import asyncio
import re

from prometheus_client.parser import text_string_to_metric_families

from services.ingest.handlers import HANDLERS
from shared.db.outbox import _RELAY_LOCK
from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def _send(ingest, body: dict, topic: str = "order.updated"):
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic, body=body)
    assert r.status_code == 200, r.text
    return r


async def _until(predicate, timeout: float = 60.0) -> None:
    """Wait for the relay (generous: other work may load the machine); fail if it never happens."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_deliveries_by_delivery_id_and_by_order(ingest, uid):
    created = order(uid, status="pending")
    first = await _send(ingest, created, "order.created")
    await _send(ingest, created, "order.created")  # WooCommerce sent it twice
    await _send(ingest, order(uid, status="processing", order_id=created["id"]))
    delivery_id = first.request.headers["X-WC-Webhook-Delivery-ID"]

    r = await ingest.http.get("/deliveries", params={"delivery_id": delivery_id}, headers=AUTH)
    assert r.status_code == 200
    [row] = r.json()
    assert (row["store_id"], row["topic"], row["resource_id"], row["delivery_id"]) == (
        ingest.store_id, "order.created", str(created["id"]), delivery_id)
    assert (row["origin"], row["outcome"], row["events"], row["webhook_id"]) == ("webhook", "applied", 1, "42")
    assert row["bytes"] == len(first.request.content) and "body" not in row  # size only: bodies hold personal data

    r = await ingest.http.get("/deliveries", params={"store_id": ingest.store_id, "order_id": created["id"]},
                              headers=AUTH)
    assert r.status_code == 200
    rows = r.json()  # newest first
    assert [(d["topic"], d["outcome"], d["events"]) for d in rows] == [
        ("order.updated", "applied", 2), ("order.created", "duplicate", 0), ("order.created", "applied", 1)]
    other = await ingest.http.get("/deliveries", params={"store_id": f"other-{uid}", "order_id": created["id"]},
                                  headers=AUTH)
    assert other.json() == []


async def test_order_events_in_order_and_replay_republishes_them(ingest, uid):
    o = order(uid, status="pending")
    await _send(ingest, o, "order.created")
    await _send(ingest, order(uid, status="completed", order_id=o["id"]))
    r = await ingest.http.get(f"/stores/{ingest.store_id}/orders/{o['id']}/events", headers=AUTH)
    assert r.status_code == 200
    events = r.json()
    assert [e["type"] for e in events] == ["order.placed", "order.paid", "order.status_changed", "order.completed"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    for e in events:
        env = e["envelope"]
        assert (env["id"], env["type"], env["subject"]) == (e["event_id"], e["type"], f"order/{o['id']}")
        assert env["source"] == f"/stores/{ingest.store_id}" and e["topic"] == "orders.v1"
    seqs = [e["seq"] for e in events]

    async def published_after(moment) -> bool:
        rows = await ingest.pool.fetch("SELECT published_at FROM outbox WHERE seq = ANY($1::bigint[])", seqs)
        return all(r["published_at"] is not None and (moment is None or r["published_at"] > moment) for r in rows)

    await _until(lambda: published_after(None))
    before = await ingest.pool.fetchval("SELECT now()")
    r = await ingest.http.post(f"/stores/{ingest.store_id}/orders/{o['id']}/replay", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"requeued": 4}
    # Requeued (created_at moved to the replay) and published again by the relay, same event ids.
    rows = await ingest.pool.fetch("SELECT event_id, created_at FROM outbox WHERE seq = ANY($1::bigint[])", seqs)
    assert all(r["created_at"] >= before for r in rows)
    assert sorted(r["event_id"] for r in rows) == sorted(e["event_id"] for e in events)
    await _until(lambda: published_after(before))
    r = await ingest.http.post(f"/stores/{ingest.store_id}/orders/999999999/replay", headers=AUTH)
    assert r.json() == {"requeued": 0}


async def test_outbox_reports_depth_and_age_of_the_oldest_unpublished_row(ingest, uid):
    # Hold the relays' lock for a moment (every relay sharing this database just skips a beat), so an
    # unpublished row from an hour ago stays put while the API reports it; it is removed unpublished.
    async with ingest.pool.acquire() as hold, hold.transaction():
        await hold.execute("SELECT pg_advisory_xact_lock($1)", _RELAY_LOCK)
        await ingest.pool.execute(
            "INSERT INTO outbox (event_id, event_type, topic, key, source, subject, payload, created_at)"
            " VALUES ($1, 'it.probe', 'it.probe', $1, $2, 'probe', '\\x7b7d'::bytea, now() - interval '1 hour')",
            f"it-probe-{uid}", f"/stores/{ingest.store_id}")
        try:
            low = await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            r = await ingest.http.get("/outbox", headers=AUTH)
            high = await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        finally:
            await ingest.pool.execute("DELETE FROM outbox WHERE event_id = $1", f"it-probe-{uid}")
    assert r.status_code == 200
    stats = r.json()
    assert low <= stats["depth"] <= high and stats["depth"] >= 1
    assert 3600 <= stats["oldest_age_seconds"] < 3600 + 300


async def test_bad_requests_get_clear_4xx_never_5xx(ingest, uid):
    get, post = ingest.http.get, ingest.http.post

    r = await get("/deliveries", headers=AUTH)
    assert (r.status_code, r.json()["detail"]) == (400, "give delivery_id or order_id")
    r = await get("/deliveries", params={"order_id": 5}, headers=AUTH)
    assert (r.status_code, r.json()["detail"]) == (400, "order_id needs store_id")

    def invalid(r, loc: list) -> str:
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
        [detail] = [d for d in r.json()["details"] if d["loc"] == loc]
        return detail["msg"]

    assert "integer" in invalid(await get("/deliveries", params={"order_id": "abc", "store_id": "x"}, headers=AUTH),
                                ["query", "order_id"])
    assert "greater than or equal to 1" in invalid(
        await get("/deliveries", params={"order_id": 0, "store_id": "x"}, headers=AUTH), ["query", "order_id"])
    assert "integer" in invalid(await get("/stores/x/orders/abc/events", headers=AUTH), ["path", "order_id"])

    good = {"store_id": f"ok-{uid}", "source_url": f"https://ok-{uid}.example/", "webhook_secret": "s" * 16}
    assert "pattern" in invalid(await post("/stores", json={**good, "store_id": "Bad Store!"}, headers=AUTH),
                                ["body", "store_id"])
    assert "at least 1 character" in invalid(await post("/stores", json={**good, "webhook_secret": ""},
                                                        headers=AUTH), ["body", "webhook_secret"])
    assert "at most 256 characters" in invalid(await post("/stores", json={**good, "webhook_secret": "s" * 257},
                                                          headers=AUTH), ["body", "webhook_secret"])
    assert "URL" in invalid(await post("/stores", json={**good, "source_url": "not a url"}, headers=AUTH),
                            ["body", "source_url"])
    invalid(await post("/stores", json={k: v for k, v in good.items() if k != "webhook_secret"}, headers=AUTH),
            ["body", "webhook_secret"])
    invalid(await post("/stores", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}),
            ["body", 1])
    r = await post(f"/stores/nobody-{uid}/rotate-secret", json={"new_secret": "n" * 20}, headers=AUTH)
    assert (r.status_code, r.json()["detail"]) == (404, "no such store")
    invalid(await post(f"/stores/{ingest.store_id}/rotate-secret", json={"new_secret": ""}, headers=AUTH),
            ["body", "new_secret"])
    assert (await ingest.pool.fetchval("SELECT count(*) FROM stores WHERE store_id = $1", f"ok-{uid}")) == 0


async def test_nul_characters_in_parameters_are_a_4xx(ingest):
    r = await ingest.http.get("/deliveries", params={"delivery_id": "a\x00b"}, headers=AUTH)
    assert 400 <= r.status_code < 500


async def test_registering_a_taken_source_url_is_a_409(ingest, uid):
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": f"dup-{uid}", "source_url": ingest.source, "webhook_secret": "s" * 16})
    assert r.status_code == 409


def _samples(text: str) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def _value(samples: dict, family: str, name: str, **labels: str) -> float:
    return sum(s.value for s in samples.get(family, []) if s.name == name
               and all(s.labels.get(k) == v for k, v in labels.items()))


async def test_metrics_count_deliveries_failures_events_and_the_outbox(ingest, uid):
    before = _samples((await ingest.http.get("/metrics")).text)
    o = order(uid, status="processing")
    await _send(ingest, o, "order.created")
    await _send(ingest, o, "order.created")
    bad = await ingest.http.post(HOOK, content=b'{"id": 1}', headers={
        "Content-Type": "application/json", "X-WC-Webhook-Source": ingest.source,
        "X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": "forged"})
    assert bad.status_code == 401
    r = await ingest.http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = _samples(r.text)

    def delta(family: str, name: str, **labels: str) -> float:
        return _value(after, family, name, **labels) - _value(before, family, name, **labels)

    fam = "ingest_deliveries"
    assert delta(fam, f"{fam}_total", topic="order.created", outcome="applied") == 1
    assert delta(fam, f"{fam}_total", topic="order.created", outcome="duplicate") == 1
    assert delta("ingest_signature_failures", "ingest_signature_failures_total", store=ingest.store_id) == 1
    for event_type in ("order.placed", "order.paid"):
        assert delta("ingest_events_produced", "ingest_events_produced_total", type=event_type) == 1
    assert [s.name for s in after["ingest_outbox_depth"]] == ["ingest_outbox_depth"]  # its value: the next test
    buckets = [s for s in after["ingest_outbox_publish_latency_seconds"] if s.name.endswith("_bucket")]
    assert buckets and buckets[-1].labels["le"] == "+Inf"
    # Labels stay a small fixed set whatever senders put in headers: never ids from the payload.
    topics = {s.labels["topic"] for s in after[fam] if s.name == f"{fam}_total"}
    assert topics <= set(HANDLERS) | {"unknown"}
    types = {s.labels["type"] for s in after["ingest_events_produced"] if s.name == "ingest_events_produced_total"}
    assert types and all(re.fullmatch(r"(order|customer|product)\.[a-z_]+", t) for t in types)


async def test_the_outbox_depth_gauge_reports_the_real_depth(ingest, uid):
    """ingest_outbox_depth is what the outbox holds unpublished. With every relay held off (their
    lock), the count only grows, so once a scrape shows a refresh made after a probe row went in
    (the oldest age jumps to the probe's 30 days), its depth lies between the counts around it."""
    async with ingest.pool.acquire() as hold, hold.transaction():
        await hold.execute("SELECT pg_advisory_xact_lock($1)", _RELAY_LOCK)
        await ingest.pool.execute(
            "INSERT INTO outbox (event_id, event_type, topic, key, source, subject, payload, created_at)"
            " VALUES ($1, 'it.probe', 'it.probe', $1, $2, 'probe', '\\x7b7d'::bytea, now() - interval '30 days')",
            f"it-depth-{uid}", f"/stores/{ingest.store_id}")
        try:
            low = await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            loop = asyncio.get_running_loop()
            deadline, depth = loop.time() + 30, None
            while depth is None:
                assert loop.time() < deadline, "the relay never refreshed the outbox gauges"
                samples = _samples((await ingest.http.get("/metrics")).text)
                age = _value(samples, "ingest_outbox_oldest_age_seconds", "ingest_outbox_oldest_age_seconds")
                if age >= 30 * 86400:
                    depth = _value(samples, "ingest_outbox_depth", "ingest_outbox_depth")
                else:
                    await asyncio.sleep(0.1)
            high = await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        finally:
            await ingest.pool.execute("DELETE FROM outbox WHERE event_id = $1", f"it-depth-{uid}")
    assert low >= 1 and low <= depth <= high


async def test_openapi_documents_the_endpoints_and_the_bearer_scheme(ingest):
    r = await ingest.http.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": "the service's API token (AFTERCART_<SERVICE>_API_TOKEN)"}
    internal = {("/stores", "post"), ("/stores", "get"), ("/stores/{store_id}/rotate-secret", "post"),
                ("/deliveries", "get"), ("/stores/{store_id}/orders/{order_id}/events", "get"),
                ("/stores/{store_id}/orders/{order_id}/replay", "post"), ("/outbox", "get")}
    for path, method in internal:
        op = spec["paths"][path][method]
        assert op["security"] == [{"HTTPBearer": []}] and op["summary"], (path, method)
    webhook = spec["paths"]["/webhooks/woocommerce"]["post"]
    assert "security" not in webhook  # WooCommerce authenticates by signature, not a token
    params = {p["name"] for p in spec["paths"]["/deliveries"]["get"]["parameters"]}
    assert {"delivery_id", "store_id", "order_id", "limit"} <= params
    assert "StoreIn" in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["StoreIn"]["properties"]["webhook_secret"]["minLength"] == 1
