"""Order lifecycles through the real ingest path (HTTP → PostgreSQL snapshot → outbox)."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from tests.support.woo import deliver, order, payload, wc_time

HOOK = "/webhooks/woocommerce"


async def _send(ingest, body, topic="order.updated"):
    r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic, body=body)
    assert r.status_code == 200, r.text
    return r.json()["outcome"]


async def test_out_of_order_updates_never_move_state_backwards(ingest, uid):
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    pending = order(uid, status="pending", modified=t0)
    oid = pending["id"]
    processing = order(uid, status="processing", modified=t0 + timedelta(seconds=10), order_id=oid)
    completed = order(uid, status="completed", modified=t0 + timedelta(seconds=20), order_id=oid)
    assert await _send(ingest, pending, "order.created") == "applied"
    assert await _send(ingest, completed) == "applied"
    assert await _send(ingest, processing) == "stale"  # arrived late: ignored
    types = [(e["type"], e["data"].get("status")) for e in await ingest.events_of(f"order/{oid}")]
    assert [t for t, _ in types] == ["order.placed", "order.paid", "order.status_changed", "order.completed"]
    changed = [e for e in await ingest.events_of(f"order/{oid}") if e["type"] == "order.status_changed"][0]
    assert (changed["data"]["from"], changed["data"]["to"]) == ("pending", "completed")
    state = await ingest.pool.fetchval("SELECT state->>'status' FROM snapshots WHERE store_id = $1 AND"
                                       " resource = 'order' AND resource_id = $2", ingest.store_id, str(oid))
    assert state == "completed"


async def test_partial_then_full_refund_gives_two_refund_events(ingest, uid):
    base = copy.deepcopy(payload("order-partially-refunded.ios-fixture.json"))
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    oid = int(uid[:6], 16) + 1_000_000
    base.update(id=oid, number=str(oid), refunds=[], date_modified_gmt=wc_time(t0))
    base["billing"]["email"] = f"refund-{uid}@example.com"
    assert await _send(ingest, base, "order.created") == "applied"
    partial = dict(base, refunds=[{"id": 9001, "reason": "scratched", "total": "-16.20"}],
                   date_modified_gmt=wc_time(t0 + timedelta(seconds=5)))
    assert await _send(ingest, partial) == "applied"
    rest = Decimal(base["total"]) - Decimal("16.20")
    full = dict(partial, status="refunded",
                refunds=[{"id": 9002, "reason": "", "total": f"-{rest}"}] + partial["refunds"],
                date_modified_gmt=wc_time(t0 + timedelta(seconds=9)))
    assert await _send(ingest, full) == "applied"
    refunds = [e["data"]["refund"] for e in await ingest.events_of(f"order/{oid}") if e["type"] == "order.refunded"]
    assert len(refunds) == 2
    assert (Decimal(refunds[0]["amount"]), refunds[0]["is_full"]) == (Decimal("16.20"), False)
    assert Decimal(refunds[0]["refunded_total_so_far"]) == Decimal("16.20")
    assert (Decimal(refunds[1]["amount"]), refunds[1]["is_full"]) == (rest, True)
    assert Decimal(refunds[1]["refunded_total_so_far"]) == Decimal(base["total"])
