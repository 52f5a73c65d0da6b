"""Wires reviews: settings → runtime → the consumer loop (HANDLERS, each event's `tx` a
ReviewsUnitOfWork with the timing rules from settings). Reviews writes nothing to its outbox yet,
so it runs no outbox relay."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.config import ReviewsSettings
from services.reviews.domain.timing import TimingConfig
from services.reviews.handlers import HANDLERS
from shared.events.registry import ORDERS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name]


@dataclass
class Reviews:
    settings: ReviewsSettings
    runtime: Runtime


def timing_config(settings: ReviewsSettings) -> TimingConfig:
    return TimingConfig(request_delay_days=settings.request_delay_days)


def bootstrap(settings: ReviewsSettings | None = None) -> Reviews:
    s = settings or ReviewsSettings()
    unit_of_work = partial(ReviewsUnitOfWork, config=timing_config(s))
    runtime = consumer_runtime("reviews", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=False)
    return Reviews(settings=s, runtime=runtime)
