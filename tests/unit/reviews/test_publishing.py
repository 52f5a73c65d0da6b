"""Publishing to WooCommerce with fakes of the store and of ingest's credentials: the body
WooCommerce takes, review.published once, a lost answer or a crash never posting twice, temporary
refusals retried with backoff, permanent ones recorded and left for the moderation queue."""
from __future__ import annotations

from contextlib import asynccontextmanager
import pytest

from services.reviews import publishing
from services.reviews.domain import reviews as rv
from services.reviews.domain.publication import PublishConfig
from services.reviews.domain.stores import StoreAccess
from shared.testing import Clock, FakeOutbox, InMemoryUnitOfWork
from tests.support.fakes.reviews import FakeStoreAccess, FakeWooReviews, MemoryReviewRequests, MemoryReviews, MemoryStoreSettings
from tests.unit.reviews.requests_contract import request

CONFIG = PublishConfig(max_attempts=3, backoff_base_s=60, lease_s=120)


class World:
    def __init__(self, store: str, config: PublishConfig = CONFIG) -> None:
        self.store, self.clock, self.config = store, Clock(), config
        self.requests, self.reviews, self.outbox = MemoryReviewRequests(self.clock.now), MemoryReviews(), FakeOutbox()
        self.woo, self.store_settings = FakeWooReviews(), MemoryStoreSettings()
        self.stores = FakeStoreAccess({store: StoreAccess(store, "https://shop.example", "ck_x", "cs_x")})

    @asynccontextmanager
    async def tx(self):
        yield InMemoryUnitOfWork(outbox=self.outbox, requests=self.requests, reviews=self.reviews,
                                 store_settings=self.store_settings)

    async def review(self, pid: int = 5, **kw) -> rv.Review:
        req = request(self.store, "p", 1)
        await self.requests.add(req)
        r = rv.Review(**{"review_id": rv.review_id(req.request_id, pid), "request_id": req.request_id,
                         "store_id": self.store, "order_id": 1, "product_id": pid, "customer_key": req.customer_key,
                         "rating": 2, "title": "Meh", "body": "The handle broke.", "display_name": "Ann R.",
                         "reviewer_email": "ann@example.com", "photo": None, "status": rv.APPROVED,
                         "created_at": self.clock.now(), **kw})
        await self.reviews.add(r)
        return r

    async def run(self, **advance):
        if advance:
            self.clock.advance(**advance)
        return await publishing.publish_due(self.tx, self.stores, self.woo, self.config, self.clock.now())


@pytest.fixture
def world(uid) -> World:
    return World(f"s{uid}")


async def test_an_approved_review_is_posted_once_and_announced(world):
    r = await world.review()
    done = await world.run()
    assert (done.published, done.failed) == (1, 0)
    [(method, body)] = world.woo.requests
    assert (method, body) == ("POST", {"product_id": 5, "review": "Meh\n\nThe handle broke.", "reviewer": "Ann R.",
                                       "reviewer_email": "ann@example.com", "rating": 2, "verified": True})
    got = await world.reviews.get(r.review_id)
    assert (got.status, got.woo_review_id) == ("published", 100)
    [event] = world.outbox.of_type("review.published")
    assert event.envelope.data == {"store_id": world.store, "customer_key": r.customer_key, "request_id": r.request_id,
                                   "product_id": 5, "woocommerce_review_id": 100}
    assert (await world.run(hours=1)).claimed == 0 and len(world.woo.reviews) == 1


async def test_a_lost_answer_is_found_again_not_posted_twice(world):
    r = await world.review()
    world.woo.lose_answer()  # the store saved it, the answer never came
    assert (await world.run()).retrying == 1
    assert (await world.run(seconds=30)).claimed == 0  # backing off
    assert (await world.run(minutes=2)).published == 1
    assert len(world.woo.reviews) == 1 and [m for m, _ in world.woo.requests] == ["POST", "GET"]
    assert (await world.reviews.get(r.review_id)).woo_review_id == 100
    assert len(world.outbox.of_type("review.published")) == 1


async def test_a_crash_after_the_post_is_answered_by_the_store_s_duplicate_check(world):
    r = await world.review()
    # The review reached the store, then the process died before recording it (the attempt was counted).
    await world.woo.create(await world.stores.get(world.store), {
        "product_id": 5, "review": "Meh\n\nThe handle broke.", "reviewer": "Ann R.",
        "reviewer_email": "ann@example.com", "rating": 2, "verified": True})
    assert (await world.run()).published == 1
    assert len(world.woo.reviews) == 1 and (await world.reviews.get(r.review_id)).woo_review_id == 100


async def test_temporary_refusals_are_retried_then_fail_with_their_reason(world):
    r = await world.review()
    world.woo.refuse(503, times=3)
    assert (await world.run()).retrying == 1
    assert (await world.run(minutes=1)).retrying == 1
    assert (await world.run(minutes=2)).failed == 1  # the third attempt was the last
    got = await world.reviews.get(r.review_id)
    assert (got.status, got.publish_error) == ("failed", "POST products/reviews → 503 None")
    assert [x.review_id for x in await world.reviews.queue(world.store, ("pending", "failed"))] == [r.review_id]
    assert world.outbox.of_type("review.published") == []


async def test_a_permanent_refusal_is_recorded_at_once(world):
    r = await world.review()
    world.woo.refuse(404, "woocommerce_rest_product_invalid_id")
    assert (await world.run()).failed == 1
    got = await world.reviews.get(r.review_id)
    assert (got.status, got.publish_error) == ("failed", "POST products/reviews → 404 woocommerce_rest_product_invalid_id")


async def test_unknown_credentials_wait_and_an_erased_email_fails(world):
    r = await world.review()
    world.stores.accesses.clear()
    assert (await world.run()).retrying == 1 and world.woo.requests == []
    erased = await world.review(pid=9, reviewer_email=None)
    world.stores.accesses[world.store] = StoreAccess(world.store, "https://shop.example", "ck", "cs")
    done = await world.run(hours=1)
    assert (done.published, done.failed) == (1, 1)
    assert (await world.reviews.get(erased.review_id)).publish_error.startswith("no reviewer email")
    assert (await world.reviews.get(r.review_id)).status == "published"


async def test_held_reviews_wait_and_the_incentive_note_is_the_same_for_every_rating(uid):
    world = World(f"s{uid}", PublishConfig(incentive_note="This reviewer received loyalty points."))
    held = await world.review(status=rv.PENDING)
    assert (await world.run()).claimed == 0
    await world.reviews.moderate(held.review_id, rv.APPROVED, (rv.PENDING,))
    await world.run()
    assert world.woo.requests[0][1]["review"].endswith("\n\nThis reviewer received loyalty points.")
