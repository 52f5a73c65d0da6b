"""What to say, for which event, in which language: pure functions from an order event to a message
draft, and the rules for which order events deserve a message and under which id.

Templates live beside this file, one folder per locale (`templates/<locale>/<template>.{subject,txt,
html}.j2`, partials start with "_"); a new locale is a new folder (domain/locales.py chooses it).
A locale's folder that lacks one of a template's three files doesn't have that message: it is said
in English, text and formatting alike, rather than half-translated. Jinja2 with StrictUndefined (a
typo in a template fails loudly, in the tests), HTML autoescaped (a product named "<script>" stays
text). Amounts and dates are formatted here (domain/formatting.py), so templates only place them.

Bad news is volunteered plainly (on hold, payment failed, cancelled, refunded); good news is short.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from services.notifier.domain.email_html import inline_css, install
from services.notifier.domain.formatting import day, money
from services.notifier.domain.locales import FALLBACK, choose_locale, folder_for
from services.notifier.domain.order_details import order_details
from services.notifier.domain.store_settings import DEFAULT_FROM, FlowDefaults, StoreSettings
from shared.events.envelope import derived_event_id
from shared.events.orders import OrderEvent, OrderRefunded, OrderShipped

TEMPLATES_DIR = Path(__file__).parent / "templates"
PARTS = ("subject.j2", "txt.j2", "html.j2")
SIGNATURE = "\n\n-- \n"  # the plain-text signature separator (RFC 3676's "-- " line)
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")

# event type → template
TEMPLATES: dict[str, str] = {
    "order.placed": "order_thanks",
    "order.on_hold": "order_on_hold",
    "order.failed": "order_failed",
    "order.shipped": "order_shipped",
    "order.completed": "order_completed",
    "order.cancelled": "order_cancelled",
    "order.refunded": "order_refunded",
}

# Templates said once per order, whichever event triggers them (a thank-you follows order.placed
# for a paid order, or order.paid for one that was pending; an order may go on hold or fail twice):
# their id is the order's, not the event's.
ONCE_PER_ORDER = frozenset({"order_thanks", "order_welcome", "order_completed", "order_cancelled", "order_on_hold",
                            "order_failed"})
# A placed order that isn't paid yet gets its thank-you when the payment arrives. An on-hold order
# (bank transfer, cheque) is told so by order.on_hold at once — with its items and total, as
# WooCommerce's own on-hold email does — and thanked when the money arrives: one email each.
UNPAID = frozenset({"pending", "failed", "cancelled", "checkout-draft", "on-hold"})
PAID_STATUSES = frozenset({"processing", "completed"})  # WooCommerce's wc_get_is_paid_statuses()


@dataclass(frozen=True)
class Draft:
    template: str
    to_address: str
    subject: str
    text: str
    html: str
    locale: str = FALLBACK  # the locale it was written in (the template folder's)


@dataclass(frozen=True)
class MessageConfig:
    """What the messages depend on beyond the event (settings today, per store with the flows API)."""
    default_locale: str = FALLBACK  # the store's language, for customers whose locale isn't known
    from_address: str = DEFAULT_FROM  # a store's From unless it set its own
    # Service-wide changes to the flows' registry defaults (NotifierSettings.flow_defaults).
    flow_defaults: Mapping[str, FlowDefaults] = field(default_factory=dict)

    def store_defaults(self) -> StoreSettings:
        """The settings of a store that set nothing (NotifierSettings' defaults)."""
        return StoreSettings.defaults(from_address=self.from_address, locale=self.default_locale)


def thanks_on_placement(order: OrderEvent) -> bool:
    """Whether order.placed deserves the thank-you now (paid), or the payment will bring it."""
    return order.status not in UNPAID


def was_paid(order: OrderEvent) -> bool:
    """Whether money was taken for the order: a payment date, or a paid status now or just before."""
    return (order.dates.paid is not None or order.status in PAID_STATUSES
            or order.previous_status in PAID_STATUSES)


def message_id(*, cause_event_id: str, order: OrderEvent, template: str) -> str:
    """The message's id: per order for ONCE_PER_ORDER templates (so a second trigger is a repeat),
    per cause event otherwise (each refund, each shipment is said)."""
    if template in ONCE_PER_ORDER:
        # A first order's welcome is its thank-you: one id for both, so only one of them goes.
        key = "order_thanks" if template == "order_welcome" else template
        return derived_event_id(f"{order.store_id}:order:{order.order_id}", f"email:{key}")
    return derived_event_id(cause_event_id, f"email:{template}")


class TemplateSet:
    """The templates of one directory (`TEMPLATES_DIR` in production, a test's own folder to try a
    new locale): which locale folders have which templates whole, and one Jinja2 environment per
    folder. Read lazily, once: files don't change under a running service."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._catalogue: dict[str, frozenset[str]] | None = None
        self._environments: dict[str, Environment] = {}

    def catalogue(self) -> dict[str, frozenset[str]]:
        """Locale folder → the templates it has whole (all of PARTS)."""
        if self._catalogue is None:
            out: dict[str, frozenset[str]] = {}
            for folder in sorted(p for p in self.directory.iterdir() if p.is_dir()):
                names = {f.name.split(".", 1)[0] for f in folder.glob("*.j2") if not f.name.startswith("_")}
                out[folder.name] = frozenset(
                    n for n in names if all((folder / f"{n}.{part}").is_file() for part in PARTS))
            self._catalogue = out
        return self._catalogue

    def environment(self, folder: str) -> Environment:
        if folder not in self._environments:
            # English behind every folder, so a locale may leave partials (layout, order summary) to it.
            search = [self.directory / folder] + ([self.directory / FALLBACK] if folder != FALLBACK else [])
            self._environments[folder] = install(Environment(
                loader=FileSystemLoader(search), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                auto_reload=False))  # templates don't change under a running service: no stat() per render
        return self._environments[folder]

    def render(self, template: str, folder: str, ctx: dict[str, Any]) -> tuple[str, str, str]:
        """(subject, text, html) of `template` from `folder`; the subject is one line."""
        env = self.environment(folder)
        subject, text, html = (env.get_template(f"{template}.{part}").render(ctx) for part in PARTS)
        # The text part ends with the store's signature (the HTML has it in its frame's footer),
        # after the usual "-- " line, so a digest can keep one signature for all its parts.
        signature = self._signature(env, ctx)
        if signature:
            text = f"{text.rstrip()}{SIGNATURE}{signature}\n"
        # One header line: line breaks go (no header injection); a no-break space in "16,20 €" stays.
        # The HTML's CSS is written onto its elements: mail clients drop <style> (domain/email_html.py).
        return _LINE_BREAKS.sub(" ", subject).strip(" \t"), text, inline_css(html)

    @staticmethod
    def _signature(env: Environment, ctx: dict[str, Any]) -> str:
        try:
            template = env.get_template("_signature.txt.j2")
        except TemplateNotFound:  # a template set without one (a test's own folder)
            return ""
        return template.render(ctx).strip()


SHIPPED = TemplateSet(TEMPLATES_DIR)


def pick_folder(locale: Locale, template: str, catalogue: dict[str, frozenset[str]]) -> tuple[str, Locale]:
    """The folder `template` is read from and the locale its amounts and dates are written in: the
    chosen locale's folder when it has the template whole, else English for this whole message."""
    folder = folder_for(locale, catalogue)
    if folder is None or template not in catalogue[folder]:
        return FALLBACK, Locale.parse(FALLBACK)
    return folder, locale


def web_link(url: str | None) -> str | None:
    """A link fit for an email: http(s) only (a "javascript:" link from a plugin is dropped)."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else None


def store_context(store: StoreSettings) -> dict[str, Any]:
    """What every message says about the store: its name, how to reach support, its links."""
    return {"name": store.store_name, "support_email": store.support_email,
            "support_url": web_link(store.support_url), "returns_url": web_link(store.returns_url),
            "payment_instructions": (store.payment_instructions or "").strip() or None,
            "logo_url": web_link(store.logo_url), "brand_colour": store.brand_colour,
            "footer_address": store.footer_address}


def zone(store: StoreSettings) -> tzinfo:
    return ZoneInfo(store.timezone)


def _context(order: OrderEvent, locale: Locale, store: StoreSettings | None = None) -> dict[str, Any]:
    store = store or StoreSettings.defaults()
    tz = zone(store)

    def m(amount: str | Decimal) -> str:
        return money(amount, order.currency, locale)

    discount, shipping, tax = Decimal(order.discount), Decimal(order.shipping), Decimal(order.tax)
    tracking = order.tracking if isinstance(order, OrderShipped) else None
    refund = order.refund if isinstance(order, OrderRefunded) else None
    return {
        "lang": str(locale).replace("_", "-"),
        "first_name": (order.customer.first_name or "").strip() or None,
        "number": order.order_number or str(order.order_id),
        "items": [{"name": li.name, "quantity": li.quantity, "total": m(li.total)} for li in order.line_items],
        # The event's subtotal is after discounts; the summary shows it before, then the discount,
        # so the lines add up to the total as on the store's own receipt.
        "totals": {"subtotal": m(Decimal(order.subtotal_after_discounts) + discount),
                   "discount": m(-discount) if discount else None,
                   "shipping": m(shipping) if shipping else None,
                   "tax": m(tax) if tax else None,
                   "total": m(order.total)},
        "total": m(order.total),
        "placed_on": day(order.dates.created, locale, tz),
        "paid": was_paid(order),
        "pay_url": web_link(order.payment_url),
        "tracking": None if tracking is None else {
            "carrier": tracking.carrier, "number": tracking.number, "url": web_link(tracking.url),
            "shipped_on": day(tracking.shipped_at, locale, tz)},
        "refund": None if refund is None else {
            "amount": m(refund.amount), "so_far": m(refund.refunded_total_so_far), "is_full": refund.is_full},
        "store": store_context(store),
        "details": order_details(order, locale),  # the order table and addresses (domain/order_details.py)
    }


def render_draft(template: str, to: str, *, customer_locale: str | None, store_locale: str | None,
                 context: Callable[[Locale], dict[str, Any]], templates: TemplateSet = SHIPPED) -> Draft:
    """Render `template` to `to` in the customer's locale, else the store's, else English;
    `context(locale)` builds what the template places (amounts and dates in that locale)."""
    catalogue = templates.catalogue()
    locale = choose_locale(customer_locale, store_locale, catalogue)
    folder, locale = pick_folder(locale, template, catalogue)
    ctx = {"lang": str(locale).replace("_", "-"), **context(locale)}
    subject, text, html = templates.render(template, folder, ctx)
    return Draft(template=template, to_address=to, subject=subject, text=text, html=html, locale=str(locale))


def order_draft(template: str, order: OrderEvent, store: StoreSettings,
                templates: TemplateSet = SHIPPED, known_locale: str | None = None) -> Draft | None:
    """The message `template` about `order` to its customer; None when there is nobody to tell.
    `known_locale`: the customer's as the notifier knows it, when the order doesn't say."""
    to = (order.customer.email or "").strip()
    if "@" not in to:
        return None
    return render_draft(template, to, customer_locale=order.customer.locale or known_locale,
                        store_locale=store.locale,
                        context=lambda locale: _context(order, locale, store), templates=templates)


def compose(event_type: str, order: OrderEvent, config: MessageConfig = MessageConfig(),
            templates: TemplateSet = SHIPPED, store: StoreSettings | None = None) -> Draft | None:
    """The message for an order event, or None when there is nothing to say or nobody to tell."""
    template = TEMPLATES.get(event_type)
    if template is None:
        return None
    return order_draft(template, order, store or config.store_defaults(), templates)
