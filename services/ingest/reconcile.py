"""Reconciliation, a use case: pull products, orders and customers from a store's REST API and feed
them through the same pipeline as webhooks (`pipeline.ingest`), so missed or lost deliveries are
repaired and a new store imports its history. The snapshot diff makes it idempotent: what ingest
already knows is a duplicate.

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
- Orders deleted for good (no webhook tells; WooCommerce's REST API no longer has them): the
  orders ingest knows but neither listing of this run showed are asked for by id, a hundred at a
  time (`include`, live and trash); one missing from both that answers GET /orders/<id> with
  WooCommerce's "no such order" 404 is fed as order.deleted with `permanent` (announced once).

Runs on a schedule inside ingest (`run_schedule`: one instance at a time, under an advisory lock)
and from the CLI: `aftercart ingest reconcile --store STORE_ID [--since 2026-01-01T00:00:00] [--all]`.
Its storage is adapters/reconcile_state.py (cursors, webhook health, snapshots, the lock) and
adapters/stores.py; the store's REST API is adapters/woo_rest.py. bootstrap.py wires them.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

import orjson

from services.ingest.adapters.reconcile_state import PgReconcileState
from services.ingest.adapters.stores import PgStores
from services.ingest.adapters.woo_rest import PER_PAGE, FAILURES, WooRestClient, WooRestError, client_for, failure
from services.ingest.domain.bounds import EventLimits
from services.ingest.domain.delivery import Delivery, Refused
from services.ingest.domain.stores import Store
from services.ingest.domain.times import parse_gmt
from services.ingest.metrics import IngestMetrics
from services.ingest.pipeline import ingest
from shared.events.envelope import utcnow
from shared.logging import get_logger

log = get_logger(__name__)
# Re-read this much before the cursor: saves within the cursor's second, and saves whose commit
# became visible after a later one we already read. The repeats are dropped as duplicates.
OVERLAP = timedelta(minutes=1)
_SWEEPS = (("products", "product", "product.updated"), ("orders", "order", "order.updated"))


def _gmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _modified(item: dict) -> datetime | None:
    try:
        return parse_gmt(item.get("date_modified_gmt"))
    except ValueError:  # a garbled date must not poison the cursor; ingest() judges the item itself
        return None


def _failed(event: str, store: Store, exc: BaseException, **extra: object) -> dict:
    """Log why a call to the store failed (woo_rest.failure: TLS, DNS, refused, timeout, HTTP status
    and WooCommerce's code; never a secret) and return it for the summary."""
    why = failure(exc)
    log.warning(event, store_id=store.store_id, **extra, **why)
    return why


class Reconciler:
    def __init__(self, state: PgReconcileState, stores: PgStores, metrics: IngestMetrics, *,
                 initial_days: int = 30, client_for: Callable[[Store], WooRestClient | None] = client_for,
                 now: Callable[[], datetime] = utcnow, limits: EventLimits | None = None) -> None:
        """`initial_days`: how far back a store's first reconcile reaches. `client_for`: the REST
        client of a store (None without credentials). `now`: the clock. `limits`: what one item's
        events may be (domain/bounds.py)."""
        self.state, self.stores, self.metrics = state, stores, metrics
        self.initial_days, self.client_for, self.now = initial_days, client_for, now
        self.limits = limits or EventLimits()

    async def store(self, store: Store, client: WooRestClient, *, since: datetime | None = None,
                    full: bool = False) -> dict:
        """One store: webhooks, products, orders, customers. `since` overrides the cursor; `full`
        reads the whole history. Returns outcome counts per resource. Raises on REST/network errors."""
        summary: dict[str, dict] = {}
        try:
            summary["webhooks"] = await self.check_webhooks(store, client)
        except WooRestError as exc:  # e.g. a read key without webhook rights: the sweeps still matter
            summary["webhooks"] = _failed("webhooks_check_failed", store, exc)
        for path, resource, topic in _SWEEPS:
            modified_after, cursor = await self._start(store, resource, since, full)
            counts, newest, listed = await self._sweep(store, client, path=path, resource=resource, topic=topic,
                                                       since=modified_after)
            if resource == "order":
                counts.update(await self._gone_orders(store, client, listed))
            # Only after a complete sweep, and never backwards (an explicit --since may be older).
            if newest and newest > (cursor or ""):
                await self.state.save_cursor(store.store_id, resource, newest)
            summary[resource] = dict(counts)
        counts = Counter()
        async for page in client.customers():
            for item in page:
                counts[await self._feed(store, "customer.created", item)] += 1
        summary["customer"] = dict(counts)
        log.info("reconcile_done", store_id=store.store_id, summary=summary)
        return summary

    async def check_webhooks(self, store: Store, client: WooRestClient) -> dict:
        """Record the store's webhooks in webhook_health; alert on the ones WooCommerce disabled."""
        hooks = [h for h in await client.webhooks() if str(h.get("id", "")).isdigit()]
        disabled = [h for h in hooks if h.get("status") == "disabled"]
        self.metrics.webhooks_disabled.labels(store.store_id).set(len(disabled))
        await self.state.record_webhooks(
            store.store_id, [(int(h["id"]), str(h.get("topic", "")), str(h.get("status", ""))) for h in hooks])
        for h in disabled:
            log.error("webhook_disabled_alert", store_id=store.store_id, webhook_id=h.get("id"),
                      topic=h.get("topic"), action="re-enable it in WooCommerce; reconcile fills the gap")
        return {"total": len(hooks), "disabled": sorted(int(h["id"]) for h in disabled)}

    async def all(self, store_ids: Iterable[str] | None = None) -> dict:
        """Every store with REST credentials (or just `store_ids`); one failing store doesn't stop the rest."""
        wanted = set(store_ids) if store_ids is not None else None
        results: dict[str, dict] = {}
        for store in await self.stores.all():
            if wanted is not None and store.store_id not in wanted:
                continue
            try:
                client = self.client_for(store)
            except WooRestError as exc:
                results[store.store_id] = _failed("reconcile_failed", store, exc)
                continue
            if client is None:
                results[store.store_id] = {"skipped": "no REST URL or credentials"}
                continue
            try:
                results[store.store_id] = await self.store(store, client)
            except Exception as exc:  # one unreachable store must not stop the others
                results[store.store_id] = _failed("reconcile_failed", store, exc)
            finally:
                await client.close()
        return results

    async def with_client(self, store_id: str, job: Callable[[Store, WooRestClient], object]) -> dict:
        """`job(store, client)` for one store by id (the CLI's commands), its summary under the
        store id; {"error": …} when the store is unknown or has no REST access, or when a call to
        the store failed (logged as rest_call_failed with its cause, woo_rest.failure). Raises what
        else the job raises."""
        store = await self.stores.get(store_id)
        if store is None:
            return {"store_id": store_id, "error": "no such store"}
        try:
            client = self.client_for(store)
        except WooRestError as exc:
            return {"store_id": store_id, **_failed("rest_call_failed", store, exc)}
        if client is None:
            return {"store_id": store_id, "error": "the store has no REST URL or credentials"}
        try:
            return {"store_id": store_id, **await job(store, client)}
        except FAILURES as exc:
            return {"store_id": store_id, **_failed("rest_call_failed", store, exc)}
        finally:
            await client.close()

    async def run_schedule(self, interval_s: float) -> None:
        """Every `interval_s`, on one ingest instance at a time (the others skip that round)."""
        while True:
            await asyncio.sleep(interval_s)
            async with self.state.schedule_lock() as held:
                if held:
                    await self.all()

    async def _start(self, store: Store, resource: str, since: datetime | None, full: bool
                     ) -> tuple[str | None, str | None]:
        """(modified_after to ask for, the stored cursor)."""
        cursor = await self.state.cursor(store.store_id, resource)
        if full:
            return None, cursor
        if since is not None:
            return _gmt(since), cursor
        if cursor:
            return _gmt(parse_gmt(cursor) - OVERLAP), cursor
        return _gmt(self.now() - timedelta(days=self.initial_days)), cursor

    async def _sweep(self, store: Store, client: WooRestClient, *, path: str, resource: str, topic: str,
                     since: str | None) -> tuple[Counter, str, set[str]]:
        """Live resources modified after `since`, then trashed ones ingest still knows as live;
        the outcomes, the newest modification and the ids listed."""
        counts: Counter = Counter()
        newest = ""
        listed: set[str] = set()
        for status in (None, "trash"):
            async for page in client.modified_since(path, since, status=status):
                for item in page:
                    listed.add(str(item.get("id")))
                    modified = _modified(item)
                    if status == "trash":
                        known = await self.state.snapshot(store.store_id, resource, str(item.get("id")))
                        if not known or known.get("deleted"):
                            continue
                    details = None
                    if resource == "order" and status is None and str(item.get("id", "")).isdigit():
                        details = await self._refund_details(store, client, item, counts)
                    counts[await self._feed(store, topic, item, details)] += 1
                    if modified is not None:
                        newest = max(newest, _gmt(modified))
        return counts, newest, listed

    async def _gone_orders(self, store: Store, client: WooRestClient, listed: set[str]) -> Counter:
        """Known orders the store no longer has at all → order.deleted (permanent). Counted as
        "deleted_for_good" (and the pipeline's outcome when it isn't applied)."""
        counts: Counter = Counter()
        unlisted = sorted(int(i) for i in await self.state.known_orders(store.store_id) - listed if i.isdigit())
        try:
            for start in range(0, len(unlisted), PER_PAGE):
                chunk = unlisted[start:start + PER_PAGE]
                present = await client.listed_orders(chunk) | await client.listed_orders(chunk, "trash")
                for order_id in chunk:
                    # Neither listing has it: only WooCommerce's own 404 says it is gone.
                    if order_id in present or await client.order_exists(order_id):
                        continue
                    log.info("order_deleted_for_good", store_id=store.store_id, order_id=order_id)
                    outcome = await self._feed(store, "order.deleted", {"id": order_id}, permanent=True)
                    counts["deleted_for_good" if outcome == "applied" else outcome] += 1
        except FAILURES as exc:  # nothing is taken as gone on a doubt; the next run asks again
            counts["deleted_check_failed"] += 1
            _failed("deleted_check_failed", store, exc)
        return counts

    async def _refund_details(self, store: Store, client: WooRestClient, order: dict, counts: Counter
                              ) -> dict[int, dict] | None:
        """The refund resources of refunds the order's snapshot doesn't have yet (fetch failures skipped)."""
        ids = [str(r.get("id")) for r in order.get("refunds") or [] if isinstance(r, dict)]
        ids = [rid for rid in ids if rid.isdigit()]
        if not ids:
            return None
        known = (await self.state.snapshot(store.store_id, "order", str(order["id"])) or {}).get("refunds") or {}
        details: dict[int, dict] = {}
        for rid in ids:
            if rid in known:
                continue
            try:
                details[int(rid)] = await client.refund(int(order["id"]), int(rid))
            except FAILURES as exc:  # the refund event still goes out, without its lines
                counts["refund_details_missing"] += 1
                _failed("refund_fetch_failed", store, exc, order_id=order["id"], refund_id=rid)
        return details

    async def _feed(self, store: Store, topic: str, item: dict, refund_details: dict[int, dict] | None = None,
                    *, permanent: bool = False) -> str:
        delivery = Delivery(store=store, topic=topic, payload=item, body=orjson.dumps(item), origin="reconcile",
                            refund_details=refund_details, permanent=permanent)
        try:
            async with self.state.deliveries() as batch:
                outcome = (await ingest(batch, delivery, self.metrics, self.limits)).outcome
        except Refused as refused:  # logged and counted by the pipeline
            outcome = refused.code
        self.metrics.reconciled.labels(topic.split(".")[0], outcome).inc()
        return outcome
