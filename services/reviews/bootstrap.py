"""Wires reviews: settings → runtime → consumer loop (HANDLERS) and outbox relay."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.reviews import handlers
from services.reviews.config import ReviewsSettings
from shared.service.runtime import Runtime
from shared.events.registry import ORDERS
from shared.service.workers import bind, consumer_worker, relay_worker

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name]


@dataclass
class Reviews:
    settings: ReviewsSettings
    runtime: Runtime


def bootstrap(settings: ReviewsSettings | None = None) -> Reviews:
    s = settings or ReviewsSettings()
    bound = bind(handlers.HANDLERS, deps=handlers.Deps(request_delay_days=s.request_delay_days))
    runtime = Runtime("reviews", s, MIGRATIONS, {
        "reviews-consumer": consumer_worker("reviews", TOPICS, bound),
        "reviews-relay": relay_worker("reviews"),
    })
    return Reviews(settings=s, runtime=runtime)
