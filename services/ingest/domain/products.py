"""Products: a WooCommerce product payload + the last snapshot → catalog.v1 events.

product.created / .updated / .restored / .published → product.upserted, but only when something
the event carries changed (WooCommerce re-sends products for stock and sales counters, and
shuffles related_ids on every request); product.deleted ({"id"}: moved to the trash) →
product.deleted. Variations arrive on the same topics with their own id and type "variation".

Key: shared.ids.product_key ("<store>:p<id>"); catalog.v1 is compacted, so the last record per
key is the product's state. Ids: upserted (date_modified_gmt + hash of the carried data),
deleted (the last known date_modified_gmt and content hash, so a second trash after a restore is a
new fact).
"""
from __future__ import annotations

import html
from datetime import datetime

from services.ingest.domain.derivation import (APPLIED, DUPLICATE, Derivation, StoreContext, build_event,
                                               not_a_resource, nothing, resource_id)
from services.ingest.domain.money import MAX_DECIMALS, decimals_of, fmt, to_decimal
from services.ingest.domain.freshness import advance, carried_hash, content_hash, stale_or_duplicate
from services.ingest.domain.text import text_or_none
from services.ingest.domain.times import parse_gmt, stamp
from shared.events.catalog import ProductDeleted, ProductUpserted, Term
from shared.events.envelope import Outgoing, utcnow
from shared.ids import product_key
from shared.events.registry import CATALOG

PRODUCT_TOPICS = frozenset({"product.created", "product.updated", "product.deleted", "product.restored",
                            "product.published"})
SNAPSHOT_VERSION = 1




def _price(value: object, field: str) -> str | None:
    """A price as WooCommerce wrote it, or None for "" (no price); checked to be a decimal within
    domain/money.py's range. One with more than 6 decimals (a tax or currency plugin's division)
    is rounded to 6."""
    text = text_or_none(value)
    if text is None:
        return None
    amount = to_decimal(text, field)
    return fmt(amount, MAX_DECIMALS) if decimals_of(text) > MAX_DECIMALS else text


def _terms(values: object) -> list[Term]:
    return [Term(id=int(t["id"]), name=html.unescape(str(t.get("name") or "")), slug=str(t.get("slug") or ""))
            for t in values if isinstance(t, dict) and "id" in t] if isinstance(values, list) else []


def _ids(values: object) -> list[int]:
    return [int(v) for v in values if str(v).strip().isdigit()] if isinstance(values, list) else []


USAGE_META_KEY = "_aftercart_usage_period_days"


def _usage_days(payload: dict) -> int | None:
    """Days one unit lasts, from the product meta a store sets for replenishment reminders."""
    for meta in payload.get("meta_data") or []:
        if isinstance(meta, dict) and meta.get("key") == USAGE_META_KEY:
            text = str(meta.get("value") or "").strip()
            return int(text) if text.isdigit() and 0 < int(text) <= 3650 else None
    return None


def _carried(data: ProductUpserted) -> str:
    """What makes an upsert news: everything carried but related_ids (a new random pick on every
    request), and usage_period_days only once a store sets it (unset products keep their hash)."""
    exclude = {"related_ids"} | ({"usage_period_days"} if data.usage_period_days is None else set())
    return carried_hash(data, exclude=exclude)


def _image(payload: dict) -> str | None:
    images = payload.get("images")
    if isinstance(images, list) and images and isinstance(images[0], dict):
        return text_or_none(images[0].get("src"))
    image = payload.get("image")  # variations have one image object
    return text_or_none(image.get("src")) if isinstance(image, dict) else None


def _product_data(store: StoreContext, payload: dict, product_id: int) -> ProductUpserted:
    return ProductUpserted(
        store_id=store.store_id, product_id=product_id, parent_id=int(payload.get("parent_id") or 0) or None,
        type=text_or_none(payload.get("type")) or "simple", name=html.unescape(str(payload.get("name") or "")),
        sku=text_or_none(payload.get("sku")), status=text_or_none(payload.get("status")) or "publish",
        price=_price(payload.get("price"), "price"),
        regular_price=_price(payload.get("regular_price"), "regular_price"),
        sale_price=_price(payload.get("sale_price"), "sale_price"), stock_status=text_or_none(payload.get("stock_status")),
        categories=_terms(payload.get("categories")), tags=_terms(payload.get("tags")),
        cross_sell_ids=_ids(payload.get("cross_sell_ids")), upsell_ids=_ids(payload.get("upsell_ids")),
        related_ids=sorted(set(_ids(payload.get("related_ids")))), usage_period_days=_usage_days(payload),
        permalink=text_or_none(payload.get("permalink")), image=_image(payload))


def _event(store: StoreContext, product_id: int, event_type: str, moment: str | None, time: datetime,
           data: ProductUpserted | ProductDeleted, discriminator: object = None) -> Outgoing:
    return build_event(store, topic=CATALOG.name, key=product_key(store.store_id, product_id), resource="product",
                       rid=product_id, moment=moment, event_type=event_type, discriminator=discriminator,
                       subject=f"product/{product_id}", time=time, data=data)


def _deleted(store: StoreContext, prev: dict, product_id: int, now: datetime) -> Derivation:
    if prev.get("deleted"):
        return nothing(DUPLICATE)
    last_hash = (prev.get("hashes") or [None])[-1]
    event = _event(store, product_id, "product.deleted", prev.get("modified"), now,
                   ProductDeleted(store_id=store.store_id, product_id=product_id),
                   discriminator=last_hash[:16] if last_hash else None)
    snapshot = {"v": SNAPSHOT_VERSION, "modified": None, "hashes": [], "carry": None, **prev, "deleted": True}
    return Derivation(events=[event], snapshot=snapshot, outcome=APPLIED)


def derive_product_events(store: StoreContext, previous: dict | None, payload: dict, topic: str, *,
                          now: datetime | None = None) -> Derivation:
    """Events for one product delivery, and the snapshot to store (see the module docstring).
    `now` is the time of product.deleted (the {"id"} body has no date); defaults to the clock."""
    if (refused := not_a_resource(payload, topic, PRODUCT_TOPICS, "product")) is not None:
        return refused
    now = now or utcnow()
    prev = previous or {}
    product_id = resource_id(payload)
    if topic == "product.deleted" or payload.get("status") == "trash":
        return _deleted(store, prev, product_id, now)
    modified_at = parse_gmt(payload.get("date_modified_gmt"), "date_modified_gmt")
    modified, digest = stamp(modified_at), content_hash(payload)
    if (old := stale_or_duplicate(previous, modified, digest)) is not None:
        return old
    data = _product_data(store, payload, product_id)
    carry = _carried(data)
    events = []
    # After a trash, the restored product is news even if its content is what it was.
    if carry != prev.get("carry") or prev.get("deleted"):
        events.append(_event(store, product_id, "product.upserted", modified, modified_at or now, data,
                             discriminator=carry[:16]))
    snapshot = {"v": SNAPSHOT_VERSION, **advance(previous, modified, digest), "carry": carry, "deleted": False}
    return Derivation(events=events, snapshot=snapshot, outcome=APPLIED)
