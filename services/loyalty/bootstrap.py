"""Wires loyalty: settings → runtime → consumer loop (HANDLERS) and outbox relay."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.loyalty import handlers
from services.loyalty.config import LoyaltySettings
from shared.service.runtime import Runtime
from shared.events.registry import ORDERS
from shared.service.workers import bind, consumer_worker, relay_worker

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name]


@dataclass
class Loyalty:
    settings: LoyaltySettings
    runtime: Runtime


def bootstrap(settings: LoyaltySettings | None = None) -> Loyalty:
    s = settings or LoyaltySettings()
    bound = bind(handlers.HANDLERS, deps=handlers.Deps(points_per_unit=s.points_per_unit))
    runtime = Runtime("loyalty", s, MIGRATIONS, {
        "loyalty-consumer": consumer_worker("loyalty", TOPICS, bound),
        "loyalty-relay": relay_worker("loyalty"),
    })
    return Loyalty(settings=s, runtime=runtime)
