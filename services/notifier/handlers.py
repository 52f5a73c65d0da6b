"""Notifier handlers: one per event type it acts on (orders.v1, customers.v1, loyalty.v1,
reviews.v1, profiles.v1, catalog.v1), registered in HANDLERS at the bottom; the types it leaves alone on purpose are named
in IGNORED.

Each records the send intents (rows in `tx.messages`, recording.py) in the consumer's transaction;
the sender (sending.py) delivers them afterwards, so a crash or an outage never loses a message and
never sends one twice from a redelivered event. Which flows an event starts is domain/flows.py's;
what a message says and in which language is domain/messages.py's (orders) and
domain/customer_messages.py's (loyalty, reviews). Every order event first updates the order's
latest status and the customer's record (recording.track_order), which also cancels pending
messages the new status makes wrong. The product and segment flows that read profiles and the
catalogue are recommendations.py's, replenishment.py's and segments.py's.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from babel import Locale

from services.notifier.domain import customer_messages as content
from services.notifier.domain.catalogue import CatalogueProduct
from services.notifier.domain.customers import CustomerRecord, is_first_order
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.messages import message_id, order_draft, render_draft, thanks_on_placement
from services.notifier.domain.store_settings import StoreSettings
from services.notifier.erasure import erase_customer
from services.notifier.preferences import erased_address, merge_consent, note_meta_consent
from services.notifier import replenishment, segments
from services.notifier.recommendations import record_cross_sell
from services.notifier.recording import Tracked, record_flow, track_order
from shared.events.catalog import ProductDeleted, ProductUpserted
from shared.events.customers import CustomerErased, CustomerEvent, CustomerLinked
from shared.events.envelope import Event, derived_event_id
from shared.events.loyalty import CouponIssued, PointsExpiry, PointsMoved, TierChanged
from shared.events.orders import OrderDeleted, OrderEvent, OrderRefunded, OrderShipped
from shared.events.profiles import ProfileUpdated
from shared.events.reviews import ReviewHelpRequested, ReviewRequest, ReviewSubmitted
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork

log = get_logger(__name__)

# --- orders.v1


async def _order_flow(event: Event[OrderEvent], tx: NotifierUnitOfWork, flow_name: str, tracked: Tracked) -> None:
    flow, order = FLOWS[flow_name], event.data
    known_locale = tracked.customer.locale if tracked.customer else None  # e.g. from customer.registered
    await record_flow(
        tx, flow, cause=event, store_id=order.store_id, customer_key=order.customer.key,
        message_id=message_id(cause_event_id=event.id, order=order, template=flow.template),
        draft=lambda store: order_draft(flow.template, order, store, known_locale=known_locale),
        order_id=order.order_id, order_status=tracked.status)


async def _confirmation(event: Event[OrderEvent], tx: NotifierUnitOfWork, tracked: Tracked) -> None:
    """The thank-you, or the welcome when this is the customer's first order (same id: one of them)."""
    order = event.data
    first = is_first_order(tracked.customer, order.order_id)
    welcome = first and (await tx.settings.flow(order.store_id, "welcome")).enabled
    await _order_flow(event, tx, "welcome" if welcome else "order_thanks", tracked)


async def on_order_placed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    tracked = await track_order(event, tx)
    if thanks_on_placement(event.data):  # paid, or a method that confirms later (cash on delivery)
        await _confirmation(event, tx, tracked)
        await replenishment.on_purchase(event, tx)  # a re-order cancels its products' reminders
        await segments.cancel_win_back(tx, event.data.customer.key)  # and the win-back


async def on_order_paid(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _confirmation(event, tx, await track_order(event, tx))  # once per order
    await replenishment.on_purchase(event, tx)
    await segments.cancel_win_back(tx, event.data.customer.key)


async def on_order_on_hold(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_flow(event, tx, "order_on_hold", await track_order(event, tx))


async def on_order_failed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_flow(event, tx, "order_failed", await track_order(event, tx))


async def on_order_shipped(event: Event[OrderShipped], tx: NotifierUnitOfWork) -> None:
    await _order_flow(event, tx, "order_shipped", await track_order(event, tx))  # one per shipment


async def on_order_completed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    tracked = await track_order(event, tx)
    await _order_flow(event, tx, "order_completed", tracked)
    await record_cross_sell(event, tx, tracked)  # N days on: what goes with it (recommendations.py)
    await segments.category_follow_up(event, tx, tracked)  # the store's word on what they buy most


async def on_order_cancelled(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_flow(event, tx, "order_cancelled", await track_order(event, tx))


async def on_order_refunded(event: Event[OrderRefunded], tx: NotifierUnitOfWork) -> None:
    await _order_flow(event, tx, "order_refunded", await track_order(event, tx))  # one per refund


async def on_order_status_changed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await track_order(event, tx)  # no message of its own: its news has its own event


async def on_order_restored(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await track_order(event, tx)


async def on_order_deleted(event: Event[OrderDeleted], tx: NotifierUnitOfWork) -> None:
    d = event.data  # trashed: nothing pending about it may go out
    await tx.orders.track(store_id=d.store_id, order_id=d.order_id, customer_key=d.customer.key, status=d.status,
                          event_time=event.time, data=None)
    await tx.messages.cancel_unfit(d.store_id, d.order_id, d.status)


# --- customers.v1


async def on_customer_registered(event: Event[CustomerEvent], tx: NotifierUnitOfWork) -> None:
    c = event.data
    if c.role not in (None, "customer"):  # WooCommerce fires for every WordPress role
        return
    if await erased_address(tx, c.store_id, c.email):  # an erased address is not stored again
        return
    await tx.customers.saw_profile(store_id=c.store_id, key=c.key, email=(c.email or "").strip() or None,
                                   first_name=(c.first_name or "").strip() or None, locale=c.locale,
                                   country=c.billing_country)
    await note_meta_consent(tx, store_id=c.store_id, customer_key=c.key, meta=c.consent_meta, at=event.time)


async def on_customer_erased(event: Event[CustomerErased], tx: NotifierUnitOfWork) -> None:
    d = event.data  # personal data out, address hashes kept on the suppression list (erasure.py)
    blanked = await erase_customer(tx, store_id=d.store_id, key=d.key)
    await tx.profiles.delete(d.key)
    log.info("customer_erased", event_id=event.id, event_type=event.type, subject=event.subject, messages=blanked)


async def on_customer_updated(event: Event[CustomerEvent], tx: NotifierUnitOfWork) -> None:
    await on_customer_registered(event, tx)


async def on_customer_linked(event: Event[CustomerLinked], tx: NotifierUnitOfWork) -> None:
    d = event.data
    await merge_consent(tx, store_id=d.store_id, from_key=d.from_key, to_key=d.to_key)
    if await tx.customers.link(store_id=d.store_id, from_key=d.from_key, to_key=d.to_key):
        log.info("customers_merged", event_id=event.id, store_id=d.store_id)


# --- profiles.v1 and catalog.v1: what the recommendation and reminder flows read


async def on_profile_updated(event: Event[ProfileUpdated], tx: NotifierUnitOfWork) -> None:
    previous = await tx.profiles.get(event.data.customer_key)
    if await tx.profiles.put(event.data, event.time):  # the latest wins; a tombstone never reaches here
        await replenishment.remind_from_profile(event, tx)
        await segments.follow_ups(event, tx, previous)  # loyal offer, champion thank-you, win-back


async def on_product_upserted(event: Event[ProductUpserted], tx: NotifierUnitOfWork) -> None:
    await tx.catalogue.upsert(CatalogueProduct.of(event.data), event.time)


async def on_product_deleted(event: Event[ProductDeleted], tx: NotifierUnitOfWork) -> None:
    await tx.catalogue.delete(event.data.store_id, event.data.product_id, event.time)


# --- loyalty.v1 and reviews.v1: addressed by customer key, so the record says where to


ContextOf = Callable[[CustomerRecord | None, StoreSettings, Locale], dict[str, Any]]


async def _customer_flow(event: Event[Any], tx: NotifierUnitOfWork, flow_name: str, context: ContextOf, *,
                         id_base: str | None = None, order_id: int | None = None, base_time=None,
                         retime: bool = False) -> None:
    flow, data = FLOWS[flow_name], event.data
    customer = await tx.customers.get(data.customer_key)
    order_status = await tx.orders.status(data.store_id, order_id) if order_id is not None else None

    def draft(store: StoreSettings):
        if flow.to_store:
            to, customer_locale = store.support_alert_address or store.support_email, None
        else:
            to, customer_locale = (customer.email if customer else None), (customer.locale if customer else None)
        if not to:
            return None
        return render_draft(flow.template, to, customer_locale=customer_locale, store_locale=store.locale,
                            context=lambda locale: context(customer, store, locale))

    await record_flow(
        tx, flow, cause=event, store_id=data.store_id, customer_key=data.customer_key,
        message_id=derived_event_id(id_base or event.id, f"email:{flow.template}"), draft=draft,
        order_id=order_id, order_status=order_status, base_time=base_time, retime=retime)


async def on_points_pending(event: Event[PointsMoved], tx: NotifierUnitOfWork) -> None:
    await _customer_flow(event, tx, "points_earned", lambda c, s, loc: content.points_context(event.data, c, s, loc))


async def on_points_available(event: Event[PointsMoved], tx: NotifierUnitOfWork) -> None:
    await _customer_flow(event, tx, "points_available",
                         lambda c, s, loc: content.points_context(event.data, c, s, loc))


async def on_points_reversed(event: Event[PointsMoved], tx: NotifierUnitOfWork) -> None:
    await _customer_flow(event, tx, "points_reversed",
                         lambda c, s, loc: content.points_context(event.data, c, s, loc))


async def on_points_expiring(event: Event[PointsExpiry], tx: NotifierUnitOfWork) -> None:
    await _customer_flow(event, tx, "points_expiring",
                         lambda c, s, loc: content.expiry_context(event.data, c, s, loc))


async def on_tier_changed(event: Event[TierChanged], tx: NotifierUnitOfWork) -> None:
    await _customer_flow(event, tx, "tier_changed", lambda c, s, loc: content.tier_context(event.data, c, s, loc))


async def on_coupon_issued(event: Event[CouponIssued], tx: NotifierUnitOfWork) -> None:
    await _customer_flow(event, tx, "coupon_issued",
                         lambda c, s, loc: content.coupon_context(event.data, c, s, loc))


def _review_key(store_id: str, request_id: str) -> str:
    return f"{store_id}:review:{request_id}"  # one ask, one reminder, one thank-you per request


async def _review_ask(event: Event[ReviewRequest], tx: NotifierUnitOfWork, flow_name: str) -> None:
    d = event.data
    order = await tx.orders.last_event(d.store_id, d.order_id)
    await _customer_flow(event, tx, flow_name, lambda c, s, loc: content.review_request_context(d, c, s, order),
                         id_base=_review_key(d.store_id, d.request_id), order_id=d.order_id, base_time=d.due_at,
                         retime=True)


async def on_review_requested(event: Event[ReviewRequest], tx: NotifierUnitOfWork) -> None:
    await _review_ask(event, tx, "review_request")


async def on_review_reminder_due(event: Event[ReviewRequest], tx: NotifierUnitOfWork) -> None:
    await _review_ask(event, tx, "review_reminder")


async def on_review_submitted(event: Event[ReviewSubmitted], tx: NotifierUnitOfWork) -> None:
    d = event.data
    await _customer_flow(event, tx, "review_thanks", lambda c, s, loc: content.review_thanks_context(d, c, s),
                         id_base=_review_key(d.store_id, d.request_id))


async def on_review_help_requested(event: Event[ReviewHelpRequested], tx: NotifierUnitOfWork) -> None:
    d = event.data
    order = await tx.orders.last_event(d.store_id, d.order_id)
    for flow_name in ("review_help_ack", "review_help_alert"):  # the customer is told, the store alerted
        await _customer_flow(event, tx, flow_name, lambda c, s, loc: content.help_context(d, c, s, order),
                             id_base=_review_key(d.store_id, d.request_id))


HANDLERS = {
    "order.placed": on_order_placed,
    "order.paid": on_order_paid,
    "order.status_changed": on_order_status_changed,
    "order.on_hold": on_order_on_hold,
    "order.failed": on_order_failed,
    "order.shipped": on_order_shipped,
    "order.completed": on_order_completed,
    "order.cancelled": on_order_cancelled,
    "order.refunded": on_order_refunded,
    "order.restored": on_order_restored,
    "order.deleted": on_order_deleted,
    "customer.registered": on_customer_registered,
    "customer.updated": on_customer_updated,
    "customer.linked": on_customer_linked,
    "customer.erased": on_customer_erased,
    "profile.updated": on_profile_updated,
    "product.upserted": on_product_upserted,
    "product.deleted": on_product_deleted,
    "points.pending": on_points_pending,
    "points.available": on_points_available,
    "points.reversed": on_points_reversed,
    "points.expiring": on_points_expiring,
    "tier.changed": on_tier_changed,
    "coupon.issued": on_coupon_issued,
    "review.requested": on_review_requested,
    "review.reminder_due": on_review_reminder_due,
    "review.submitted": on_review_submitted,
    "review.help_requested": on_review_help_requested,
}
# Nothing to tell the customer: points that already expired (they were warned), referral bonuses
# (points.* says it), a published review.
IGNORED = frozenset({
    "points.expired",
    "referral.rewarded",
    "review.published",
})
