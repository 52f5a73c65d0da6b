"""A store's own settings over the service's defaults: in the rules, in the handlers' timing, the
scheduler's reminder, moderation, the incentive note and erasure."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from services.reviews import handlers, publishing, reviewing
from services.reviews.domain.links import ReviewLinks
from services.reviews.domain.moderation import ModerationConfig
from services.reviews.domain.photos import PhotoLimits
from services.reviews.domain.publication import PublishConfig
from services.reviews.domain.store_settings import (StoreOverrides, incentive_for, keep_name_for, moderation_for,
                                                    timing_for)
from services.reviews.domain.stores import StoreAccess
from services.reviews.domain.timing import TimingConfig
from services.reviews.scheduling import SchedulerConfig, run_due
from shared.testing import Clock, FakeOutbox, InMemoryUnitOfWork
from tests.support.fakes.reviews import (FakeStoreAccess, FakeWooReviews, MemoryPhotoStore, MemoryProducts,
                                         MemoryReviewRequests, MemoryReviews, MemoryStoreSettings)
from tests.unit.reviews.order_events import COMPLETED_AT, order_event

BASE = TimingConfig(request_delay_days=7, default_transit_days=3, reminder_days=5)


def test_overrides_replace_only_what_they_set():
    o = StoreOverrides(request_delay_days=2, transit_days_by_country={"de": 1}, delivered_statuses=["arrived"])
    t = timing_for(BASE, o)
    assert (t.request_delay_days, t.default_transit_days, t.reminder_days) == (2, 3, 5)
    assert t.transit_days_by_country == {"DE": 1} and t.delivered_statuses == frozenset({"arrived"})
    assert timing_for(BASE, StoreOverrides()) is BASE
    m = moderation_for(ModerationConfig(blocked_words=frozenset({"spam"})), StoreOverrides(auto_approve_min_rating=3))
    assert (m.auto_approve_min_rating, m.blocked_words) == (3, frozenset({"spam"}))
    assert incentive_for("Points!", StoreOverrides()) == "Points!"
    assert incentive_for("Points!", StoreOverrides(incentive_note="")) is None  # the store says: none
    assert incentive_for(None, StoreOverrides(incentive_note="Coupon")) == "Coupon"
    assert keep_name_for(False, StoreOverrides(keep_display_name_on_erasure=True)) is True


class World:
    def __init__(self, store: str) -> None:
        self.store, self.clock = store, Clock(COMPLETED_AT)
        self.requests, self.products, self.reviews = MemoryReviewRequests(self.clock.now), MemoryProducts(), MemoryReviews()
        self.settings, self.outbox, self.woo = MemoryStoreSettings(), FakeOutbox(), FakeWooReviews()
        self.links = ReviewLinks("a-secret-for-tests-0123456789", max_age_days=60, now=self.clock.now)

    @asynccontextmanager
    async def tx(self):
        yield InMemoryUnitOfWork(outbox=self.outbox, requests=self.requests, products=self.products,
                                 reviews=self.reviews, store_settings=self.settings, config=BASE,
                                 keep_display_name=False)


async def test_a_store_s_settings_time_its_asks_skip_its_reminder_hold_and_label_its_reviews(uid):
    w = World(f"s{uid}")
    await w.settings.put(w.store, StoreOverrides(request_delay_days=1, default_transit_days=0, reminder_days=0,
                                                 auto_approve_min_rating=3, incentive_note="Rewarded with points."))
    async with w.tx() as tx:
        await handlers.on_order_completed(order_event(w.store, "order.completed", 1), tx)
        await handlers.on_order_completed(order_event(f"{w.store}x", "order.completed", 1), tx)  # defaults
    assert {r.store_id: r.due_at - COMPLETED_AT for r in w.requests.rows} == {
        w.store: timedelta(days=1), f"{w.store}x": timedelta(days=10)}

    w.clock.advance(days=1)
    assert (await run_due(w.tx, w.links, SchedulerConfig("https://r.example"), w.clock.now())).asked == 1
    mine = await w.requests.for_order(w.store, 1)
    assert (mine.status, mine.reminder_due_at) == ("sent", None)  # this store sends no reminder

    token = w.outbox.of_type("review.requested")[0].envelope.data["review_url"].rsplit("/", 1)[1]
    await reviewing.rate(w.tx, w.links, token, {5: "2", 9: "4"}, w.clock.now())
    added = await reviewing.submit(w.tx, w.links, MemoryPhotoStore(), token,
                                   [reviewing.Entry(5, "2", "", "Broke.", None), reviewing.Entry(9, "4", "", "Fine.")],
                                   None, w.clock.now(), limits=PhotoLimits(), moderation=ModerationConfig())
    assert {r.product_id: r.status for r in added} == {5: "pending", 9: "approved"}  # held for a person, not dropped
    stores = FakeStoreAccess({w.store: StoreAccess(w.store, "https://shop", "ck", "cs")})
    await publishing.publish_due(w.tx, stores, w.woo, PublishConfig(), w.clock.now())
    [(_, body)] = w.woo.requests
    assert body["review"] == "Fine.\n\nRewarded with points."
