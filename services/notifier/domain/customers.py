"""What the notifier knows of a customer (pure): kept from the events it consumes — orders and
customers.v1 — because loyalty and reviews events carry only the customer key, and because a
customer's first order deserves a welcome rather than the returning customer's thank-you.

Guests are keyed by their email key ("<store>:e<sha256>") until customer.linked says the history
belongs to a registered id key ("<store>:c<id>"): the two records merge (`merge`), the guest's
points at the survivor (`merged_into`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class CustomerRecord:
    customer_key: str
    store_id: str
    email: str | None = None
    first_name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    country: str | None = None
    consent: bool | None = None  # marketing consent as last reported (None = never said)
    orders_seen: int = 0
    first_order_id: int | None = None
    first_order_at: datetime | None = None
    merged_into: str | None = None


def is_first_order(record: CustomerRecord | None, order_id: int) -> bool:
    """Whether `order_id` is the customer's first order with the store, as far as the notifier saw."""
    return record is None or record.first_order_id in (None, order_id)


def merge(survivor: CustomerRecord, guest: CustomerRecord) -> CustomerRecord:
    """The registered customer's record with the guest history folded in: orders add up, the
    earlier first order wins, what the survivor doesn't know is taken from the guest."""
    first_id, first_at = survivor.first_order_id, survivor.first_order_at
    if guest.first_order_at is not None and (first_at is None or guest.first_order_at < first_at):
        first_id, first_at = guest.first_order_id, guest.first_order_at
    elif first_id is None:
        first_id, first_at = guest.first_order_id, guest.first_order_at
    return replace(
        survivor, orders_seen=survivor.orders_seen + guest.orders_seen, first_order_id=first_id,
        first_order_at=first_at, email=survivor.email or guest.email,
        first_name=survivor.first_name or guest.first_name, locale=survivor.locale or guest.locale,
        timezone=survivor.timezone or guest.timezone, country=survivor.country or guest.country,
        consent=survivor.consent if survivor.consent is not None else guest.consent)
