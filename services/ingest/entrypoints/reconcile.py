"""Reconciliation: pull orders, products and customers from a store's REST API and feed them
through the same handler as webhooks, so missed or lost deliveries are repaired and a new store
imports its history. Also checks the store's webhooks: one WooCommerce disabled raises
`ingest_webhooks_disabled` and an alert log line.

Runs on a schedule inside ingest (one instance at a time, under an advisory lock) and from the
CLI: `aftercart ingest reconcile --store STORE_ID [--since 2026-01-01T00:00:00]`.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import orjson

from services.ingest.adapters.stores import PgStores, Store
from services.ingest.adapters.woo_rest import WooRestClient
from services.ingest.handlers import Delivery, InvalidPayload, ingest
from services.ingest.metrics import IngestMetrics, ingest_metrics
from shared.logging import get_logger

log = get_logger(__name__)
_SCHEDULE_LOCK = 727_003
# Resources in the order they're pulled: the catalogue first so orders can join it.
_SWEEPS = (("products", "product", "product.updated"), ("orders", "order", "order.updated"))


def _gmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


async def _feed(pool: asyncpg.Pool, store: Store, topic: str, item: dict, metrics: IngestMetrics) -> str:
    delivery = Delivery(store=store, topic=topic, payload=item, body=orjson.dumps(item), origin="reconcile")
    try:
        outcome = (await ingest(pool, delivery, metrics)).outcome
    except InvalidPayload:
        outcome = "invalid_payload"
    metrics.reconciled.labels(topic.split(".")[0], outcome).inc()
    return outcome


async def check_webhooks(pool: asyncpg.Pool, store: Store, client: WooRestClient, metrics: IngestMetrics) -> int:
    hooks = await client.webhooks()
    disabled = [h for h in hooks if h.get("status") == "disabled"]
    metrics.webhooks_disabled.labels(store.store_id).set(len(disabled))
    for h in hooks:
        await pool.execute(
            "INSERT INTO webhook_health (store_id, webhook_id, topic, status) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (store_id, webhook_id) DO UPDATE SET topic = EXCLUDED.topic,"
            " status = EXCLUDED.status, checked_at = now()",
            store.store_id, int(h["id"]), str(h.get("topic", "")), str(h.get("status", "")))
    for h in disabled:
        log.error("webhook_disabled_alert", store_id=store.store_id, webhook_id=h.get("id"),
                  topic=h.get("topic"), action="re-enable it in WooCommerce; reconcile fills the gap")
    return len(disabled)


async def reconcile_store(pool: asyncpg.Pool, store: Store, client: WooRestClient, *,
                          since: datetime | None = None, initial_days: int = 30,
                          metrics: IngestMetrics | None = None) -> dict:
    metrics = metrics or ingest_metrics()
    summary: dict[str, dict[str, int]] = {}
    summary["webhooks_disabled"] = {"count": await check_webhooks(pool, store, client, metrics)}
    for path, resource, topic in _SWEEPS:
        cursor = await pool.fetchval(
            "SELECT cursor_gmt FROM reconcile_cursors WHERE store_id = $1 AND resource = $2",
            store.store_id, resource)
        start = since or (datetime.fromisoformat(cursor).replace(tzinfo=timezone.utc) - timedelta(seconds=1)
                          if cursor else datetime.now(timezone.utc) - timedelta(days=initial_days))
        newest = cursor or ""
        counts: dict[str, int] = {}
        async for page in client.modified_since(path, _gmt(start)):
            for item in page:
                outcome = await _feed(pool, store, topic, item, metrics)
                counts[outcome] = counts.get(outcome, 0) + 1
                newest = max(newest, str(item.get("date_modified_gmt") or ""))
        if newest:
            await pool.execute(
                "INSERT INTO reconcile_cursors (store_id, resource, cursor_gmt) VALUES ($1,$2,$3)"
                " ON CONFLICT (store_id, resource) DO UPDATE SET cursor_gmt = EXCLUDED.cursor_gmt,"
                " updated_at = now()", store.store_id, resource, newest)
        summary[resource] = counts
    counts = {}
    async for page in client.customers():
        for item in page:
            outcome = await _feed(pool, store, "customer.updated", item, metrics)
            counts[outcome] = counts.get(outcome, 0) + 1
    summary["customer"] = counts
    log.info("reconcile_done", store_id=store.store_id, summary=summary)
    return summary


def client_for(store: Store) -> WooRestClient | None:
    if not (store.rest_url and store.consumer_key and store.consumer_secret):
        return None
    return WooRestClient(store.rest_url, store.consumer_key, store.consumer_secret)


async def reconcile_all(pool: asyncpg.Pool, initial_days: int) -> dict:
    results = {}
    for store in await PgStores(pool).all():
        client = client_for(store)
        if client is None:
            continue
        try:
            results[store.store_id] = await reconcile_store(pool, store, client, initial_days=initial_days)
        except Exception as exc:  # one unreachable store must not stop the others
            log.warning("reconcile_failed", store_id=store.store_id, error=type(exc).__name__)
            results[store.store_id] = {"error": type(exc).__name__}
        finally:
            await client.close()
    return results


async def run_schedule(rt) -> None:
    while True:
        await asyncio.sleep(rt.settings.reconcile_interval_s)
        async with rt.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _SCHEDULE_LOCK):
                continue
            try:
                await reconcile_all(rt.pool, rt.settings.reconcile_initial_days)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _SCHEDULE_LOCK)
