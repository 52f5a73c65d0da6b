"""Which pydantic model describes the `data` of each event type, per major version.

One line per (type, major version). A service that produces a new event type adds its line here
(importing its models from shared/events/<topic>.py); a breaking change adds a (type, 2) line
beside the (type, 1) one while both are published.

    from shared.events.registry import validate_data
    data = validate_data(envelope.type, envelope.version, envelope.data)
"""
from __future__ import annotations

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


class UnknownEventType(LookupError):
    """No model is registered for this (event type, major version)."""


DATA_MODELS: dict[tuple[str, int], type[BaseModel]] = {
    # orders.v1 (ingest)
    ("order.placed", 1): OrderEvent,
    ("order.paid", 1): OrderEvent,
    ("order.status_changed", 1): OrderStatusChanged,
    ("order.on_hold", 1): OrderEvent,
    ("order.shipped", 1): OrderShipped,
    ("order.completed", 1): OrderEvent,
    ("order.cancelled", 1): OrderEvent,
    ("order.failed", 1): OrderEvent,
    ("order.refunded", 1): OrderRefunded,
    ("order.deleted", 1): OrderDeleted,
    ("order.restored", 1): OrderEvent,
    # customers.v1 (ingest)
    ("customer.registered", 1): CustomerEvent,
    ("customer.updated", 1): CustomerEvent,
    ("customer.linked", 1): CustomerLinked,
    ("customer.erased", 1): CustomerErased,
    # catalog.v1 (ingest)
    ("product.upserted", 1): ProductUpserted,
    ("product.deleted", 1): ProductDeleted,
    # loyalty.v1 (loyalty)
    ("points.pending", 1): PointsMoved,
    ("points.available", 1): PointsMoved,
    ("points.reversed", 1): PointsMoved,
    ("points.expiring", 1): PointsExpiry,
    ("points.expired", 1): PointsExpiry,
    ("tier.changed", 1): TierChanged,
    ("coupon.issued", 1): CouponIssued,
    ("referral.rewarded", 1): ReferralRewarded,
    # reviews.v1 (reviews)
    ("review.requested", 1): ReviewRequest,
    ("review.reminder_due", 1): ReviewRequest,
    ("review.submitted", 1): ReviewSubmitted,
    ("review.help_requested", 1): ReviewHelpRequested,
    ("review.published", 1): ReviewPublished,
    # notifications.v1 (notifier)
    ("message.sent", 1): MessageOutcome,
    ("message.failed", 1): MessageOutcome,
    ("message.suppressed", 1): MessageOutcome,
    # profiles.v1 (faust profiles app)
    ("profile.updated", 1): ProfileUpdated,
}


def model_for(event_type: str, version: int) -> type[BaseModel]:
    try:
        return DATA_MODELS[(event_type, version)]
    except KeyError:
        raise UnknownEventType(f"no data model for {event_type} v{version}") from None


def validate_data(event_type: str, version: int, data: dict[str, Any]) -> BaseModel:
    """The event's data as its model; raises UnknownEventType or pydantic.ValidationError."""
    return model_for(event_type, version).model_validate(data)
