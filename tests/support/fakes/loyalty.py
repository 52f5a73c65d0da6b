"""MemoryLedger: loyalty's PgLedger in memory, with the same async methods and the same rules —
an entry id already present is ignored (ON CONFLICT DO NOTHING), sums per order and bucket, the
balance has every bucket, entries come newest first.

    tx = InMemoryUnitOfWork(ledger=MemoryLedger(), config=PointsConfig())
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from shared.events.envelope import utcnow

if TYPE_CHECKING:
    from services.loyalty.domain.ledger import LedgerEntry


class MemoryLedger:
    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        """`now` stamps `created_at` (PostgreSQL's now()); pass a Clock's `now` to control it."""
        self.now = now
        self.rows: list[LedgerEntry] = []

    async def append(self, *, entry_id: str, cause_event_id: str, customer_key: str, store_id: str,
                     order_id: int | None, bucket: str, points: int, reason: str) -> bool:
        # Imported here, not at module level: shared/ must not need services/ at import time.
        from services.loyalty.domain.ledger import LedgerEntry

        if any(r.entry_id == entry_id for r in self.rows):
            return False
        self.rows.append(LedgerEntry(entry_id=entry_id, cause_event_id=cause_event_id, customer_key=customer_key,
                                     store_id=store_id, order_id=order_id, bucket=bucket, points=points,
                                     reason=reason, created_at=self.now()))
        return True

    async def order_points(self, store_id: str, order_id: int, bucket: str) -> int:
        return sum(r.points for r in self.rows
                   if r.store_id == store_id and r.order_id == order_id and r.bucket == bucket)

    async def earned_for_order(self, store_id: str, order_id: int) -> int:
        return sum(r.points for r in self.rows
                   if r.store_id == store_id and r.order_id == order_id and r.reason == "order.paid")

    async def balance(self, customer_key: str) -> dict[str, int]:
        from services.loyalty.domain.ledger import empty_balance

        out = empty_balance()
        for r in self.rows:
            if r.customer_key == customer_key:
                out[r.bucket] = out.get(r.bucket, 0) + r.points
        return out

    async def entries(self, customer_key: str, limit: int = 500) -> list[LedgerEntry]:
        mine = sorted((r for r in self.rows if r.customer_key == customer_key), key=lambda r: r.entry_id)
        return sorted(mine, key=lambda r: r.created_at, reverse=True)[:limit]
