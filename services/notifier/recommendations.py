"""The cross-sell / upsell flow, a use case of the handlers and of gating.

    await record_cross_sell(event, tx, tracked)          # order.completed: pick, render, schedule
    message = await recheck_products(message, tx)        # send time: drop what can't be bought now

On order.completed the products are picked (domain/catalogue.py: the bought products'
cross_sell_ids, upsell_ids, related_ids, then the customer's top categories; never one just bought
or already owned per the profile; only buyable ones; at most the store's cross_sell_max_products),
the message is recorded once per order, due after the flow's delay, and the ids it names kept in
`message_products`. When it falls due the products are checked again against the catalogue and the
latest profile: one gone out of stock, unpublished, deleted or bought meanwhile is dropped and the
message re-rendered; nothing left → cancelled.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from services.notifier.domain.catalogue import CatalogueProduct, choose, linked_candidates, top_categories
from services.notifier.domain.delivery import Cancel, StoredMessage
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.messages import Draft, render_draft
from services.notifier.domain.product_messages import products_context
from services.notifier.domain.store_settings import StoreSettings
from services.notifier.recording import Tracked, record_flow
from shared.events.envelope import Event, derived_event_id
from shared.events.orders import OrderEvent
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.notifier.adapters.unit_of_work import NotifierUnitOfWork

log = get_logger(__name__)
CROSS_SELL = "cross_sell"
RECHECKED = frozenset({CROSS_SELL, "replenishment"})  # flows whose products gating checks again (Gate.decide)
_CATEGORY_POOL = 50  # products read per category search: enough to fill K after exclusions
NOTHING_LEFT = "no recommended product can be bought now"


def cross_sell_id(store_id: str, order_id: int) -> str:
    return derived_event_id(f"{store_id}:order:{order_id}", f"email:{CROSS_SELL}")  # once per order


async def pick_for_order(tx: Any, store_id: str, bought_ids: Sequence[int], owned: Sequence[int],
                         affinity: dict[str, float], k: int) -> list[CatalogueProduct]:
    bought = await tx.catalogue.get_many(store_id, bought_ids)
    linked = linked_candidates([bought[i] for i in bought_ids if i in bought])
    ids = list(linked.ids)
    # The customer's strongest categories; without a profile yet, those of what was just bought.
    categories = top_categories(affinity) or sorted({c for p in bought.values() for c in p.categories})
    by_category = await tx.catalogue.in_categories(store_id, categories, _CATEGORY_POOL) if categories else []
    ids += [p.product_id for p in by_category if p.product_id not in linked.sources]
    products = await tx.catalogue.get_many(store_id, ids)
    return choose(ids, products, exclude=[*bought_ids, *owned], k=k)


def cross_sell_draft(to: str, products: Sequence[CatalogueProduct], *, first_name: str | None, number: str | None,
                     customer_locale: str | None, store: StoreSettings, currency: str | None) -> Draft:
    return render_draft(CROSS_SELL, to, customer_locale=customer_locale, store_locale=store.locale,
                        context=lambda locale: products_context(products, first_name=first_name, number=number,
                                                                store=store, locale=locale, currency=currency))


async def record_cross_sell(event: Event[OrderEvent], tx: NotifierUnitOfWork, tracked: Tracked) -> str | None:
    order = event.data
    to = (order.customer.email or "").strip()
    if "@" not in to:
        return None
    store = await tx.settings.store(order.store_id)
    profile = await tx.profiles.get(order.customer.key)
    products = await pick_for_order(
        tx, order.store_id, [li.product_id for li in order.line_items],
        profile.products if profile else [], profile.category_affinity if profile else {},
        store.cross_sell_max_products)
    if not products:
        log.info("cross_sell_nothing_to_offer", event_id=event.id, order_id=order.order_id)
        return None
    locale = order.customer.locale or (tracked.customer.locale if tracked.customer else None)
    first_name = (order.customer.first_name or "").strip() or None
    number = order.order_number or str(order.order_id)
    recorded = await record_flow(
        tx, FLOWS[CROSS_SELL], cause=event, store_id=order.store_id, customer_key=order.customer.key,
        message_id=cross_sell_id(order.store_id, order.order_id),
        draft=lambda s: cross_sell_draft(to, products, first_name=first_name, number=number, customer_locale=locale,
                                         store=s, currency=order.currency),
        order_id=order.order_id, order_status=tracked.status)
    if recorded is not None:
        await tx.message_products.attach(recorded, store_id=order.store_id, customer_key=order.customer.key,
                                         flow=CROSS_SELL, product_ids=[p.product_id for p in products])
    return recorded


async def recheck_products(message: StoredMessage, tx: Any, store: StoreSettings) -> StoredMessage | Cancel:
    """The message as it may go now: unchanged, re-rendered without the products that can't be
    bought any more (or were bought meanwhile), or Cancel when none is left."""
    ids = await tx.message_products.of(message.message_id)
    if not ids:
        return message
    products = await tx.catalogue.get_many(message.store_id, ids)
    profile = await tx.profiles.get(message.customer_key) if message.flow == CROSS_SELL else None
    still = choose(ids, products, exclude=profile.products if profile else [], k=len(ids))  # owned: cross-sell
    if not still:
        return Cancel(NOTHING_LEFT)
    if len(still) == len(ids):
        return message
    order = await tx.orders.last_event(message.store_id, message.order_id) if message.order_id is not None else None
    customer = await tx.customers.get(message.customer_key)
    number = (order or {}).get("order_number") or (str(message.order_id) if message.order_id is not None else None)
    draft = cross_sell_draft(message.to_address, still, first_name=customer.first_name if customer else None,
                             number=number, customer_locale=message.locale, store=store,
                             currency=(order or {}).get("currency"))
    log.info("cross_sell_products_dropped", message_id=message.message_id, dropped=len(ids) - len(still))
    return replace(message, subject=draft.subject, body_text=draft.text, body_html=draft.html)
