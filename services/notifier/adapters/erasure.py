"""PgErasure: a customer's personal data out of the notifier's database (customer.erased): the
addresses and names on the customer record, every message's address, subject and bodies, the
order events kept for previews, the consent record. What stays is what counts: the message rows
(flow, status, times) under the registered key, and the address hashes on the suppression list
(erasure.py puts them there first). Guest keys merged into the customer (their key is a hash of
the email) are folded into the registered key and their records deleted.
"""
from __future__ import annotations

import asyncpg


class PgErasure:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def keys_of(self, key: str) -> list[str]:
        """The customer's key and the guest keys merged into it."""
        rows = await self.db.fetch("SELECT customer_key FROM customers WHERE merged_into = $1", key)
        return [key, *(r["customer_key"] for r in rows if r["customer_key"] != key)]

    async def addresses(self, keys: list[str]) -> list[str]:
        """Every address the notifier holds for these keys (lowercased, trimmed)."""
        rows = await self.db.fetch(
            "SELECT DISTINCT lower(btrim(a)) AS a FROM ("
            " SELECT to_address AS a FROM messages WHERE customer_key = ANY($1::text[])"
            " UNION SELECT email FROM customers WHERE customer_key = ANY($1::text[])) x"
            " WHERE a IS NOT NULL AND btrim(a) <> ''", keys)
        return [r["a"] for r in rows]

    async def erase(self, key: str, keys: list[str], addresses: list[str]) -> int:
        """Blank it all; returns how many messages were blanked. Pending messages are cancelled."""
        done = await self.db.execute(
            "UPDATE messages SET to_address = '', subject = '', body_text = '', body_html = '', last_error = NULL,"
            " customer_key = $1,"
            " status_reason = CASE WHEN status = 'pending' THEN 'erased' ELSE status_reason END,"
            " status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END"
            " WHERE customer_key = ANY($2::text[]) OR lower(btrim(to_address)) = ANY($3::text[])",
            key, keys, addresses)
        await self.db.execute(
            "UPDATE customers SET email = NULL, first_name = NULL, locale = NULL, timezone = NULL, country = NULL,"
            " consent = NULL, updated_at = now() WHERE customer_key = $1", key)
        await self.db.execute("DELETE FROM customers WHERE customer_key = ANY($1::text[]) AND customer_key <> $2",
                              keys, key)
        await self.db.execute("UPDATE order_state SET last_event = NULL, customer_key = $1"
                              " WHERE customer_key = ANY($2::text[])", key, keys)
        await self.db.execute("UPDATE marketing_contacts SET customer_key = $1 WHERE customer_key = ANY($2::text[])",
                              key, keys)
        await self.db.execute("DELETE FROM consents WHERE customer_key = ANY($1::text[])", keys)
        return int(done.split()[-1])
