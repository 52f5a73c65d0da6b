"""A signed WooCommerce webhook in → lifecycle events on real Kafka → a real email in the SMTP
sink, points in the loyalty ledger, a pending review request — and a replayed delivery changes
nothing."""
from __future__ import annotations

import asyncio
import html
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
from babel.numbers import format_currency

from shared.ids import customer_key
from tests.e2e.conftest import API_TOKEN
from tests.e2e.journey import eventually, register_store as _register
from tests.support.woo import deliver, order


async def register_store(client: httpx.AsyncClient, ingest: str, uid: str) -> tuple[str, str, str]:
    store_id = f"e2e-{uid}"
    source, secret = await _register(client, ingest, store_id)
    return store_id, source, secret


async def test_order_webhook_to_email_points_and_review_request(stack, services, uid):
    mail = f"http://127.0.0.1:{stack.mail_http_port}"
    async with httpx.AsyncClient(timeout=10) as client:
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        store_id, source, secret = await register_store(client, services["ingest"], uid)
        hook = f"{services['ingest']}/webhooks/woocommerce"
        placed = order(uid, status="processing")
        email = placed["billing"]["email"]
        key = customer_key(store_id, 0, email)

        for _ in range(3):  # WooCommerce-like repeats of the same state
            r = await deliver(client, hook, source=source, secret=secret, topic="order.created", body=placed)
            assert r.status_code == 200, r.text

        # A customer's first order with the store: the welcome (with the order), not the thank-you.
        async def welcome():
            r = await client.get(f"{mail}/api/messages", params={"to": email})
            return [m for m in r.json() if m["subject"].startswith("Welcome to")]
        [msg] = await eventually(welcome)
        assert msg["subject"] == f"Welcome to our shop — your order #{placed['number']}"
        assert msg["headers"]["X-Aftercart-Template"] == "order_welcome"
        assert msg["headers"]["Message-ID"].endswith("@aftercart>")
        assert email in msg["headers"]["To"]
        for item in placed["line_items"]:
            assert html.unescape(item["name"]) in msg["text"]  # WooCommerce sends names HTML-encoded
        # The store's own currency, formatted by Babel for the default locale (en): "$29.35".
        total = format_currency(Decimal(placed["total"]), placed["currency"], locale="en")
        assert total == "$29.35"
        assert f"\nTotal: {total}\n" in msg["text"]
        assert f">{total}</td>" in msg["html"]  # the order table's total

        expected_points = int(sum(Decimal(li["total"]) for li in placed["line_items"]))

        async def pending_points():
            r = await client.get(f"{services['loyalty']}/customers/{key}/balance", headers=auth)
            return r.json() if r.json()["pending"] else None
        balance = await eventually(pending_points)
        assert balance == {"customer_key": key, "pending": expected_points, "available": 0, "owed": 0, "tier": None}

        completed = dict(placed, status="completed",
                         date_completed_gmt=(datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"))
        completed["date_modified_gmt"] = completed["date_completed_gmt"]
        r = await deliver(client, hook, source=source, secret=secret, topic="order.updated", body=completed)
        assert r.status_code == 200, r.text

        async def review_request():
            r = await client.get(f"{services['reviews']}/requests", params={"customer_key": key}, headers=auth)
            return r.json()
        [req] = await eventually(review_request)
        assert req["order_id"] == placed["id"] and req["status"] == "pending"
        assert req["product_ids"] == sorted({li["product_id"] for li in placed["line_items"]}, key=[
            li["product_id"] for li in placed["line_items"]].index)
        due = datetime.fromisoformat(req["due_at"])
        # 7 days of expected transit (no delivery reported), then 7 to try the goods.
        assert due - datetime.fromisoformat(completed["date_completed_gmt"] + "+00:00") == timedelta(days=14)

        async def available_points():
            r = await client.get(f"{services['loyalty']}/customers/{key}/balance", headers=auth)
            return r.json() if r.json()["available"] else None
        assert await eventually(available_points) == {"customer_key": key, "pending": 0,
                                                      "available": expected_points, "owed": 0, "tier": None}

        async def completed_mail():
            r = await client.get(f"{mail}/api/messages", params={"to": email})
            return [m for m in r.json() if "is complete" in m["subject"]]
        await eventually(completed_mail)
        await asyncio.sleep(1.0)  # let any duplicate surface before counting
        r = await client.get(f"{mail}/api/messages", params={"to": email})
        subjects = sorted(m["subject"] for m in r.json())
        assert subjects == sorted([f"Welcome to our shop — your order #{placed['number']}",
                                   f"Your order #{placed['number']} is complete"])

        # Every service shows the journey on /metrics (what dashboards read).
        metrics = {n: (await client.get(f"{services[n]}/metrics")).text for n in ("ingest", "notifier", "loyalty", "reviews")}
        assert 'ingest_deliveries_total{outcome="applied",topic="order.created"}' in metrics["ingest"]
        assert 'ingest_events_produced_total{type="order.placed"}' in metrics["ingest"]
        assert 'ingest_outbox_published_total{type="order.paid"}' in metrics["ingest"]
        assert 'notifier_messages_sent_total{channel="email",template="order_welcome"}' in metrics["notifier"]
        assert 'loyalty_events_consumed_total{outcome="handled",type="order.paid"}' in metrics["loyalty"]
        assert 'reviews_events_consumed_total{outcome="handled",type="order.completed"}' in metrics["reviews"]
        for text in metrics.values():
            assert email not in text and f'"{placed["id"]}"' not in text  # no ids or emails as labels

    # The services logged the journey without personal data or secrets.
    by_service = {p.stem: p.read_text() for p in Path(services["log_dir"]).glob("*.log")}
    logs = "".join(by_service.values())
    for consumer, event_type in (("notifier", "order.placed"), ("loyalty", "order.paid"), ("reviews", "order.completed")):
        handled = [line for line in by_service[consumer].splitlines() if '"event_handled"' in line]
        assert any(f'"{event_type}"' in line and f'"order/{placed["id"]}"' in line for line in handled), consumer
    for private in (email, placed["billing"]["first_name"] + " ", placed["billing"]["phone"], secret, API_TOKEN):
        assert private not in logs
