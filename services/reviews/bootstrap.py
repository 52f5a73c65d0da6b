"""Wires reviews: settings → runtime → the consumer loop over orders.v1, catalog.v1 and
customers.v1 (HANDLERS, each event's `tx` a ReviewsUnitOfWork with the timing rules from
settings), the scheduler (scheduling.py: asks and reminders when due, a transaction per batch on
the pool), the publisher (publishing.py: approved reviews to WooCommerce, credentials from ingest)
and the outbox relay of reviews.v1."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

import asyncpg
import httpx

from services.reviews.adapters.photo_store import LocalPhotoStore
from services.reviews.adapters.store_access import IngestStoreAccess
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork, in_transaction
from services.reviews.adapters.woo_reviews import WooReviews
from services.reviews.config import ReviewsSettings
from services.reviews.domain.links import ReviewLinks
from services.reviews.domain.moderation import ModerationConfig
from services.reviews.domain.photos import PhotoLimits
from services.reviews.domain.publication import PublishConfig
from services.reviews.domain.timing import TimingConfig
from services.reviews.entrypoints.workers import run_publisher, run_scheduler
from services.reviews.handlers import HANDLERS
from services.reviews.scheduling import SchedulerConfig, Transactions
from shared.events.envelope import utcnow
from shared.events.registry import CATALOG, CUSTOMERS, ORDERS
from shared.service.runtime import Runtime, WorkerFactory
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name, CATALOG.name, CUSTOMERS.name]


@dataclass
class Reviews:
    """What the app's routes use: settings, runtime, the clock, the link signer, the photo store,
    and the transactions of the review pages."""
    settings: ReviewsSettings
    runtime: Runtime
    now: Callable[[], datetime] = utcnow
    links: ReviewLinks | None = field(default=None)
    photos: LocalPhotoStore | None = field(default=None)

    def __post_init__(self) -> None:
        if self.links is None:
            self.links = review_links(self.settings, self.now)
        if self.photos is None:
            self.photos = LocalPhotoStore(self.settings.photo_dir)

    def transactions(self, pool: asyncpg.Pool) -> Transactions:
        config = timing_config(self.settings)
        return lambda: in_transaction(pool, config)

    @property
    def photo_limits(self) -> PhotoLimits:
        s = self.settings
        return PhotoLimits(max_bytes=s.photo_max_bytes, max_pixels=s.photo_max_pixels, max_side=s.photo_max_side)

    @property
    def moderation(self) -> ModerationConfig:
        s = self.settings
        return ModerationConfig(auto_approve_min_rating=s.auto_approve_min_rating,
                                blocked_words=frozenset(s.blocked_words))


def timing_config(settings: ReviewsSettings) -> TimingConfig:
    return TimingConfig(request_delay_days=settings.request_delay_days, reminder_days=settings.reminder_days,
                        default_transit_days=settings.default_transit_days,
                        transit_days_by_country={k.upper(): v for k, v in settings.transit_days_by_country.items()},
                        transit_days_by_category=dict(settings.transit_days_by_category),
                        delivered_statuses=frozenset(settings.delivered_statuses))


def scheduler_config(settings: ReviewsSettings) -> SchedulerConfig:
    return SchedulerConfig(public_url=settings.public_url, batch=settings.scheduler_batch)


def review_links(settings: ReviewsSettings, now: Callable[[], datetime] = utcnow) -> ReviewLinks:
    return ReviewLinks(settings.link_secret, max_age_days=settings.link_max_age_days, now=now)


def scheduler_worker(s: ReviewsSettings, now: Callable[[], datetime] = utcnow) -> WorkerFactory:
    """The scheduler on a runtime's pool: asks and reminders due on the clock `now`."""
    config, links = timing_config(s), review_links(s, now)

    async def scheduler(rt: Runtime) -> None:
        # rt.pool is read per batch, so the scheduler always uses the runtime's current pool.
        await run_scheduler(lambda: in_transaction(rt.pool, config), links, scheduler_config(s), s.scheduler_poll_s,
                            now, rt.outbox_written.set)
    return scheduler


def publish_config(s: ReviewsSettings) -> PublishConfig:
    return PublishConfig(max_attempts=s.publish_max_attempts, backoff_base_s=s.publish_backoff_base_s,
                         lease_s=max(4 * s.publish_timeout_s, 60.0), incentive_note=s.incentive_note or None)


def publisher_worker(s: ReviewsSettings, now: Callable[[], datetime] = utcnow) -> WorkerFactory:
    """The publisher on a runtime's pool: approved reviews to their stores, with an HTTP client of
    its own (created when the worker starts, closed when it stops)."""
    config = timing_config(s)

    async def publisher(rt: Runtime) -> None:
        async with httpx.AsyncClient(timeout=s.publish_timeout_s) as client:
            stores = IngestStoreAccess(client, s.ingest_url, s.ingest_api_token)
            await run_publisher(lambda: in_transaction(rt.pool, config), stores, WooReviews(client), publish_config(s),
                                s.publish_poll_s, now, rt.outbox_written.set)
    return publisher


def bootstrap(settings: ReviewsSettings | None = None, now: Callable[[], datetime] = utcnow) -> Reviews:
    """`now`: the service's clock (tests pass a movable one)."""
    s = settings or ReviewsSettings()
    links = review_links(s, now)
    unit_of_work = partial(ReviewsUnitOfWork, config=timing_config(s), keep_display_name=s.keep_display_name_on_erasure)
    runtime = consumer_runtime("reviews", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True,
                               workers={"reviews-scheduler": scheduler_worker(s, now),
                                        "reviews-publisher": publisher_worker(s, now)})
    return Reviews(settings=s, runtime=runtime, now=now, links=links)
