"""Property tests (hypothesis) of the order lifecycle on the in-memory unit of work: random orders,
random refunds (partial, per line, shipping-only, lines unknown, full), completion, cancel and
restore, delivered in any order with repeats, end at the balance of a pure reference model that
walks the same story once, in time order — and earning then refunding everything leaves 0."""
from __future__ import annotations

import asyncio
import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings, strategies as st

from services.loyalty import handlers
from services.loyalty.domain.award import compute_award
from services.loyalty.domain.rules import EarningRules
from tests.support.fakes.loyalty import memory_tx
from tests.unit.loyalty.order_events import WHEN, later, line, order_event, refund

STORE, KEY = "sprop", "sprop:c7"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


@st.composite
def stories(draw):
    """(order kwargs, chronological events as (minute, type, kwargs)), the award's line points."""
    n = draw(st.integers(1, 4))
    totals = [draw(st.integers(0, 20_000)) for _ in range(n)]
    tax, shipping = draw(st.integers(0, 3_000)), draw(st.integers(0, 1_500))
    order = dict(line_items=[line(i + 1, _money(t)) for i, t in enumerate(totals)], tax=_money(tax),
                 shipping=_money(shipping))
    grand = sum(totals) + tax + shipping
    left = list(totals)
    money_left = grand
    steps: list[tuple[str, dict]] = []
    completed = False
    for rid in range(1, draw(st.integers(0, 5)) + 1):
        kind = draw(st.sampled_from(["lines", "shipping", "unknown", "complete"]))
        if kind == "complete" and not completed:
            completed = True
            steps.append(("order.completed", {}))
            continue
        if kind == "lines":
            pieces = []
            for i in range(n):
                if left[i] and draw(st.booleans()):
                    part = draw(st.integers(1, left[i]))
                    left[i] -= part
                    pieces.append((i + 1, part))
            amount = sum(p for _, p in pieces)
            if amount == 0 or amount > money_left:
                continue
            money_left -= amount
            steps.append(("order.refunded", {"refund": refund(rid, _money(amount),
                                                              lines=[(lid, _money(p)) for lid, p in pieces])}))
        elif kind == "shipping" and shipping and shipping <= money_left:
            money_left -= shipping
            steps.append(("order.refunded", {"refund": refund(rid, _money(shipping), lines=[])}))
        elif kind == "unknown" and money_left > 0:
            amount = draw(st.integers(1, money_left))
            money_left -= amount
            steps.append(("order.refunded", {"refund": refund(rid, _money(amount))}))
    ending = draw(st.sampled_from(["none", "full_refund", "cancel", "cancel_restore", "complete"]))
    if ending == "full_refund":
        steps.append(("order.refunded", {"refund": refund(99, _money(money_left), full=True)}))
    elif ending in ("cancel", "cancel_restore"):
        steps.append(("order.cancelled", {}))
        if ending == "cancel_restore":
            steps.append(("order.restored", {"status": "completed" if completed else "processing"}))
    elif ending == "complete" and not completed:
        steps.append(("order.completed", {}))
    return order, steps


def _events(order: dict, steps: list[tuple[str, dict]]) -> list:
    """The story as ingest would emit it: paid first, each later step a minute on, with the status
    the order had at that moment."""
    events = [order_event(STORE, "order.paid", 1, **order)]
    status = "processing"
    for minute, (type_, extra) in enumerate(steps, start=1):
        if type_ == "order.completed":
            status = "completed"
        elif type_ == "order.cancelled":
            status = "cancelled"
        elif type_ == "order.restored":
            status = extra["status"]
        elif extra["refund"]["is_full"]:
            status = "refunded"
        kwargs = {k: v for k, v in extra.items() if k != "status"}
        events.append(order_event(STORE, type_, 1, time=later(minute), status=status, **order, **kwargs))
    return events


def reference(events) -> dict[str, int]:
    """The balance the story should leave, walked once in time order, from first principles."""
    seen, story = set(), []
    for e in sorted(events, key=lambda e: e.time):
        if e.id not in seen:
            seen.add(e.id)
            story.append(e)
    paid = story[0].data
    award = compute_award(paid, EarningRules(), when=WHEN)
    refunded = {li.line_id: Fraction(0) for li in award.lines}
    unknown, full = Fraction(0), False
    for e in story:
        r = getattr(e.data, "refund", None)
        if r is None:
            continue
        full = full or r.is_full
        if r.line_items is None:
            unknown += Fraction(Decimal(r.amount))
        for li in r.line_items or []:
            refunded[li.line_id] += Fraction(Decimal(li.total))
    status = story[-1].data.status
    if full or status in ("cancelled", "refunded"):
        return {"pending": 0, "available": 0}
    if award.points == 0:
        return {"pending": 0, "available": 0}
    share = unknown / Fraction(Decimal(paid.total))
    kept = 0
    for li in award.lines:
        f = min(Fraction(1), (refunded[li.line_id] / Fraction(li.base) if li.base else Fraction(1)) + share)
        kept += li.points - math.floor(li.points * f + Fraction(1, 2))
    kept += award.order_level - math.floor(award.order_level * min(share, Fraction(1)) + Fraction(1, 2))
    return {"pending": 0, "available": kept} if status == "completed" else {"pending": kept, "available": 0}


async def _run(events) -> tuple[dict[str, int], object]:
    tx = memory_tx()
    for e in events:
        await handlers.HANDLERS[e.type](e, tx)
    return await tx.ledger.balance(KEY), tx


@SETTINGS
@given(stories(), st.randoms(use_true_random=False), st.lists(st.integers(0, 20), max_size=6))
def test_any_delivery_order_with_repeats_ends_at_the_reference(story, rnd, repeats):
    events = _events(*story)
    delivered = list(events) + [events[i % len(events)] for i in repeats]
    rnd.shuffle(delivered)
    balance, tx = asyncio.run(_run(delivered))
    assert balance == reference(events)
    in_order, _ = asyncio.run(_run(events))
    assert balance == in_order
    # Each event wrote at most one entry per bucket and announced only what moved (positive points).
    assert len({(r.cause_event_id, r.bucket) for r in tx.ledger.rows}) == len(tx.ledger.rows)
    assert all(r.points != 0 for r in tx.ledger.rows)
    assert all(o.envelope.data["points"] > 0 for o in tx.outbox.events)


@SETTINGS
@given(stories(), st.randoms(use_true_random=False))
def test_earn_then_refund_everything_leaves_nothing(story, rnd):
    order, _ = story
    events = [order_event(STORE, "order.paid", 1, **order)]
    # Every line refunded in two pieces, lines known, then the shipping alone; never marked full.
    pieces = []
    for li in order["line_items"]:
        cents = int(Decimal(li["total"]) * 100)
        first = rnd.randint(0, cents)
        pieces += [(li["line_id"], first), (li["line_id"], cents - first)]
    rnd.shuffle(pieces)
    for n, (lid, cents) in enumerate(pieces, start=1):
        events.append(order_event(STORE, "order.refunded", 1, time=later(n), **order,
                                  refund=refund(n, _money(cents), lines=[(lid, _money(cents))])))
    rnd.shuffle(events)
    balance, _ = asyncio.run(_run(events))
    award = compute_award(events[0].data if events[0].type == "order.paid" else
                          order_event(STORE, "order.paid", 1, **order).data, EarningRules(), when=WHEN)
    assert balance == {"pending": award.order_level, "available": 0}  # lines all back; shipping earned nothing
    assert award.order_level == 0
