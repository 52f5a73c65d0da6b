"""What to say, for which event: pure functions from an order event to a message draft, and the
rules for which order events deserve a message and under which id.

Templates live beside this file (Jinja2, autoescaped for HTML). Bad news is said plainly and
fast (cancelled, refunded); good news is short.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.events.envelope import derived_event_id
from shared.events.orders import OrderEvent, OrderRefunded, OrderShipped

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)

# event type → (template name, subject pattern)
TEMPLATES: dict[str, tuple[str, str]] = {
    "order.placed": ("order_thanks", "Thank you for your order #{number}"),
    "order.shipped": ("order_shipped", "Your order #{number} is on its way"),
    "order.completed": ("order_completed", "Your order #{number} is complete"),
    "order.cancelled": ("order_cancelled", "Your order #{number} was cancelled"),
    "order.refunded": ("order_refunded", "We refunded {amount} {currency} for order #{number}"),
}

# Templates said once per order, whichever event triggers them (a thank-you follows order.placed
# for a paid order, or order.paid for one that was pending): their id is the order's, not the event's.
ONCE_PER_ORDER = frozenset({"order_thanks", "order_completed", "order_cancelled"})
# A placed order that isn't paid yet gets its thank-you when the payment arrives.
UNPAID = frozenset({"pending", "failed", "cancelled", "checkout-draft"})


@dataclass(frozen=True)
class Draft:
    template: str
    to_address: str
    subject: str
    text: str
    html: str


def money(value: str | None) -> str:
    return f"{Decimal(value or '0'):.2f}"


def thanks_on_placement(order: OrderEvent) -> bool:
    """Whether order.placed deserves the thank-you now (paid), or the payment will bring it."""
    return order.status not in UNPAID


def message_id(*, cause_event_id: str, order: OrderEvent, template: str) -> str:
    """The message's id: per order for ONCE_PER_ORDER templates (so a second trigger is a repeat),
    per cause event otherwise (each refund, each shipment is said)."""
    if template in ONCE_PER_ORDER:
        return derived_event_id(f"{order.store_id}:order:{order.order_id}", f"email:{template}")
    return derived_event_id(cause_event_id, f"email:{template}")


def compose(event_type: str, order: OrderEvent) -> Draft | None:
    """The message for an order event, or None when there is nothing to say or nobody to tell."""
    spec = TEMPLATES.get(event_type)
    customer = order.customer
    to = (customer.email or "").strip()
    if spec is None or "@" not in to:
        return None
    template, subject_pattern = spec
    refund = order.refund if isinstance(order, OrderRefunded) else None
    ctx = {
        "first_name": customer.first_name or "there",
        "number": order.order_number or order.order_id,
        "currency": order.currency,
        "total": money(order.total),
        "items": order.line_items,
        "tracking": order.tracking if isinstance(order, OrderShipped) else {},
        "refund_amount": money(refund.amount if refund else None),
        "refund_is_full": bool(refund and refund.is_full),
    }
    subject = subject_pattern.format(number=ctx["number"], amount=ctx["refund_amount"],
                                     currency=ctx["currency"])
    return Draft(template=template, to_address=to, subject=subject,
                 text=_env.get_template(f"{template}.txt.j2").render(ctx),
                 html=_env.get_template(f"{template}.html.j2").render(ctx))
