"""An order email shows what WooCommerce's own order emails show, in the store's branding: the
order table (each line's name, quantity and price), subtotal, discount, shipping, tax, payment
method, total, the billing and shipping addresses, the store's header and footer — with its CSS
inlined for mail clients, in English and German, each currency with its own decimals. The order
comes from WooCommerce's REST docs payload through ingest, as it reaches the notifier."""
from __future__ import annotations

import re
from html import unescape

import pytest
from babel import Locale

from services.ingest.domain import StoreContext, derive_order_events
from services.notifier.domain.email_html import on_colour
from services.notifier.domain.messages import compose
from services.notifier.domain.order_details import address_lines
from services.notifier.domain.store_settings import StoreSettings
from shared.events.orders import Address, OrderEvent
from tests.support.ingest_payloads import payload

NBSP = "\u00a0"
STORE = StoreSettings(store_name="Kaffee & Co", logo_url="https://cdn.kaffee.example/logo.png", brand_colour="#7a3e1d",
                      footer_address="Kaffee & Co GmbH\nHauptstraße 1\n10115 Berlin", support_email="help@kaffee.example",
                      support_url="https://kaffee.example/help")


def docs_order(**over) -> OrderEvent:
    state = payload("order.v3.docs.json")
    state["line_items"][0].update(subtotal="8.00", total="6.00")  # a 2.00 coupon on the first line
    state.update(discount_total="2.00", total="27.35", **over)
    data = derive_order_events(StoreContext(store_id="s1"), None, state, "order.created").events[0].envelope.data
    return OrderEvent.model_validate(data)


def text_of(html: str) -> str:
    """What a reader sees: tags gone, entities decoded, whitespace collapsed."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip(" ")  # no-break spaces stay


def test_the_order_email_shows_what_woocommerce_shows():
    d = compose("order.placed", docs_order(), store=STORE)
    seen = text_of(d.html)
    # The table: a header row, then each line's name, quantity and price (before discounts).
    assert "Product Quantity Price" in seen
    assert "Woo Single #1 2 $8.00" in seen
    assert "Ship Your Idea – Color: Black, Size: M Test SKU: Bar3 1 $12.00" in seen
    assert ("Subtotal $20.00 Discount -$2.00 Shipping $10.00 Tax $1.35 Payment method Direct Bank Transfer "
            "Total $27.35") in seen
    assert "Billing address John Doe 969 Market San Francisco, CA 94103 United States (555) 555-5555" in seen
    assert "Shipping address John Doe 969 Market San Francisco, CA 94103 United States" in seen
    # The text part says the same.
    assert "- 2 x Woo Single #1 ($8.00)\n" in d.text and "Payment method: Direct Bank Transfer\nTotal: $27.35\n" in d.text
    assert "Billing address:\n  John Doe\n  969 Market\n  San Francisco, CA 94103\n" in d.text


def test_the_store_header_and_footer_carry_its_branding():
    d = compose("order.placed", docs_order(), store=STORE)
    assert '<img src="https://cdn.kaffee.example/logo.png" alt="Kaffee &amp; Co"' in d.html
    assert "background-color: #7a3e1d" in d.html  # the brand bar
    footer = text_of(d.html.split('class="footer"', 1)[1].split(">", 1)[1])
    assert footer.startswith("Kaffee & Co Kaffee & Co GmbH Hauptstraße 1 10115 Berlin help@kaffee.example Help and contact")
    assert 'href="mailto:help@kaffee.example"' in d.html and 'href="https://kaffee.example/help"' in d.html


def test_css_is_inlined_for_mail_clients_and_the_layout_is_tables():
    html = compose("order.placed", docs_order(), store=STORE).html
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and styles[0].strip().startswith("@media")  # only what can't be inlined stays
    assert re.search(r'<td class="num" style="[^"]*text-align: right', html)
    assert re.search(r'<table class="container" role="presentation"[^>]*width="600"', html)
    assert "<div" not in html  # no CSS layout that Outlook's Word engine would break


def test_in_german_with_the_customers_language():
    order = docs_order(meta_data=[{"id": 1, "key": "wpml_language", "value": "de"}])
    d = compose("order.placed", order, store=STORE)
    seen = text_of(d.html)
    assert "Produkt Anzahl Preis" in seen and f"Woo Single #1 2 8,00{NBSP}$" in seen
    assert f"Zahlungsart Direct Bank Transfer Gesamtsumme 27,35{NBSP}$" in seen
    assert "Rechnungsadresse John Doe 969 Market San Francisco, CA 94103 Vereinigte Staaten" in seen
    assert "Lieferadresse" in seen and "Hilfe und Kontakt" in seen and "Diese E-Mail hat Ihnen Kaffee & Co geschickt." in seen
    assert '<html lang="de">' in d.html


@pytest.mark.parametrize("currency,total,line,expected_total,expected_line", [
    ("JPY", "1500", "1400", "¥1,500", "¥1,400"),
    ("KWD", "12.500", "10.250", "KWD12.500", "KWD10.250"),
])
def test_each_currency_keeps_its_own_minor_units_in_the_table(currency, total, line, expected_total, expected_line):
    state = payload("order.v3.docs.json")
    state.update(currency=currency, total=total, total_tax="0", shipping_total="0", discount_total="0",
                 line_items=[{**state["line_items"][0], "total": line, "subtotal": line, "quantity": 1}])
    data = derive_order_events(StoreContext(store_id="s1"), None, state, "order.created").events[0].envelope.data
    seen = text_of(compose("order.placed", OrderEvent.model_validate(data), store=STORE).html)
    assert f"Woo Single #1 1 {expected_line}" in seen and f"Total {expected_total}" in seen


def test_an_order_without_addresses_or_payment_method_leaves_them_out():
    bare = docs_order(billing={"email": "john.doe@example.com"}, shipping={}, payment_method_title="")
    d = compose("order.placed", bare, store=StoreSettings())
    seen = text_of(d.html)
    assert "Billing address" not in seen and "Shipping address" not in seen and "Payment method" not in seen
    assert "Total $27.35" in seen and "None" not in seen


def test_addresses_follow_their_countrys_format_and_the_readers_language():
    de = Address(first_name="Anna", last_name="Müller", company="Kaffee GmbH", address_1="Hauptstraße 5",
                 address_2="Hinterhaus", city="Berlin", postcode="10115", country="DE")
    assert address_lines(de, Locale.parse("de")) == ["Anna Müller", "Kaffee GmbH", "Hauptstraße 5", "Hinterhaus",
                                                    "10115 Berlin", "Deutschland"]
    us = Address(first_name="John", last_name="Doe", address_1="969 Market", city="San Francisco", state="CA",
                 postcode="94103", country="US", phone="(555) 555-5555")
    assert address_lines(us, Locale.parse("en")) == ["John Doe", "969 Market", "San Francisco, CA 94103",
                                                    "United States", "(555) 555-5555"]
    gb = Address(first_name="Jo", last_name="Bloggs", address_1="1 High St", city="London", postcode="SW1A 1AA",
                 country="GB")
    assert address_lines(gb, Locale.parse("de")) == ["Jo Bloggs", "1 High St", "London", "SW1A 1AA",
                                                    "Vereinigtes Königreich"]
    unknown = Address(first_name="X", city="Y", postcode="1", country="QQ")
    assert address_lines(unknown, Locale.parse("en")) == ["X", "1 Y", "QQ"]
    assert address_lines(None, Locale.parse("en")) == []


@pytest.mark.parametrize("background,text", [("#ffffff", "#111111"), ("#ffcc00", "#111111"), ("#2d6cdf", "#ffffff"),
                                             ("#7a3e1d", "#ffffff"), ("#000000", "#ffffff"), ("nonsense", "#ffffff")])
def test_text_on_the_brand_colour_is_whichever_reads(background, text):
    assert on_colour(background) == text


def test_a_digest_of_branded_emails_keeps_one_header_and_footer_around_every_part():
    from services.notifier.domain.digest import Part, build_digest

    thanks = compose("order.placed", docs_order(), store=STORE)
    done = compose("order.completed", docs_order(status="completed"), store=STORE)
    digest = build_digest([Part("m1", thanks.subject, thanks.text, thanks.html),
                           Part("m2", done.subject, done.text, done.html)])
    assert digest.html.count('class="footer"') == 1 and digest.html.count('class="header"') == 1
    seen = text_of(digest.html)
    assert "Thank you for your order #727" in seen and "Order #727 is complete." in seen
    assert digest.html.count('class="order"') == 2  # each part's own order table


def test_a_marketing_messages_unsubscribe_line_goes_inside_the_stores_footer():
    from services.notifier.domain.links import with_footer

    d = compose("order.placed", docs_order(), store=STORE)
    text, html = with_footer(d.text, d.html, "https://shop.example/u/t0k3n", "en")
    footer = html.split('class="footer"', 1)[1].split("</td>", 1)[0]
    assert 'href="https://shop.example/u/t0k3n"' in footer and html.count("t0k3n") == 1
    assert text.rstrip().endswith("Unsubscribe: https://shop.example/u/t0k3n")


def test_the_text_part_is_signed_by_the_store_and_a_store_without_details_adds_nothing():
    d = compose("order.placed", docs_order(), store=STORE)
    assert d.text.endswith("\n\n-- \nKaffee & Co\nKaffee & Co GmbH\nHauptstraße 1\n10115 Berlin\n"
                           "help@kaffee.example\nhttps://kaffee.example/help\n")
    assert "\n-- \n" not in compose("order.placed", docs_order(), store=StoreSettings()).text


def test_a_digest_keeps_one_signature_at_the_end():
    from services.notifier.domain.digest import Part, build_digest

    thanks = compose("order.placed", docs_order(), store=STORE)
    done = compose("order.completed", docs_order(status="completed"), store=STORE)
    text = build_digest([Part("m1", thanks.subject, thanks.text, thanks.html),
                         Part("m2", done.subject, done.text, done.html)]).text
    assert text.count("\n-- \n") == 1 and text.endswith("https://kaffee.example/help\n")
    assert "Thank you for your order #727" in text and "Order #727 is complete." in text
