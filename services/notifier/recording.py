"""Recording, the use case the handlers share: turn an event into the messages its flows call for,
in the consumer's transaction (so each effect is tied to the event's processed marker).

    await record_flow(tx, FLOWS["order_shipped"], cause=event, store_id=..., customer_key=..., ...)

Per flow: the store's flow settings (disabled → nothing), the store's settings (language, links,
support), the draft (None → nobody to tell), the plan (channel, marketing, due time = the base time
+ the flow's delay, the order statuses it must still fit), then the row. A message recorded again
(redelivery, replay) is ignored by its stable id; a scheduled one whose due time the new event
moves (`retime=True`) is re-timed. `track_order` keeps the order's latest status and the customer's
record, and cancels pending messages that the new status makes wrong.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jinja2 import TemplateError

from services.notifier.domain.customers import CustomerRecord
from services.notifier.domain.delivery import Plan
from services.notifier.domain.flows import Flow, still_fits
from services.notifier.domain.messages import Draft
from services.notifier.domain.store_settings import StoreSettings
from services.notifier.metrics import notifier_metrics
from services.notifier.preferences import erased_address, note_meta_consent
from shared.events.envelope import Event
from shared.events.orders import OrderEvent
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class Tracked:
    """What track_order learned: the order's latest known status and the customer's record."""
    status: str
    customer: CustomerRecord | None
    new_order: bool


async def track_order(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> Tracked:
    order = event.data
    # An erased customer's address comes back in no row: the order is tracked without its data.
    erased = await erased_address(tx, order.store_id, order.customer.email)
    new, status = await tx.orders.track(
        store_id=order.store_id, order_id=order.order_id, customer_key=order.customer.key, status=order.status,
        event_time=event.time, data=None if erased else order.model_dump(mode="json", by_alias=True))
    customer = await tx.customers.saw_order(
        store_id=order.store_id, key=order.customer.key, order_id=order.order_id, new_order=new, at=event.time,
        email=None if erased else (order.customer.email or "").strip() or None,
        first_name=None if erased else (order.customer.first_name or "").strip() or None,
        locale=order.customer.locale, country=order.shipping_country)
    await note_meta_consent(tx, store_id=order.store_id, customer_key=order.customer.key, meta=order.consent_meta,
                            at=event.time)
    cancelled = await tx.messages.cancel_unfit(order.store_id, order.order_id, status)
    if cancelled:
        log.info("messages_cancelled", event_id=event.id, order_id=order.order_id, status=status, count=len(cancelled))
    return Tracked(status=status, customer=customer, new_order=new)


async def record_flow(tx: NotifierUnitOfWork, flow: Flow, *, cause: Event, store_id: str, customer_key: str,
                      message_id: str, draft: Callable[[StoreSettings], Draft | None], order_id: int | None = None,
                      order_status: str | None = None, base_time: datetime | None = None,
                      retime: bool = False) -> str | None:
    """Record `flow`'s message for `cause`; its id, or None when nothing is to be sent."""
    settings = await tx.settings.flow(store_id, flow.name)
    if not settings.enabled:
        log.info("flow_disabled", event_id=cause.id, flow=flow.name, store_id=store_id)
        return None
    statuses = flow.order_statuses if order_id is not None else None
    plan = Plan(flow=flow.name, store_id=store_id, channel=settings.channel, marketing=settings.marketing,
                order_id=order_id, order_statuses=statuses)
    reason = still_fits(plan, order_status)  # a late event about an order that moved on says nothing
    if reason is not None:
        log.info("message_not_fitting", event_id=cause.id, flow=flow.name, reason=reason)
        return None
    try:
        made = draft(await tx.settings.store(store_id))
    except TemplateError as exc:
        # A broken template must not block the event (nor, retried, everything behind it): the
        # message is recorded failed with the reason, and counted (notifier_template_failures_total).
        error = f"template: {type(exc).__name__}"
        notifier_metrics().template_failures.labels(flow.name).inc()
        log.error("message_unrenderable", event_id=cause.id, flow=flow.name, error=error)
        if await tx.messages.record_intent(
                message_id=message_id, cause_event_id=cause.id, cause_type=cause.type, customer_key=customer_key,
                draft=Draft(flow.template, "", "", "", ""), cause_time=cause.time, plan=plan):
            await tx.messages.mark_failed(message_id, error)
        return None
    if made is None:
        log.info("message_not_needed", event_id=cause.id, flow=flow.name, subject=cause.subject)
        return None
    if await erased_address(tx, store_id, made.to_address):
        log.info("message_to_erased_address", event_id=cause.id, flow=flow.name)
        return None
    due = None
    if settings.delay_s or base_time is not None:
        due = (base_time or cause.time) + timedelta(seconds=settings.delay_s)
    plan = Plan(**{**plan.__dict__, "due_at": due})
    recorded = await tx.messages.record_intent(
        message_id=message_id, cause_event_id=cause.id, cause_type=cause.type, customer_key=customer_key,
        draft=made, cause_time=cause.time, plan=plan)
    if not recorded and retime and due is not None and await tx.messages.retime(message_id, due):
        log.info("message_retimed", message_id=message_id, flow=flow.name)
    return message_id
