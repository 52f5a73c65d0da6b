from datetime import datetime, timedelta, timezone

from services.reviews.domain.timing import (TimingConfig, delivered_due, dispatch_due, is_delivered_status,
                                            reviewable_products, transit_days)

T = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)


def test_transit_category_over_country_over_default():
    c = TimingConfig(default_transit_days=7, transit_days_by_country={"DE": 2}, transit_days_by_category={4: 12, 5: 20})
    assert transit_days(c, None, []) == 7
    assert transit_days(c, "de", []) == 2
    assert transit_days(c, "DE", [1, 4]) == 12
    assert transit_days(c, "DE", [4, 5]) == 20  # the longest override
    assert dispatch_due(c, T, "DE", []) == T + timedelta(days=9)
    assert delivered_due(c, T) == T + timedelta(days=7)


def test_delivered_status_with_or_without_prefix():
    c = TimingConfig(delivered_statuses=frozenset({"wc-delivered"}))
    assert is_delivered_status(c, "delivered") and is_delivered_status(c, "wc-delivered")
    assert not is_delivered_status(c, "completed") and not is_delivered_status(c, None)


def test_products_are_distinct_parents():
    items = [{"product_id": 5, "variation_id": 51}, {"product_id": 5, "variation_id": 52}, {"product_id": 0},
             {"product_id": 9}]
    assert reviewable_products(li["product_id"] for li in items) == [5, 9]
    assert reviewable_products([None, 0]) == []
