"""The scheduler, reviews' use case beside its handlers: send the asks and reminders that are due.

One transaction per batch (a unit of work from `transactions()`): claim due requests with
FOR UPDATE SKIP LOCKED (several reviews instances share the work; a row one of them holds is
skipped by the others, and its status has changed by the time the lock is released), mark each
product as asked about for this customer (a product asked about in an earlier order is left out;
nothing left → skipped), mark the request sent and write review.requested to the outbox — whose
id derives from the request, so even a repeat could only be dropped — then commit. Reminders the
same way: review.reminder_due, once. The clock is `now()`: the real one in production, a test's
movable Clock, or the CLI's `--at`.

    batch = await run_due(transactions, links, config, now)   # DueBatch: asked, skipped, reminded
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from services.reviews.domain import review_requests as rr
from services.reviews.domain.links import ReviewLinks
from services.reviews.domain.store_settings import timing_for
from services.reviews.metrics import reviews_metrics
from shared.events.envelope import Outgoing
from shared.events.follow_up import follow_up_event
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork

log = get_logger(__name__)
Transactions = Callable[[], AbstractAsyncContextManager["ReviewsUnitOfWork"]]


@dataclass(frozen=True)
class SchedulerConfig:
    public_url: str
    batch: int = 50


def review_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/r/{token}"


async def _announce(tx: ReviewsUnitOfWork, req: rr.ReviewRequestRecord, event_type: str, now: datetime,
                    links: ReviewLinks, config: SchedulerConfig) -> Outgoing:
    products = await tx.products.get_many(req.store_id, req.product_ids)
    items = [{"product_id": i.product_id, "name": (products[i.product_id].name if i.product_id in products else i.name),
              "image_url": products[i.product_id].image_url if i.product_id in products else None}
             for i in req.open_items]
    data = {"store_id": req.store_id, "customer_key": req.customer_key, "request_id": req.request_id,
            "order_id": req.order_id, "product_ids": req.product_ids, "due_at": req.due_at,
            "review_url": review_url(config.public_url, links.token(req.request_id)),
            "link_expires_at": links.expires_at(), "items": items, "order_number": req.order_number,
            "locale": req.locale}
    return follow_up_event(service="reviews", cause_id=req.request_id, event_type=event_type, key=req.customer_key,
                           time=now, data=data)


@dataclass(frozen=True)
class DueBatch:
    claimed: int  # asks and reminders claimed (a full batch means more may be waiting)
    asked: int
    skipped: int
    reminded: int


async def send_due(transactions: Transactions, links: ReviewLinks, config: SchedulerConfig,
                   now: datetime) -> DueBatch:
    """One batch of due asks and one of due reminders, in one transaction."""
    asked: list[str] = []
    skipped: list[str] = []
    reminded: list[str] = []
    async with transactions() as tx:
        due = await tx.requests.claim_due(now, config.batch)
        for req in due:
            claimed = await tx.requests.claim_products(req, req.product_ids, now)
            reminder_days = timing_for(tx.config, await tx.store_settings.get(req.store_id)).reminder_days
            out = rr.sent(req, now, claimed, reminder_days)
            await tx.requests.save(out)
            if out.status == rr.SENT:
                await tx.outbox.write([await _announce(tx, out, "review.requested", now, links, config)])
                asked.append(req.store_id)
            else:
                skipped.append(req.store_id)
            log.info("review_request_due", request_id=req.request_id, status=out.status,
                     products=len(out.product_ids))
        reminders = await tx.requests.claim_reminders(now, config.batch)
        for req in reminders:
            out = rr.reminded(req, now)
            await tx.requests.save(out)
            await tx.outbox.write([await _announce(tx, out, "review.reminder_due", now, links, config)])
            reminded.append(req.store_id)
            log.info("review_reminder_due", request_id=req.request_id)
    metrics = reviews_metrics()  # committed: count
    for store in asked:
        metrics.requests_sent.labels(store).inc()
    for store in skipped:
        metrics.requests_skipped.labels(store).inc()
    for store in reminded:
        metrics.reminders_sent.labels(store).inc()
    return DueBatch(claimed=max(len(due), len(reminders)), asked=len(asked), skipped=len(skipped),
                    reminded=len(reminded))


async def run_due(transactions: Transactions, links: ReviewLinks, config: SchedulerConfig,
                  now: datetime) -> DueBatch:
    """Every ask and reminder due at `now`, batch after batch; the totals."""
    total = DueBatch(0, 0, 0, 0)
    while True:
        b = await send_due(transactions, links, config, now)
        total = DueBatch(total.claimed + b.claimed, total.asked + b.asked, total.skipped + b.skipped,
                         total.reminded + b.reminded)
        if b.claimed < config.batch:
            return total
