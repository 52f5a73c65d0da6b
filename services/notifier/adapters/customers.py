"""PgCustomers: the notifier's per-customer record (`customers`, migrations/002_flows.sql), written
from the events it consumes. A guest key that customer.linked merged points at its survivor
(`merged_into`): reads and writes through the guest key land on the survivor.
tests/support/fakes/notifier.py's MemoryCustomers is its in-memory twin.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg

from services.notifier.domain.customers import CustomerRecord, merge

_FIELDS = ("customer_key, store_id, email, first_name, locale, timezone, country, consent, orders_seen,"
           " first_order_id, first_order_at, merged_into")


class PgCustomers:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def _row(self, key: str) -> CustomerRecord | None:
        row = await self.db.fetchrow(f"SELECT {_FIELDS} FROM customers WHERE customer_key = $1", key)
        return CustomerRecord(**dict(row)) if row else None

    async def resolve(self, key: str) -> str:
        """The key a customer's record lives under now (the survivor of a merge)."""
        row = await self._row(key)
        return row.merged_into if row is not None and row.merged_into else key

    async def get(self, key: str) -> CustomerRecord | None:
        return await self._row(await self.resolve(key))

    async def saw_order(self, *, store_id: str, key: str, order_id: int, new_order: bool, at: datetime,
                        email: str | None, first_name: str | None, locale: str | None,
                        country: str | None) -> CustomerRecord:
        """Note an order event: the contact details it carries (the latest win, blanks don't erase)
        and, when the order is new to the notifier, one more order seen (the first one remembered)."""
        n = 1 if new_order else 0
        # One statement: the key resolved to a merge's survivor, then the upsert on it.
        row = await self.db.fetchrow(
            "INSERT INTO customers (customer_key, store_id, email, first_name, locale, country, orders_seen,"
            " first_order_id, first_order_at)"
            " SELECT coalesce((SELECT merged_into FROM customers WHERE customer_key = $1), $1),"
            " $2, $3, $4, $5, $6, $7,"
            " CASE WHEN $7 > 0 THEN $8::bigint END, CASE WHEN $7 > 0 THEN $9::timestamptz END"
            " ON CONFLICT (customer_key) DO UPDATE SET"
            " email = coalesce(EXCLUDED.email, customers.email),"
            " first_name = coalesce(EXCLUDED.first_name, customers.first_name),"
            " locale = coalesce(EXCLUDED.locale, customers.locale),"
            " country = coalesce(EXCLUDED.country, customers.country),"
            " orders_seen = customers.orders_seen + $7,"
            " first_order_id = coalesce(customers.first_order_id, EXCLUDED.first_order_id),"
            " first_order_at = coalesce(customers.first_order_at, EXCLUDED.first_order_at),"
            " updated_at = now()"
            f" RETURNING {_FIELDS}",
            key, store_id, email, first_name, locale, country, n, order_id, at)
        return CustomerRecord(**dict(row))

    async def saw_profile(self, *, store_id: str, key: str, email: str | None, first_name: str | None,
                          locale: str | None, country: str | None) -> None:
        """customer.registered / customer.updated: the store's own view of the contact details."""
        key = await self.resolve(key)
        await self.db.execute(
            "INSERT INTO customers (customer_key, store_id, email, first_name, locale, country)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (customer_key) DO UPDATE SET"
            " email = coalesce(EXCLUDED.email, customers.email),"
            " first_name = coalesce(EXCLUDED.first_name, customers.first_name),"
            " locale = coalesce(EXCLUDED.locale, customers.locale),"
            " country = coalesce(EXCLUDED.country, customers.country), updated_at = now()",
            key, store_id, email, first_name, locale, country)

    async def set_consent(self, *, store_id: str, key: str, consent: bool | None) -> None:
        key = await self.resolve(key)
        await self.db.execute(
            "INSERT INTO customers (customer_key, store_id, consent) VALUES ($1,$2,$3)"
            " ON CONFLICT (customer_key) DO UPDATE SET consent = EXCLUDED.consent, updated_at = now()",
            key, store_id, consent)

    async def link(self, *, store_id: str, from_key: str, to_key: str) -> bool:
        """customer.linked: fold the guest's record into the registered one; False when there was
        nothing to merge (no guest record, or merged already — a redelivery)."""
        guest = await self._row(from_key)
        if guest is None or guest.merged_into or from_key == to_key:
            return False
        survivor = await self._row(to_key) or CustomerRecord(customer_key=to_key, store_id=store_id)
        m = merge(survivor, guest)
        await self.db.execute(
            "INSERT INTO customers (customer_key, store_id, email, first_name, locale, timezone, country,"
            " consent, orders_seen, first_order_id, first_order_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
            " ON CONFLICT (customer_key) DO UPDATE SET email = EXCLUDED.email, first_name = EXCLUDED.first_name,"
            " locale = EXCLUDED.locale, timezone = EXCLUDED.timezone, country = EXCLUDED.country,"
            " consent = EXCLUDED.consent, orders_seen = EXCLUDED.orders_seen,"
            " first_order_id = EXCLUDED.first_order_id, first_order_at = EXCLUDED.first_order_at,"
            " updated_at = now()",
            m.customer_key, m.store_id, m.email, m.first_name, m.locale, m.timezone, m.country, m.consent,
            m.orders_seen, m.first_order_id, m.first_order_at)
        # The guest row keeps only the pointer (its personal data lives on in the survivor).
        await self.db.execute(
            "UPDATE customers SET merged_into = $2, email = NULL, first_name = NULL, orders_seen = 0,"
            " updated_at = now() WHERE customer_key = $1", from_key, to_key)
        await self.db.execute("UPDATE customers SET merged_into = $2 WHERE merged_into = $1", from_key, to_key)
        return True
