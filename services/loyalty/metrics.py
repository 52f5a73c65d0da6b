"""Loyalty's own metrics (the consumer loop's and the relay's are in shared/metrics.py). Labelled
by store only (a deployment's stores are few) — never customer keys or emails. Counted when the
handler runs: a transaction retried after a transient error may count twice, so exact figures come
from the ledger (GET /stores/{store}/statistics), these show rates."""
from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter


class LoyaltyMetrics:
    def __init__(self) -> None:
        self.earned = Counter("loyalty_points_earned_total", "Points awarded (pending or available)", ["store"])
        self.reversed = Counter("loyalty_points_reversed_total", "Points taken back (refunds, cancels)", ["store"])
        self.redeemed = Counter("loyalty_points_redeemed_total", "Points spent on coupons", ["store"])
        self.expired = Counter("loyalty_points_expired_total", "Points expired after inactivity", ["store"])
        self.coupons = Counter("loyalty_coupons_issued_total", "WooCommerce coupons created", ["store"])
        self.unearned = Counter("loyalty_orders_unearned_total", "Paid orders that earned nothing, by why",
                                ["store", "reason"])


@lru_cache(maxsize=1)
def loyalty_metrics() -> LoyaltyMetrics:
    return LoyaltyMetrics()
