"""Publishing, reviews' use case for the store side: post approved reviews to WooCommerce
(`POST /wp-json/wc/v3/products/reviews`), retry what is temporary, record the rest, announce
review.published once the store has the review.

Per batch: one short transaction claims approved, due reviews (FOR UPDATE SKIP LOCKED, then a
lease: the attempt is counted and the review left alone by other instances until the lease ends)
and commits; each review is then posted with no transaction held; a second transaction records
the outcome — published with WooCommerce's id and review.published in the outbox, or the refusal's
reason with the next attempt (temporary) or failed (permanent, or out of attempts).

Idempotency guard: a post whose answer was lost (a timeout, a crash before the outcome was
recorded) may have reached the store. So every attempt after the first looks the review up first
(the product's reviews by this reviewer, same text) and adopts it; and WooCommerce's own duplicate
refusal (woocommerce_rest_comment_duplicate) is answered the same way. A retry never posts twice.

    done = await publish_due(transactions, stores, woo, config, now)
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from services.reviews.domain import reviews as rv
from services.reviews.domain.publication import PublishConfig, PublishRefused, retry_at, same_review, woo_body
from services.reviews.domain.store_settings import incentive_for
from services.reviews.domain.stores import StoreAccess
from services.reviews.metrics import reviews_metrics
from shared.events.follow_up import follow_up_event
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork

log = get_logger(__name__)
Transactions = Callable[[], AbstractAsyncContextManager["ReviewsUnitOfWork"]]
DUPLICATE = "woocommerce_rest_comment_duplicate"


class Stores(Protocol):
    async def get(self, store_id: str) -> StoreAccess: ...


class Woo(Protocol):
    async def create(self, access: StoreAccess, body: dict) -> dict: ...
    async def find(self, access: StoreAccess, product_id: int, reviewer_email: str) -> list[dict]: ...


@dataclass(frozen=True)
class PublishBatch:
    claimed: int
    published: int
    retrying: int
    failed: int


async def _already_there(woo: Woo, access: StoreAccess, body: dict) -> int | None:
    for existing in await woo.find(access, body["product_id"], body["reviewer_email"]):
        if same_review(existing, body):
            return int(existing["id"])
    return None


async def post_once(stores: Stores, woo: Woo, review: rv.Review, config: PublishConfig) -> int:
    """WooCommerce's id for this review, posting it only if the store doesn't have it yet."""
    if not review.reviewer_email:
        raise PublishRefused("no reviewer email (the customer's data was erased)", temporary=False)
    access = await stores.get(review.store_id)
    body = woo_body(review, config)
    if review.publish_attempts > 1:  # an earlier attempt may have reached the store
        found = await _already_there(woo, access, body)
        if found is not None:
            return found
    try:
        return int((await woo.create(access, body))["id"])
    except PublishRefused as exc:
        if exc.code == DUPLICATE:
            found = await _already_there(woo, access, body)
            if found is not None:
                return found
        raise


async def publish_due(transactions: Transactions, stores: Stores, woo: Woo, config: PublishConfig, now: datetime,
                      batch: int = 20) -> PublishBatch:
    async with transactions() as tx:
        claimed = await tx.reviews.claim_publishable(now, now + timedelta(seconds=config.lease_s), batch)
        # Each store's incentive note (its own setting over the service's).
        per_store = {s: replace(config, incentive_note=incentive_for(config.incentive_note,
                                                                     await tx.store_settings.get(s)))
                     for s in {r.store_id for r in claimed}}
    published = retrying = failed = 0
    for review in claimed:
        try:
            woo_id = await post_once(stores, woo, review, per_store[review.store_id])
        except PublishRefused as exc:
            again = exc.temporary and review.publish_attempts < config.max_attempts
            async with transactions() as tx:
                await tx.reviews.publish_failed(review.review_id, exc.reason,
                                                retry_at(now, review.publish_attempts, config) if again else None)
            retrying, failed = retrying + again, failed + (not again)
            log.warning("review_publish_refused", review_id=review.review_id, reason=exc.reason,
                        attempt=review.publish_attempts, retry=again)
            continue
        async with transactions() as tx:
            if await tx.reviews.published(review.review_id, woo_id, now):
                await tx.outbox.write([follow_up_event(
                    service="reviews", cause_id=review.review_id, event_type="review.published",
                    key=review.customer_key, time=now,
                    data={"store_id": review.store_id, "customer_key": review.customer_key,
                          "request_id": review.request_id, "product_id": review.product_id,
                          "woocommerce_review_id": woo_id})])
        published += 1
        reviews_metrics().reviews_published.labels(review.store_id).inc()
        log.info("review_published", review_id=review.review_id, woocommerce_review_id=woo_id)
    return PublishBatch(len(claimed), published, retrying, failed)
