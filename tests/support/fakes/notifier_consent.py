"""In-memory twins of the notifier's consent repositories (adapters/consent.py, suppressions.py,
digests.py), same methods and rules, for unit tests of gating, the customer pages and erasure.

    consent, suppressions = MemoryConsent(messages), MemorySuppressions()
    tx = InMemoryUnitOfWork(messages=messages, consent=consent, suppressions=suppressions,
                            digests=MemoryDigests(messages), settings=MemorySettings(), ...)
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # shared never imports services at import time
    from services.notifier.domain.consent import ConsentRecord
    from services.notifier.domain.delivery import StoredMessage


class MemoryConsent:
    """PgConsent in memory. `messages` (a MemoryMessages) lets a contact of a failed message stop
    counting, as the JOIN does."""

    def __init__(self, messages: Any = None) -> None:
        self.messages = messages
        self.records: dict[str, ConsentRecord] = {}
        self.stores: dict[str, str] = {}
        self.contacts_at: dict[str, tuple[str, datetime]] = {}  # message id → (customer key, at)
        self.locked: list[str] = []
        self.held_elsewhere: set[str] = set()  # keys another sender's transaction holds (a test sets it)

    async def get(self, customer_key: str) -> ConsentRecord | None:
        return self.records.get(customer_key)

    async def put(self, customer_key: str, store_id: str, record: ConsentRecord) -> None:
        self.records[customer_key], self.stores[customer_key] = record, store_id

    async def forget(self, customer_key: str) -> None:
        self.records.pop(customer_key, None)

    async def lock_customer(self, customer_key: str) -> bool:
        self.locked.append(customer_key)
        return customer_key not in self.held_elsewhere

    async def contacts(self, customer_key: str, since: datetime, *, excluding: str) -> list[datetime]:
        def failed(message_id: str) -> bool:
            row = self.messages.rows.get(message_id) if self.messages is not None else None
            return row is not None and row.status == "failed"

        return [at for mid, (key, at) in self.contacts_at.items()
                if key == customer_key and at > since and mid != excluding and not failed(mid)]

    async def add_contact(self, message_id: str, customer_key: str, at: datetime) -> None:
        self.contacts_at.setdefault(message_id, (customer_key, at))


@dataclass(frozen=True)
class _Entry:
    store_id: str
    address_hash: str
    reason: str
    detail: str | None
    created_at: datetime


class MemorySuppressions:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], _Entry] = {}

    async def reasons(self, store_id: str, address_hash: str) -> set[str]:
        return {r for (s, h, r) in self.entries if (s, h) == (store_id, address_hash)}

    async def add(self, store_id: str, address_hash: str, reason: str, detail: str | None = None) -> bool:
        if (store_id, address_hash, reason) in self.entries:
            return False
        self.entries[(store_id, address_hash, reason)] = _Entry(store_id, address_hash, reason, detail,
                                                                datetime.now(timezone.utc))
        return True

    async def get(self, store_id: str, address_hash: str, reason: str):
        from services.notifier.adapters.suppressions import Suppression

        e = self.entries.get((store_id, address_hash, reason))
        return None if e is None else Suppression(e.store_id, e.address_hash, e.reason, e.detail, e.created_at)

    async def remove(self, store_id: str, address_hash: str, reason: str) -> bool:
        return self.entries.pop((store_id, address_hash, reason), None) is not None

    async def list(self, store_id: str, *, reason: str | None = None, limit: int = 100,
                   after: str | None = None) -> list:
        from services.notifier.adapters.suppressions import Suppression

        mine = sorted((e for e in self.entries.values() if e.store_id == store_id
                       and (reason is None or e.reason == reason) and (after is None or e.address_hash > after)),
                      key=lambda e: (e.address_hash, e.reason))[:limit]
        return [Suppression(e.store_id, e.address_hash, e.reason, e.detail, e.created_at) for e in mine]


class MemoryDigests:
    """PgDigests over a MemoryMessages' rows."""

    def __init__(self, messages: Any) -> None:
        self.messages = messages

    async def candidates(self, lead: StoredMessage, due_by: datetime, limit: int = 20) -> list[StoredMessage]:
        from services.notifier.domain.delivery import StoredMessage

        rows = sorted((r for r in self.messages.rows.values()
                       if r.status == "pending" and r.channel == "email" and r.customer_key == lead.customer_key
                       and r.to_address == lead.to_address and r.message_id != lead.message_id
                       and r.next_attempt_at <= due_by), key=lambda r: (r.next_attempt_at, r.seq))[:limit]
        names = {f.name for f in fields(StoredMessage)}
        return [StoredMessage(**{k: v for k, v in vars(r).items() if k in names}) for r in rows]

    async def take(self, lead_id: str, part_ids: list[str], lease_until: datetime) -> None:
        for part in part_ids:
            row = self.messages.rows[part]
            row.next_attempt_at = lease_until
            row.digest_id = lead_id  # plain attribute when the row type has no such field
        if (lead := self.messages.rows.get(lead_id)) is not None:
            lead.digest_id = lead_id


class MemoryErasure:
    """PgErasure over the in-memory messages, customers, order state and consent."""

    def __init__(self, messages: Any, customers: Any, orders: Any, consent: MemoryConsent) -> None:
        self.messages, self.customers, self.orders, self.consent = messages, customers, orders, consent

    async def keys_of(self, key: str) -> list[str]:
        return [key, *(k for k, r in self.customers.rows.items() if r.merged_into == key and k != key)]

    async def addresses(self, keys: list[str]) -> list[str]:
        found = {r.to_address for r in self.messages.rows.values() if r.customer_key in keys}
        found |= {r.email for k, r in self.customers.rows.items() if k in keys and r.email}
        return sorted({a.strip().lower() for a in found if a and a.strip()})

    async def erase(self, key: str, keys: list[str], addresses: list[str]) -> int:
        from dataclasses import replace

        blanked = 0
        for r in self.messages.rows.values():
            if r.customer_key in keys or r.to_address.strip().lower() in addresses:
                r.to_address = r.subject = r.body_text = r.body_html = ""
                r.customer_key, r.last_error = key, None
                if r.status == "pending":
                    r.status, r.status_reason = "cancelled", "erased"
                blanked += 1
        if key in self.customers.rows:
            self.customers.rows[key] = replace(self.customers.rows[key], email=None, first_name=None, locale=None,
                                               timezone=None, country=None, consent=None)
        for k in keys:
            if k != key:
                self.customers.rows.pop(k, None)
        for row in self.orders.rows.values():
            if row["customer_key"] in keys:
                row["last_event"], row["customer_key"] = None, key
        for k in keys:
            self.consent.records.pop(k, None)
        return blanked
