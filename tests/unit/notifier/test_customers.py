"""The notifier's customer record (pure): the first order, and the merge of a guest's history."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifier.domain.customers import CustomerRecord, is_first_order, merge

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_first_order_is_the_one_remembered_first_or_any_when_nothing_is_known():
    assert is_first_order(None, 5)
    assert is_first_order(CustomerRecord("s1:c1", "s1"), 5)
    seen = CustomerRecord("s1:c1", "s1", orders_seen=2, first_order_id=5, first_order_at=T0)
    assert is_first_order(seen, 5) and not is_first_order(seen, 6)


def test_merge_adds_orders_keeps_the_earlier_first_order_and_fills_what_the_survivor_lacks():
    guest = CustomerRecord("s1:eab", "s1", email="ana@example.com", first_name="Ana", locale="de_DE",
                           orders_seen=2, first_order_id=3, first_order_at=T0, consent=True)
    registered = CustomerRecord("s1:c1", "s1", email="ana@shop.example", orders_seen=1, first_order_id=9,
                                first_order_at=T0 + timedelta(days=30))
    m = merge(registered, guest)
    assert (m.customer_key, m.orders_seen, m.first_order_id, m.first_order_at) == ("s1:c1", 3, 3, T0)
    assert (m.email, m.first_name, m.locale, m.consent) == ("ana@shop.example", "Ana", "de_DE", True)
    # A registered customer whose own first order came first keeps it.
    early = merge(CustomerRecord("s1:c1", "s1", orders_seen=1, first_order_id=1, first_order_at=T0 - timedelta(1)),
                  guest)
    assert (early.first_order_id, early.orders_seen) == (1, 3)
    # Consent the survivor stated (even "no") wins over the guest's.
    assert merge(CustomerRecord("s1:c1", "s1", consent=False), guest).consent is False
