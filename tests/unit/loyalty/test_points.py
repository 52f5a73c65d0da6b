from decimal import Decimal

from services.loyalty.domain.points import earning_base, points_for, reversal_for


def test_points_round_down_and_never_negative():
    assert points_for("59.99", Decimal("1")) == 59
    assert points_for("10", Decimal("1.5")) == 15
    assert points_for("-3", Decimal("1")) == 0


def test_earning_base_prefers_subtotal_after_discounts():
    assert earning_base("40.00", ["99"]) == Decimal("40.00")
    assert earning_base(None, ["10.50", "4.50"]) == Decimal("15.00")
    assert earning_base(None, ["10.50", None]) == Decimal("10.50")  # a line without a total earns nothing
    assert earning_base(None) == Decimal("0")


def test_reversal_is_proportional_and_capped():
    assert reversal_for("16.20", "304.45", 250) == 13
    assert reversal_for("304.45", "304.45", 250) == 250
    assert reversal_for("999", "304.45", 250) == 250
    assert reversal_for("5", "0", 250) == 0
