"""Shipments announced in an order's meta_data by tracking plugins → one Shipment per number.

Meta keys read (checked against the plugins' code where noted; the rest are documented by the
plugins or widely used by integrations, and are read defensively):
- WooCommerce Shipment Tracking ≥1.4 and Advanced Shipment Tracking (zorem), both
  `_wc_shipment_tracking_items`: a list of {tracking_provider, custom_tracking_provider,
  custom_tracking_link, tracking_number, date_shipped (unix seconds as a string), tracking_id}
  — see the order-partially-refunded fixture. AST may add `products_list` [{item_id, qty}]
  for partial shipments [unverified shape].
- WooCommerce Shipment Tracking before 1.4: `_tracking_number`, `_tracking_provider` /
  `_custom_tracking_provider`, `_tracking_link` / `_custom_tracking_link`, `_date_shipped`
  (its uninstall routine lists these keys).
- AfterShip (AfterShip/aftership-apps-woocommerce, AfterShip_Actions::add_tracking_item):
  `_aftership_tracking_items`: a list of {slug, tracking_number, tracking_id, additional_fields
  {ship_date "Y-m-d", …}, metrics{created_at}}; it also mirrors the first item into
  `_aftership_tracking_number` / `_aftership_tracking_provider_name`, and older versions used
  `_aftership_tracking_provider` and `_aftership_tracking_shipdate`. `line_items` [{id}] on an
  item is read for partial shipments [unverified shape].
- YITH WooCommerce Order & Shipment Tracking: `ywot_tracking_code`, `ywot_carrier_name`
  (free) / `ywot_carrier_id` (premium), `ywot_carrier_url`, `ywot_pick_up_date`; the same keys
  with a leading underscore are accepted too (some integrations write them so).
A number is a shipment once, whichever plugin (or several) reports it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from services.ingest.domain.times import from_loose_date, from_unix

# Public tracking pages for the carriers most plugins use, by normalized carrier name (as in
# WooCommerce Shipping's TRACKING_URL_MAP). Used only when the plugin stored no link.
CARRIER_URLS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction.action?tLabels={number}",
    "fedex": "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers={number}",
    "ups": "https://www.ups.com/track?loc=en_US&tracknum={number}",
    "dhlexpress": "https://www.dhl.com/en/express/tracking.html?AWB={number}&brand=DHL",
}


@dataclass(frozen=True)
class Shipment:
    number: str
    carrier: str | None = None
    url: str | None = None
    shipped_at: datetime | None = None
    line_ids: tuple[int, ...] | None = None

    @property
    def ident(self) -> str:
        return tracking_ident(self.number)


def tracking_ident(number: str) -> str:
    """The identity of a tracking number: carriers ignore case and spacing, so do we."""
    return "".join(number.split()).upper()


def _text(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _carrier_url(carrier: str | None, number: str) -> str | None:
    template = CARRIER_URLS.get(re.sub(r"[^a-z0-9]", "", (carrier or "").lower()))
    return template.format(number=quote(number, safe="")) if template else None


def _line_ids(entries: object, key: str) -> tuple[int, ...] | None:
    if not isinstance(entries, list):
        return None
    ids = [int(e[key]) for e in entries
           if isinstance(e, dict) and str(e.get(key, "")).strip().isdigit()]
    return tuple(ids) or None


def _make(number: object, carrier: object, url: object, shipped_at: datetime | None,
          line_ids: tuple[int, ...] | None = None) -> Shipment | None:
    num = _text(number)
    if num is None:
        return None
    name = _text(carrier)
    return Shipment(number=num, carrier=name, url=_text(url) or _carrier_url(name, num),
                    shipped_at=shipped_at, line_ids=line_ids)


def _from_shipment_tracking_items(items: object) -> Iterable[Shipment | None]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            yield _make(item.get("tracking_number"),
                        _text(item.get("custom_tracking_provider")) or item.get("tracking_provider"),
                        item.get("custom_tracking_link"), from_unix(item.get("date_shipped")),
                        _line_ids(item.get("products_list"), "item_id"))


def _from_aftership_items(items: object) -> Iterable[Shipment | None]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            extra = item.get("additional_fields") if isinstance(item.get("additional_fields"), dict) else {}
            yield _make(item.get("tracking_number"), item.get("slug"), None,
                        from_loose_date(extra.get("ship_date")), _line_ids(item.get("line_items"), "id"))


def _first(meta: dict[str, object], *keys: str) -> object:
    for key in keys:
        if _text(meta.get(key)) is not None:
            return meta[key]
    return None


def _from_single_keys(meta: dict[str, object]) -> Iterable[Shipment | None]:
    yield _make(meta.get("_tracking_number"),
                _first(meta, "_custom_tracking_provider", "_tracking_provider"),
                _first(meta, "_custom_tracking_link", "_tracking_link"), from_unix(meta.get("_date_shipped")))
    yield _make(meta.get("_aftership_tracking_number"),
                _first(meta, "_aftership_tracking_provider_name", "_aftership_tracking_provider"), None,
                from_loose_date(meta.get("_aftership_tracking_shipdate")))
    yield _make(_first(meta, "ywot_tracking_code", "_ywot_tracking_code"),
                _first(meta, "ywot_carrier_name", "_ywot_carrier_name", "ywot_carrier_id", "_ywot_carrier_id"),
                _first(meta, "ywot_carrier_url", "_ywot_carrier_url"),
                from_loose_date(_first(meta, "ywot_pick_up_date", "_ywot_pick_up_date")))


# Every meta key read above: an order without any of them (most orders) is done at once.
TRACKING_KEYS = frozenset({
    "_wc_shipment_tracking_items", "_aftership_tracking_items", "_tracking_number", "_aftership_tracking_number",
    "ywot_tracking_code", "_ywot_tracking_code"})


def shipments(meta_data: object) -> list[Shipment]:
    """Every distinct tracking number in an order's meta_data, richest source first."""
    meta: dict[str, object] = {}
    for entry in meta_data if isinstance(meta_data, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            meta.setdefault(entry["key"], entry.get("value"))  # first wins, like get_meta($k, true)
    if TRACKING_KEYS.isdisjoint(meta):
        return []
    found = [*_from_shipment_tracking_items(meta.get("_wc_shipment_tracking_items")),
             *_from_aftership_items(meta.get("_aftership_tracking_items")),
             *_from_single_keys(meta)]
    result: dict[str, Shipment] = {}
    for shipment in found:
        if shipment is not None and shipment.ident not in result:
            result[shipment.ident] = shipment
    return list(result.values())
