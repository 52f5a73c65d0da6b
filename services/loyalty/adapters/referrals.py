"""PgReferrals: referral codes and referrals (migrations/006). MemoryReferrals is its twin."""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Referral:
    referred_key: str
    referrer_key: str
    store_id: str
    status: str
    reason: str | None
    order_id: int | None


class PgReferrals:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def code_for(self, customer_key: str, store_id: str, code: str) -> str:
        """The member's code, recorded on first ask."""
        await self.db.execute("INSERT INTO referral_codes (code, customer_key, store_id) VALUES ($1, $2, $3)"
                              " ON CONFLICT DO NOTHING", code, customer_key, store_id)
        return await self.db.fetchval("SELECT code FROM referral_codes WHERE customer_key = $1", customer_key)

    async def owner(self, code: str) -> str | None:
        return await self.db.fetchval("SELECT customer_key FROM referral_codes WHERE code = $1", code)

    async def add(self, *, referred_key: str, referrer_key: str, store_id: str, status: str,
                  reason: str | None) -> bool:
        """False when the customer was referred already (once per referred customer)."""
        return bool(await self.db.fetchval(
            "INSERT INTO referrals (referred_key, referrer_key, store_id, status, reason) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (referred_key) DO NOTHING RETURNING 1", referred_key, referrer_key, store_id, status, reason))

    async def get(self, referred_key: str, *, lock: bool = False) -> Referral | None:
        row = await self.db.fetchrow("SELECT referred_key, referrer_key, store_id, status, reason, order_id FROM referrals"
                                     " WHERE referred_key = $1" + (" FOR UPDATE" if lock else ""), referred_key)
        return None if row is None else Referral(**dict(row))

    async def settle(self, referred_key: str, status: str, *, reason: str | None = None,
                     order_id: int | None = None) -> None:
        await self.db.execute("UPDATE referrals SET status = $2, reason = $3, order_id = $4, updated_at = now()"
                              " WHERE referred_key = $1", referred_key, status, reason, order_id)
