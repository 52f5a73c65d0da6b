"""Notifier handlers: one per event type of orders.v1 it acts on, registered in HANDLERS at the
bottom; the types it leaves alone on purpose are named in IGNORED.

Each records the send intent (a row in `tx.messages`) in the consumer's transaction; the sender
(sending.py) delivers it over SMTP afterwards, so a crash or an SMTP outage never loses a message
and never sends one twice from a redelivered event. What a message says and in which language
(the customer's, else `tx.config.default_locale`, else English) is domain/messages.py's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from services.notifier.domain.messages import compose, message_id, thanks_on_placement
from shared.events.envelope import Event
from shared.events.orders import OrderEvent, OrderRefunded, OrderShipped
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork

log = get_logger(__name__)


async def _order_message(event: Event[OrderEvent], tx: NotifierUnitOfWork, said_as: str | None = None) -> None:
    """Record the message `said_as` (default: the event's own type) calls for, if any."""
    order = event.data
    draft = compose(said_as or event.type, order, tx.config)
    if draft is None:
        log.info("message_not_needed", event_id=event.id, event_type=event.type, subject=event.subject)
        return
    await tx.messages.record_intent(
        message_id=message_id(cause_event_id=event.id, order=order, template=draft.template),
        cause_event_id=event.id, cause_type=event.type, customer_key=order.customer.key, draft=draft)


async def on_order_placed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    if thanks_on_placement(event.data):
        await _order_message(event, tx)


async def on_order_paid(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx, "order.placed")  # the thank-you, once per order


async def on_order_on_hold(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx)  # waiting for a bank transfer or cheque: said once per order


async def on_order_failed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx)  # the payment failed: said once per order, with the pay link


async def on_order_shipped(event: Event[OrderShipped], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx)


async def on_order_completed(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx)


async def on_order_cancelled(event: Event[OrderEvent], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx)


async def on_order_refunded(event: Event[OrderRefunded], tx: NotifierUnitOfWork) -> None:
    await _order_message(event, tx)


HANDLERS = {
    "order.placed": on_order_placed,
    "order.paid": on_order_paid,
    "order.on_hold": on_order_on_hold,
    "order.failed": on_order_failed,
    "order.shipped": on_order_shipped,
    "order.completed": on_order_completed,
    "order.cancelled": on_order_cancelled,
    "order.refunded": on_order_refunded,
}
# Nothing to tell the customer (yet): status bookkeeping (its news has its own events), trash and restore.
IGNORED = frozenset({
    "order.status_changed",
    "order.deleted",
    "order.restored",
})
