"""InMemoryUnitOfWork: what a handler receives as `tx` in a unit test — the service's in-memory
repositories as attributes (`tx.ledger`, `tx.messages`, …) plus a FakeOutbox, like PgUnitOfWork
and the services' subclasses of it.

    tx = InMemoryUnitOfWork(ledger=MemoryLedger(), config=settings)
    await on_order_paid(event, tx)
    assert tx.outbox.types == ["points.pending"]
"""
from __future__ import annotations

from typing import Any

from shared.testing.outbox import FakeOutbox


class InMemoryUnitOfWork:
    def __init__(self, outbox: FakeOutbox | None = None, **repositories: Any) -> None:
        self.outbox = outbox or FakeOutbox()
        for name, repo in repositories.items():
            setattr(self, name, repo)
