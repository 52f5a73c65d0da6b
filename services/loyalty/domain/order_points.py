"""Where an order's points stand, from what loyalty knows of the order (its facts): the award made
when it was paid, its latest status, its refunds, whether its return window has passed.

The handlers never add or subtract "what this event is worth": they record the event's fact, work
out the order's position (pending, available) from all its facts, and write the difference from
what the ledger already holds for the order. So a redelivered event changes nothing, and events in
any order end at the same position — the one the full set of facts gives.

Reversal rounding: for each awarded line, the share of it refunded so far is its refunded line
totals over its own total, plus the share of the order's money returned by refunds whose lines are
unknown; the line's reversed points are its points times that share (capped at 1), computed exactly
and rounded half up. The cumulative share is what is rounded, so refunding a line in any number of
pieces takes back exactly its points, and 10.00 of a 65-point 65.00 line takes back 10, not 9. A
refund known to have no lines (shipping or a fee only) takes nothing; a full refund, a cancel, a
failure or a trash takes everything the order holds; a restore gives it back.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from services.loyalty.domain.award import Award

AVAILABLE_STATUSES = frozenset({"completed"})
VOID_STATUSES = frozenset({"cancelled", "failed", "trash", "refunded"})


@dataclass(frozen=True)
class RefundFact:
    refund_id: int
    amount: Decimal
    # (order line id, product id, refunded total before tax); None = which lines is not known
    lines: tuple[tuple[int | None, int | None, Decimal], ...] | None
    is_full: bool


@dataclass(frozen=True)
class Position:
    pending: int = 0
    available: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.available


@dataclass(frozen=True)
class OrderFacts:
    store_id: str
    order_id: int
    customer_key: str
    award: Award | None = None
    award_event_id: str | None = None
    paid_at: datetime | None = None
    status: str | None = None
    status_at: datetime | None = None
    status_rank: int = 0  # breaks a tie between two statuses stamped with the same second
    refunds: Mapping[int, RefundFact] = field(default_factory=dict)
    matured: bool = False  # the return window passed: pending points are available

    def with_award(self, award: Award, event_id: str, paid_at: datetime | None) -> "OrderFacts":
        """The first award stays: a later paid event (or a replay) never recomputes it."""
        if self.award is not None:
            return self
        return replace(self, award=award, award_event_id=event_id, paid_at=paid_at)

    def with_status(self, status: str, at: datetime, rank: int) -> "OrderFacts":
        """The newest status wins, whatever order the events arrive in."""
        if self.status_at is not None and (at, rank) < (self.status_at, self.status_rank):
            return self
        return replace(self, status=status, status_at=at, status_rank=rank)

    def with_refund(self, refund: RefundFact) -> "OrderFacts":
        if refund.refund_id in self.refunds:
            return self
        return replace(self, refunds={**self.refunds, refund.refund_id: refund})

    def with_customer(self, key: str) -> "OrderFacts":
        return replace(self, customer_key=key)

    def matured_now(self) -> "OrderFacts":
        return replace(self, matured=True)

    def to_json(self) -> dict:
        return {
            "award": None if self.award is None else self.award.to_json(), "award_event_id": self.award_event_id,
            "paid_at": None if self.paid_at is None else self.paid_at.isoformat(),
            "status": self.status, "status_at": None if self.status_at is None else self.status_at.isoformat(),
            "status_rank": self.status_rank, "matured": self.matured,
            "refunds": [[r.refund_id, str(r.amount), r.is_full,
                         None if r.lines is None else [[a, b, str(c)] for a, b, c in r.lines]]
                        for r in self.refunds.values()],
        }

    @classmethod
    def from_json(cls, store_id: str, order_id: int, customer_key: str, data: Mapping) -> "OrderFacts":
        def when(v):
            return None if v is None else datetime.fromisoformat(v)
        refunds = {int(rid): RefundFact(int(rid), Decimal(amount), None if lines is None else
                                        tuple((a, b, Decimal(c)) for a, b, c in lines), bool(full))
                   for rid, amount, full, lines in data.get("refunds", [])}
        return cls(store_id=store_id, order_id=order_id, customer_key=customer_key,
                   award=None if data.get("award") is None else Award.from_json(data["award"]),
                   award_event_id=data.get("award_event_id"), paid_at=when(data.get("paid_at")),
                   status=data.get("status"), status_at=when(data.get("status_at")),
                   status_rank=int(data.get("status_rank", 0)), refunds=refunds, matured=bool(data.get("matured")))


def _half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)).__floor__())


def reversed_points(award: Award, refunds: Mapping[int, RefundFact]) -> int:
    """Points the refunds take back (without a full refund: that takes everything)."""
    unknown = sum((Fraction(r.amount) for r in refunds.values() if r.lines is None), Fraction(0))
    unknown_share = min(unknown / Fraction(award.order_total), Fraction(1)) if award.order_total > 0 else Fraction(0)
    taken = 0
    for li in award.lines:
        if li.points == 0:
            continue
        refunded = Fraction(0)
        for r in refunds.values():
            for line_id, product_id, total in r.lines or ():
                # WooCommerce names the order line refunded; an older payload only the product.
                if line_id == li.line_id or (line_id is None and product_id == li.product_id):
                    refunded += Fraction(total)
        share = min((refunded / Fraction(li.base) if li.base > 0 else Fraction(1)) + unknown_share, Fraction(1))
        taken += _half_up(li.points * share)
    # Order-level points (shipping's share, bonuses) follow only the money returned without lines.
    return taken + _half_up(award.order_level * unknown_share)


def position(facts: OrderFacts) -> Position:
    """Where the order's points stand given everything known about it."""
    award = facts.award
    if award is None or award.points == 0:
        return Position()
    if facts.status in VOID_STATUSES or any(r.is_full for r in facts.refunds.values()):
        return Position()
    left = max(award.points - reversed_points(award, facts.refunds), 0)
    if facts.status in AVAILABLE_STATUSES or facts.matured:
        return Position(available=left)
    return Position(pending=left)


@dataclass(frozen=True)
class Moves:
    """What changed between two positions, as loyalty.v1 announces it."""
    pending_added: int = 0  # points.pending
    made_available: int = 0  # points.available (from pending, or given back straight to available)
    reversed: int = 0  # points.reversed
    reversed_bucket: str | None = None  # pending | available | None when both


def moves(before: Position, after: Position) -> Moves:
    moved = min(max(before.pending - after.pending, 0), max(after.available - before.available, 0))
    from_pending = max(before.pending - after.pending, 0) - moved
    from_available = max(before.available - after.available, 0)
    bucket = None
    if from_pending and not from_available:
        bucket = "pending"
    elif from_available and not from_pending:
        bucket = "available"
    return Moves(pending_added=max(after.pending - before.pending, 0),
                 made_available=max(after.available - before.available, 0),
                 reversed=from_pending + from_available, reversed_bucket=bucket)
