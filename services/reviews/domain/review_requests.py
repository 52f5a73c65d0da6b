"""What a review request is and how it moves: one per order, listing its products, due when the
goods have arrived (domain/timing.py), sent once, reminded once.

    pending ──due──▶ sent ──M days, no answer──▶ reminded
       │  ▲            └──answered──▶ answered (no reminder)
       ▼  │ back to completed / shipped / delivered: re-timed
      held (the order moved back out of completed before the send)
    pending | held ──refund in full, cancel, delete, every item refunded──▶ cancelled
    pending ──every product asked about before (another order)──▶ skipped

Pure functions over frozen records: handlers and the scheduler load a request, call these, save
the result through the adapter.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.reviews.domain.timing import DELIVERED

PENDING, HELD, SENT, REMINDED, ANSWERED, CANCELLED, SKIPPED = (
    "pending", "held", "sent", "reminded", "answered", "cancelled", "skipped")
STATUSES = (PENDING, HELD, SENT, REMINDED, ANSWERED, CANCELLED, SKIPPED)
NOT_SENT = (PENDING, HELD)
# Item statuses.
OPEN, DROPPED, ASKED_BEFORE = "open", "dropped", "asked_before"


@dataclass(frozen=True)
class RequestItem:
    product_id: int
    name: str
    line_ids: tuple[int, ...]
    quantity: int
    refunded_quantity: int = 0
    status: str = OPEN  # OPEN | DROPPED (refunded) | ASKED_BEFORE (asked about in another order)


@dataclass(frozen=True)
class ReviewRequestRecord:
    request_id: str  # UUIDv5(store, order, "review.request"): whichever event creates it, one per order
    cause_event_id: str  # the event that created it
    store_id: str
    order_id: int
    customer_key: str
    product_ids: list[int]  # the open items' products, in order
    status: str
    due_at: datetime
    created_at: datetime
    items: tuple[RequestItem, ...] = ()
    order_number: str | None = None
    locale: str | None = None
    email: str | None = None  # personal
    first_name: str | None = None  # personal
    shipping_country: str | None = None
    basis: str = "completed"
    basis_at: datetime | None = None
    sent_at: datetime | None = None
    reminder_due_at: datetime | None = None
    reminded_at: datetime | None = None
    answered_at: datetime | None = None
    status_reason: str | None = None
    updated_at: datetime | None = None

    @property
    def open_items(self) -> tuple[RequestItem, ...]:
        return tuple(i for i in self.items if i.status == OPEN)


@dataclass(frozen=True)
class OrderLine:
    line_id: int
    product_id: int | None
    name: str
    quantity: int


def items_from_lines(lines: Iterable[OrderLine]) -> tuple[RequestItem, ...]:
    """One item per parent product (variations folded in), in the order's order; lines without a
    product (0: deleted) are not reviewable."""
    grouped: dict[int, RequestItem] = {}
    for line in lines:
        pid = int(line.product_id or 0)
        if not pid:
            continue
        if pid in grouped:
            g = grouped[pid]
            grouped[pid] = replace(g, line_ids=g.line_ids + (line.line_id,), quantity=g.quantity + line.quantity)
        else:
            grouped[pid] = RequestItem(product_id=pid, name=line.name, line_ids=(line.line_id,),
                                       quantity=line.quantity)
    return tuple(grouped.values())


def _with_items(req: ReviewRequestRecord, items: tuple[RequestItem, ...]) -> ReviewRequestRecord:
    return replace(req, items=items, product_ids=[i.product_id for i in items if i.status == OPEN])


def retimed(req: ReviewRequestRecord, basis: str, at: datetime, due: datetime) -> ReviewRequestRecord:
    """A new fact about arrival. Before the send only: a reported delivery overrides an estimate; an
    estimate never overrides a reported delivery; of two estimates (items shipped separately) the
    later arrival wins. A held request comes back to pending with the new time."""
    if req.status not in NOT_SENT:
        return req
    if req.status == PENDING:
        if req.basis == DELIVERED and basis != DELIVERED:
            return req
        if basis != DELIVERED and req.basis != DELIVERED and due <= req.due_at:
            return req
    return replace(req, status=PENDING, basis=basis, basis_at=at, due_at=due, status_reason=None)


def held(req: ReviewRequestRecord, reason: str) -> ReviewRequestRecord:
    """The order left completed before the ask went out: wait until it is back."""
    return replace(req, status=HELD, status_reason=reason) if req.status == PENDING else req


def cancelled(req: ReviewRequestRecord, reason: str) -> ReviewRequestRecord:
    """Refunded, cancelled or deleted: no ask if not sent yet, no reminder if sent."""
    if req.status in NOT_SENT:
        return replace(req, status=CANCELLED, status_reason=reason)
    if req.status == SENT and req.reminder_due_at is not None:
        return replace(req, reminder_due_at=None, status_reason=reason)
    return req


@dataclass(frozen=True)
class RefundedLine:
    line_id: int | None
    product_id: int | None
    quantity: int


def after_refund(req: ReviewRequestRecord, lines: Iterable[RefundedLine]) -> ReviewRequestRecord:
    """Items refunded alone are dropped (every unit of them sent back); when nothing is left the
    request is cancelled as a full refund would."""
    items = list(req.items)
    for line in lines:
        for n, item in enumerate(items):
            if (line.line_id is not None and line.line_id in item.line_ids) or \
                    (line.line_id is None and line.product_id == item.product_id):
                refunded = item.refunded_quantity + abs(line.quantity)
                status = DROPPED if refunded >= item.quantity and item.status == OPEN else item.status
                items[n] = replace(item, refunded_quantity=refunded, status=status)
                break
    out = _with_items(req, tuple(items))
    if not out.product_ids and req.status in NOT_SENT:
        out = cancelled(out, "every item refunded")
    return out


def sent(req: ReviewRequestRecord, now: datetime, claimed: Iterable[int], reminder_days: int) -> ReviewRequestRecord:
    """The ask goes out about the products this customer was never asked about (`claimed`); with
    none left it is skipped."""
    mine = set(claimed)
    items = tuple(replace(i, status=ASKED_BEFORE) if i.status == OPEN and i.product_id not in mine else i
                  for i in req.items)
    out = _with_items(req, items)
    if not out.product_ids:
        return replace(out, status=SKIPPED, status_reason="every product asked about before")
    reminder = now + timedelta(days=reminder_days) if reminder_days > 0 else None
    return replace(out, status=SENT, sent_at=now, reminder_due_at=reminder)


def reminded(req: ReviewRequestRecord, now: datetime) -> ReviewRequestRecord:
    return replace(req, status=REMINDED, reminded_at=now, reminder_due_at=None)


def answered(req: ReviewRequestRecord, now: datetime) -> ReviewRequestRecord:
    """The customer answered (rated, reviewed or asked for help): no reminder after that."""
    if req.status in (SENT, REMINDED):
        return replace(req, status=ANSWERED, answered_at=now, reminder_due_at=None)
    return req if req.answered_at else replace(req, answered_at=now)


def erased(req: ReviewRequestRecord) -> ReviewRequestRecord:
    return replace(req, email=None, first_name=None)
