"""What each order event says (domain/messages.py): subjects, bodies, escaping, who gets nothing."""
from decimal import Decimal

import pytest

from services.notifier.domain.messages import compose, message_id, money, thanks_on_placement
from shared.events.orders import OrderEvent, OrderRefunded, OrderShipped
from tests.unit.notifier.orders import order_data, refund, tracking


def _order(**over) -> OrderEvent:
    return OrderEvent.model_validate(order_data("s1", 727, **over))


def test_thank_you_lists_items_and_total_and_escapes_html():
    d = compose("order.placed", _order())
    assert d.template == "order_thanks"
    assert d.to_address == "ana@example.com"
    assert d.subject == "Thank you for your order #727"
    assert d.text.startswith("Hi Ana,")
    assert "- 2 x Blue <Mug> (20.00 EUR)" in d.text and "- 1 x Tea (30.00 EUR)" in d.text
    assert "Total: 59.90 EUR" in d.text
    assert "Blue &lt;Mug&gt;" in d.html and "<Mug>" not in d.html
    assert "<strong>59.90 EUR</strong>" in d.html


def test_shipped_carries_tracking():
    d = compose("order.shipped", OrderShipped.model_validate(order_data("s1", 727, tracking=tracking())))
    assert d.template == "order_shipped" and d.subject == "Your order #727 is on its way"
    assert "with fedex" in d.text and "Tracking number: 1175" in d.text and "https://t.example/1175" in d.html


def test_shipped_without_carrier_or_url_says_only_the_number():
    d = compose("order.shipped", OrderShipped.model_validate(
        order_data("s1", 727, tracking=tracking(carrier=None, url=None))))
    assert "has shipped." in d.text and " with " not in d.text
    assert "Tracking number: 1175" in d.text and "Track it here" not in d.text and "href" not in d.html


def test_refund_says_amount_and_full():
    d = compose("order.refunded", OrderRefunded.model_validate(order_data("s1", 727, refund=refund(3, "16.2",
                                                                                                  is_full=True))))
    assert d.subject == "We refunded 16.20 EUR for order #727"
    assert "fully refunded" in d.text and "<strong>16.20 EUR</strong>" in d.html


def test_partial_refund_does_not_say_full():
    d = compose("order.refunded", OrderRefunded.model_validate(order_data("s1", 727, refund=refund(3, "5"))))
    assert d.subject == "We refunded 5.00 EUR for order #727" and "fully refunded" not in d.text


@pytest.mark.parametrize("event_type,template,subject,says", [
    ("order.completed", "order_completed", "Your order #727 is complete", "Order #727 is complete."),
    ("order.cancelled", "order_cancelled", "Your order #727 was cancelled", "order #727 (59.90 EUR) was cancelled"),
])
def test_completed_and_cancelled(event_type, template, subject, says):
    d = compose(event_type, _order())
    assert (d.template, d.subject) == (template, subject)
    assert says in d.text


@pytest.mark.parametrize("email", [None, "", "   ", "not-an-address"])
def test_no_usable_email_means_no_message(email):
    assert compose("order.placed", _order(email=email)) is None


def test_unknown_type_means_no_message():
    assert compose("order.on_hold", _order()) is None


def test_address_is_trimmed():
    assert compose("order.placed", _order(email="  ana@example.com ")).to_address == "ana@example.com"


def test_missing_first_name_falls_back():
    d = compose("order.completed", _order(first_name=None))
    assert d.text.startswith("Hi there,")


def test_empty_order_number_falls_back_to_the_id():
    assert compose("order.completed", _order(order_number="")).subject == "Your order #727 is complete"


def test_money_keeps_two_decimals():
    assert money("16.2") == "16.20" and money(None) == "0.00" and Decimal(money("1500")) == 1500


@pytest.mark.parametrize("status,says_thanks", [
    ("processing", True), ("completed", True), ("on-hold", True),
    ("pending", False), ("failed", False), ("cancelled", False), ("checkout-draft", False)])
def test_thanks_on_placement_only_when_paid(status, says_thanks):
    assert thanks_on_placement(_order(status=status)) is says_thanks


def test_message_ids_once_per_order_or_per_event():
    order, other_order = _order(), OrderEvent.model_validate(order_data("s1", 728))
    # once per order: the same id whatever the cause
    assert message_id(cause_event_id="e1", order=order, template="order_thanks") == \
        message_id(cause_event_id="e2", order=order, template="order_thanks")
    assert message_id(cause_event_id="e1", order=order, template="order_thanks") != \
        message_id(cause_event_id="e1", order=other_order, template="order_thanks")
    # per event: each refund and shipment is said
    assert message_id(cause_event_id="e1", order=order, template="order_refunded") != \
        message_id(cause_event_id="e2", order=order, template="order_refunded")
