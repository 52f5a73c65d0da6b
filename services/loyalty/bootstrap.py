"""Wires loyalty: settings → runtime → the consumer loop (HANDLERS, each event's `tx` a
LoyaltyUnitOfWork with the default rules from settings) and the outbox relay of loyalty.v1."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.rules import EarningRules
from services.loyalty.handlers import HANDLERS
from shared.events.registry import CUSTOMERS, ORDERS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name, CUSTOMERS.name]


@dataclass
class Loyalty:
    settings: LoyaltySettings
    runtime: Runtime


def default_rules(settings: LoyaltySettings) -> EarningRules:
    """The rules of a store that set none of its own (settings, documented in config.py)."""
    return EarningRules(base_currency=settings.base_currency, points_per_unit=settings.points_per_unit,
                        points_per_currency=dict(settings.points_per_currency),
                        currency_rates=dict(settings.currency_rates), include_tax=settings.include_tax,
                        include_shipping=settings.include_shipping,
                        excluded_product_ids=frozenset(settings.excluded_product_ids),
                        first_order_bonus=settings.first_order_bonus, review_bonus=settings.review_bonus,
                        return_window_days=settings.return_window_days)


def bootstrap(settings: LoyaltySettings | None = None) -> Loyalty:
    s = settings or LoyaltySettings()
    unit_of_work = partial(LoyaltyUnitOfWork, defaults=default_rules(s))
    runtime = consumer_runtime("loyalty", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True)
    return Loyalty(settings=s, runtime=runtime)
