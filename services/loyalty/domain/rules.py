"""A store's earning rules (the program's settings for one store): what a currency unit is worth
in points, what earns, and the multipliers and bonuses. Pure values; the defaults come from
LoyaltySettings (bootstrap), a store's own rules from the API (adapters/store_rules.py).

Currencies: points are earned per whole unit of the store's `base_currency` at `points_per_unit`.
An order in another currency earns at `points_per_currency[cur]` when the store set one (points
per unit of that currency: JPY 0.01 = one point per 100 yen), else at `points_per_unit` times
`currency_rates[cur]` (what one unit is worth in the base currency), else nothing: a currency
without a rule must never earn as if it were the base currency (one point per yen).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Campaign:
    """A time-boxed multiplier (double points for a weekend): orders paid in [starts_at, ends_at)."""
    name: str
    multiplier: Decimal
    starts_at: datetime
    ends_at: datetime

    def applies(self, when: datetime) -> bool:
        return self.starts_at <= when < self.ends_at


@dataclass(frozen=True)
class Tier:
    """A tier reached with `min_points` earned from orders paid in the last 12 months (net of what
    was taken back), with its points multiplier for the next orders."""
    name: str
    min_points: int
    multiplier: Decimal = Decimal("1")


@dataclass(frozen=True)
class EarningRules:
    base_currency: str = "USD"
    points_per_unit: Decimal = Decimal("1")
    points_per_currency: dict[str, Decimal] = field(default_factory=dict)
    currency_rates: dict[str, Decimal] = field(default_factory=dict)
    include_tax: bool = False
    include_shipping: bool = False
    excluded_product_ids: frozenset[int] = frozenset()  # gift cards and the like earn nothing
    product_multipliers: dict[int, Decimal] = field(default_factory=dict)
    category_multipliers: dict[int, Decimal] = field(default_factory=dict)
    campaigns: tuple[Campaign, ...] = ()
    first_order_bonus: int = 0
    review_bonus: int = 0
    tiers: tuple[Tier, ...] = ()
    # Days after payment when pending points become available without a completion (None: only
    # order.completed makes them available).
    return_window_days: int | None = None
    # Months without activity (earning or redeeming) after which available points expire (None:
    # never), and how many days ahead points.expiring warns.
    expiry_months: int | None = None
    expiry_warning_days: int = 14
    # Points for each side of a referral, given at the referred customer's first completed order.
    referrer_points: int = 0
    referred_points: int = 0
    birthday_bonus: int = 0  # points on the member's birthday, once a year

    def points_rate(self, currency: str) -> Decimal | None:
        """Points per unit of `currency`, or None when the store has no rule for it."""
        cur = currency.upper()
        if cur in self.points_per_currency:
            return self.points_per_currency[cur]
        if cur == self.base_currency.upper():
            return self.points_per_unit
        if cur in self.currency_rates:
            return self.points_per_unit * self.currency_rates[cur]
        return None

    def tier_for(self, points: int) -> Tier | None:
        reached = [t for t in self.tiers if points >= t.min_points]
        return max(reached, key=lambda t: t.min_points) if reached else None

    def tier_named(self, name: str | None) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)

    def with_changes(self, **changes) -> "EarningRules":
        return replace(self, **changes)


def rules_to_json(rules: EarningRules) -> dict:
    """The rules as stored (store_rules.rules) and shown by the API: decimals as strings."""
    return {
        "base_currency": rules.base_currency, "points_per_unit": str(rules.points_per_unit),
        "points_per_currency": {k: str(v) for k, v in rules.points_per_currency.items()},
        "currency_rates": {k: str(v) for k, v in rules.currency_rates.items()},
        "include_tax": rules.include_tax, "include_shipping": rules.include_shipping,
        "excluded_product_ids": sorted(rules.excluded_product_ids),
        "product_multipliers": {str(k): str(v) for k, v in rules.product_multipliers.items()},
        "category_multipliers": {str(k): str(v) for k, v in rules.category_multipliers.items()},
        "campaigns": [{"name": c.name, "multiplier": str(c.multiplier), "starts_at": c.starts_at.isoformat(),
                       "ends_at": c.ends_at.isoformat()} for c in rules.campaigns],
        "first_order_bonus": rules.first_order_bonus, "review_bonus": rules.review_bonus,
        "tiers": [{"name": t.name, "min_points": t.min_points, "multiplier": str(t.multiplier)} for t in rules.tiers],
        "return_window_days": rules.return_window_days,
        "expiry_months": rules.expiry_months, "expiry_warning_days": rules.expiry_warning_days,
        "referrer_points": rules.referrer_points, "referred_points": rules.referred_points,
        "birthday_bonus": rules.birthday_bonus,
    }


def rules_from_json(data: dict, defaults: EarningRules = EarningRules()) -> EarningRules:
    """Stored rules over `defaults`: a field the store never set keeps the default."""
    changes: dict = {}
    for name in ("base_currency",):
        if name in data:
            changes[name] = str(data[name]).upper()
    if "points_per_unit" in data:
        changes["points_per_unit"] = Decimal(str(data["points_per_unit"]))
    for name in ("points_per_currency", "currency_rates"):
        if name in data:
            changes[name] = {str(k).upper(): Decimal(str(v)) for k, v in data[name].items()}
    for name in ("include_tax", "include_shipping"):
        if name in data:
            changes[name] = bool(data[name])
    if "excluded_product_ids" in data:
        changes["excluded_product_ids"] = frozenset(int(x) for x in data["excluded_product_ids"])
    for name in ("product_multipliers", "category_multipliers"):
        if name in data:
            changes[name] = {int(k): Decimal(str(v)) for k, v in data[name].items()}
    if "campaigns" in data:
        changes["campaigns"] = tuple(Campaign(c["name"], Decimal(str(c["multiplier"])),
                                              _aware(c["starts_at"]), _aware(c["ends_at"])) for c in data["campaigns"])
    for name in ("first_order_bonus", "review_bonus", "referrer_points", "referred_points", "birthday_bonus"):
        if name in data:
            changes[name] = int(data[name])
    if "tiers" in data:
        changes["tiers"] = tuple(Tier(t["name"], int(t["min_points"]), Decimal(str(t.get("multiplier", "1"))))
                                 for t in data["tiers"])
    if "return_window_days" in data:
        changes["return_window_days"] = None if data["return_window_days"] is None else int(data["return_window_days"])
    if "expiry_months" in data:
        changes["expiry_months"] = None if data["expiry_months"] is None else int(data["expiry_months"])
    if "expiry_warning_days" in data:
        changes["expiry_warning_days"] = int(data["expiry_warning_days"])
    return defaults.with_changes(**changes)


def _aware(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("campaign times need a UTC offset")
    return moment
