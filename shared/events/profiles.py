"""The `data` of profiles.v1 (producer: the faust profiles worker, services/profiles): a customer's
profile, compacted by customer key (a tombstone — a key with no value — after customer.erased)."""
from __future__ import annotations

from pydantic import Field

from shared.events.orders import DecimalStr, EventData, UtcDateTime


class ProfileUpdated(EventData):
    store_id: str
    customer_key: str
    orders: int = Field(ge=0)  # counted orders: paid and not cancelled, failed, deleted or fully refunded
    lifetime_value: DecimalStr  # in `currency`, the customer's main one (net of refunds)
    currency: str | None = None
    last_order_at: UtcDateTime | None = None
    segment: str  # recency/frequency/monetary segment: prospect, new, active, loyal, champion, at_risk, lost
    category_affinity: dict[str, float] = Field(default_factory=dict)  # category → share of items bought
    lifetime_value_by_currency: dict[str, DecimalStr] = Field(default_factory=dict)
    average_order_value: DecimalStr | None = None
    first_order_at: UtcDateTime | None = None
    products: list[int] = Field(default_factory=list)  # every product id bought in a counted order
    categories: list[str] = Field(default_factory=list)
    replenishment_due: dict[str, UtcDateTime] = Field(default_factory=dict)  # product id → when it runs out
