"""Refund details, a use case: a webhook's refunds carry no lines (the order payload lists
{id, reason, total} only), so the order's events are held (domain/orders.py `hold_refunds`,
held_events) and this worker fetches each refund (GET /orders/<id>/refunds/<rid>), completes its
order.refunded event with the lines and moves the order's held events to the outbox, in order.

Bounded: an order whose refunds can't all be fetched (the store unreachable, a refund gone, no
REST access any more) is released anyway once its oldest held event has waited
`wait_s` (AFTERCART_INGEST_REFUND_DETAILS_WAIT_S), with the lines it could fetch; the others go
without (line_items null), as they would have at once. The events keep their ids: each fact is
published once, either way. The webhook's answer never waits for any of this: the group commit
only writes the held rows.

Runs inside ingest (bootstrap: the "ingest-refund-details" worker, every `poll_s`); its storage is
adapters/held_events.py, the store's REST API adapters/woo_rest.py.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from services.ingest.adapters.held_events import HeldOrder, PgHeldEvents
from services.ingest.adapters.stores import PgStores
from services.ingest.adapters.woo_rest import FAILURES, WooRestClient, WooRestError, client_for, failure
from services.ingest.domain.bounds import EventLimits
from services.ingest.domain.refunds import with_refund_lines
from services.ingest.domain.stores import Store
from services.ingest.domain.text import without_control_characters
from services.ingest.metrics import IngestMetrics
from shared.events.envelope import Envelope, utcnow
from shared.logging import get_logger

log = get_logger(__name__)


class RefundDetails:
    def __init__(self, held: PgHeldEvents, stores: PgStores, metrics: IngestMetrics, *, wait_s: float,
                 client_for: Callable[[Store], WooRestClient | None] = client_for,
                 now: Callable[[], datetime] = utcnow, limits: EventLimits | None = None,
                 on_released: Callable[[], None] | None = None) -> None:
        """`wait_s`: how long an order's events wait for its refunds' lines at most. `on_released`:
        called after events reached the outbox (wakes this process's relay)."""
        self.held, self.stores, self.metrics, self.wait = held, stores, metrics, timedelta(seconds=wait_s)
        self.client_for, self.now, self.on_released = client_for, now, on_released
        self.limits = limits or EventLimits()

    async def run_once(self) -> int:
        """One pass over the held orders; how many were released."""
        released = 0
        unreachable: set[str] = set()  # a store that failed this pass isn't asked again in it
        for order in await self.held.waiting():
            try:
                store = await self.stores.get(order.store_id)
                payloads, retry, missing = await self._complete(store, order, unreachable)
            except Exception as exc:  # one order we can't complete must not stall every other one
                log.error("refund_details_order_failed", store_id=order.store_id, order_id=order.order_id,
                          error=type(exc).__name__)
                payloads, retry, missing = {}, False, len(order.refunds)
            if retry and self.now() - order.since < self.wait:
                continue  # asked again next pass
            if await self.held.release(order, payloads):
                released += 1
                for _ in payloads:
                    self.metrics.refund_details.labels("fetched").inc()
                for _ in range(missing):
                    self.metrics.refund_details.labels("given_up").inc()
                if missing:
                    log.warning("refund_released_without_lines", store_id=order.store_id, order_id=order.order_id,
                                refunds=missing, waited_s=round((self.now() - order.since).total_seconds()))
        if released and self.on_released is not None:
            self.on_released()
        return released

    async def run(self, poll_s: float) -> None:
        while True:
            try:
                async with self.held.turn() as mine:
                    if mine:
                        await self.run_once()
            except Exception as exc:  # storage away: the rows stay held; try again next poll
                log.warning("refund_details_failed", error=type(exc).__name__)
            await asyncio.sleep(poll_s)

    async def _complete(self, store: Store | None, order: HeldOrder, unreachable: set[str]
                        ) -> tuple[dict[str, bytes], bool, int]:
        """(completed envelopes by event id, whether asking again may help, how many refunds still
        lack their lines)."""
        todo = {}
        for event_id, raw in order.refunds.items():
            envelope = Envelope.from_bytes(raw)
            refund = envelope.data.get("refund") if isinstance(envelope.data, dict) else None
            if isinstance(refund, dict) and refund.get("refund_id") and refund.get("line_items") is None:
                todo[event_id] = envelope
        if not todo or store is None:
            return {}, False, len(todo)
        if store.store_id in unreachable:
            return {}, True, len(todo)
        try:
            client = self.client_for(store)
        except WooRestError:
            client = None
        if client is None:  # no REST access (any more): nothing to wait for
            return {}, False, len(todo)
        done: dict[str, bytes] = {}
        retry = False
        try:
            for event_id, envelope in todo.items():
                refund_id = envelope.data["refund"]["refund_id"]
                try:
                    details = await client.refund(int(order.order_id), int(refund_id))
                except FAILURES as exc:
                    # A 404: the refund was deleted meanwhile, it will never have lines. Anything
                    # else may pass (the store away, a 5xx, a key without rights being fixed).
                    gone = isinstance(exc, WooRestError) and exc.status == 404
                    log.warning("refund_fetch_failed", store_id=store.store_id, order_id=order.order_id,
                                refund_id=refund_id, **failure(exc))
                    if not gone:
                        retry = True
                        if not isinstance(exc, WooRestError) or exc.status is None or exc.status >= 500:
                            unreachable.add(store.store_id)
                            break
                    continue
                try:
                    payload = with_refund_lines(envelope, without_control_characters(details)).to_bytes()
                except (ValueError, TypeError, LookupError, ArithmeticError) as exc:  # a refund we can't read
                    log.warning("refund_details_unusable", store_id=store.store_id, order_id=order.order_id,
                                refund_id=refund_id, error=type(exc).__name__)
                    continue
                if len(payload) <= self.limits.max_event_bytes:
                    done[event_id] = payload
        finally:
            await client.close()
        return done, retry, len(todo) - len(done)
