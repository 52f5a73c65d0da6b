"""The `data` of profiles.v1 (producer: the faust profiles app): a customer's profile, compacted
by customer key."""
from __future__ import annotations

from pydantic import Field

from shared.events.orders import DecimalStr, EventData, UtcDateTime


class ProfileUpdated(EventData):
    store_id: str
    customer_key: str
    orders: int = Field(ge=0)
    lifetime_value: DecimalStr
    currency: str | None = None
    last_order_at: UtcDateTime | None = None
    segment: str  # recency/frequency/monetary segment, e.g. "new", "loyal", "at_risk"
    category_affinity: dict[str, float] = Field(default_factory=dict)
