"""Every topic Aftercart uses, with its producer and the event types it carries.

Keys: orders.v1, customers.v1, loyalty.v1, reviews.v1, notifications.v1 and profiles.v1 are
keyed by the customer key ("<store>:c<id>" or "<store>:e<sha256(email)>") so that every
event about one customer lands in one partition, in order (balances, contact budgets,
profiles depend on that order). catalog.v1 is keyed by "<store>:p<product_id>" and compacted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PARTITIONS = 3


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    event_types: tuple[str, ...]
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)


ORDERS = Topic("orders.v1", "ingest", (
    "order.placed", "order.paid", "order.status_changed", "order.on_hold", "order.shipped",
    "order.completed", "order.cancelled", "order.failed", "order.refunded", "order.deleted",
    "order.restored",
))
CUSTOMERS = Topic("customers.v1", "ingest", (
    "customer.registered", "customer.updated", "customer.linked", "customer.erased",
))
CATALOG = Topic("catalog.v1", "ingest", ("product.upserted", "product.deleted"), compacted=True)
LOYALTY = Topic("loyalty.v1", "loyalty", (
    "points.pending", "points.available", "points.reversed", "points.expiring", "points.expired",
    "tier.changed", "coupon.issued", "referral.rewarded",
))
REVIEWS = Topic("reviews.v1", "reviews", (
    "review.requested", "review.reminder_due", "review.submitted", "review.help_requested",
    "review.published",
))
NOTIFICATIONS = Topic("notifications.v1", "notifier", (
    "message.sent", "message.failed", "message.suppressed",
))
PROFILES = Topic("profiles.v1", "profiles", ("profile.updated",), compacted=True)

ALL: tuple[Topic, ...] = (ORDERS, CUSTOMERS, CATALOG, LOYALTY, REVIEWS, NOTIFICATIONS, PROFILES)
BY_NAME = {t.name: t for t in ALL}
TOPIC_OF_TYPE = {et: t.name for t in ALL for et in t.event_types}
CONSUMERS = ("notifier", "loyalty", "reviews")


def dlq(service: str) -> str:
    return f"{service}.dlq"


def all_topic_names() -> list[str]:
    return [t.name for t in ALL] + [dlq(s) for s in CONSUMERS]
