"""The flows (pure): every kind of message the notifier sends, what triggers it, whether it is
marketing (consent, budgets, quiet hours apply) or transactional, its default delay and channel, and
the order statuses it still makes sense in at send time.

A store changes enabled / delay / channel / marketing per flow (adapters/settings.py); what it
doesn't set comes from here (`Flow.defaults()`). `still_fits` is asked again when a message is due
(gating.py), so nothing goes out about an order whose state moved on.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from services.notifier.domain.store_settings import FlowDefaults, FlowSettings

# Order statuses, as WooCommerce names them (plus the common "shipped"/"delivered" plugins add).
_GOING = frozenset({"processing", "completed", "on-hold", "shipped", "delivered", "partially-shipped"})
# Reviews asks once the goods went out (the reviews service times them from a shipment or the
# completion; it holds or cancels its own requests): wrong only once the order is undone.
_SENT_OUT = frozenset({"processing", "completed", "shipped", "delivered", "partially-shipped"})


@dataclass(frozen=True)
class Flow:
    name: str
    template: str
    triggers: tuple[str, ...]  # event types that can start it
    marketing: bool
    default_delay_s: int = 0
    channel: str = "email"
    # The order must still be in one of these at send time; None = no order, or any status.
    order_statuses: frozenset[str] | None = None
    to_store: bool = False  # sent to the store's support address, not the customer
    description: str = ""

    def defaults(self) -> FlowSettings:
        return FlowSettings(enabled=True, delay_s=self.default_delay_s, channel=self.channel,
                            marketing=self.marketing)


def _flows(*flows: Flow) -> dict[str, Flow]:
    return {f.name: f for f in flows}


FLOWS: dict[str, Flow] = _flows(
    # --- orders.v1
    Flow("order_thanks", "order_thanks", ("order.placed", "order.paid"), marketing=False,
         order_statuses=_GOING, description="Thank-you / confirmation of a returning customer's order"),
    Flow("welcome", "order_welcome", ("order.placed", "order.paid"), marketing=False,
         order_statuses=_GOING, description="Confirmation of a customer's first order with the store"),
    Flow("order_on_hold", "order_on_hold", ("order.on_hold",), marketing=False,
         order_statuses=frozenset({"on-hold"}), description="Waiting for payment: the store's instructions"),
    Flow("order_failed", "order_failed", ("order.failed",), marketing=False,
         order_statuses=frozenset({"failed", "pending"}), description="Payment failed, with the pay link"),
    Flow("order_cancelled", "order_cancelled", ("order.cancelled",), marketing=False,
         order_statuses=frozenset({"cancelled"}), description="Cancelled (refund mentioned only if paid)"),
    Flow("order_shipped", "order_shipped", ("order.shipped",), marketing=False,
         order_statuses=_GOING, description="Shipped: carrier and tracking, one per shipment"),
    Flow("order_completed", "order_completed", ("order.completed",), marketing=False,
         order_statuses=frozenset({"completed", "delivered"}), description="Completed / delivered"),
    Flow("order_refunded", "order_refunded", ("order.refunded",), marketing=False,
         description="Refund issued: amount, partial or full, refunded so far"),
    # --- product flows (profiles.v1 + catalog.v1; recommendations.py): products re-checked at send time
    Flow("cross_sell", "cross_sell", ("order.completed",), marketing=True, default_delay_s=7 * 86_400,
         order_statuses=frozenset({"completed", "delivered"}),
         description="Cross-sell / upsell N days after an order completes: products it goes with"),
    Flow("replenishment", "replenishment", ("profile.updated", "order.placed", "order.paid"), marketing=True,
         description="Replenishment reminder when a product with a usage period runs out"),
    Flow("category_follow_up", "category_follow_up", ("order.completed",), marketing=True,
         default_delay_s=14 * 86_400, order_statuses=frozenset({"completed", "delivered"}),
         description="Follow-up with the store's content for the category the customer buys most"),
    Flow("loyal_offer", "loyal_offer", ("profile.updated",), marketing=True,
         description="The loyal-customer offer on a customer's Nth order (store setting loyal_offer_order)"),
    Flow("champion_thanks", "champion_thanks", ("profile.updated",), marketing=True,
         description="Thank-you for moving into the top segment (champion)"),
    Flow("win_back", "win_back", ("profile.updated",), marketing=True, default_delay_s=90 * 86_400,
         description="Win-back N days (the delay) after the last order, cancelled by a new order"),
    # --- loyalty.v1
    Flow("points_earned", "points_earned", ("points.pending",), marketing=True,
         description="Points earned with an order (not yet spendable)"),
    Flow("points_available", "points_available", ("points.available",), marketing=True,
         description="Points became spendable"),
    Flow("points_reversed", "points_reversed", ("points.reversed",), marketing=False,
         description="Points taken back (refund or cancellation)"),
    Flow("tier_changed", "tier_changed", ("tier.changed",), marketing=True, description="Tier reached"),
    Flow("coupon_issued", "coupon_issued", ("coupon.issued",), marketing=False,
         description="A redemption's coupon: code, value, minimum spend, expiry"),
    Flow("points_expiring", "points_expiring", ("points.expiring",), marketing=True,
         description="Points about to expire"),
    # --- reviews.v1
    Flow("review_request", "review_request", ("review.requested",), marketing=True,
         order_statuses=_SENT_OUT, description="Ask for a review"),
    Flow("review_reminder", "review_reminder", ("review.reminder_due",), marketing=True,
         order_statuses=_SENT_OUT, description="Review reminder"),
    Flow("review_thanks", "review_thanks", ("review.submitted",), marketing=False,
         description="Thank-you after a review"),
    Flow("review_help_ack", "review_help_ack", ("review.help_requested",), marketing=False,
         description="We got your request for help"),
    Flow("review_help_alert", "review_help_alert", ("review.help_requested",), marketing=False, to_store=True,
         description="Alert to the store's support address: a customer asked for help"),
)


class Fittable(Protocol):
    """What still_fits reads of a message (StoredMessage or a row)."""
    order_id: int | None
    order_statuses: Collection[str] | None


def still_fits(message: Fittable, current_order_status: str | None) -> str | None:
    """None when the message still fits the order's latest known status, else why it doesn't."""
    allowed = message.order_statuses
    if message.order_id is None or not allowed or current_order_status is None:
        return None
    if current_order_status in allowed:
        return None
    return f"order is now {current_order_status}"


def flow_defaults(name: str, overrides: Mapping[str, FlowDefaults] | None = None) -> FlowSettings:
    """A flow's settings for a store that set nothing: the registry's, with the service's overrides."""
    base = FLOWS[name].defaults()
    change = (overrides or {}).get(name)
    return change.over(base) if change is not None else base


def flows_for(event_type: str) -> list[Flow]:
    return [f for f in FLOWS.values() if event_type in f.triggers]
