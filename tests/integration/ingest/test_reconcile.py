"""Reconciliation against the store simulator over real HTTP (uvicorn on a free port), with ingest's
real PostgreSQL: everything here happens in the store while no webhook reaches ingest, and the
REST API sweep must produce the lifecycle events the webhooks would have."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from prometheus_client import REGISTRY

from deploy.local.storesim import make_sender_factory
from deploy.local.storesim.webhooks import Queue
from services.ingest.adapters.woo_rest import client_for
from services.ingest.bootstrap import reconciler
from services.ingest.config import IngestSettings
from services.ingest.domain.times import parse_gmt
from services.ingest.reconcile import OVERLAP
from tests.integration.ingest.conftest import SIM_CK, SIM_CS, TOKEN, closed_port

ROOT = Path(__file__).resolve().parents[3]


def _reconciler(ingest):
    """The running app's reconciler (real PostgreSQL, real REST client)."""
    return ingest.app.state.service.reconciler


async def _reconcile(ingest, **kwargs) -> dict:
    r = _reconciler(ingest)
    store = await r.stores.get(ingest.store_id)
    client = client_for(store)
    try:
        return await r.store(store, client, **kwargs)
    finally:
        await client.close()


async def _types(ingest, subject: str) -> list[str]:
    return [e["type"] for e in await ingest.events_of(subject)]


async def _outbox_count(ingest) -> int:
    return await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE source = $1", f"/stores/{ingest.store_id}")


def _shop(sim, uid: str) -> dict:
    """A small store's history: products, a registered customer's completed order, a guest's
    pending order, and a paid order partially refunded (one of two tees)."""
    s = sim.store
    mug = s.create_product("Mug", "12.00", sku=f"MUG-{uid}")
    tee = s.create_product("Tee", "20.00", sku=f"TEE-{uid}")
    ada = s.create_customer(f"ada-{uid}@example.com", "Ada", "Lovelace")
    done = s.create_order([(mug["id"], 2)], customer_id=ada["id"])
    s.pay_order(done["id"])
    s.set_order_status(done["id"], "completed")
    waiting = s.create_order([(tee["id"], 1)], billing={"email": f"grace-{uid}@example.com", "first_name": "Grace"})
    refunded = s.create_order([(mug["id"], 1), (tee["id"], 2)],
                              billing={"email": f"alan-{uid}@example.com", "first_name": "Alan"})
    s.pay_order(refunded["id"])
    tee_line = next(li for li in refunded["line_items"] if li["product_id"] == tee["id"])
    refund = s.refund_order(refunded["id"], reason="one tee arrived torn", line_items=[(tee_line["id"], 1)])
    return dict(mug=mug, tee=tee, ada=ada, done=done, waiting=waiting, refunded=refunded, tee_line=tee_line,
                refund=refund)


async def test_reconcile_imports_what_no_webhook_delivered(ingest, rest_store, uid):
    shop = _shop(rest_store, uid)
    sid = ingest.store_id
    summary = await _reconcile(ingest)
    assert summary["product"] == {"applied": 2}
    assert summary["order"] == {"applied": 3}
    assert summary["customer"] == {"applied": 1}
    assert summary["webhooks"] == {"total": 0, "disabled": []}
    assert await _types(ingest, f"product/{shop['mug']['id']}") == ["product.upserted"]
    assert await _types(ingest, f"customer/{sid}:c{shop['ada']['id']}") == ["customer.registered", "customer.linked"]
    assert await _types(ingest, f"order/{shop['done']['id']}") == ["order.placed", "order.paid", "order.completed"]
    assert await _types(ingest, f"order/{shop['waiting']['id']}") == ["order.placed"]
    events = await ingest.events_of(f"order/{shop['refunded']['id']}")
    assert [e["type"] for e in events] == ["order.placed", "order.paid", "order.refunded"]
    refund = events[-1]["data"]["refund"]
    assert (refund["refund_id"], refund["amount"], refund["is_full"]) == (shop["refund"]["id"], "20.00", False)
    assert refund["reason"] == "one tee arrived torn"
    [line] = refund["line_items"]  # fetched from GET /orders/<id>/refunds/<rid>
    assert (line["line_id"], line["product_id"], line["quantity"], line["total"]) == (
        shop["tee_line"]["id"], shop["tee"]["id"], 1, "20.00")
    deliveries = await ingest.deliveries()
    assert {d["origin"] for d in deliveries} == {"reconcile"} and len(deliveries) == 6
    # The cursor is the newest date_modified_gmt the store reported.
    newest = max(o["date_modified_gmt"] for o in rest_store.store.orders.values())
    assert await ingest.pool.fetchval("SELECT cursor_gmt FROM reconcile_cursors WHERE store_id = $1"
                                      " AND resource = 'order'", sid) == newest

    before = await _outbox_count(ingest)
    again = await _reconcile(ingest)  # everything is within the overlap: read again, all duplicates
    assert again["order"] == {"duplicate": 3} and again["product"] == {"duplicate": 2}
    assert again["customer"] == {"duplicate": 1}
    assert await _outbox_count(ingest) == before


async def test_a_change_after_reconcile_gives_only_the_new_transition(ingest, rest_store, uid):
    shop = _shop(rest_store, uid)
    s = rest_store.store
    await _reconcile(ingest)
    placed = {oid: await _types(ingest, f"order/{oid}") for oid in s.orders}
    s.pay_order(shop["waiting"]["id"])  # the guest finally paid
    s.trash_order(shop["done"]["id"])  # the merchant trashed an order
    later = s.refund_order(shop["refunded"]["id"], reason="mug chipped",
                           line_items=[(shop["refunded"]["line_items"][0]["id"], 1)])
    del s.refunds[later["id"]]  # its resource is gone by the time ingest asks for it: 404
    ghost = s.create_order([(shop["mug"]["id"], 1)], billing={"email": f"ghost-{uid}@example.com"})
    s.trash_order(ghost["id"])  # trashed before ingest ever saw it: nothing to announce

    summary = await _reconcile(ingest)
    assert summary["order"]["refund_details_missing"] == 1
    waiting = await _types(ingest, f"order/{shop['waiting']['id']}")
    assert waiting == placed[shop["waiting"]["id"]] + ["order.paid", "order.status_changed"]
    changed = (await ingest.events_of(f"order/{shop['waiting']['id']}"))[-1]["data"]
    assert (changed["from"], changed["to"]) == ("pending", "processing")
    assert await _types(ingest, f"order/{shop['done']['id']}") == placed[shop["done"]["id"]] + ["order.deleted"]
    refunds = [e for e in await ingest.events_of(f"order/{shop['refunded']['id']}") if e["type"] == "order.refunded"]
    assert [r["data"]["refund"]["refund_id"] for r in refunds] == [shop["refund"]["id"], later["id"]]
    assert refunds[-1]["data"]["refund"]["line_items"] is None  # the fetch failed: sent without lines
    assert refunds[-1]["data"]["refund"]["amount"] == "12.00"
    assert await ingest.events_of(f"order/{ghost['id']}") == []


async def test_more_than_a_hundred_orders_are_paged_and_the_cursor_limits_the_next_sweep(ingest, rest_store, uid):
    s = rest_store.store
    mug = s.create_product("Mug", "12.00")
    ids = [s.create_order([(mug["id"], 1)], billing={"email": f"b{n}-{uid}@example.com"})["id"] for n in range(230)]
    summary = await _reconcile(ingest)
    assert summary["order"] == {"applied": 230}
    placed = await ingest.pool.fetch("SELECT DISTINCT subject FROM outbox WHERE source = $1"
                                     " AND event_type = 'order.placed'", f"/stores/{ingest.store_id}")
    assert {r["subject"] for r in placed} == {f"order/{oid}" for oid in ids}

    cursor = parse_gmt(max(o["date_modified_gmt"] for o in s.orders.values()))
    rest_store.clock.advance(timedelta(hours=1))
    s.pay_order(ids[0])
    # Only what changed after the cursor, minus the overlap, is read again.
    in_overlap = sum(1 for o in s.orders.values() if o["id"] != ids[0]
                     and parse_gmt(o["date_modified_gmt"]) > cursor - OVERLAP)
    assert 0 < in_overlap < 230
    summary = await _reconcile(ingest)
    assert summary["order"] == {"applied": 1, "duplicate": in_overlap}
    assert (await _types(ingest, f"order/{ids[0]}"))[-2:] == ["order.paid", "order.status_changed"]


async def test_a_webhook_disabled_after_failed_deliveries_raises_the_gauge_and_reconcile_fills_the_gap(
        ingest, rest_store, uid):
    s = rest_store.store
    mug = s.create_product("Mug", "12.00")
    dead = closed_port()  # where the webhook points: nothing answers
    try:
        hook = s.create_webhook("order.created", f"http://127.0.0.1:{dead.getsockname()[1]}/webhooks/woocommerce",
                                secret=ingest.secret)
        other = s.create_webhook("product.updated", "https://ingest.example/webhooks/woocommerce", secret=ingest.secret)
        queue = Queue().attach(s, make_sender_factory(s.home_url))
        orders = []
        while hook.status == "active" and len(orders) < 20:
            orders.append(s.create_order([(mug["id"], 1)], billing={"email": f"x{len(orders)}-{uid}@example.com"}))
            await queue.run()
        assert hook.status == "disabled" and len(orders) == 7  # WooCommerce gives up on the 7th failure
        orders += [s.create_order([(mug["id"], 1)], billing={"email": f"late-{uid}@example.com"})]
        assert len(queue) == 0  # a disabled webhook isn't even queued
    finally:
        dead.close()

    summary = await _reconcile(ingest)
    assert summary["webhooks"] == {"total": 2, "disabled": [hook.id]}
    assert REGISTRY.get_sample_value("ingest_webhooks_disabled", {"store": ingest.store_id}) == 1.0
    metrics = (await ingest.http.get("/metrics")).text
    assert f'ingest_webhooks_disabled{{store="{ingest.store_id}"}} 1.0' in metrics
    rows = await ingest.pool.fetch("SELECT webhook_id, topic, status FROM webhook_health WHERE store_id = $1"
                                   " ORDER BY webhook_id", ingest.store_id)
    assert [tuple(r) for r in rows] == [(hook.id, "order.created", "disabled"), (other.id, "product.updated", "active")]
    for o in orders:  # the gap the disabled webhook left is filled
        assert await _types(ingest, f"order/{o['id']}") == ["order.placed"]

    s.update_webhook(hook.id, status="active")  # the merchant re-enabled it
    await _reconcile(ingest)
    assert REGISTRY.get_sample_value("ingest_webhooks_disabled", {"store": ingest.store_id}) == 0.0
    assert await ingest.pool.fetchval("SELECT status FROM webhook_health WHERE store_id = $1 AND webhook_id = $2",
                                      ingest.store_id, hook.id) == "active"


async def test_an_unreachable_store_is_reported_and_the_others_still_reconcile(ingest, rest_store, uid):
    s = rest_store.store
    order = s.create_order([(s.create_product("Mug", "12.00")["id"], 1)], billing={"email": f"u-{uid}@example.com"})
    dead, down_id = closed_port(), f"it-down-{uid}"
    try:
        r = await ingest.http.post("/stores", headers={"Authorization": f"Bearer {TOKEN}"}, json={
            "store_id": down_id, "source_url": f"https://down-{uid}.example/", "webhook_secret": "x" * 20,
            "rest_url": f"http://127.0.0.1:{dead.getsockname()[1]}", "consumer_key": SIM_CK,
            "consumer_secret": SIM_CS})
        assert r.status_code == 201, r.text
        # Only this test's two stores: the database is shared with other tests and a running demo.
        results = await _reconciler(ingest).all(store_ids=[down_id, ingest.store_id])
    finally:
        dead.close()
        await ingest.pool.execute("UPDATE stores SET rest_url = NULL WHERE store_id = $1", down_id)
    assert (results[down_id]["error"], results[down_id]["cause"]) == ("ConnectError", "connection_refused")
    assert results[ingest.store_id]["order"] == {"applied": 1}
    assert await _types(ingest, f"order/{order['id']}") == ["order.placed"]


async def test_the_schedule_skips_while_another_instance_holds_its_lock(ingest, rest_store, uid):
    s = rest_store.store
    s.create_order([(s.create_product("Mug", "12.00")["id"], 1)], billing={"email": f"l-{uid}@example.com"})
    # rest_store holds the lock, as another ingest instance in the middle of its run would.
    other_instance = reconciler(ingest.pool, IngestSettings(reconcile_initial_days=30))
    schedule = asyncio.create_task(other_instance.run_schedule(0.05))
    await asyncio.sleep(1.0)  # some twenty rounds, each finding the lock taken
    assert not schedule.done()
    schedule.cancel()
    await asyncio.gather(schedule, return_exceptions=True)
    assert await ingest.deliveries() == []


def _cli(dsn: str, *args: str) -> subprocess.CompletedProcess:
    """`aftercart ingest …` in its own process, as an operator or a cron job would run it."""
    env = dict(os.environ, AFTERCART_INGEST_DATABASE_URL=dsn)
    return subprocess.run([sys.executable, "-m", "deploy.local.cli", "ingest", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


async def test_the_cli_reconciles_a_store_and_prints_a_summary(ingest, rest_store, stack, uid):
    dsn, s = stack.service_dsn("ingest"), rest_store.store
    order = s.create_order([(s.create_product("Mug", "12.00")["id"], 1)], billing={"email": f"c-{uid}@example.com"})
    s.pay_order(order["id"])
    hook = s.create_webhook("order.updated", "https://ingest.example/hook")
    s.update_webhook(hook.id, status="disabled")

    done = await asyncio.to_thread(_cli, dsn, "reconcile", "--store", ingest.store_id)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # stdout is the summary alone; logs go to stderr
    assert summary["store_id"] == ingest.store_id
    assert (summary["order"], summary["product"], summary["webhooks"]["disabled"]) == (
        {"applied": 1}, {"applied": 1}, [hook.id])
    assert await _types(ingest, f"order/{order['id']}") == ["order.placed", "order.paid"]

    checked = await asyncio.to_thread(_cli, dsn, "check-webhooks", "--store", ingest.store_id)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["webhooks"] == {"total": 1, "disabled": [hook.id]}

    missing = await asyncio.to_thread(_cli, dsn, "reconcile", "--store", f"nobody-{uid}")
    assert missing.returncode == 1 and json.loads(missing.stdout)["error"] == "no such store"
    bad = await asyncio.to_thread(_cli, dsn, "reconcile", "--store", ingest.store_id, "--since", "yesterday")
    assert bad.returncode == 2 and "ISO" in bad.stderr
    assert Counter(d["origin"] for d in await ingest.deliveries()) == Counter({"reconcile": 2})
