"""Webhook secrets as WooCommerce accepts them (issue 15, point 1): any non-empty secret up to 256
characters, a short or low-entropy one accepted with the warning weak_secret, a log line naming the
store and why (never the secret) and the ingest_stores_weak_secret gauge; such a store receives its
signed deliveries like any other, before and after a rotation."""
from __future__ import annotations

import json

from prometheus_client import REGISTRY

from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _weak_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("event") == "store_secret_weak":
            lines.append(rec)
    return lines


async def test_a_store_with_a_15_character_secret_receives_its_signed_deliveries(ingest, uid, capfd):
    sid, source, secret = f"weak-{uid}"[:32], f"https://weak-{uid}.example/", f"W{uid}"[:15].ljust(15, "x")
    assert len(secret) == 15
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": sid, "source_url": source, "webhook_secret": secret})
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == ["weak_secret"] and secret not in r.text
    gauge = REGISTRY.get_sample_value("ingest_stores_weak_secret")
    assert gauge is not None and gauge >= 1
    assert gauge == await ingest.app.state.service.stores.count_weak_secrets()

    body = order(uid)
    r = await deliver(ingest.http, HOOK, source=source, secret=secret, topic="order.created", body=body)
    assert r.status_code == 200, r.text
    stored = await ingest.pool.fetch("SELECT outcome FROM deliveries WHERE store_id = $1", sid)
    assert [row["outcome"] for row in stored] == ["applied"]
    r = await deliver(ingest.http, HOOK, source=source, secret=secret + "y", topic="order.created", body=body)
    assert r.status_code == 401  # still a signature, checked as for any store

    # Rotation takes any secret the same way: a low-entropy one is accepted with the warning.
    low = "a" * 40
    r = await ingest.http.post(f"/stores/{sid}/rotate-secret", headers=AUTH,
                               json={"new_secret": low, "overlap_seconds": 0})
    assert r.status_code == 200 and r.json()["warnings"] == ["weak_secret"], r.text
    r = await deliver(ingest.http, HOOK, source=source, secret=low, topic="order.updated",
                      body=order(uid, status="processing", order_id=body["id"]))
    assert r.status_code == 200, r.text

    out, err = capfd.readouterr()
    weak = _weak_lines(out + err)
    assert [(w["store_id"], w["action"], w["reason"]) for w in weak] == [
        (sid, "register", "short"), (sid, "rotate", "low_entropy")]
    assert secret not in out + err and low not in out + err

    # A strong secret: no warning, and the gauge counts this store no more.
    strong = f"Str0ng-{uid}-9f8e7d6c5b4a"
    r = await ingest.http.post(f"/stores/{sid}/rotate-secret", headers=AUTH,
                               json={"new_secret": strong, "overlap_seconds": 0})
    assert r.status_code == 200 and r.json()["warnings"] == []
    after = REGISTRY.get_sample_value("ingest_stores_weak_secret")
    assert after == await ingest.app.state.service.stores.count_weak_secrets()


async def test_a_one_character_secret_is_accepted_and_an_empty_or_overlong_one_refused(ingest, uid):
    base = {"store_id": f"one-{uid}"[:32], "source_url": f"https://one-{uid}.example/"}
    for bad in ("", "s" * 257):
        r = await ingest.http.post("/stores", headers=AUTH, json={**base, "webhook_secret": bad})
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
    r = await ingest.http.post("/stores", headers=AUTH, json={**base, "webhook_secret": "s" * 256})
    assert r.status_code == 201 and r.json()["warnings"] == ["weak_secret"]  # one character, repeated
    r = await ingest.http.post("/stores", headers=AUTH, json={
        "store_id": f"one1-{uid}"[:32], "source_url": f"https://one1-{uid}.example/", "webhook_secret": "k"})
    assert r.status_code == 201 and r.json()["warnings"] == ["weak_secret"]
    r = await deliver(ingest.http, HOOK, source=f"https://one1-{uid}.example/", secret="k", topic="order.created",
                      body=order(uid))
    assert r.status_code == 200, r.text
