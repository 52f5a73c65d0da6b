"""Realistic signed WooCommerce deliveries for the benchmark, precomputed before any timing.

Bodies are the real order examples of tests/fixtures/woocommerce/, made unique (order id,
number, billing email, dates), encoded with the store simulator's byte-exact `php_json_encode`
and signed with WooCommerce's algorithm — the bytes a real store would send.

Each load-generator connection plays one store's queue runner: it sends its own orders one at a
time, first every `order.created`, then every `order.updated` (so an update never overtakes its
creation). Per store: 3 of 4 orders are the REST docs' order (processing, then completed), 1 of 4
the partially-refunded iOS fixture (processing with its shipment tracking, then completed with a
refund); guests and registered customers alternate. That is about 2.2 lifecycle events per
delivery (order.placed, .paid, .shipped, .status_changed, .completed, .refunded).
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deploy.local.storesim.php_json import php_json_encode
from deploy.local.storesim.signing import sign

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "woocommerce"
HOOK_PATH = "/webhooks/woocommerce"
USER_AGENT = "WooCommerce/9.8.1 Hookshot (WordPress/6.8)"


@dataclass(frozen=True)
class BenchStore:
    store_id: str
    source_url: str
    secret: str


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _wc_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def stores(run_id: str, count: int) -> list[BenchStore]:
    return [BenchStore(store_id=f"bench-{run_id}-{i}", source_url=f"https://bench-{run_id}-{i}.example/",
                       secret=f"bench-secret-{run_id}-{i}-{os.urandom(8).hex()}") for i in range(count)]


def _order_pair(n: int, order_id: int, store: BenchStore, t0: datetime, docs: dict, refunded: dict
                ) -> tuple[dict, dict]:
    """(created, updated) bodies of one order."""
    with_refund = n % 4 == 3
    base = copy.deepcopy(refunded if with_refund else docs)
    base.update(id=order_id, number=str(order_id), status="processing",
                customer_id=0 if n % 2 == 0 else 10_000 + n % 97,
                date_created=_wc_time(t0 - timedelta(minutes=5)), date_created_gmt=_wc_time(t0 - timedelta(minutes=5)),
                date_modified=_wc_time(t0), date_modified_gmt=_wc_time(t0),
                date_paid=_wc_time(t0 - timedelta(minutes=4)), date_paid_gmt=_wc_time(t0 - timedelta(minutes=4)),
                date_completed=None, date_completed_gmt=None)
    base["billing"] = dict(base["billing"], email=f"buyer-{store.store_id}-{order_id}@example.com")
    created = dict(base, refunds=[])
    later = t0 + timedelta(seconds=30)
    updated = dict(base, status="completed", date_modified=_wc_time(later), date_modified_gmt=_wc_time(later),
                   date_completed=_wc_time(later), date_completed_gmt=_wc_time(later))
    if with_refund:
        updated["refunds"] = [{"id": order_id * 10 + 1, "reason": "scratched", "total": "-16.20"}]
    return created, updated


def request_bytes(store: BenchStore, topic: str, body: bytes, n: int, host: str = "127.0.0.1") -> bytes:
    resource, event = topic.split(".", 1)
    head = (f"POST {HOOK_PATH} HTTP/1.1\r\n"
            f"Host: {host}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/json\r\n"
            f"X-WC-Webhook-Source: {store.source_url}\r\n"
            f"X-WC-Webhook-Topic: {topic}\r\n"
            f"X-WC-Webhook-Resource: {resource}\r\n"
            f"X-WC-Webhook-Event: {event}\r\n"
            f"X-WC-Webhook-Signature: {sign(store.secret, body)}\r\n"
            "X-WC-Webhook-ID: 42\r\n"
            f"X-WC-Webhook-Delivery-ID: {n:032x}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n")
    return head.encode() + body


@dataclass
class Plan:
    """What each connection sends: `warmup` requests (not timed), then the timed ones."""
    warmup: list[list[bytes]]
    timed: list[list[bytes]]
    bodies: list[list[tuple[str, bytes]]]  # (topic, body) of the timed requests, for the Kafka baseline

    @property
    def timed_count(self) -> int:
        return sum(map(len, self.timed))


def build_plan(bench_stores: list[BenchStore], deliveries: int, warmup_per_store: int, run_seed: int) -> Plan:
    """`deliveries` timed deliveries spread over the stores (one store per connection)."""
    docs, refunded = _fixture("order.v3.docs.json"), _fixture("order-partially-refunded.ios-fixture.json")
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    per_store = max(1, deliveries // (2 * len(bench_stores)))  # orders per store
    warm, timed, bodies, seq = [], [], [], 0
    for s_idx, store in enumerate(bench_stores):
        base_id = run_seed * 1_000_000 + s_idx * 10_000  # distinct order ids across stores and runs
        w = []
        for k in range(warmup_per_store):
            created, _ = _order_pair(k, base_id + 9_000 + k, store, t0, docs, refunded)
            seq += 1
            w.append(request_bytes(store, "order.created", php_json_encode(created), seq))
        pairs = [_order_pair(k, base_id + k + 1, store, t0, docs, refunded) for k in range(per_store)]
        enc = [("order.created", php_json_encode(c)) for c, _ in pairs]
        enc += [("order.updated", php_json_encode(u)) for _, u in pairs]
        reqs = []
        for topic, body in enc:
            seq += 1
            reqs.append(request_bytes(store, topic, body, seq))
        warm.append(w)
        timed.append(reqs)
        bodies.append(enc)
    return Plan(warmup=warm, timed=timed, bodies=bodies)
