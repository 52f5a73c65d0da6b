"""The one registry of Aftercart's events: every topic, its producer, and for each event type it
carries the pydantic model of its `data` (per major version). Topic lists, the home topic of a
type and the model a consumer parses with are all derived from `ALL` below — nothing is kept twice.

A service that produces a new event type adds one line to its topic (importing the model from
shared/events/<producer>.py); a breaking change adds a version-2 model beside version 1 in
`EXTRA_VERSIONS` while both are published.

    from shared.events.registry import validate_data
    data = validate_data(envelope.type, envelope.version, envelope.data)

Keys: orders.v1, customers.v1, loyalty.v1, reviews.v1, notifications.v1 and profiles.v1 are keyed
by the customer key ("<store>:c<id>" or "<store>:e<sha256(email)>") so that every event about one
customer lands in one partition, in order (balances, contact budgets, profiles depend on that
order). catalog.v1 is keyed by "<store>:p<product_id>" and compacted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from shared.events.catalog import ProductDeleted, ProductUpserted
from shared.events.customers import CustomerErased, CustomerEvent, CustomerLinked
from shared.events.loyalty import CouponIssued, PointsExpiry, PointsMoved, ReferralRewarded, TierChanged
from shared.events.notifications import MessageOutcome
from shared.events.orders import (OrderDeleted, OrderEvent, OrderRefunded, OrderShipped,
                                  OrderStatusChanged)
from shared.events.profiles import ProfileUpdated
from shared.events.reviews import ReviewHelpRequested, ReviewPublished, ReviewRequest, ReviewSubmitted

PARTITIONS = 3


@dataclass(frozen=True)
class Topic:
    name: str
    producer: str
    models: dict[str, type[BaseModel]]  # event type → model of its v1 data, in catalogue order
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(self.models)


ORDERS = Topic("orders.v1", "ingest", {
    "order.placed": OrderEvent,
    "order.paid": OrderEvent,
    "order.status_changed": OrderStatusChanged,
    "order.on_hold": OrderEvent,
    "order.shipped": OrderShipped,
    "order.completed": OrderEvent,
    "order.cancelled": OrderEvent,
    "order.failed": OrderEvent,
    "order.refunded": OrderRefunded,
    "order.deleted": OrderDeleted,
    "order.restored": OrderEvent,
})
CUSTOMERS = Topic("customers.v1", "ingest", {
    "customer.registered": CustomerEvent,
    "customer.updated": CustomerEvent,
    "customer.linked": CustomerLinked,
    "customer.erased": CustomerErased,
})
CATALOG = Topic("catalog.v1", "ingest", {
    "product.upserted": ProductUpserted,
    "product.deleted": ProductDeleted,
}, compacted=True)
LOYALTY = Topic("loyalty.v1", "loyalty", {
    "points.pending": PointsMoved,
    "points.available": PointsMoved,
    "points.reversed": PointsMoved,
    "points.expiring": PointsExpiry,
    "points.expired": PointsExpiry,
    "tier.changed": TierChanged,
    "coupon.issued": CouponIssued,
    "referral.rewarded": ReferralRewarded,
})
REVIEWS = Topic("reviews.v1", "reviews", {
    "review.requested": ReviewRequest,
    "review.reminder_due": ReviewRequest,
    "review.submitted": ReviewSubmitted,
    "review.help_requested": ReviewHelpRequested,
    "review.published": ReviewPublished,
})
NOTIFICATIONS = Topic("notifications.v1", "notifier", {
    "message.sent": MessageOutcome,
    "message.failed": MessageOutcome,
    "message.suppressed": MessageOutcome,
})
PROFILES = Topic("profiles.v1", "profiles", {"profile.updated": ProfileUpdated}, compacted=True)

ALL: tuple[Topic, ...] = (ORDERS, CUSTOMERS, CATALOG, LOYALTY, REVIEWS, NOTIFICATIONS, PROFILES)
# Services with a consumer group (each has its dead-letter topic).
CONSUMERS = ("notifier", "loyalty", "reviews", "profiles")
# (type, major version ≥ 2) → model, for a breaking change published beside version 1.
EXTRA_VERSIONS: dict[tuple[str, int], type[BaseModel]] = {}

BY_NAME = {t.name: t for t in ALL}
TOPIC_OF_TYPE = {et: t.name for t in ALL for et in t.event_types}
DATA_MODELS: dict[tuple[str, int], type[BaseModel]] = {
    **{(et, 1): model for t in ALL for et, model in t.models.items()}, **EXTRA_VERSIONS}


class UnknownEventType(LookupError):
    """No model is registered for this (event type, major version)."""


def dlq(service: str) -> str:
    return f"{service}.dlq"


def all_topic_names() -> list[str]:
    return [t.name for t in ALL] + [dlq(s) for s in CONSUMERS]


def types_of(*topic_names: str) -> set[str]:
    """Every event type carried by these topics."""
    return {et for name in topic_names for et in BY_NAME[name].event_types}


def model_for(event_type: str, version: int) -> type[BaseModel]:
    try:
        return DATA_MODELS[(event_type, version)]
    except KeyError:
        raise UnknownEventType(f"no data model for {event_type} v{version}") from None


def validate_data(event_type: str, version: int, data: dict[str, Any]) -> BaseModel:
    """The event's data as its model; raises UnknownEventType or pydantic.ValidationError."""
    return model_for(event_type, version).model_validate(data)
