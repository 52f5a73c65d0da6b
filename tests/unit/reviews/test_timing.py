from datetime import datetime, timezone

from services.reviews.domain.timing import due_at, reviewable_products


def test_due_after_delay():
    t = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert due_at(t, 7) == datetime(2026, 3, 8, 10, tzinfo=timezone.utc)


def test_products_are_distinct_parents():
    items = [{"product_id": 5, "variation_id": 51}, {"product_id": 5, "variation_id": 52}, {"product_id": 0},
             {"product_id": 9}]
    assert reviewable_products(li["product_id"] for li in items) == [5, 9]
    assert reviewable_products([None, 0]) == []
