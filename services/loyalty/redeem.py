"""Redeeming points for a WooCommerce coupon, never losing or doubling them.

1. Hold (one transaction, the member's row locked, so concurrent redemptions of one customer take
   turns and never spend the same points twice): the redemption row (its id derives from the
   customer and the caller's idempotency key: a retried request finds it) and a ledger entry taking
   the points out of `available`.
2. Issue (outside any transaction — a store call must not hold a lock): look the coupon up by its
   code first (a retry after a timeout may find the one it created), else create it.
3. Settle (one transaction): issued → coupon.issued in the outbox; refused by the store → the
   points come back (a ledger entry keyed by the redemption); unreachable → stays held, retried
   by the scheduler (retry_held) or by the caller with the same key, returned after `hold_max`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.loyalty.adapters.redemptions import Redemption
from services.loyalty.adapters.woo_coupons import WooCoupons, WooRefused, WooUnavailable
from services.loyalty.domain.ledger import AVAILABLE
from services.loyalty.domain.redemption import Quote, RedemptionRules, Refused, coupon_code, coupon_request, quote
from services.loyalty.metrics import loyalty_metrics
from shared.events.envelope import derived_event_id, event_id
from shared.events.follow_up import follow_up_event
from shared.logging import get_logger

log = get_logger(__name__)


class Redeemer:
    def __init__(self, transaction: Callable, coupons_for: Callable[[str], WooCoupons | None],
                 rules: RedemptionRules, now: Callable[[], datetime], hold_max: timedelta = timedelta(hours=24),
                 written: Callable[[], None] = lambda: None) -> None:
        """`written` is called after outbox rows commit (wakes this process's relay)."""
        self.transaction, self.coupons_for, self.rules, self.now = transaction, coupons_for, rules, now
        self.hold_max, self.written = hold_max, written

    async def redeem(self, customer_key: str, points: int, idempotency_key: str) -> Redemption:
        store_id = customer_key.split(":", 1)[0]
        redemption_id = event_id("loyalty", "redemption", customer_key, idempotency_key)
        if self.coupons_for(store_id) is None:
            raise Refused("store_not_connected", "the store has no REST access for coupons")
        held = await self._hold(redemption_id, customer_key, store_id, points)
        if held.status != "held":
            return held  # a repeated request: the outcome it already had
        return await self.issue(held)

    async def _hold(self, redemption_id: str, key: str, store_id: str, points: int) -> Redemption:
        async with self.transaction() as tx:
            member = await tx.members.lock(key)
            existing = await tx.redemptions.get(redemption_id)
            if existing is not None:
                if existing.points != points:
                    raise Refused("idempotency_key_reused", "this idempotency key was used for another amount")
                return existing
            if member is None or not member.email:
                raise Refused("no_email", "the customer has no email to restrict a coupon to")
            available = (await tx.ledger.balance(key))["available"]
            currency = (await tx.rules.for_store(store_id)).base_currency
            q = quote(points, available, currency, self.rules, self.now())
            code = coupon_code(redemption_id)
            await tx.redemptions.create(redemption_id=redemption_id, customer_key=key, store_id=store_id,
                                        points=points, amount=q.amount, currency=currency,
                                        minimum_amount=q.minimum_amount, code=code, expires_at=q.expires_at)
            await tx.ledger.append(entry_id=derived_event_id(redemption_id, "ledger:hold"),
                                   cause_event_id=redemption_id, customer_key=key, store_id=store_id, order_id=None,
                                   bucket=AVAILABLE, points=-points, reason="redemption")
            await tx.members.touch(key, store_id, self.now())
            return await tx.redemptions.get(redemption_id)

    async def issue(self, r: Redemption) -> Redemption:
        coupons = self.coupons_for(r.store_id)
        try:
            if coupons is None:
                raise WooRefused(0, "store_not_connected")
            coupon = await coupons.find_by_code(r.code)
            if coupon is None:
                async with self.transaction() as tx:
                    member = await tx.members.get(r.customer_key)
                email = member.email if member else None
                if not email:
                    raise WooRefused(0, "no_email")
                q = _quote_of(r)
                try:
                    coupon = await coupons.create(coupon_request(code=r.code, quote_=q, email=email,
                                                                 individual_use=self.rules.individual_use))
                except WooRefused as exc:
                    if exc.code != "woocommerce_rest_coupon_code_already_exists":
                        raise
                    coupon = await coupons.find_by_code(r.code)  # created meanwhile (a concurrent retry)
                    if coupon is None:
                        raise
        except WooUnavailable as exc:
            async with self.transaction() as tx:
                await tx.redemptions.attempted(r.redemption_id, str(exc))
            log.warning("coupon_held", store=r.store_id, redemption_id=r.redemption_id, error=str(exc))
            return await self._current(r.redemption_id)
        except WooRefused as exc:
            await self.give_back(r, f"refused: {exc.code}")
            return await self._current(r.redemption_id)
        async with self.transaction() as tx:
            if await tx.redemptions.settle(r.redemption_id, "issued", coupon_id=int(coupon["id"])):
                data = {"store_id": r.store_id, "customer_key": r.customer_key, "coupon_id": int(coupon["id"]),
                        "code": r.code, "amount": str(r.amount), "currency": r.currency,
                        "discount_type": "fixed_cart", "points_spent": r.points, "expires_at": r.expires_at,
                        "minimum_amount": str(r.minimum_amount)}
                await tx.outbox.write([follow_up_event(service="loyalty", cause_id=r.redemption_id,
                                                       event_type="coupon.issued", key=r.customer_key,
                                                       time=self.now(), data=data)])
                metrics = loyalty_metrics()
                metrics.coupons.labels(r.store_id).inc()
                metrics.redeemed.labels(r.store_id).inc(r.points)
        self.written()
        return await self._current(r.redemption_id)

    async def give_back(self, r: Redemption, why: str) -> None:
        """The points come back, once (the redemption can only leave `held` once)."""
        async with self.transaction() as tx:
            if await tx.redemptions.settle(r.redemption_id, "returned"):
                await tx.redemptions.attempted(r.redemption_id, why)
                await tx.ledger.append(entry_id=derived_event_id(r.redemption_id, "ledger:return"),
                                       cause_event_id=r.redemption_id, customer_key=r.customer_key,
                                       store_id=r.store_id, order_id=None, bucket=AVAILABLE, points=r.points,
                                       reason="redemption.returned")
        log.info("redemption_returned", store=r.store_id, redemption_id=r.redemption_id, why=why)

    async def retry_held(self, min_age: timedelta = timedelta(minutes=1)) -> int:
        """The scheduler's pass: try held redemptions again; give back those held too long."""
        async with self.transaction() as tx:
            held = await tx.redemptions.held(self.now() - min_age)
        for r in held:
            if self.now() - r.created_at > self.hold_max:
                await self.give_back(r, "held too long")
            else:
                await self.issue(r)
        return len(held)

    async def _current(self, redemption_id: str) -> Redemption:
        async with self.transaction() as tx:
            return await tx.redemptions.get(redemption_id)


def _quote_of(r: Redemption) -> Quote:
    return Quote(points=r.points, amount=r.amount, currency=r.currency, minimum_amount=r.minimum_amount,
                 expires_at=r.expires_at)
