"""Loyalty API's request and response models: what the routes in api.py accept (bad input is a 422
before anything is touched) and answer."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.service.schemas import IsoTime

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Multiplier = Annotated[Decimal, Field(gt=0, le=100, max_digits=12, decimal_places=6)]
Rate = Annotated[Decimal, Field(gt=0, le=1_000_000, max_digits=18, decimal_places=9)]
ProductId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]


class BalanceOut(BaseModel):
    customer_key: str
    pending: int
    available: int  # negative when a reversal took more than was left (`owed` says how much)
    owed: int = 0
    tier: str | None = None


class LedgerRowOut(BaseModel):
    entry_id: str
    cause_event_id: str
    order_id: int | None
    bucket: str
    points: int
    reason: str
    created_at: IsoTime


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    multiplier: Multiplier
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> "CampaignIn":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    min_points: int = Field(ge=0, le=10**12, strict=True)
    multiplier: Multiplier = Decimal("1")


class RulesIn(BaseModel):
    """A store's rules; a field left out takes the service's default (LoyaltySettings)."""
    model_config = ConfigDict(extra="forbid")
    base_currency: Currency | None = None
    points_per_unit: Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=18, decimal_places=9)] | None = None
    points_per_currency: dict[Currency, Rate] | None = Field(default=None, max_length=200)
    currency_rates: dict[Currency, Rate] | None = Field(default=None, max_length=200)
    include_tax: bool | None = Field(default=None, strict=True)
    include_shipping: bool | None = Field(default=None, strict=True)
    excluded_product_ids: list[ProductId] | None = Field(default=None, max_length=10_000)
    product_multipliers: dict[ProductId, Multiplier] | None = Field(default=None, max_length=10_000)
    category_multipliers: dict[ProductId, Multiplier] | None = Field(default=None, max_length=10_000)
    campaigns: list[CampaignIn] | None = Field(default=None, max_length=100)
    first_order_bonus: int | None = Field(default=None, strict=True, ge=0, le=10**9)
    review_bonus: int | None = Field(default=None, strict=True, ge=0, le=10**9)
    tiers: list[TierIn] | None = Field(default=None, max_length=20)
    return_window_days: int | None = Field(default=None, strict=True, ge=0, le=3650)
    expiry_months: int | None = Field(default=None, strict=True, ge=1, le=240)
    expiry_warning_days: int | None = Field(default=None, strict=True, ge=0, le=365)
    referrer_points: int | None = Field(default=None, strict=True, ge=0, le=10**9)
    referred_points: int | None = Field(default=None, strict=True, ge=0, le=10**9)
    birthday_bonus: int | None = Field(default=None, strict=True, ge=0, le=10**9)

    @model_validator(mode="after")
    def _unique_tiers(self) -> "RulesIn":
        if self.tiers and len({t.name for t in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must be unique")
        return self


class CampaignOut(BaseModel):
    name: str
    multiplier: str
    starts_at: str
    ends_at: str


class TierOut(BaseModel):
    name: str
    min_points: int
    multiplier: str


class RulesOut(BaseModel):
    """The rules in force for the store: its own where set, the defaults elsewhere."""
    store_id: str
    base_currency: str
    points_per_unit: str
    points_per_currency: dict[str, str]
    currency_rates: dict[str, str]
    include_tax: bool
    include_shipping: bool
    excluded_product_ids: list[int]
    product_multipliers: dict[str, str]
    category_multipliers: dict[str, str]
    campaigns: list[CampaignOut]
    first_order_bonus: int
    review_bonus: int
    tiers: list[TierOut]
    return_window_days: int | None
    expiry_months: int | None
    expiry_warning_days: int
    referrer_points: int
    referred_points: int
    birthday_bonus: int


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(ge=1, le=10**12)
    # The caller's key for this redemption: sent again with a retry, it never spends twice.
    idempotency_key: Annotated[str, StringConstraints(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RedemptionOut(BaseModel):
    redemption_id: str
    status: str  # issued | held (the store unreachable: retried) | returned (refused: points given back)
    points: int
    amount: str
    currency: str
    minimum_amount: str
    code: str | None  # the coupon's code, once issued
    coupon_id: int | None
    expires_at: IsoTime


class ReferralCodeOut(BaseModel):
    customer_key: str
    code: str
    link: str | None  # the store's home with ?aftercart_ref=<code>, when the store's URL is known


class ReferralIn(BaseModel):
    """The store says a new customer came with a referral code (e.g. from its sign-up page)."""
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, StringConstraints(min_length=5, max_length=40, pattern=r"^[a-z0-9-]+$")]
    referred_key: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    referred_email: Annotated[str, StringConstraints(max_length=254)] | None = None


class ReferralOut(BaseModel):
    referred_key: str
    referrer_key: str
    status: str  # pending | rewarded | refused
    reason: str | None


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(ge=-10**9, le=10**9)  # positive adds, negative takes (never below zero)
    reason: Annotated[str, StringConstraints(min_length=3, max_length=500, strip_whitespace=True)]
    actor: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    idempotency_key: Annotated[str, StringConstraints(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]

    @model_validator(mode="after")
    def _not_zero(self) -> "AdjustmentIn":
        if self.points == 0:
            raise ValueError("an adjustment moves at least one point")
        return self


class AdjustmentOut(BaseModel):
    adjustment_id: str
    customer_key: str
    points: int
    reason: str
    actor: str


class StatisticsOut(BaseModel):
    """A store's program, in points; `liability` is what the points outstanding (pending and
    available) would cost at the redemption rate, in the store's base currency."""
    store_id: str
    members: int
    awarded_by_orders: int
    reversed: int
    pending: int
    available: int
    redeemed: int
    expired: int
    liability_points: int
    liability_amount: str
    currency: str


class BirthdayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)

    @model_validator(mode="after")
    def _a_real_day(self) -> "BirthdayIn":
        if self.day > (29 if self.month == 2 else 30 if self.month in (4, 6, 9, 11) else 31):
            raise ValueError("no such day in that month")
        return self


class BirthdayOut(BaseModel):
    customer_key: str
    month: int
    day: int
