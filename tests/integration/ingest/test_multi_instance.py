"""Two ingest instances on one database: concurrent deliveries about the same order are diffed in
turn (per-resource lock), so the same state arriving at both yields its events once."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx

from services.ingest.config import IngestSettings
from services.ingest.entrypoints.api import create_app
from tests.integration.ingest.conftest import TOKEN
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"


async def test_same_states_sent_to_two_instances_give_each_event_once(ingest, stack, uid):
    other = create_app(IngestSettings(database_url=stack.service_dsn("ingest"),
                                      kafka_bootstrap=stack.bootstrap_servers(), api_token=TOKEN,
                                      reconcile_interval_s=0))
    async with other.router.lifespan_context(other):
        await asyncio.wait_for(other.state.service.runtime.connected.wait(), 60)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://b") as b:
            t0 = datetime.now(timezone.utc).replace(microsecond=0)
            first = order(uid, status="pending", modified=t0)
            states = [first] + [order(uid, status=s, modified=t0 + timedelta(seconds=i + 1), order_id=first["id"])
                                for i, s in enumerate(["processing", "completed"])]
            for state in states:  # each state hits both instances five times at once
                sends = [deliver(client, HOOK, source=ingest.source, secret=ingest.secret, topic="order.updated",
                                 body=state) for client in (ingest.http, b) for _ in range(5)]
                assert {r.status_code for r in await asyncio.gather(*sends)} == {200}
    events = await ingest.events_of(f"order/{first['id']}")
    types = [e["type"] for e in events]
    assert types == ["order.placed", "order.paid", "order.status_changed", "order.status_changed",
                     "order.completed"]
    assert len({e["id"] for e in events}) == len(events)
    outcomes = sorted(d["outcome"] for d in await ingest.deliveries())
    assert outcomes.count("applied") == 3 and outcomes.count("duplicate") == 27
