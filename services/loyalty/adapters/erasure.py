"""PgErasure: customer.erased in loyalty's database. The member rows (email, tier), the links and
the referral code go; the ledger and the orders' facts keep every amount under a random pseudonymous key, so every
sum stays consistent. Guest keys linked to the customer (sha256 of their email) go the same way.
The one UPDATE of the append-only ledger, by law."""
from __future__ import annotations

import asyncpg


class PgErasure:
    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def erase(self, customer_key: str, pseudonym: str) -> int:
        """Returns the ledger entries moved to the pseudonym."""
        keys = [customer_key] + [r["from_key"] for r in await self.db.fetch(
            "SELECT from_key FROM customer_links WHERE to_key = $1", customer_key)]
        moved = await self.db.execute("UPDATE ledger SET customer_key = $2 WHERE customer_key = ANY($1::text[])",
                                      keys, pseudonym)
        await self.db.execute("UPDATE order_facts SET customer_key = $2 WHERE customer_key = ANY($1::text[])",
                              keys, pseudonym)
        await self.db.execute("DELETE FROM customer_links WHERE from_key = ANY($1::text[]) OR to_key = ANY($1::text[])",
                              keys)
        await self.db.execute("DELETE FROM members WHERE customer_key = ANY($1::text[])", keys)
        await self.db.execute("DELETE FROM referral_codes WHERE customer_key = ANY($1::text[])", keys)
        for table in ("redemptions", "adjustments"):  # a held redemption's return lands on the pseudonym too
            await self.db.execute(f"UPDATE {table} SET customer_key = $2 WHERE customer_key = ANY($1::text[])",
                                  keys, pseudonym)
        await self.db.execute("UPDATE referrals SET referrer_key = $2 WHERE referrer_key = ANY($1::text[])",
                              keys, pseudonym)
        await self.db.execute("UPDATE referrals SET referred_key = $2 WHERE referred_key = ANY($1::text[])",
                              keys, pseudonym)
        return int(moved.split()[-1])
