"""Receiving deliveries exactly as WooCommerce sends them: ping, signature, bad input, durability."""
from __future__ import annotations

import orjson

from services.ingest.adapters.signature import sign
from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order, payload

HOOK = "/webhooks/woocommerce"


async def test_ping_gets_exactly_200_and_publishes_nothing(ingest):
    before = await ingest.pool.fetchval("SELECT count(*) FROM outbox")
    r = await ingest.http.post(HOOK, content=b"webhook_id=142",
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "User-Agent": "WooCommerce/9.8.1 Hookshot (WordPress/6.8)"})
    assert r.status_code == 200
    assert await ingest.pool.fetchval("SELECT count(*) FROM outbox") == before


async def test_signed_order_is_stored_and_normalised(ingest, uid):
    o = order(uid)
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic="order.created", body=o)
    assert r.status_code == 200 and r.json()["outcome"] == "applied"
    [d] = await ingest.deliveries()
    assert d["topic"] == "order.created" and d["resource_id"] == str(o["id"]) and d["outcome"] == "applied"
    assert b"\\/" in d["body"] or b"/" not in d["body"]  # the raw PHP-encoded bytes are what we keep
    types = [e["type"] for e in await ingest.events_of(f"order/{o['id']}")]
    assert types == ["order.placed", "order.paid"]


async def test_wrong_or_missing_signature_is_401_and_stores_nothing(ingest, uid):
    o = order(uid)
    raw = orjson.dumps(o)
    base = {"Content-Type": "application/json", "X-WC-Webhook-Source": ingest.source,
            "X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-ID": "1"}
    for sig in (None, "nope", sign("another-secret-123456", raw)):
        headers = dict(base, **({"X-WC-Webhook-Signature": sig} if sig else {}))
        r = await ingest.http.post(HOOK, content=raw, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "invalid_signature"
    unknown = dict(base, **{"X-WC-Webhook-Source": f"https://nobody-{uid}.example/",
                            "X-WC-Webhook-Signature": sign(ingest.secret, raw)})
    r = await ingest.http.post(HOOK, content=raw, headers=unknown)
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature"  # no hint the store is unknown
    assert await ingest.deliveries() == []
    assert await ingest.events_of(f"order/{o['id']}") == []


async def test_bad_input_gets_clear_4xx(ingest, uid):
    def signed(raw: bytes, ctype="application/json", topic="order.updated"):
        return {"Content-Type": ctype, "X-WC-Webhook-Source": ingest.source, "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Signature": sign(ingest.secret, raw)}
    r = await ingest.http.post(HOOK, content=b"{not json", headers=signed(b"{not json"))
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
    r = await ingest.http.post(HOOK, content=b"[1,2]", headers=signed(b"[1,2]"))
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
    r = await ingest.http.post(HOOK, content=b"{}", headers=signed(b"{}", ctype="text/plain"))
    assert r.status_code == 400 and r.json()["error"] == "unsupported_content_type"
    big = b'{"id": 1, "x": "' + b"a" * 300_000 + b'"}'
    r = await ingest.http.post(HOOK, content=big, headers=signed(big))
    assert r.status_code == 413
    r = await ingest.http.post(HOOK, content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "missing_topic"
    bad = orjson.dumps({"id": 5, "status": "processing", "date_modified_gmt": "not a date", "line_items": "x"})
    r = await ingest.http.post(HOOK, content=bad, headers=signed(bad))
    assert r.status_code == 400 and r.json()["error"] == "invalid_payload"
    assert await ingest.deliveries() == []


async def test_unknown_topic_is_acknowledged_stored_and_ignored(ingest):
    body = payload("derived/action.woocommerce_add_to_cart.json")
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret,
                      topic="action.woocommerce_add_to_cart", body=body)
    assert r.status_code == 200 and r.json()["outcome"] == "ignored_topic"
    [d] = await ingest.deliveries()
    assert d["outcome"] == "ignored_topic" and d["events"] == 0


async def test_error_body_is_stored_not_published(ingest, uid):
    body = {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot view this resource.",
            "data": {"status": 401}}
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic="order.updated", body=body)
    assert r.status_code == 200 and r.json()["outcome"] == "error_body"


async def test_same_state_five_times_gives_one_set_of_events(ingest, uid):
    o = order(uid)
    for _ in range(5):
        r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic="order.updated", body=o)
        assert r.status_code == 200
    events = await ingest.events_of(f"order/{o['id']}")
    assert [e["type"] for e in events] == ["order.placed", "order.paid"]
    outcomes = [d["outcome"] for d in await ingest.deliveries()]
    assert outcomes == ["applied"] + ["duplicate"] * 4


async def test_secret_rotation_keeps_the_old_secret_during_the_overlap(ingest, uid):
    new = f"rotated-{uid}-abcdefghij"
    r = await ingest.http.post(f"/stores/{ingest.store_id}/rotate-secret", headers={"Authorization": f"Bearer {TOKEN}"},
                               json={"new_secret": new, "overlap_seconds": 3600})
    assert r.status_code == 200 and "secret" not in str(r.json()).replace("previous_secret_until", "")
    for secret in (ingest.secret, new):
        r = await deliver(ingest.http, HOOK, source=ingest.source, secret=secret, topic="order.created", body=order(uid))
        assert r.status_code == 200
    r = await ingest.http.post(f"/stores/{ingest.store_id}/rotate-secret", headers={"Authorization": f"Bearer {TOKEN}"},
                               json={"new_secret": f"third-{uid}-abcdefghij", "overlap_seconds": 0})
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic="order.created", body=order(uid))
    assert r.status_code == 401


async def test_internal_api_needs_the_token(ingest):
    assert (await ingest.http.get("/stores")).status_code == 401
    assert (await ingest.http.get("/stores", headers={"Authorization": "Bearer wrong"})).status_code == 401
    r = await ingest.http.get("/outbox", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and set(r.json()) == {"depth", "oldest_age_seconds", "parked"}


async def test_a_nul_postgresql_would_refuse_is_stripped_not_a_5xx(ingest, uid):
    o = order(uid)
    o["status"] = "processing\u0000"  # JSON allows it; PostgreSQL's jsonb does not
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic="order.created", body=o)
    assert r.status_code == 200 and r.json() == {"outcome": "applied", "events": 2}
    assert [e["data"]["status"] for e in await ingest.events_of(f"order/{o['id']}")] == ["processing"] * 2
    [d] = await ingest.deliveries()
    assert b"\\u0000" in d["body"]  # kept as received


async def test_the_documented_route_answers_like_the_fast_path(ingest, uid):
    """The webhook is served as bare ASGI ahead of FastAPI; the FastAPI route (what OpenAPI shows)
    runs the same checks and gives the same answers."""
    import httpx
    from fastapi import FastAPI

    from services.ingest.entrypoints.webhooks import webhook_router

    plain = FastAPI()
    plain.state.service = ingest.app.state.service
    plain.include_router(webhook_router())
    assert HOOK in (await ingest.http.get("/openapi.json")).json()["paths"]
    o = order(uid)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://x") as routed:
        for client in (ingest.http, routed):
            r = await deliver(client, HOOK, source=ingest.source, secret=ingest.secret, topic="order.created", body=o)
            assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        r1 = await deliver(routed, HOOK, source=ingest.source, secret="wrong-secret-123456", topic="order.created", body=o)
        r2 = await deliver(ingest.http, HOOK, source=ingest.source, secret="wrong-secret-123456",
                           topic="order.created", body=o)
        assert r1.status_code == r2.status_code == 401 and r1.json() == r2.json()
        big = b'{"x": "' + b"a" * 300_000 + b'"}'
        for client in (ingest.http, routed):
            r = await client.post(HOOK, content=big, headers={"Content-Type": "application/json"})
            assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    assert [d["outcome"] for d in await ingest.deliveries()] == ["applied", "duplicate"]
