from services.notifier.domain.messages import compose


def _order(**over):
    data = {"order_id": 727, "order_number": "727", "currency": "EUR", "total": "59.90",
            "customer": {"key": "s1:c1", "email": "ana@example.com", "first_name": "Ana"},
            "line_items": [{"name": "Blue <Mug>", "quantity": 2, "total": "20.00", "product_id": 9}]}
    data.update(over)
    return data


def test_thank_you_lists_items_and_total_and_escapes_html():
    d = compose("order.placed", _order())
    assert d.to_address == "ana@example.com"
    assert d.subject == "Thank you for your order #727"
    assert "2 x Blue <Mug> (20.00 EUR)" in d.text
    assert "Total: 59.90 EUR" in d.text
    assert "Blue &lt;Mug&gt;" in d.html and "<Mug>" not in d.html


def test_shipped_carries_tracking():
    d = compose("order.shipped", _order(tracking={"carrier": "fedex", "number": "1175", "url": "https://t/1175"}))
    assert "with fedex" in d.text and "Tracking number: 1175" in d.text and "https://t/1175" in d.html


def test_refund_says_amount_and_full():
    d = compose("order.refunded", _order(refund={"amount": "16.2", "is_full": True}))
    assert d.subject == "We refunded 16.20 EUR for order #727"
    assert "fully refunded" in d.text


def test_no_email_or_unknown_type_means_no_message():
    assert compose("order.placed", _order(customer={"key": "s1:c1", "email": None})) is None
    assert compose("order.on_hold", _order()) is None


def test_missing_first_name_falls_back():
    d = compose("order.completed", _order(customer={"key": "k", "email": "x@y.z"}))
    assert d.text.startswith("Hi there,")
