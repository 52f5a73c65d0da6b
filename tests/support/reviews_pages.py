"""Reviews' real app (API and customer pages) over a PostgreSQL schema of its own, on a clock the
test moves, with no workers (no consumer joins the group, no relay publishes): the test applies
order events with the real handlers and runs the scheduler itself, as the service would.

    async with reviews_app(stack, uid, tmp_path) as site:
        url = await site.asked(order_id=1)   # an order completed, the clock moved, the ask sent: its link
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.reviews import handlers
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.bootstrap import MIGRATIONS, Reviews, scheduler_config, timing_config
from services.reviews.config import ReviewsSettings
from services.reviews.entrypoints.api import requests_router
from services.reviews.entrypoints.moderation import moderation_router
from services.reviews.entrypoints.pages import pages_router
from services.reviews.entrypoints.satisfaction import satisfaction_router
from services.reviews.entrypoints.store_settings import store_settings_router
from services.reviews.scheduling import run_due
from shared.service.app import build_app
from shared.service.runtime import Runtime
from shared.testing import Clock
from tests.support.pg_schema import isolated_schema
from tests.unit.reviews.order_events import COMPLETED_AT, order_event

TOKEN = "it-reviews-token-0123456789"


@dataclass
class ReviewsSite:
    app: FastAPI
    service: Reviews
    clock: Clock
    store: str
    public_url: str

    @property
    def pool(self):
        return self.service.runtime.pool

    async def apply(self, event, fn) -> None:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                await fn(event, ReviewsUnitOfWork(conn, config=timing_config(self.service.settings)))

    async def asked(self, order_id: int = 1, **event) -> str:
        """The review link of an order whose ask went out (completed, then the clock moved past due)."""
        await self.apply(order_event(self.store, "order.completed", order_id, **event), handlers.on_order_completed)
        self.clock.advance(days=30)
        await run_due(self.service.transactions(self.pool), self.service.links, scheduler_config(self.service.settings),
                      self.clock.now())
        payload = await self.pool.fetchval(
            "SELECT convert_from(payload, 'UTF8') FROM outbox WHERE event_type = 'review.requested' AND key = $1"
            " ORDER BY seq DESC LIMIT 1", f"{self.store}:{event.get('customer', 'c7')}")
        return json.loads(payload)["data"]["review_url"]


@asynccontextmanager
async def reviews_app(stack, uid: str, photo_dir: Path, public_url: str = "http://reviews.test"
                      ) -> AsyncIterator[ReviewsSite]:
    async with isolated_schema(stack.service_dsn("reviews"), f"it_{uid}") as dsn:
        settings = ReviewsSettings(database_url=dsn, kafka_bootstrap=stack.bootstrap_servers(), api_token=TOKEN,
                                   environment="production", link_secret="it-reviews-link-secret-0123456789",
                                   ingest_api_token="it-ingest-token-0123456789",
                                   public_url=public_url, photo_dir=photo_dir)
        clock = Clock(COMPLETED_AT)
        runtime = Runtime("reviews", settings, MIGRATIONS, {})
        service = Reviews(settings=settings, runtime=runtime, now=clock.now)
        app = build_app(title="reviews under test", description="", runtime=runtime,
                        routers=[requests_router(), moderation_router(), satisfaction_router(), store_settings_router(),
                                 pages_router()], service=service)
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(runtime.connected.wait(), 60)
            yield ReviewsSite(app=app, service=service, clock=clock, store=f"s{uid}", public_url=public_url)
