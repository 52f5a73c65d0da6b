"""Where an order's points stand (domain/order_points.py): refunds take back exactly the refunded
lines' points, cumulative shares rounded half up (any number of pieces adds up to the whole), a
shipping-only refund nothing, cancel/fail/trash/full refund everything, completion or the return
window makes the rest available, the newest status wins whatever order events came in."""
from __future__ import annotations

from decimal import Decimal

from services.loyalty.domain.award import compute_award
from services.loyalty.domain.order_points import OrderFacts, Position, RefundFact, moves, position
from services.loyalty.domain.rules import EarningRules
from tests.unit.loyalty.order_events import WHEN, later, line, order_event


def _facts(*lines, tax="0.00", shipping="0.00", total=None) -> OrderFacts:
    order = order_event("s", "order.paid", 1, line_items=list(lines), tax=tax, shipping=shipping, total=total).data
    award = compute_award(order, EarningRules(), when=WHEN)
    return OrderFacts("s", 1, "s:c7").with_award(award, "paid", WHEN).with_status("processing", WHEN, 1)


def _refund(rid: int, amount: str, lines=None, full=False) -> RefundFact:
    return RefundFact(rid, Decimal(amount), None if lines is None else tuple((lid, None, Decimal(t)) for lid, t in lines),
                      full)


def test_ten_of_sixty_five_takes_ten_not_nine():
    f = _facts(line(1, "65.00")).with_refund(_refund(1, "10.00"))
    assert position(f) == Position(pending=55)  # 65 × 10/65 is exactly 10
    f = _facts(line(1, "65.00")).with_refund(_refund(1, "10.00", [(1, "10.00")]))
    assert position(f) == Position(pending=55)


def test_a_refunded_line_takes_its_own_points_not_a_share_of_the_total():
    # 130.00 = 20.00 + 80.00 goods, 20.00 tax, 10.00 shipping; refunding the 20-point line with its
    # tax (24.00) takes 20 points (24/130 of 100 would be 18).
    f = _facts(line(1, "20.00"), line(2, "80.00"), tax="20.00", shipping="10.00")
    assert f.award.points == 100
    assert position(f.with_refund(_refund(1, "24.00", [(1, "20.00")]))) == Position(pending=80)


def test_shipping_only_refund_takes_nothing():
    f = _facts(line(1, "40.00"), shipping="7.00")
    assert position(f.with_refund(_refund(1, "7.00", []))) == Position(pending=40)


def test_unknown_lines_take_the_share_of_the_money():
    f = _facts(line(1, "100.00"), tax="10.00")  # 110.00, 100 points
    assert position(f.with_refund(_refund(1, "11.00"))) == Position(pending=90)
    assert position(f.with_refund(_refund(1, "0.54"))) == Position(pending=100)  # 0.49 point rounds to 0
    assert position(f.with_refund(_refund(1, "0.55"))) == Position(pending=99)  # 0.5 rounds up


def test_a_line_refunded_in_pieces_adds_up_to_its_points():
    f = _facts(line(1, "10.00"), line(2, "10.00"))  # 10 points each
    for n, amount in enumerate(["3.33", "3.33", "3.34"]):
        f = f.with_refund(_refund(n, amount, [(1, amount)]))
    assert position(f) == Position(pending=10)
    f = _facts(line(1, "9.99"))  # 9 points: 9 × 1/3 = 3 a piece
    for n in range(3):
        f = f.with_refund(_refund(n, "3.33", [(1, "3.33")]))
    assert position(f) == Position()


def test_a_repeated_refund_counts_once_and_refunds_cap_at_the_line():
    f = _facts(line(1, "50.00"), line(2, "50.00"))
    f = f.with_refund(_refund(1, "30.00", [(1, "30.00")])).with_refund(_refund(1, "30.00", [(1, "30.00")]))
    assert position(f) == Position(pending=70)
    f = f.with_refund(_refund(2, "90.00", [(1, "90.00")]))  # more than the line: the line, not more
    assert position(f) == Position(pending=50)


def test_full_refund_cancel_and_trash_take_everything_restore_gives_back():
    f = _facts(line(1, "100.00"))
    assert position(f.with_refund(_refund(1, "1.00", full=True))) == Position()
    for status in ("cancelled", "failed", "trash", "refunded"):
        assert position(f.with_status(status, later(1), 6)) == Position()
    assert position(f.with_status("trash", later(1), 7).with_status("completed", later(2), 8)) == Position(available=100)


def test_completion_or_the_return_window_makes_points_available():
    f = _facts(line(1, "100.00"))
    assert position(f) == Position(pending=100)
    assert position(f.with_status("completed", later(1), 4)) == Position(available=100)
    assert position(f.matured_now()) == Position(available=100)
    done = f.with_status("completed", later(1), 4)
    assert position(done.with_status("cancelled", later(2), 6)) == Position()  # cancel after completion


def test_the_newest_status_wins_in_any_order():
    f = _facts(line(1, "100.00"))
    late_first = f.with_status("completed", later(5), 4).with_status("cancelled", later(2), 6)
    assert late_first.status == "completed" and position(late_first) == Position(available=100)
    tie = f.with_status("cancelled", later(5), 6).with_status("completed", later(5), 4)
    assert tie.status == "cancelled"  # same second: the later step of an order's life


def test_no_award_no_points():
    assert position(OrderFacts("s", 1, "s:c7").with_status("completed", WHEN, 4)) == Position()


def test_moves_say_what_changed():
    assert moves(Position(), Position(pending=10)).pending_added == 10
    m = moves(Position(pending=10), Position(available=10))
    assert (m.made_available, m.reversed, m.pending_added) == (10, 0, 0)
    m = moves(Position(pending=10), Position(available=7))
    assert (m.made_available, m.reversed, m.reversed_bucket) == (7, 3, "pending")
    m = moves(Position(available=10), Position())
    assert (m.reversed, m.reversed_bucket) == (10, "available")


def test_facts_survive_json():
    f = _facts(line(1, "10.00")).with_refund(_refund(3, "2.00", [(1, "2.00")])).with_refund(_refund(4, "1.00"))
    f = f.with_status("completed", later(3), 4).matured_now()
    assert OrderFacts.from_json("s", 1, "s:c7", f.to_json()) == f
