"""What to say, for which event: pure functions from an order event to a message draft.

Templates live beside this file (Jinja2, autoescaped for HTML). Bad news is said plainly and
fast (cancelled, refunded); good news is short.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

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


@dataclass(frozen=True)
class Draft:
    template: str
    to_address: str
    subject: str
    text: str
    html: str


def money(value: str | None) -> str:
    return f"{Decimal(value or '0'):.2f}"


def compose(event_type: str, data: dict) -> Draft | None:
    """The message for an order event, or None when there is nothing to say or nobody to tell."""
    spec = TEMPLATES.get(event_type)
    customer = data.get("customer") or {}
    to = (customer.get("email") or "").strip()
    if spec is None or "@" not in to:
        return None
    template, subject_pattern = spec
    refund = data.get("refund") or {}
    ctx = {
        "first_name": customer.get("first_name") or "there",
        "number": data.get("order_number") or data.get("order_id"),
        "currency": data.get("currency", ""),
        "total": money(data.get("total")),
        "items": data.get("line_items") or [],
        "tracking": data.get("tracking") or {},
        "refund_amount": money(refund.get("amount")),
        "refund_is_full": bool(refund.get("is_full")),
    }
    subject = subject_pattern.format(number=ctx["number"], amount=ctx["refund_amount"],
                                     currency=ctx["currency"])
    return Draft(template=template, to_address=to, subject=subject,
                 text=_env.get_template(f"{template}.txt.j2").render(ctx),
                 html=_env.get_template(f"{template}.html.j2").render(ctx))
