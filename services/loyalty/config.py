"""Loyalty settings (env prefix AFTERCART_LOYALTY_). The earning settings are the defaults of every
store; a store's own rules (PUT /stores/{store_id}/rules) replace them field by field. Dicts are
given as JSON in the environment, e.g. AFTERCART_LOYALTY_POINTS_PER_CURRENCY='{"JPY": "0.01"}'."""
from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.service.settings import ServiceSettings


class StoreRest(BaseModel):
    """A store's WooCommerce REST access for coupons (a key with write permission)."""
    url: str
    consumer_key: str
    consumer_secret: SecretStr


class LoyaltySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERCART_LOYALTY_", extra="ignore")

    port: int = 8003
    database_url: str = "postgresql://loyalty:loyalty@127.0.0.1:55432/loyalty"
    # Bearer token for the internal API; refused outside development mode.
    api_token: str = "dev-loyalty-token"
    # The currency points_per_unit is counted in (WooCommerce's default store currency).
    base_currency: str = "USD"
    # Points per whole unit of the base currency, on the goods after discounts.
    points_per_unit: Decimal = Field(default=Decimal("1"), ge=0)
    # Points per unit of another currency ({"JPY": "0.01"}: one point per 100 yen).
    points_per_currency: dict[str, Decimal] = {}
    # Or what one unit of another currency is worth in the base currency ({"EUR": "1.08"}). A
    # currency with neither earns nothing (counted in loyalty_orders_unearned_total), never as if
    # it were the base currency.
    currency_rates: dict[str, Decimal] = {}
    # Whether tax and shipping earn points too (WooCommerce's totals; excluded by default).
    include_tax: bool = False
    include_shipping: bool = False
    # Products that never earn (gift cards: points on them would be points on money).
    excluded_product_ids: list[int] = []
    # Points added to a customer's first awarded order, and per submitted review (0: none).
    first_order_bonus: int = Field(default=0, ge=0)
    review_bonus: int = Field(default=0, ge=0)
    # Days after payment after which pending points become available without a completion (None:
    # only order.completed makes them available).
    return_window_days: int | None = Field(default=None, ge=0)
    # Months without earning or redeeming after which available points expire (None: never), and
    # the days ahead of it a points.expiring warning goes out.
    expiry_months: int | None = Field(default=None, ge=1)
    expiry_warning_days: int = Field(default=14, ge=0)
    # Points for the referrer and the referred customer at the referred one's first completed order.
    referrer_points: int = Field(default=0, ge=0)
    referred_points: int = Field(default=0, ge=0)
    # Points on a member's birthday (set through PUT /customers/{key}/birthday), once a year.
    birthday_bonus: int = Field(default=0, ge=0)
    # How often the scheduled worker refreshes tiers (the rolling 12-month window moves on).
    scheduler_interval_s: float = Field(default=3600.0, gt=0)
    # Redemption: points per unit of the store's currency of discount, the fewest points redeemed at
    # once, the coupon's minimum spend as a multiple of its value, its lifetime, individual use.
    redeem_points_per_unit: int = Field(default=100, ge=1)
    redeem_minimum_points: int = Field(default=500, ge=1)
    coupon_minimum_spend_multiple: Decimal = Field(default=Decimal("3"), ge=0)
    coupon_expiry_days: int = Field(default=90, ge=1)
    coupon_individual_use: bool = True
    # A held redemption (the store unreachable) is retried by the scheduler, and its points given
    # back after this long.
    redemption_hold_max_s: float = Field(default=86_400.0, gt=0)
    # WooCommerce REST access per store id, as JSON: {"s1": {"url": "https://shop.example",
    # "consumer_key": "ck_…", "consumer_secret": "cs_…"}}. Empty: no store can redeem (409).
    store_rest: dict[str, StoreRest] = {}
    # Time limit of one call to a store's REST API.
    store_rest_timeout_s: float = Field(default=10.0, gt=0)
