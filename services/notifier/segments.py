"""Segmented follow-ups, a use case of the handlers, from each new profile (profiles.v1) compared
with the one before it:

  - `loyal_offer`: the customer's counted orders reach the store's `loyal_offer_order` (once per
    customer and N), naming the store's `loyal_offer_code` when it set one;
  - `champion_thanks`: the segment moves into "champion" (once per entry, keyed by the order count);
  - `win_back`: scheduled the flow's delay (default 90 days) after the last order; a later last
    order supersedes it, and a paid order cancels it at once (`cancel_win_back`: profiles may lag).

  - `category_follow_up`: the flow's delay (default 14 days) after order.completed, the store's
    `category_content` for the category the customer buys most (profile category_affinity; without
    a profile, the bought products' categories) that the store wrote content for; once per order.

Every one is marketing: consent, quiet hours and the contact budget apply at send time.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from babel import Locale

from services.notifier.domain.catalogue import top_categories
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.formatting import day
from services.notifier.domain.messages import render_draft, store_context, zone
from services.notifier.domain.store_settings import StoreSettings
from services.notifier.recording import Tracked, record_flow
from shared.events.envelope import Event, derived_event_id
from shared.events.orders import OrderEvent
from shared.events.profiles import ProfileUpdated
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork

log = get_logger(__name__)
CHAMPION, WIN_BACK, ORDERED_AGAIN = "champion", "win_back", "ordered again"


async def _record(tx: NotifierUnitOfWork, event: Event[ProfileUpdated], flow: str, id_part: str,
                  context: Callable[[StoreSettings, Locale], dict[str, Any]], base_time=None) -> str | None:
    p = event.data
    customer = await tx.customers.get(p.customer_key)
    if customer is None or not customer.email:
        return None  # a profile of someone the notifier can't reach

    def draft(store: StoreSettings):
        return render_draft(flow, customer.email, customer_locale=customer.locale, store_locale=store.locale,
                            context=lambda locale: {"first_name": customer.first_name, "orders": p.orders,
                                                    "store": store_context(store), **context(store, locale)})

    return await record_flow(tx, FLOWS[flow], cause=event, store_id=p.store_id, customer_key=p.customer_key,
                             message_id=derived_event_id(f"{p.customer_key}:{flow}", id_part), draft=draft,
                             base_time=base_time)


async def follow_ups(event: Event[ProfileUpdated], tx: NotifierUnitOfWork, previous: ProfileUpdated | None) -> None:
    p = event.data
    store = await tx.settings.store(p.store_id)
    if p.orders == store.loyal_offer_order and (previous is None or previous.orders < p.orders):
        await _record(tx, event, "loyal_offer", str(p.orders), lambda s, loc: {"offer_code": s.loyal_offer_code})
    if p.segment == CHAMPION and (previous is None or previous.segment != CHAMPION):
        await _record(tx, event, "champion_thanks", str(p.orders), lambda s, loc: {})
    if p.last_order_at is not None and (previous is None or previous.last_order_at != p.last_order_at):
        await cancel_win_back(tx, p.customer_key)
        last = p.last_order_at
        recorded = await _record(tx, event, WIN_BACK, last.isoformat(), base_time=last, context=lambda s, loc: {
            "offer_code": s.win_back_code, "last_order_on": day(last, loc, zone(s))})
        if recorded is not None:  # remembered, so a new order finds and cancels it
            await tx.message_products.attach(recorded, store_id=p.store_id, customer_key=p.customer_key,
                                             flow=WIN_BACK, product_ids=[])


async def category_follow_up(event: Event[OrderEvent], tx: NotifierUnitOfWork, tracked: Tracked) -> str | None:
    order = event.data
    store = await tx.settings.store(order.store_id)
    to = (order.customer.email or "").strip()
    if not store.category_content or "@" not in to:
        return None
    profile = await tx.profiles.get(order.customer.key)
    ranked = top_categories(profile.category_affinity, limit=len(profile.category_affinity)) if profile else []
    if not ranked:
        bought = await tx.catalogue.get_many(order.store_id, [li.product_id for li in order.line_items])
        ranked = sorted({c for p in bought.values() for c in p.categories})
    category = next((c for c in ranked if c in store.category_content), None)
    if category is None:
        return None
    content = store.category_content[category]
    locale = order.customer.locale or (tracked.customer.locale if tracked.customer else None)

    def draft(s: StoreSettings):
        return render_draft("category_follow_up", to, customer_locale=locale, store_locale=s.locale,
                            context=lambda loc: {"first_name": (order.customer.first_name or "").strip() or None,
                                                 "category": category, "content": content.model_dump(),
                                                 "store": store_context(s)})

    return await record_flow(tx, FLOWS["category_follow_up"], cause=event, store_id=order.store_id,
                             customer_key=order.customer.key, draft=draft, order_id=order.order_id,
                             order_status=tracked.status, message_id=derived_event_id(
                                 f"{order.store_id}:order:{order.order_id}", "email:category_follow_up"))


async def cancel_win_back(tx: NotifierUnitOfWork, customer_key: str) -> None:
    for message_id in await tx.message_products.pending_of(customer_key, WIN_BACK):
        await tx.messages.mark_cancelled(message_id, ORDERED_AGAIN)
        log.info("win_back_cancelled", message_id=message_id)
