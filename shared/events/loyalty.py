"""The `data` of every loyalty.v1 event (producer: loyalty). Keyed by customer key; no personal
data beyond it. Points are whole numbers, always positive: the type says which way they moved."""
from __future__ import annotations

from pydantic import Field

from shared.events.orders import EventData, UnsignedDecimalStr, UtcDateTime


class PointsMoved(EventData):
    """points.pending (earned, not yet spendable), points.available, points.reversed."""
    store_id: str
    customer_key: str
    order_id: int | None = None
    points: int = Field(ge=0)
    bucket: str | None = None  # pending | available: where the points moved in or out


class PointsExpiry(EventData):
    """points.expiring (a warning ahead of time) and points.expired."""
    store_id: str
    customer_key: str
    points: int = Field(ge=0)
    expires_at: UtcDateTime


class TierChanged(EventData):
    store_id: str
    customer_key: str
    from_tier: str | None = None
    to_tier: str


class CouponIssued(EventData):
    """A redemption became a WooCommerce coupon; the code is the customer's to use."""
    store_id: str
    customer_key: str
    coupon_id: int
    code: str
    amount: UnsignedDecimalStr
    currency: str
    discount_type: str = "fixed_cart"
    points_spent: int = Field(ge=0)
    expires_at: UtcDateTime | None = None
    minimum_amount: UnsignedDecimalStr | None = None  # WooCommerce's minimum spend; None = none


class ReferralRewarded(EventData):
    store_id: str
    referrer_key: str
    referred_key: str
    points: int = Field(ge=0)  # the referrer's
    order_id: int | None = None
    referred_points: int | None = Field(default=None, ge=0)  # the referred customer's
