"""Reconciliation: pull products, orders and customers from a store's REST API and feed them through
the same `ingest()` as webhooks, so missed or lost deliveries are repaired and a new store imports
its history. The snapshot diff makes it idempotent: what ingest already knows is a duplicate.

- Products, then orders (so consumers have the catalogue before the orders that refer to it):
  `modified_after` the stored cursor (the newest `date_modified_gmt` seen, minus an overlap),
  every page; then a `status=trash` sweep, fed only for resources ingest knows as live, so a lost
  order.deleted/product.deleted webhook is repaired without announcing history's old trash.
- Orders with refunds ingest hasn't seen: each refund is fetched (GET /orders/<id>/refunds/<rid>)
  so order.refunded carries its line items; if that fetch fails, the event goes out without them.
- Customers: a full scan (the endpoint has no modified_after), fed as customer.created — the
  snapshot announces customer.registered once, whether or not the webhook ever arrived.
- Webhooks: the store's webhook list; one WooCommerce disabled sets `ingest_webhooks_disabled`
  and logs an alert; the sweeps above fill the gap it left.
Not covered: permanently deleted orders (no webhook, gone from the API: only a 404 tells).

Runs on a schedule inside ingest (one instance at a time, under an advisory lock) and from the
CLI: `aftercart ingest reconcile --store STORE_ID [--since 2026-01-01T00:00:00] [--all]`.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx
import orjson

from services.ingest.adapters.stores import PgStores, Store
from services.ingest.adapters.woo_rest import WooRestClient, WooRestError
from services.ingest.domain.times import parse_gmt
from services.ingest.handlers import Delivery, InvalidPayload, ingest
from services.ingest.metrics import IngestMetrics, ingest_metrics
from shared.logging import get_logger

log = get_logger(__name__)
SCHEDULE_LOCK = 727_003  # session advisory lock: one scheduled reconcile at a time across instances
# Re-read this much before the cursor: saves within the cursor's second, and saves whose commit
# became visible after a later one we already read. The repeats are dropped as duplicates.
OVERLAP = timedelta(minutes=1)
_SWEEPS = (("products", "product", "product.updated"), ("orders", "order", "order.updated"))
_REST_ERRORS = (WooRestError, httpx.HTTPError)


def _gmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _modified(item: dict) -> datetime | None:
    try:
        return parse_gmt(item.get("date_modified_gmt"))
    except ValueError:  # a garbled date must not poison the cursor; ingest() judges the item itself
        return None


async def _snapshot(pool: asyncpg.Pool, store: Store, resource: str, rid: str) -> dict | None:
    raw = await pool.fetchval("SELECT state FROM snapshots WHERE store_id = $1 AND resource = $2"
                              " AND resource_id = $3", store.store_id, resource, rid)
    return orjson.loads(raw) if raw else None


async def _refund_details(pool: asyncpg.Pool, store: Store, client: WooRestClient, order: dict,
                          counts: Counter) -> dict[int, dict] | None:
    """The refund resources of refunds the order's snapshot doesn't have yet (fetch failures skipped)."""
    ids = [str(r.get("id")) for r in order.get("refunds") or [] if isinstance(r, dict)]
    ids = [rid for rid in ids if rid.isdigit()]
    if not ids:
        return None
    known = (await _snapshot(pool, store, "order", str(order["id"])) or {}).get("refunds") or {}
    details: dict[int, dict] = {}
    for rid in ids:
        if rid in known:
            continue
        try:
            details[int(rid)] = await client.refund(int(order["id"]), int(rid))
        except _REST_ERRORS as exc:  # the refund event still goes out, without its lines
            counts["refund_details_missing"] += 1
            log.warning("refund_fetch_failed", store_id=store.store_id, order_id=order["id"], refund_id=rid,
                        error=type(exc).__name__)
    return details


async def _feed(pool: asyncpg.Pool, store: Store, topic: str, item: dict, metrics: IngestMetrics,
                refund_details: dict[int, dict] | None = None) -> str:
    delivery = Delivery(store=store, topic=topic, payload=item, body=orjson.dumps(item), origin="reconcile",
                        refund_details=refund_details)
    try:
        outcome = (await ingest(pool, delivery, metrics)).outcome
    except InvalidPayload:
        outcome = "invalid_payload"
    metrics.reconciled.labels(topic.split(".")[0], outcome).inc()
    return outcome


async def check_webhooks(pool: asyncpg.Pool, store: Store, client: WooRestClient, metrics: IngestMetrics) -> dict:
    """Record the store's webhooks in webhook_health; alert on the ones WooCommerce disabled."""
    hooks = [h for h in await client.webhooks() if str(h.get("id", "")).isdigit()]
    disabled = [h for h in hooks if h.get("status") == "disabled"]
    metrics.webhooks_disabled.labels(store.store_id).set(len(disabled))
    async with pool.acquire() as conn, conn.transaction():
        for h in hooks:
            await conn.execute(
                "INSERT INTO webhook_health (store_id, webhook_id, topic, status) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (store_id, webhook_id) DO UPDATE SET topic = EXCLUDED.topic,"
                " status = EXCLUDED.status, checked_at = now()",
                store.store_id, int(h["id"]), str(h.get("topic", "")), str(h.get("status", "")))
        # A webhook deleted in WooCommerce must not stay "disabled" here forever.
        await conn.execute("DELETE FROM webhook_health WHERE store_id = $1 AND NOT webhook_id = ANY($2::bigint[])",
                           store.store_id, [int(h["id"]) for h in hooks])
    for h in disabled:
        log.error("webhook_disabled_alert", store_id=store.store_id, webhook_id=h.get("id"),
                  topic=h.get("topic"), action="re-enable it in WooCommerce; reconcile fills the gap")
    return {"total": len(hooks), "disabled": sorted(int(h["id"]) for h in disabled)}


async def _sweep(pool: asyncpg.Pool, store: Store, client: WooRestClient, metrics: IngestMetrics, *,
                 path: str, resource: str, topic: str, since: str | None) -> tuple[Counter, str]:
    """Live resources modified after `since`, then trashed ones ingest still knows as live."""
    counts: Counter = Counter()
    newest = ""
    for status in (None, "trash"):
        async for page in client.modified_since(path, since, status=status):
            for item in page:
                modified = _modified(item)
                if status == "trash":
                    known = await _snapshot(pool, store, resource, str(item.get("id")))
                    if not known or known.get("deleted"):
                        continue
                details = None
                if resource == "order" and status is None and str(item.get("id", "")).isdigit():
                    details = await _refund_details(pool, store, client, item, counts)
                counts[await _feed(pool, store, topic, item, metrics, details)] += 1
                if modified is not None:
                    newest = max(newest, _gmt(modified))
    return counts, newest


async def _start(pool: asyncpg.Pool, store: Store, resource: str, since: datetime | None, full: bool,
                 initial_days: int) -> tuple[str | None, str | None]:
    """(modified_after to ask for, the stored cursor)."""
    cursor = await pool.fetchval("SELECT cursor_gmt FROM reconcile_cursors WHERE store_id = $1 AND resource = $2",
                                 store.store_id, resource)
    if full:
        return None, cursor
    if since is not None:
        return _gmt(since), cursor
    if cursor:
        return _gmt(parse_gmt(cursor) - OVERLAP), cursor
    return _gmt(datetime.now(timezone.utc) - timedelta(days=initial_days)), cursor


async def reconcile_store(pool: asyncpg.Pool, store: Store, client: WooRestClient, *,
                          since: datetime | None = None, full: bool = False, initial_days: int = 30,
                          metrics: IngestMetrics | None = None) -> dict:
    """One store: webhooks, products, orders, customers. `since` overrides the cursor; `full`
    reads the whole history. Returns outcome counts per resource. Raises on REST/network errors."""
    metrics = metrics or ingest_metrics()
    summary: dict[str, dict] = {}
    try:
        summary["webhooks"] = await check_webhooks(pool, store, client, metrics)
    except WooRestError as exc:  # e.g. a read key without webhook rights: the sweeps still matter
        summary["webhooks"] = {"error": str(exc)}
    for path, resource, topic in _SWEEPS:
        modified_after, cursor = await _start(pool, store, resource, since, full, initial_days)
        counts, newest = await _sweep(pool, store, client, metrics, path=path, resource=resource, topic=topic,
                                      since=modified_after)
        # Only after a complete sweep, and never backwards (an explicit --since may be older).
        if newest and newest > (cursor or ""):
            await pool.execute(
                "INSERT INTO reconcile_cursors (store_id, resource, cursor_gmt) VALUES ($1,$2,$3)"
                " ON CONFLICT (store_id, resource) DO UPDATE SET cursor_gmt = EXCLUDED.cursor_gmt,"
                " updated_at = now()", store.store_id, resource, newest)
        summary[resource] = dict(counts)
    counts = Counter()
    async for page in client.customers():
        for item in page:
            counts[await _feed(pool, store, "customer.created", item, metrics)] += 1
    summary["customer"] = dict(counts)
    log.info("reconcile_done", store_id=store.store_id, summary=summary)
    return summary


def client_for(store: Store) -> WooRestClient | None:
    if not (store.rest_url and store.consumer_key and store.consumer_secret):
        return None
    return WooRestClient(store.rest_url, store.consumer_key, store.consumer_secret)


def _error(exc: Exception) -> str:
    # WooRestError messages name the path and status only; other messages may carry a URL.
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, WooRestError) else type(exc).__name__


async def reconcile_all(pool: asyncpg.Pool, initial_days: int, store_ids: Iterable[str] | None = None) -> dict:
    """Every store with REST credentials (or just `store_ids`); one failing store doesn't stop the rest."""
    wanted = set(store_ids) if store_ids is not None else None
    results: dict[str, dict] = {}
    for store in await PgStores(pool).all():
        if wanted is not None and store.store_id not in wanted:
            continue
        try:
            client = client_for(store)
        except WooRestError as exc:
            results[store.store_id] = {"error": _error(exc)}
            continue
        if client is None:
            results[store.store_id] = {"skipped": "no REST URL or credentials"}
            continue
        try:
            results[store.store_id] = await reconcile_store(pool, store, client, initial_days=initial_days)
        except Exception as exc:  # one unreachable store must not stop the others
            log.warning("reconcile_failed", store_id=store.store_id, error=type(exc).__name__)
            results[store.store_id] = {"error": _error(exc)}
        finally:
            await client.close()
    return results


async def run_schedule(rt) -> None:
    """Every reconcile_interval_s, on one ingest instance at a time (session advisory lock)."""
    while True:
        await asyncio.sleep(rt.settings.reconcile_interval_s)
        async with rt.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SCHEDULE_LOCK):
                continue
            try:
                await reconcile_all(rt.pool, rt.settings.reconcile_initial_days)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", SCHEDULE_LOCK)
