"""The scheduler on the in-memory unit of work and a moved clock: nothing before the due time, one
review.requested at it (with its signed link, its items, no personal data), one reminder M days
later unless answered, products asked about before left out, and the link's signature and expiry."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from services.reviews import handlers
from services.reviews.domain import review_requests as rr
from services.reviews.domain.links import BadLink, ReviewLinks
from services.reviews.domain.products import ProductInfo
from services.reviews.domain.timing import TimingConfig
from services.reviews.scheduling import SchedulerConfig, run_due
from shared.events.envelope import derived_event_id
from shared.testing import Clock, FakeOutbox, InMemoryUnitOfWork
from tests.support.fakes.reviews import MemoryProducts, MemoryReviewRequests, MemoryStoreSettings
from tests.unit.reviews.order_events import COMPLETED_AT, line, order_event

DAY = timedelta(days=1)
CONFIG = SchedulerConfig(public_url="https://reviews.example/", batch=2)


class World:
    """The service's state in memory: the handlers' and the scheduler's transactions share it."""

    def __init__(self) -> None:
        self.clock = Clock(COMPLETED_AT)
        self.requests, self.products, self.outbox = MemoryReviewRequests(self.clock.now), MemoryProducts(), FakeOutbox()
        self.store_settings = MemoryStoreSettings()
        self.links = ReviewLinks("a-secret-for-tests-0123456789", max_age_days=30, now=self.clock.now)

    def tx(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(outbox=self.outbox, requests=self.requests, products=self.products,
                                  store_settings=self.store_settings,
                                  config=TimingConfig(request_delay_days=7, default_transit_days=3, reminder_days=5))

    @asynccontextmanager
    async def transactions(self):
        yield self.tx()

    async def tick(self, **delta):
        self.clock.advance(**delta)
        return await run_due(self.transactions, self.links, CONFIG, self.clock.now())


@pytest.fixture
def world() -> World:
    return World()


async def test_one_ask_when_due_then_one_reminder(world, uid):
    store = f"s{uid}"
    await world.products.upsert(ProductInfo(store_id=store, product_id=5, name="Mug", image_url="https://s/m.jpg"))
    await handlers.on_order_completed(order_event(store, "order.completed", 1), world.tx())
    assert (await world.tick(days=9, hours=23)).asked == 0 and world.outbox.events == []
    done = await world.tick(hours=1)
    assert (done.asked, done.reminded) == (1, 0)
    assert (await world.tick(seconds=1)).asked == 0  # nothing twice

    [ask] = world.outbox.events
    req_id = handlers.request_id(store, 1)
    assert (ask.topic, ask.key, ask.envelope.type, ask.envelope.id) == (
        "reviews.v1", f"{store}:c7", "review.requested", derived_event_id(req_id, "review.requested"))
    data = ask.envelope.data
    assert data["items"] == [{"product_id": 5, "name": "Mug", "image_url": "https://s/m.jpg"},
                             {"product_id": 9, "name": "p9", "image_url": None}]
    assert (data["request_id"], data["order_id"], data["product_ids"], data["locale"]) == (req_id, 1, [5, 9], "de_DE")
    assert data["review_url"].startswith("https://reviews.example/r/")
    assert world.links.request_id(data["review_url"].rsplit("/", 1)[1]) == req_id
    assert "x@example.com" not in ask.envelope.to_bytes().decode() and "Ann" not in ask.envelope.to_bytes().decode()

    assert (await world.tick(days=4, hours=23)).reminded == 0
    assert (await world.tick(hours=1)).reminded == 1
    assert (await world.tick(days=30)).reminded == 0  # one reminder only
    assert world.outbox.types == ["review.requested", "review.reminder_due"]
    assert (await world.requests.for_order(store, 1)).status == "reminded"


async def test_an_answer_before_the_reminder_stops_it(world, uid):
    store = f"s{uid}"
    await handlers.on_order_completed(order_event(store, "order.completed", 1), world.tx())
    await world.tick(days=10)
    req = await world.requests.for_order(store, 1)
    await world.requests.save(rr.answered(req, world.clock.now()))
    await world.tick(days=10)
    assert world.outbox.types == ["review.requested"]


async def test_a_product_is_never_asked_about_twice(world, uid):
    store = f"s{uid}"
    await handlers.on_order_completed(order_event(store, "order.completed", 1, line_items=[line(1, 5)]), world.tx())
    await world.tick(days=10)
    # Later orders: the same product again with a new one, then the same product alone.
    later = COMPLETED_AT + 11 * DAY
    await handlers.on_order_completed(order_event(store, "order.completed", 2, line_items=[line(1, 5), line(2, 6)],
                                                  time=later), world.tx())
    await handlers.on_order_completed(order_event(store, "order.completed", 3, line_items=[line(1, 5)], time=later),
                                      world.tx())
    done = await world.tick(days=11)
    assert (done.asked, done.skipped) == (1, 1)
    asks = world.outbox.of_type("review.requested")
    assert [a.envelope.data["product_ids"] for a in asks] == [[5], [6]]
    r2, r3 = await world.requests.for_order(store, 2), await world.requests.for_order(store, 3)
    assert [i.status for i in r2.items] == ["asked_before", "open"]
    assert (r3.status, r3.status_reason) == ("skipped", "every product asked about before")


async def test_more_due_than_a_batch_all_go_out_once(world, uid):
    store = f"s{uid}"
    for order_id in range(1, 6):
        await handlers.on_order_completed(order_event(store, "order.completed", order_id, customer=f"c{order_id}"),
                                          world.tx())
    assert (await world.tick(days=10)).asked == 5  # batches of 2
    assert sorted(a.envelope.data["order_id"] for a in world.outbox.events) == [1, 2, 3, 4, 5]


async def test_cancelled_and_held_requests_are_not_sent(world, uid):
    store = f"s{uid}"
    await handlers.on_order_completed(order_event(store, "order.completed", 1), world.tx())
    await handlers.on_order_completed(order_event(store, "order.completed", 2), world.tx())
    await handlers.on_order_refunded(order_event(store, "order.refunded", 1, full_refund=True), world.tx())
    await handlers.on_order_status_changed(order_event(store, "order.status_changed", 2, status="on-hold",
                                                       from_status="completed"), world.tx())
    assert (await world.tick(days=60)).asked == 0 and world.outbox.events == []


def test_links_refuse_forged_altered_and_expired_tokens():
    clock = Clock()
    links = ReviewLinks("a-secret-for-tests-0123456789", max_age_days=30, now=clock.now)
    token = links.token("req-1")
    assert links.request_id(token) == "req-1"
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense",
                ReviewLinks("another-secret-0123456789012", max_age_days=30, now=clock.now).token("req-1")):
        with pytest.raises(BadLink) as e:
            links.request_id(bad)
        assert e.value.expired is False
    clock.advance(days=30, seconds=1)
    with pytest.raises(BadLink) as e:
        links.request_id(token)
    assert e.value.expired is True
