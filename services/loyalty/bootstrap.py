"""Wires loyalty: settings → runtime → the consumer loop (HANDLERS, each event's `tx` a
LoyaltyUnitOfWork with the points rules from settings) and the outbox relay of loyalty.v1."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.points import PointsConfig
from services.loyalty.handlers import HANDLERS
from shared.events.registry import ORDERS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name]


@dataclass
class Loyalty:
    settings: LoyaltySettings
    runtime: Runtime


def points_config(settings: LoyaltySettings) -> PointsConfig:
    return PointsConfig(points_per_unit=settings.points_per_unit)


def bootstrap(settings: LoyaltySettings | None = None) -> Loyalty:
    s = settings or LoyaltySettings()
    unit_of_work = partial(LoyaltyUnitOfWork, config=points_config(s))
    runtime = consumer_runtime("loyalty", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True)
    return Loyalty(settings=s, runtime=runtime)
