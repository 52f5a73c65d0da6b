"""The reviewing use case on the in-memory unit of work: stars, reviews (with a photo), help —
each stored and announced once, bad input refused with nothing stored, a low rating offered help
and still reviewed and announced like any other (no review gating), bad links refused."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from services.reviews import handlers, reviewing
from services.reviews.domain import reviews as rv
from services.reviews.domain.links import ReviewLinks
from services.reviews.domain.moderation import ModerationConfig
from services.reviews.domain.photos import PhotoLimits
from services.reviews.domain.timing import TimingConfig
from services.reviews.scheduling import SchedulerConfig, run_due
from shared.testing import Clock, FakeOutbox, InMemoryUnitOfWork
from tests.support.fakes.reviews import MemoryPhotoStore, MemoryProducts, MemoryReviewRequests, MemoryReviews, MemoryStoreSettings
from tests.support.images import exif_of, jpeg_with_location
from tests.unit.reviews.order_events import COMPLETED_AT, order_event

LIMITS, MODERATION = PhotoLimits(), ModerationConfig()


class World:
    def __init__(self, store: str) -> None:
        self.store, self.clock = store, Clock(COMPLETED_AT)
        self.requests, self.products, self.reviews = MemoryReviewRequests(self.clock.now), MemoryProducts(), MemoryReviews()
        self.outbox, self.photos, self.store_settings = FakeOutbox(), MemoryPhotoStore(), MemoryStoreSettings()
        self.links = ReviewLinks("a-secret-for-tests-0123456789", max_age_days=30, now=self.clock.now)

    @asynccontextmanager
    async def tx(self):
        yield InMemoryUnitOfWork(outbox=self.outbox, requests=self.requests, products=self.products,
                                 reviews=self.reviews, store_settings=self.store_settings, config=TimingConfig())

    async def asked(self, order_id: int = 1) -> str:
        """An order completed and its ask sent: the token of its link."""
        async with self.tx() as tx:
            await handlers.on_order_completed(order_event(self.store, "order.completed", order_id), tx)
        self.clock.advance(days=30)
        await run_due(self.tx, self.links, SchedulerConfig("https://r.example"), self.clock.now())
        return self.outbox.of_type("review.requested")[-1].envelope.data["review_url"].rsplit("/", 1)[1]

    async def submit(self, token: str, entries, name: str | None = "Ann R."):
        return await reviewing.submit(self.tx, self.links, self.photos, token, entries, name, self.clock.now(),
                                      limits=LIMITS, moderation=MODERATION)


@pytest.fixture
def world(uid) -> World:
    return World(f"s{uid}")


async def test_stars_for_every_product_of_the_order_and_none_other(world):
    token = await world.asked()
    with pytest.raises(rv.InvalidInput) as e:
        await reviewing.rate(world.tx, world.links, token, {5: "4"}, world.clock.now())  # product 9 unrated
    assert (e.value.code, e.value.product_id) == ("rating_required", 9)
    with pytest.raises(rv.InvalidInput) as e:
        await reviewing.rate(world.tx, world.links, token, {5: "4", 9: "2", 77: "5"}, world.clock.now())
    assert e.value.code == "not_in_order"
    req_id = world.requests.rows[0].request_id
    assert await world.reviews.ratings(req_id) == {}  # refused: nothing stored
    assert await reviewing.rate(world.tx, world.links, token, {5: "4", 9: "2"}, world.clock.now()) == {5: 4, 9: 2}
    assert world.requests.rows[0].status == "answered"  # no reminder after an answer


async def test_a_two_star_review_with_a_photo_is_stored_and_announced_once_like_any_other(world):
    token = await world.asked()
    await reviewing.rate(world.tx, world.links, token, {5: "2", 9: "5"}, world.clock.now())
    state = await reviewing.page_state(world.tx, world.links, token)
    assert rv.wants_help(state.ratings)  # help is offered…
    entries = [reviewing.Entry(5, "2", "<i>Meh</i>", "The handle broke.", jpeg_with_location()),
               reviewing.Entry(9, "5", "", "", None)]  # stars only for product 9
    [review] = await world.submit(token, entries)
    # …and the review is taken all the same: approved, announced, the same incentive as a 5-star one.
    assert (review.product_id, review.rating, review.title, review.body, review.display_name, review.status) == (
        5, 2, "<i>Meh</i>", "The handle broke.", "Ann R.", "approved")
    assert review.reviewer_email == "x@example.com"
    [submitted] = world.outbox.of_type("review.submitted")
    assert submitted.envelope.data == {"store_id": world.store, "customer_key": f"{world.store}:c7",
                                       "request_id": review.request_id, "product_id": 5, "rating": 2,
                                       "verified": True, "review_id": review.review_id, "order_id": 1,
                                       "has_photo": True, "locale": "de_DE"}
    [(name, jpeg)] = world.photos.files.items()
    assert name == review.photo and exif_of(jpeg) == {}
    # The same form again: one review, one event, no second photo.
    assert await world.submit(token, entries) == []
    assert len(world.outbox.of_type("review.submitted")) == 1 and len(world.photos.files) == 1


async def test_bad_input_is_refused_and_stores_nothing(world):
    token = await world.asked()
    cases = [
        ([reviewing.Entry(5, "4", "t", "words", b"<html>not a photo</html>")], "not_an_image"),
        ([reviewing.Entry(5, "4", "t", "words", None), reviewing.Entry(77, "5", "t", "words", None)], "not_in_order"),
        ([reviewing.Entry(5, "4", "t", "", None)], "text_required"),
        ([reviewing.Entry(5, "9", "t", "words", None)], "rating_required"),
        ([reviewing.Entry(5, "4", "t" * 121, "words", None)], "too_long"),
    ]
    for entries, code in cases:
        with pytest.raises(rv.InvalidInput) as e:
            await world.submit(token, entries)
        assert e.value.code == code
    assert world.reviews.by_id == {} and world.photos.files == {} and world.outbox.of_type("review.submitted") == []


async def test_help_is_asked_once_and_needs_a_message(world):
    token = await world.asked()
    await reviewing.rate(world.tx, world.links, token, {5: "1", 9: "3"}, world.clock.now())
    with pytest.raises(rv.InvalidInput) as e:
        await reviewing.ask_help(world.tx, world.links, token, "  ", world.clock.now())
    assert e.value.code == "help_required"
    assert await reviewing.ask_help(world.tx, world.links, token, "It arrived broken.", world.clock.now()) is True
    assert await reviewing.ask_help(world.tx, world.links, token, "Again!", world.clock.now()) is False
    [helped] = world.outbox.of_type("review.help_requested")
    assert (helped.envelope.data["rating"], helped.envelope.data["message"], helped.envelope.data["order_id"]) == (
        1, "It arrived broken.", 1)
    # Still free to review, after asking for help.
    assert len(await world.submit(token, [reviewing.Entry(5, "1", "", "Broken on arrival.", None)])) == 1


async def test_bad_links_are_refused(world):
    token = await world.asked()
    for bad, code in ((token[:-3] + "xyz", "invalid"), (world.links.token("no-such-request"), "invalid")):
        with pytest.raises(reviewing.LinkProblem) as e:
            await reviewing.page_state(world.tx, world.links, bad)
        assert e.value.code == code
    # A request cancelled before its ask has no page (its link could only be forged or old).
    async with world.tx() as tx:
        await handlers.on_order_completed(order_event(world.store, "order.completed", 2), tx)
    with pytest.raises(reviewing.LinkProblem) as e:
        await reviewing.page_state(world.tx, world.links, world.links.token(world.requests.rows[1].request_id))
    assert e.value.code == "gone"
    world.clock.advance(days=30, seconds=1)
    with pytest.raises(reviewing.LinkProblem) as e:
        await reviewing.rate(world.tx, world.links, token, {5: "4", 9: "4"}, world.clock.now())
    assert e.value.code == "expired"
    assert world.reviews.ratings_by_request == {}
    assert world.clock.now() - COMPLETED_AT > timedelta(days=60)
