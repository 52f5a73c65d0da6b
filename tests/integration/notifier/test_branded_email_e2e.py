"""An order email as the customer's mailbox gets it, through the real parts: an order event from
WooCommerce's REST docs payload (read by ingest's own mapping) published to real Kafka, the whole
notifier as bootstrap wires it (consumer loop, sender over the pooled SMTP mailer), and the email
read back from the real SMTP sink — from the store (its name, From, Reply-To), with a stable
Message-ID, text and HTML parts, the branded frame, the order table and both addresses."""
from __future__ import annotations

import re
from html import unescape

from services.ingest.domain import StoreContext, derive_order_events
from services.notifier.adapters.settings import PgSettings
from tests.integration.notifier.notifier_on_topics import notifier_on_topics
from tests.support.ingest_payloads import payload


def _docs_order(store: str, to: str) -> dict:
    state = payload("order.v3.docs.json")
    state["billing"]["email"] = to
    state["line_items"][0].update(subtotal="8.00", total="6.00")
    state.update(discount_total="2.00", total="27.35")
    return derive_order_events(StoreContext(store_id=store), None, state, "order.created").events[0].envelope.data


def _seen(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


async def test_the_order_email_arrives_from_the_store_with_its_branding_and_the_whole_order(stack, uid):
    store, to = f"b{uid}", f"brand-{uid}@example.com"
    async with notifier_on_topics(stack, uid) as it:
        await PgSettings(it.pool).put_store(store, {
            "store_name": f"Kaffee {uid}", "from_address": f"orders-{uid}@kaffee.example",
            "reply_to": f"help-{uid}@kaffee.example", "logo_url": "https://cdn.kaffee.example/logo.png",
            "brand_colour": "#7a3e1d", "footer_address": "Kaffee & Co GmbH\nHauptstraße 1\n10115 Berlin"})
        env = await it.publish("order.placed", _docs_order(store, to))
        [mail] = await it.mails(to, count=1)
    headers = mail["headers"]
    assert headers["From"] == f"Kaffee {uid} <orders-{uid}@kaffee.example>"
    assert headers["Reply-To"] == f"help-{uid}@kaffee.example"
    assert re.fullmatch(r"<[0-9a-f-]{36}@aftercart>", headers["Message-ID"])
    assert headers["X-Aftercart-Template"] in ("order_welcome", "order_thanks") and env.id
    assert mail["subject"].endswith("#727")
    text, html = mail["text"], mail["html"]
    assert "- 2 x Woo Single #1 ($8.00)" in text and "Payment method: Direct Bank Transfer\nTotal: $27.35" in text
    assert "Billing address:\n  John Doe\n  969 Market\n  San Francisco, CA 94103\n  United States" in text
    assert text.endswith(f"\n-- \nKaffee {uid}\nKaffee & Co GmbH\nHauptstraße 1\n10115 Berlin\n")  # the store's signature
    seen = _seen(html)
    assert "Product Quantity Price" in seen and "Woo Single #1 2 $8.00" in seen
    assert "Subtotal $20.00 Discount -$2.00 Shipping $10.00 Tax $1.35 Payment method Direct Bank Transfer" in seen
    assert "Shipping address John Doe 969 Market San Francisco, CA 94103 United States" in seen
    assert '<img src="https://cdn.kaffee.example/logo.png"' in html and "background-color: #7a3e1d" in html
    assert "Kaffee &amp; Co GmbH<br>Hauptstraße 1<br>10115 Berlin" in html
    assert "<style>" in html and "@media" in html and 'style="' in html  # inlined, the @media rule kept
