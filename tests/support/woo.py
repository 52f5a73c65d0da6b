"""Test helpers that act like a WooCommerce store: real payload examples made unique per test,
and deliveries signed and encoded exactly as WooCommerce sends them (via the store simulator)."""
from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from deploy.local.storesim.php_json import php_json_encode
from deploy.local.storesim.signing import sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def wc_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def order(uid: str, *, status: str = "processing", customer_id: int = 0, modified: datetime | None = None,
          order_id: int | None = None) -> dict:
    """The REST docs' order example, made unique: its own id and a guest email per test."""
    o = copy.deepcopy(payload("order.v3.docs.json"))
    oid = order_id or random.randint(10_000, 2_000_000_000)
    now = modified or datetime.now(timezone.utc).replace(microsecond=0)
    o.update(id=oid, number=str(oid), status=status, customer_id=customer_id,
             date_created_gmt=wc_time(now - timedelta(minutes=5)), date_modified_gmt=wc_time(now))
    o["billing"]["email"] = f"buyer-{uid}@example.com"
    o["date_paid_gmt"] = wc_time(now - timedelta(minutes=4)) if status in ("processing", "completed") else None
    o["date_completed_gmt"] = wc_time(now) if status == "completed" else None
    return o


async def deliver(client: httpx.AsyncClient, url: str, *, source: str, secret: str, topic: str, body: dict,
                  webhook_id: int = 42) -> httpx.Response:
    raw = php_json_encode(body)
    resource, event = topic.split(".", 1)
    headers = {
        "User-Agent": "WooCommerce/9.8.1 Hookshot (WordPress/6.8)", "Content-Type": "application/json",
        "X-WC-Webhook-Source": source, "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event, "X-WC-Webhook-Signature": sign(secret, raw),
        "X-WC-Webhook-ID": str(webhook_id), "X-WC-Webhook-Delivery-ID": "%032x" % random.getrandbits(128),
    }
    return await client.post(url, content=raw, headers=headers)
