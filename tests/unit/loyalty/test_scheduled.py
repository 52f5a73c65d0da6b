"""The scheduled runs on the in-memory unit of work, with a clock the test moves: the return
window makes pending points available, expiry warns ahead (once) and then takes the available
points (once) after the store's months without activity, and new activity starts over."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from services.loyalty import handlers
from services.loyalty.birthdays import grant_birthday_bonuses
from services.loyalty.domain.expiry import add_months
from services.loyalty.domain.rules import EarningRules
from services.loyalty.expiry import expire_points
from services.loyalty.maturing import mature_orders
from shared.testing import Clock
from tests.support.fakes.loyalty import memory_tx
from tests.unit.loyalty.order_events import WHEN, later, order_event

STORE, KEY = "ssched", "ssched:c7"


def _runner(tx):
    @asynccontextmanager
    async def transaction():
        yield tx
    return transaction


async def _apply(tx, *events) -> None:
    for e in events:
        await handlers.HANDLERS[e.type](e, tx)


def test_calendar_months():
    assert add_months(WHEN, 12) == WHEN.replace(year=2027)
    assert add_months(WHEN.replace(month=1, day=31), 1).day == 28
    assert add_months(WHEN.replace(month=11), 3) == WHEN.replace(year=2027, month=2)


async def test_the_return_window_makes_pending_points_available():
    clock = Clock(WHEN)
    tx = memory_tx(EarningRules(return_window_days=14), now=clock.now)
    await _apply(tx, order_event(STORE, "order.paid", 1), order_event(STORE, "order.paid", 2, time=later(60 * 24 * 5)))
    run = _runner(tx)
    assert await mature_orders(run, WHEN + timedelta(days=13)) == 0
    assert await mature_orders(run, WHEN + timedelta(days=15)) == 1
    assert await tx.ledger.balance(KEY) == {"pending": 100, "available": 100}
    assert await mature_orders(run, WHEN + timedelta(days=15)) == 0  # a rerun, another instance: nothing
    assert tx.outbox.types[-1] == "points.available"
    # A completion afterwards changes nothing more; a cancel still takes the points.
    await _apply(tx, order_event(STORE, "order.completed", 1, time=later(60 * 24 * 16)))
    assert await tx.ledger.balance(KEY) == {"pending": 100, "available": 100}
    await _apply(tx, order_event(STORE, "order.cancelled", 1, time=later(60 * 24 * 17)))
    assert await tx.ledger.balance(KEY) == {"pending": 100, "available": 0}


async def test_points_expire_after_months_without_activity_with_a_warning_first():
    tx = memory_tx(EarningRules(expiry_months=6, expiry_warning_days=10))
    await _apply(tx, order_event(STORE, "order.paid", 1), order_event(STORE, "order.completed", 1, time=later(1)))
    run = _runner(tx)
    expiry = add_months(WHEN, 6)
    assert await expire_points(run, expiry - timedelta(days=11)) == (0, 0)
    assert await expire_points(run, expiry - timedelta(days=9)) == (1, 0)
    assert await expire_points(run, expiry - timedelta(days=2)) == (0, 0)  # warned once
    [warning] = tx.outbox.of_type("points.expiring")
    assert (warning.envelope.data["points"], warning.envelope.data["expires_at"]) == (100, expiry.isoformat()
                                                                                       .replace("+00:00", "Z"))
    assert await expire_points(run, expiry) == (0, 1)
    assert await expire_points(run, expiry + timedelta(days=1)) == (0, 0)
    assert await tx.ledger.balance(KEY) == {"pending": 0, "available": 0}
    assert [o.envelope.data["points"] for o in tx.outbox.of_type("points.expired")] == [100]


async def test_new_activity_starts_the_period_again():
    tx = memory_tx(EarningRules(expiry_months=6))
    await _apply(tx, order_event(STORE, "order.paid", 1), order_event(STORE, "order.completed", 1, time=later(1)))
    five_months = WHEN + timedelta(days=150)
    await _apply(tx, order_event(STORE, "order.paid", 2, time=five_months))
    assert await expire_points(_runner(tx), add_months(WHEN, 6) + timedelta(days=1)) == (0, 0)
    assert await tx.ledger.balance(KEY) == {"pending": 100, "available": 100}


async def test_the_birthday_bonus_once_a_year_and_on_the_28th_for_a_leap_day():
    tx = memory_tx(EarningRules(birthday_bonus=40))
    await tx.members.set_birthday(KEY, STORE, 3, 3)
    await tx.members.set_birthday(f"{STORE}:c8", STORE, 2, 29)
    run = _runner(tx)
    assert await grant_birthday_bonuses(run, WHEN) == 0  # 2 March
    assert await grant_birthday_bonuses(run, WHEN + timedelta(days=1)) == 1
    assert await grant_birthday_bonuses(run, WHEN + timedelta(days=1, hours=5)) == 0  # the same day again
    assert await tx.ledger.balance(KEY) == {"pending": 0, "available": 40}
    assert await grant_birthday_bonuses(run, WHEN.replace(month=2, day=28)) == 1  # 2026 is not a leap year
    assert await grant_birthday_bonuses(run, WHEN.replace(year=2027, day=3)) == 1  # next year: again
    assert await tx.ledger.balance(KEY) == {"pending": 0, "available": 80}
    assert [o.envelope.data["points"] for o in tx.outbox.of_type("points.available")] == [40, 40, 40]
