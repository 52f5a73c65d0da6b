"""The notifier's in-memory repositories for unit tests: MemoryMessages (PgMessages' methods and
rules) and `memory_transactions`, the in-memory twin of the sender's `in_transaction(pool)`.

    messages, outbox = MemoryMessages(now=clock.now), FakeOutbox()
    tx = InMemoryUnitOfWork(outbox, messages=messages)             # what a handler gets
    await send_one(memory_transactions(messages, outbox), FakeMailer(), settings, now=clock.now)
"""
from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.events.envelope import utcnow
from shared.testing.outbox import FakeOutbox
from shared.testing.unit_of_work import InMemoryUnitOfWork

if TYPE_CHECKING:  # shared never imports services at import time
    from services.notifier.domain.delivery import MessageSummary, StoredMessage
    from services.notifier.domain.messages import Draft


@dataclass
class MessageRow:
    """One row of the messages table, with the table's defaults."""
    message_id: str
    cause_event_id: str
    cause_type: str
    customer_key: str
    template: str
    to_address: str
    subject: str
    body_text: str
    body_html: str
    next_attempt_at: datetime
    created_at: datetime
    channel: str = "email"
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    seq: int = 0  # insertion order: breaks ties between equal times (a test clock that stands still)


class MemoryMessages:
    """PgMessages in memory: `rows` (message id → MessageRow) is the table. Like PostgreSQL, a
    repeated message id is ignored (ON CONFLICT DO NOTHING), only pending rows whose time has come
    are claimed, oldest due first, and "now" is one clock (pass a test Clock's `now`)."""

    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self.now = now
        self.rows: dict[str, MessageRow] = {}
        self._seq = 0

    async def record_intent(self, *, message_id: str, cause_event_id: str, cause_type: str,
                            customer_key: str, draft: Draft) -> bool:
        if message_id in self.rows:
            return False
        at, self._seq = self.now(), self._seq + 1
        self.rows[message_id] = MessageRow(
            seq=self._seq, message_id=message_id, cause_event_id=cause_event_id, cause_type=cause_type,
            customer_key=customer_key, template=draft.template, to_address=draft.to_address,
            subject=draft.subject, body_text=draft.text, body_html=draft.html, next_attempt_at=at, created_at=at)
        return True

    async def claim_due(self, limit: int) -> list[StoredMessage]:
        from services.notifier.domain.delivery import StoredMessage

        due = sorted((r for r in self.rows.values() if r.status == "pending" and r.next_attempt_at <= self.now()),
                     key=lambda r: (r.next_attempt_at, r.seq))[:limit]
        names = {f.name for f in fields(StoredMessage)}
        return [StoredMessage(**{k: v for k, v in vars(r).items() if k in names}) for r in due]

    async def mark_sent(self, message_id: str) -> None:
        if row := self.rows.get(message_id):
            row.status, row.sent_at, row.attempts, row.last_error = "sent", self.now(), row.attempts + 1, None

    async def mark_retry(self, message_id: str, error: str, delay_s: float) -> None:
        if row := self.rows.get(message_id):
            row.attempts, row.last_error = row.attempts + 1, error
            row.next_attempt_at = self.now() + timedelta(seconds=delay_s)

    async def mark_failed(self, message_id: str, error: str) -> None:
        if row := self.rows.get(message_id):
            row.status, row.attempts, row.last_error = "failed", row.attempts + 1, error

    async def history(self, customer_key: str, limit: int) -> list[MessageSummary]:
        from services.notifier.domain.delivery import MessageSummary

        mine = sorted((r for r in self.rows.values() if r.customer_key == customer_key),
                      key=lambda r: (r.created_at, r.seq), reverse=True)[:limit]
        names = {f.name for f in fields(MessageSummary)}
        return [MessageSummary(**{k: v for k, v in vars(r).items() if k in names}) for r in mine]


def memory_transactions(messages: MemoryMessages, outbox: FakeOutbox | None = None
                        ) -> Callable[[], AbstractAsyncContextManager[InMemoryUnitOfWork]]:
    """What bootstrap's `lambda: in_transaction(pool)` is for the sender, in memory: each call opens
    a "transaction" over these repositories that is undone if its block raises, as a rollback would."""
    outbox = outbox if outbox is not None else FakeOutbox()

    @asynccontextmanager
    async def transaction() -> AsyncIterator[InMemoryUnitOfWork]:
        rows, events = copy.deepcopy(messages.rows), list(outbox.events)
        try:
            yield InMemoryUnitOfWork(outbox, messages=messages)
        except BaseException:  # restored in place: tests may hold `messages.rows` / `outbox.events`
            messages.rows.clear()
            messages.rows.update(rows)
            outbox.events[:] = events
            raise

    return transaction


class MemorySettings:
    """PgSettings in memory: `stores` (store id → the fields it set) and `flow_rows`
    ((store id, flow) → FlowSettings) are the tables; the rest comes from the defaults."""

    def __init__(self, defaults=None) -> None:
        from services.notifier.domain.store_settings import StoreSettings

        self.defaults = defaults or StoreSettings.defaults()
        self.stores: dict[str, dict] = {}
        self.flow_rows: dict[tuple[str, str], object] = {}

    async def store_overrides(self, store_id: str) -> dict:
        return dict(self.stores.get(store_id, {}))

    async def store(self, store_id: str):
        from services.notifier.domain.store_settings import StoreSettings

        overrides = self.stores.get(store_id)
        if not overrides:
            return self.defaults
        return StoreSettings.model_validate({**self.defaults.model_dump(mode="json"), **overrides},
                                            context={"development": True})

    async def put_store(self, store_id: str, changes: dict) -> None:
        self.stores[store_id] = {**self.stores.get(store_id, {}), **copy.deepcopy(changes)}

    async def flow(self, store_id: str, flow: str):
        from services.notifier.domain.flows import FLOWS

        return self.flow_rows.get((store_id, flow)) or FLOWS[flow].defaults()

    async def flows(self, store_id: str) -> dict:
        from services.notifier.domain.flows import FLOWS

        return {name: self.flow_rows.get((store_id, name)) or f.defaults() for name, f in FLOWS.items()}

    async def put_flow(self, store_id: str, flow: str, settings) -> None:
        self.flow_rows[(store_id, flow)] = settings
