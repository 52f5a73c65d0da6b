"""What each order event says (domain/messages.py), per locale: subjects, text and HTML bodies,
amounts per currency, escaping, the bad news said (and no money promised that wasn't paid), the
fallback to English, and who gets nothing."""
from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

from services.ingest.domain import StoreContext, derive_order_events
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.messages import (ONCE_PER_ORDER, SHIPPED, TEMPLATES, TEMPLATES_DIR, MessageConfig,
                                               TemplateSet, compose, message_id, thanks_on_placement, was_paid)
from shared.events.orders import OrderEvent
from shared.events.registry import model_for
from tests.support.ingest_payloads import order_state
from tests.unit.notifier.orders import order_data, refund, tracking

NBSP = "\u00a0"
DE = MessageConfig(default_locale="de")
PAY_URL = "https://shop.example/checkout/order-pay/727/?pay_for_order=true&key=wc_order_abc"


def _order(event_type: str = "order.placed", status: str = "processing", **over) -> OrderEvent:
    return model_for(event_type, 1).model_validate(order_data("s1", 727, status, **over))


def _say(event_type: str, status: str = "processing", config: MessageConfig = MessageConfig(), **over):
    return compose(event_type, _order(event_type, status, **over), config)


# A receipt with every line: a discount, shipping and tax (50.00 after a 5.00 discount + 4.90 + 9.90).
RECEIPT = {"subtotal_after_discounts": "45.00", "discount": "5.00", "shipping": "4.90", "tax": "9.90",
           "total": "59.80",
           "line_items": [{"line_id": 1, "product_id": 9, "name": "Blue <Mug>", "quantity": 2, "total": "18.00"},
                          {"line_id": 2, "product_id": 10, "name": "Tea", "quantity": 1, "total": "27.00"}]}


# --- the thank-you -------------------------------------------------------------------------------

def test_thank_you_in_english_names_the_customer_items_totals_and_what_happens_next():
    d = _say("order.placed", **RECEIPT)
    assert (d.template, d.to_address, d.subject) == ("order_thanks", "ana@example.com", "Thank you for your order #727")
    assert d.text.startswith("Hi Ana,\n\nThank you for your order #727, placed on March 1, 2026.")
    assert "- 2 x Blue <Mug> (€18.00)\n- 1 x Tea (€27.00)\n" in d.text
    assert ("Subtotal: €50.00\nDiscount: -€5.00\nShipping: €4.90\nTax: €9.90\nTotal: €59.80\n") in d.text
    assert "What happens next: we're getting your order ready and will write again as soon as it ships" in d.text
    assert '<html lang="en">' in d.html
    assert ">Blue &lt;Mug&gt;</td>" in d.html and ">2</td>" in d.html and ">€18.00</td>" in d.html
    assert ">€59.80</td>" in d.html and ">-€5.00<" in d.html and ">€4.90<" in d.html
    assert "<strong>What happens next:</strong>" in d.html


def test_thank_you_in_german():
    d = _say("order.placed", locale="de_DE", **RECEIPT)
    assert d.subject == "Vielen Dank für Ihre Bestellung #727"
    assert d.text.startswith("Hallo Ana,\n\nvielen Dank für Ihre Bestellung #727 vom 1. März 2026.")
    assert f"- 2 x Blue <Mug> (18,00{NBSP}€)\n- 1 x Tea (27,00{NBSP}€)\n" in d.text
    assert (f"Zwischensumme: 50,00{NBSP}€\nRabatt: -5,00{NBSP}€\nVersand: 4,90{NBSP}€\nSteuer: 9,90{NBSP}€\n"
            f"Gesamtsumme: 59,80{NBSP}€\n") in d.text
    assert "Wie es weitergeht:" in d.text and "Thank you" not in d.text and "Total" not in d.text
    assert '<html lang="de-DE">' in d.html
    assert ">Gesamtsumme</th>" in d.html and f">59,80{NBSP}€</td>" in unescape(d.html)  # &nbsp; in the HTML
    assert "Blue &lt;Mug&gt;" in d.html


def test_lines_without_a_discount_shipping_or_tax_are_left_out():
    d = _say("order.placed", tax="0.00", total="50.00")  # the sample: no discount, free shipping
    assert "Subtotal: €50.00\nTotal: €50.00\n" in d.text
    assert "Discount" not in d.text and "Shipping" not in d.text and "Tax" not in d.text


@pytest.mark.parametrize("currency,locale,total,line,expected_total,expected_line", [
    ("JPY", "en", "1500", "700", "¥1,500", "¥700"),
    ("JPY", "de_DE", "1500", "700", f"1.500{NBSP}¥", f"700{NBSP}¥"),
    ("KWD", "en", "12.5", "6.25", "KWD12.500", "KWD6.250"),
    ("USD", "en_US", "29.35", "6", "$29.35", "$6.00"),
    ("EUR", "de_DE", "39.98", "19.99", f"39,98{NBSP}€", f"19,99{NBSP}€"),
])
def test_amounts_follow_the_currency_and_the_locale(currency, locale, total, line, expected_total, expected_line):
    d = _say("order.placed", locale=locale, currency=currency, total=total, subtotal_after_discounts=line,
             tax="0", shipping="0", discount="0",
             line_items=[{"line_id": 1, "product_id": 9, "name": "Cup", "quantity": 1, "total": line}])
    label = "Gesamtsumme" if locale.startswith("de") else "Total"
    assert f"{label}: {expected_total}\n" in d.text and f"- 1 x Cup ({expected_line})" in d.text
    assert f">{expected_total}</td>" in unescape(d.html)
    assert "1500.00" not in d.text and "12.50 " not in d.text


def test_html_escapes_what_the_store_sent_and_text_keeps_it_as_is():
    d = _say("order.placed", first_name="<b>Ana</b>", line_items=[
        {"line_id": 1, "product_id": 9, "name": "<script>alert(1)</script> & Co", "quantity": 1, "total": "50.00"}])
    assert "<script>" not in d.html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in d.html
    assert ">Hi &lt;b&gt;Ana&lt;/b&gt;,</p>" in d.html
    assert "- 1 x <script>alert(1)</script> & Co (€50.00)" in d.text  # plain text is not HTML


# --- on hold and payment failed ------------------------------------------------------------------

def test_on_hold_says_we_wait_for_the_payment_with_the_order_summary():
    d = _say("order.on_hold", "on-hold")
    assert (d.template, d.subject) == ("order_on_hold", "Order #727: we're waiting for your payment")
    assert ("We've got your order #727, placed on March 1, 2026. It is on hold until your payment of €59.90 "
            "arrives: we'll ship it as soon as it does") in d.text
    assert "- 2 x Blue <Mug> (€20.00)" in d.text and "Total: €59.90" in d.text
    assert "your payment of <strong>€59.90</strong> arrives" in d.html and "Blue &lt;Mug&gt;" in d.html


def test_on_hold_in_german():
    d = _say("order.on_hold", "on-hold", locale="de")
    assert d.subject == "Bestellung #727: Wir warten auf Ihre Zahlung"
    assert f"Sie wartet auf Ihre Zahlung über 59,90{NBSP}€: Sobald sie eingeht, versenden wir" in d.text
    assert f"Gesamtsumme: 59,90{NBSP}€" in d.text and '<html lang="de">' in d.html


def test_a_paid_order_put_on_hold_is_not_asked_for_money():
    d = _say("order.on_hold", "on-hold", previous_status="processing")
    assert d.subject == "Your order #727 is on hold"
    assert "on hold for the moment" in d.text and "payment" not in d.text.lower()


def test_failed_payment_gives_the_pay_link():
    d = _say("order.failed", "failed", payment_url=PAY_URL)
    assert (d.template, d.subject) == ("order_failed", "Payment for your order #727 failed")
    assert "The payment of €59.90 for your order #727 didn't go through" in d.text
    assert f"You can pay for it here; your order is kept just as it was:\n{PAY_URL}\n" in d.text
    assert f'href="{PAY_URL.replace("&", "&amp;")}"' in d.html and ">Pay for your order</a>" in d.html


def test_failed_payment_in_german():
    d = _say("order.failed", "failed", locale="de-DE", payment_url=PAY_URL)
    assert d.subject == "Zahlung für Ihre Bestellung #727 fehlgeschlagen"
    assert f"die Zahlung über 59,90{NBSP}€ für Ihre Bestellung #727 ist leider nicht durchgegangen" in d.text
    assert PAY_URL in d.text and ">Bestellung bezahlen</a>" in d.html


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "ftp://x.example/pay"])
def test_failed_payment_without_a_usable_link_suggests_ordering_again(url):
    d = _say("order.failed", "failed", payment_url=url)
    assert "place it again in our shop" in d.text
    assert "href" not in d.html and "javascript" not in d.html and "ftp:" not in d.text


# --- cancelled: a refund only when something was paid --------------------------------------------

@pytest.mark.parametrize("locale", [None, "de_DE"])
@pytest.mark.parametrize("previous", [None, "pending", "on-hold", "failed"])
def test_cancelled_unpaid_order_talks_no_money(locale, previous):
    d = _say("order.cancelled", "cancelled", locale=locale, previous_status=previous)
    for body in (d.text, d.html):
        lowered = body.lower()
        assert "refund" not in lowered and "erstatt" not in lowered and "money" not in lowered
        assert "geld" not in lowered and "charged" not in lowered
        assert "59.90" not in body and "59,90" not in body
    assert d.subject == ("Ihre Bestellung #727 wurde storniert" if locale else "Your order #727 was cancelled")
    assert ("wurde storniert" if locale else "your order #727 was cancelled") in d.text


@pytest.mark.parametrize("how", [{"previous_status": "processing"}, {"previous_status": "completed"},
                                 {"dates": {"created": "2026-03-01T09:00:00Z", "paid": "2026-03-01T09:01:00Z"}}])
def test_cancelled_paid_order_says_the_refund_follows(how):
    d = _say("order.cancelled", "cancelled", **how)
    assert "You'll get your money back (€59.90): we'll write again as soon as the refund is issued." in d.text
    assert "(<strong>€59.90</strong>)" in d.html
    g = _say("order.cancelled", "cancelled", locale="de", **how)
    assert f"Sie bekommen Ihr Geld (59,90{NBSP}€) zurück" in g.text


def test_was_paid():
    assert was_paid(_order(status="processing")) and was_paid(_order(status="cancelled", previous_status="completed"))
    assert was_paid(_order(status="cancelled", dates={"paid": "2026-03-01T09:01:00Z"}))
    assert not was_paid(_order(status="cancelled", previous_status="on-hold"))
    assert not was_paid(_order(status="on-hold"))


# --- refunds, shipments, completion --------------------------------------------------------------

def test_partial_refund_says_amount_and_the_total_so_far():
    d = _say("order.refunded", refund={**refund(3, "16.2"), "refunded_total_so_far": "21.20"})
    assert d.subject == "We refunded €16.20 for order #727"
    assert "We have refunded €16.20 for your order #727.\nThis is a partial refund: €21.20 of €59.90 refunded so far." \
        in d.text
    assert "fully refunded" not in d.text and "<strong>€16.20</strong>" in d.html


def test_full_refund_says_so():
    d = _say("order.refunded", refund={**refund(4, "38.70", is_full=True), "refunded_total_so_far": "59.90"})
    assert d.subject == "We refunded €38.70 for order #727"
    assert "Your order is now fully refunded: €59.90 in all." in d.text and "partial" not in d.text


def test_refund_in_german_and_in_yen():
    d = _say("order.refunded", locale="de_DE", refund=refund(3, "16.2"))
    assert d.subject == f"Wir haben 16,20{NBSP}€ für Bestellung #727 erstattet"
    assert f"Das ist eine Teilerstattung: Bisher wurden 16,20{NBSP}€ von 59,90{NBSP}€ erstattet." in d.text
    y = _say("order.refunded", currency="JPY", total="1500", refund=refund(3, "500"))
    assert y.subject == "We refunded ¥500 for order #727" and "¥500 of ¥1,500 refunded so far" in y.text


def test_shipped_carries_tracking_and_the_day():
    d = _say("order.shipped", "completed", tracking={**tracking(), "shipped_at": "2026-03-02T10:00:00Z"})
    assert (d.template, d.subject) == ("order_shipped", "Your order #727 is on its way")
    assert "has shipped with fedex on March 2, 2026." in d.text and "Tracking number: 1175" in d.text
    assert 'href="https://t.example/1175"' in d.html
    g = _say("order.shipped", "completed", locale="de", tracking={**tracking(), "shipped_at": "2026-03-02T10:00:00Z"})
    assert g.subject == "Ihre Bestellung #727 ist unterwegs"
    assert "wurde am 2. März 2026 mit fedex verschickt." in g.text and "Sendungsnummer: 1175" in g.text


def test_shipped_without_carrier_or_url_says_only_the_number():
    d = _say("order.shipped", tracking=tracking(carrier=None, url=None))
    assert "has shipped." in d.text and " with " not in d.text
    assert "Tracking number: 1175" in d.text and "Track it here" not in d.text and "href" not in d.html


@pytest.mark.parametrize("locale,subject,says", [
    (None, "Your order #727 is complete", "Order #727 is complete."),
    ("de_DE", "Ihre Bestellung #727 ist abgeschlossen", "Ihre Bestellung #727 ist abgeschlossen."),
])
def test_completed(locale, subject, says):
    d = _say("order.completed", "completed", locale=locale)
    assert (d.template, d.subject) == ("order_completed", subject) and says in d.text


# --- locale choice and fallback ------------------------------------------------------------------

def test_store_default_locale_applies_when_the_customer_has_none():
    assert _say("order.placed", config=DE).subject == "Vielen Dank für Ihre Bestellung #727"
    assert _say("order.placed", config=DE, locale="en_US").subject == "Thank you for your order #727"


@pytest.mark.parametrize("locale", ["xx", "fr_FR", "tlh", ""])
def test_unknown_or_untranslated_locales_fall_back_to_english(locale):
    d = _say("order.placed", locale=locale)
    assert d.subject == "Thank you for your order #727" and "Total: €59.90" in d.text
    assert '<html lang="en">' in d.html


def test_british_english_keeps_its_own_dates():
    d = _say("order.placed", locale="en_GB")
    assert "placed on 1 March 2026" in d.text and '<html lang="en-GB">' in d.html


def test_every_message_is_shipped_whole_in_english_and_german():
    catalogue = SHIPPED.catalogue()
    assert {"en", "de"} <= set(catalogue)
    assert catalogue["en"] == catalogue["de"] == frozenset(f.template for f in FLOWS.values())


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("event_type", sorted(TEMPLATES))
def test_every_template_renders_in_every_locale_with_strict_undefined(event_type, locale):
    extra = {"order.shipped": {"tracking": tracking()}, "order.refunded": {"refund": refund(1, "5")}}
    d = _say(event_type, locale=locale, first_name=None, payment_url=PAY_URL, **extra.get(event_type, {}))
    assert d.template == TEMPLATES[event_type] and d.subject and "\n" not in d.subject
    assert d.text.startswith("Hi there," if locale == "en" else "Hallo,")
    assert f'<html lang="{locale}">' in d.html and d.html.rstrip().endswith("</html>")
    assert "None" not in d.text and "None" not in d.html


def _one_template_locale(tmp_path: Path) -> TemplateSet:
    """The shipped templates plus a French folder that has only order_completed (and no partials)."""
    for folder in ("en", "de"):
        (tmp_path / folder).mkdir()
        for f in (TEMPLATES_DIR / folder).iterdir():
            (tmp_path / folder / f.name).write_text(f.read_text())
    fr = tmp_path / "fr"
    fr.mkdir()
    (fr / "order_completed.subject.j2").write_text("Votre commande n°{{ number }} est terminée")
    (fr / "order_completed.txt.j2").write_text("Bonjour {{ first_name }},\n\nTotal : {{ total }}\n")
    (fr / "order_completed.html.j2").write_text(
        '{% extends "_layout.html.j2" %}{% block body %}<p>Bonjour {{ first_name }}</p>{% endblock %}')
    (fr / "order_thanks.txt.j2").write_text("Merci !\n")  # incomplete: no subject, no HTML
    return TemplateSet(tmp_path)


def test_a_new_locale_is_a_folder_and_a_missing_translation_falls_back_to_english(tmp_path):
    templates = _one_template_locale(tmp_path)
    assert templates.catalogue()["fr"] == {"order_completed"}
    done = compose("order.completed", _order("order.completed", "completed", locale="fr_FR"), templates=templates)
    assert done.subject == "Votre commande n°727 est terminée"
    assert done.text == f"Bonjour Ana,\n\nTotal : 59,90{NBSP}€"  # French formatting with the French text
    assert '<html lang="fr-FR">' in done.html  # the layout it didn't translate comes from English
    thanks = compose("order.placed", _order(locale="fr_FR"), templates=templates)
    # No whole French thank-you: English, formatting included, rather than half-translated.
    assert thanks.subject == "Thank you for your order #727" and "Total: €59.90" in thanks.text
    assert "Merci" not in thanks.text and '<html lang="en">' in thanks.html


# --- who gets nothing, ids, placement ------------------------------------------------------------

@pytest.mark.parametrize("email", [None, "", "   ", "not-an-address"])
def test_no_usable_email_means_no_message(email):
    assert _say("order.placed", email=email) is None
    assert _say("order.failed", "failed", email=email) is None


@pytest.mark.parametrize("event_type", ["order.status_changed", "order.deleted", "order.restored", "order.paid"])
def test_types_without_a_template_say_nothing(event_type):
    assert compose(event_type, _order()) is None


def test_address_is_trimmed():
    assert _say("order.placed", email="  ana@example.com ").to_address == "ana@example.com"


def test_the_subject_is_one_line_whatever_the_order_number_holds():
    d = _say("order.completed", "completed", order_number="727\r\nBcc: eve@example.com")
    assert d.subject == "Your order #727 Bcc: eve@example.com is complete"


def test_empty_order_number_falls_back_to_the_id():
    assert _say("order.completed", "completed", order_number="").subject == "Your order #727 is complete"


@pytest.mark.parametrize("status,says_thanks", [
    ("processing", True), ("completed", True),
    ("on-hold", False),  # order.on_hold says it (with the items); the payment brings the thank-you
    ("pending", False), ("failed", False), ("cancelled", False), ("checkout-draft", False)])
def test_thanks_on_placement_only_when_paid(status, says_thanks):
    assert thanks_on_placement(_order(status=status)) is says_thanks


def test_message_ids_once_per_order_or_per_event():
    order, other_order = _order(), OrderEvent.model_validate(order_data("s1", 728))
    assert {"order_on_hold", "order_failed", "order_thanks", "order_welcome", "order_completed",
            "order_cancelled"} == ONCE_PER_ORDER
    for template in ONCE_PER_ORDER:  # once per order: the same id whatever the cause
        assert message_id(cause_event_id="e1", order=order, template=template) == \
            message_id(cause_event_id="e2", order=order, template=template)
        assert message_id(cause_event_id="e1", order=order, template=template) != \
            message_id(cause_event_id="e1", order=other_order, template=template)
    assert message_id(cause_event_id="e1", order=order, template="order_on_hold") != \
        message_id(cause_event_id="e1", order=order, template="order_failed")
    # per event: each refund and shipment is said
    assert message_id(cause_event_id="e1", order=order, template="order_refunded") != \
        message_id(cause_event_id="e2", order=order, template="order_refunded")


def test_the_pay_link_woocommerce_sends_reaches_the_failed_message():
    # Ingest copies the payload's payment_url into the event; the failed message links it.
    store = StoreContext(store_id="s1")
    state = order_state("failed", 0)
    state["payment_url"] = PAY_URL
    events = derive_order_events(store, None, state, "order.created").events
    failed = next(e.envelope for e in events if e.envelope.type == "order.failed")
    assert failed.data["payment_url"] == PAY_URL
    d = compose("order.failed", model_for("order.failed", 1).model_validate(failed.data))
    assert PAY_URL in d.text
