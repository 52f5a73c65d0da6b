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
    from services.notifier.domain.customers import CustomerRecord
    from services.notifier.domain.delivery import MessageSummary, Plan, QueuedMessage, StoredMessage
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
    cause_time: datetime | None = None
    status_reason: str | None = None
    flow: str = ""
    store_id: str = ""
    marketing: bool = False
    order_id: int | None = None
    order_statuses: list[str] | None = None
    locale: str = "en"
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
                            customer_key: str, draft: Draft, cause_time: datetime | None = None,
                            plan: Plan | None = None) -> bool:
        from services.notifier.domain.delivery import Plan

        if message_id in self.rows:
            return False
        p = plan or Plan()
        at, self._seq = self.now(), self._seq + 1
        self.rows[message_id] = MessageRow(
            seq=self._seq, message_id=message_id, cause_event_id=cause_event_id, cause_type=cause_type,
            customer_key=customer_key, template=draft.template, to_address=draft.to_address,
            subject=draft.subject, body_text=draft.text, body_html=draft.html,
            next_attempt_at=p.due_at or at, created_at=at, cause_time=cause_time,
            flow=p.flow or draft.template, store_id=p.store_id, channel=p.channel, marketing=p.marketing,
            order_id=p.order_id, order_statuses=sorted(p.order_statuses) if p.order_statuses is not None else None,
            locale=draft.locale)
        return True

    async def cancel_unfit(self, store_id: str, order_id: int, status: str) -> list[str]:
        out = []
        for r in self.rows.values():
            if (r.store_id, r.order_id, r.status) == (store_id, order_id, "pending") \
                    and r.order_statuses is not None and status not in r.order_statuses:
                r.status, r.status_reason = "cancelled", f"order is now {status}"
                out.append(r.message_id)
        return out

    async def retime(self, message_id: str, due_at: datetime) -> bool:
        r = self.rows.get(message_id)
        if r is None or r.status != "pending" or r.attempts or r.next_attempt_at == due_at:
            return False
        r.next_attempt_at = due_at
        return True

    def _queued(self, r: MessageRow) -> QueuedMessage:
        from services.notifier.domain.delivery import QueuedMessage

        return QueuedMessage(message_id=r.message_id, flow=r.flow, store_id=r.store_id, customer_key=r.customer_key,
                             order_id=r.order_id, channel=r.channel, marketing=r.marketing, status=r.status,
                             status_reason=r.status_reason, attempts=r.attempts, due_at=r.next_attempt_at,
                             created_at=r.created_at)

    async def queue(self, *, store_id: str | None = None, flow: str | None = None, status: str = "pending",
                    limit: int = 100) -> list[QueuedMessage]:
        rows = sorted((r for r in self.rows.values() if r.status == status and store_id in (None, r.store_id)
                       and flow in (None, r.flow)), key=lambda r: (r.next_attempt_at, r.seq))[:limit]
        return [self._queued(r) for r in rows]

    async def get(self, message_id: str) -> QueuedMessage | None:
        r = self.rows.get(message_id)
        return self._queued(r) if r else None

    async def resend(self, message_id: str) -> bool:
        r = self.rows.get(message_id)
        if r is None or r.status not in ("sent", "failed"):
            return False
        r.status, r.attempts, r.last_error, r.status_reason, r.next_attempt_at = "pending", 0, None, "resend", self.now()
        return True

    async def claim_due(self, limit: int, lease_s: float | None = None) -> list[StoredMessage]:
        from services.notifier.domain.delivery import StoredMessage

        due = sorted((r for r in self.rows.values() if r.status == "pending" and r.next_attempt_at <= self.now()),
                     key=lambda r: (r.next_attempt_at, r.seq))[:limit]
        names = {f.name for f in fields(StoredMessage)}
        claimed = [StoredMessage(**{k: v for k, v in vars(r).items() if k in names}) for r in due]
        if lease_s is not None:  # kept from other senders until the lease ends
            for r in due:
                r.next_attempt_at = self.now() + timedelta(seconds=lease_s)
        return claimed

    async def mark_sent_many(self, message_ids: list[str]) -> None:
        for message_id in message_ids:
            await self.mark_sent(message_id)

    async def defer(self, message_id: str, until: datetime, reason: str) -> None:
        if (row := self.rows.get(message_id)) and row.status == "pending":
            row.next_attempt_at, row.status_reason = until, reason

    async def mark_suppressed(self, message_id: str, reason: str) -> None:
        if (row := self.rows.get(message_id)) and row.status == "pending":
            row.status, row.status_reason = "suppressed", reason

    async def mark_cancelled(self, message_id: str, reason: str) -> None:
        if (row := self.rows.get(message_id)) and row.status == "pending":
            row.status, row.status_reason = "cancelled", reason

    async def queue_stats(self) -> tuple[int, float]:
        due = [r.next_attempt_at for r in self.rows.values() if r.status == "pending" and r.next_attempt_at <= self.now()]
        return len(due), (self.now() - min(due)).total_seconds() if due else 0.0

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


def memory_transactions(messages: MemoryMessages, outbox: FakeOutbox | None = None, settings=None,
                        suppressions=None) -> Callable[[], AbstractAsyncContextManager[InMemoryUnitOfWork]]:
    """What bootstrap's `lambda: in_transaction(pool)` is for the sender, in memory: each call opens
    a "transaction" over these repositories (and `settings`, a MemorySettings by default) that is
    undone if its block raises, as a rollback would."""
    outbox = outbox if outbox is not None else FakeOutbox()
    settings = settings if settings is not None else MemorySettings()
    from tests.support.fakes.notifier_consent import MemorySuppressions

    suppressions = suppressions if suppressions is not None else MemorySuppressions()  # hard bounces land here

    @asynccontextmanager
    async def transaction() -> AsyncIterator[InMemoryUnitOfWork]:
        rows, events = copy.deepcopy(messages.rows), list(outbox.events)
        try:
            yield InMemoryUnitOfWork(outbox, messages=messages, settings=settings, suppressions=suppressions)
        except BaseException:  # restored in place: tests may hold `messages.rows` / `outbox.events`
            messages.rows.clear()
            messages.rows.update(rows)
            outbox.events[:] = events
            raise

    return transaction


class MemorySettings:
    """PgSettings in memory: `stores` (store id → the fields it set) and `flow_rows`
    ((store id, flow) → FlowSettings) are the tables; the rest comes from the defaults."""

    def __init__(self, defaults=None, flow_defaults=None) -> None:
        from services.notifier.domain.store_settings import StoreSettings

        self.defaults = defaults or StoreSettings.defaults()
        self.flow_defaults = dict(flow_defaults or {})
        self.stores: dict[str, dict] = {}
        self.flow_rows: dict[tuple[str, str], object] = {}

    async def store_overrides(self, store_id: str) -> dict:
        return dict(self.stores.get(store_id, {}))

    async def store(self, store_id: str):
        overrides = self.stores.get(store_id)
        return self.defaults.stored(overrides)[0] if overrides else self.defaults

    async def put_store(self, store_id: str, changes: dict) -> None:
        self.stores[store_id] = {**self.stores.get(store_id, {}), **copy.deepcopy(changes)}

    async def flow(self, store_id: str, flow: str):
        from services.notifier.domain.flows import flow_defaults

        return self.flow_rows.get((store_id, flow)) or flow_defaults(flow, self.flow_defaults)

    async def flows(self, store_id: str) -> dict:
        from services.notifier.domain.flows import FLOWS, flow_defaults

        return {name: self.flow_rows.get((store_id, name)) or flow_defaults(name, self.flow_defaults)
                for name in FLOWS}

    async def put_flow(self, store_id: str, flow: str, settings) -> None:
        self.flow_rows[(store_id, flow)] = settings


class MemoryCustomers:
    """PgCustomers in memory: `rows` (customer key → CustomerRecord) is the table."""

    def __init__(self) -> None:
        self.rows: dict[str, CustomerRecord] = {}

    async def resolve(self, key: str) -> str:
        r = self.rows.get(key)
        return r.merged_into if r is not None and r.merged_into else key

    async def get(self, key: str) -> CustomerRecord | None:
        return self.rows.get(await self.resolve(key))

    def _upsert(self, key: str, store_id: str, **values) -> CustomerRecord:
        from dataclasses import replace

        from services.notifier.domain.customers import CustomerRecord

        current = self.rows.get(key) or CustomerRecord(customer_key=key, store_id=store_id)
        self.rows[key] = replace(current, **{k: v for k, v in values.items() if v is not None})
        return self.rows[key]

    async def saw_order(self, *, store_id, key, order_id, new_order, at, email, first_name, locale, country):
        key = await self.resolve(key)
        current = self.rows.get(key)
        first_id = current.first_order_id if current else None
        first_at = current.first_order_at if current else None
        seen = (current.orders_seen if current else 0) + (1 if new_order else 0)
        if new_order and first_id is None:
            first_id, first_at = order_id, at
        return self._upsert(key, store_id, email=email, first_name=first_name, locale=locale, country=country,
                            orders_seen=seen, first_order_id=first_id, first_order_at=first_at)

    async def saw_profile(self, *, store_id, key, email, first_name, locale, country) -> None:
        self._upsert(await self.resolve(key), store_id, email=email, first_name=first_name, locale=locale,
                     country=country)

    async def set_consent(self, *, store_id, key, consent) -> None:
        from dataclasses import replace

        key = await self.resolve(key)
        self._upsert(key, store_id)
        self.rows[key] = replace(self.rows[key], consent=consent)

    async def link(self, *, store_id, from_key, to_key) -> bool:
        from dataclasses import replace

        from services.notifier.domain.customers import CustomerRecord, merge

        guest = self.rows.get(from_key)
        if guest is None or guest.merged_into or from_key == to_key:
            return False
        survivor = self.rows.get(to_key) or CustomerRecord(customer_key=to_key, store_id=store_id)
        self.rows[to_key] = merge(survivor, guest)
        self.rows[from_key] = replace(guest, merged_into=to_key, email=None, first_name=None, orders_seen=0)
        for k, r in list(self.rows.items()):
            if r.merged_into == from_key:
                self.rows[k] = replace(r, merged_into=to_key)
        return True


class MemoryOrderState:
    """PgOrderState in memory: `rows` ((store id, order id) → dict of status, event_time, last_event)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], dict] = {}

    async def track(self, *, store_id, order_id, customer_key, status, event_time, data):
        row = self.rows.get((store_id, order_id))
        if row is None:
            self.rows[(store_id, order_id)] = {"status": status, "event_time": event_time, "last_event": data,
                                               "customer_key": customer_key}
            return True, status
        if row["event_time"] <= event_time:
            row.update(status=status, event_time=event_time, customer_key=customer_key,
                       last_event=data if data is not None else row["last_event"])
        return False, row["status"]

    async def status(self, store_id, order_id):
        row = self.rows.get((store_id, order_id))
        return row["status"] if row else None

    async def last_event(self, store_id, order_id):
        row = self.rows.get((store_id, order_id))
        return copy.deepcopy(row["last_event"]) if row and row["last_event"] else None


def memory_unit_of_work(*, settings: MemorySettings | None = None, now: Callable[[], datetime] = utcnow,
                        **more) -> InMemoryUnitOfWork:
    """What a notifier handler gets as `tx` in a unit test: every notifier repository in memory."""
    from services.notifier.domain.messages import MessageConfig
    from tests.support.fakes.notifier_consent import MemoryConsent, MemoryDigests, MemoryErasure, MemorySuppressions

    messages, customers, orders = MemoryMessages(now=now), MemoryCustomers(), MemoryOrderState()
    from tests.support.fakes.notifier_profiles import MemoryCatalogue, MemoryMessageProducts, MemoryProfiles

    consent = MemoryConsent(messages)
    repos = {"profiles": MemoryProfiles(), "catalogue": MemoryCatalogue(),
             "message_products": MemoryMessageProducts(messages),
             "consent": consent, "suppressions": MemorySuppressions(), "digests": MemoryDigests(messages),
             "erasure": MemoryErasure(messages, customers, orders, consent), **more}
    return InMemoryUnitOfWork(
        FakeOutbox(), messages=messages, settings=settings or MemorySettings(), customers=customers,
        orders=orders, config=MessageConfig(), **repos)
