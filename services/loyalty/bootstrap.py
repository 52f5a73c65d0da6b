"""Wires loyalty: settings → runtime → the consumer loop (HANDLERS, each event's `tx` a
LoyaltyUnitOfWork with the default rules from settings), the outbox relay of loyalty.v1, the
scheduler (tiers' rolling window, held redemptions) and the redeemer (coupons through each store's
WooCommerce REST API)."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import asyncpg

from services.loyalty.adapters.members import PgMembers
from services.loyalty.adapters.woo_coupons import WooCoupons
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.redemption import RedemptionRules
from services.loyalty.domain.rules import EarningRules
from services.loyalty.entrypoints.workers import run_scheduler
from services.loyalty.handlers import HANDLERS
from services.loyalty.redeem import Redeemer
from shared.events.envelope import utcnow
from shared.events.registry import CATALOG, CUSTOMERS, ORDERS, REVIEWS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name, CUSTOMERS.name, CATALOG.name, REVIEWS.name]


@dataclass
class Loyalty:
    settings: LoyaltySettings
    runtime: Runtime
    redeemer: Redeemer


def redemption_rules(settings: LoyaltySettings) -> RedemptionRules:
    return RedemptionRules(points_per_unit=settings.redeem_points_per_unit,
                           minimum_points=settings.redeem_minimum_points,
                           minimum_spend_multiple=settings.coupon_minimum_spend_multiple,
                           expiry_days=settings.coupon_expiry_days, individual_use=settings.coupon_individual_use)


def coupon_clients(settings: LoyaltySettings) -> tuple[Callable[[str], WooCoupons | None], Callable]:
    """The store's coupon client (one per store, made on first use), and a close-them-all."""
    clients: dict[str, WooCoupons] = {}

    def for_store(store_id: str) -> WooCoupons | None:
        access = settings.store_rest.get(store_id)
        if access is None:
            return None
        if store_id not in clients:
            clients[store_id] = WooCoupons(access.url, access.consumer_key, access.consumer_secret.get_secret_value(),
                                           timeout_s=settings.store_rest_timeout_s)
        return clients[store_id]

    async def close() -> None:
        for client in clients.values():
            await client.close()
        clients.clear()
    return for_store, close


def default_rules(settings: LoyaltySettings) -> EarningRules:
    """The rules of a store that set none of its own (settings, documented in config.py)."""
    return EarningRules(base_currency=settings.base_currency, points_per_unit=settings.points_per_unit,
                        points_per_currency=dict(settings.points_per_currency),
                        currency_rates=dict(settings.currency_rates), include_tax=settings.include_tax,
                        include_shipping=settings.include_shipping,
                        excluded_product_ids=frozenset(settings.excluded_product_ids),
                        first_order_bonus=settings.first_order_bonus, review_bonus=settings.review_bonus,
                        return_window_days=settings.return_window_days, expiry_months=settings.expiry_months,
                        expiry_warning_days=settings.expiry_warning_days,
                        referrer_points=settings.referrer_points, referred_points=settings.referred_points,
                        birthday_bonus=settings.birthday_bonus)


def transactions(pool_of: Callable[[], asyncpg.Pool], settings: LoyaltySettings) -> Callable:
    """A factory of `async with transaction() as tx:` — a LoyaltyUnitOfWork on a connection of the
    runtime's current pool, committed when the block ends (use cases outside the consumer loop)."""
    @asynccontextmanager
    async def transaction():
        async with pool_of().acquire() as conn:
            async with conn.transaction():
                yield LoyaltyUnitOfWork(conn, defaults=default_rules(settings))
    return transaction


def bootstrap(settings: LoyaltySettings | None = None) -> Loyalty:
    s = settings or LoyaltySettings()
    unit_of_work = partial(LoyaltyUnitOfWork, defaults=default_rules(s))

    runtimes: list[Runtime] = []  # filled below: the redeemer reads the runtime's current pool
    coupons_for, close_coupons = coupon_clients(s)
    redeemer = Redeemer(transactions(lambda: runtimes[0].pool, s), coupons_for, redemption_rules(s), utcnow,
                        hold_max=timedelta(seconds=s.redemption_hold_max_s),
                        written=lambda: runtimes[0].outbox_written.set())

    async def scheduler(rt: Runtime) -> None:
        await run_scheduler(transactions(lambda: rt.pool, s), lambda: PgMembers(rt.pool).tiered_stores(), utcnow,
                            s.scheduler_interval_s, redeemer=redeemer)

    runtime = consumer_runtime("loyalty", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True,
                               workers={"loyalty-scheduler": scheduler})
    runtime.on_stop.append(close_coupons)
    runtimes.append(runtime)
    return Loyalty(settings=s, runtime=runtime, redeemer=redeemer)
