"""PgProfiles: the latest profile per customer from profiles.v1 (`customer_profiles`). An older
profile arriving late never overwrites a newer one; customer.erased deletes the row.
tests/support/fakes/notifier_profiles.py's MemoryProfiles is its in-memory twin."""
from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from shared.events.profiles import ProfileUpdated


class PgProfiles:
    def __init__(self, db: asyncpg.Connection | asyncpg.Pool) -> None:
        self.db = db

    async def put(self, profile: ProfileUpdated, at: datetime) -> bool:
        """Keep `profile` unless a newer one is known; whether it was kept."""
        return bool(await self.db.fetchval(
            "INSERT INTO customer_profiles (customer_key, store_id, profile, event_time) VALUES ($1,$2,$3::jsonb,$4)"
            " ON CONFLICT (customer_key) DO UPDATE SET profile = EXCLUDED.profile, event_time = EXCLUDED.event_time,"
            " store_id = EXCLUDED.store_id, updated_at = now()"
            " WHERE customer_profiles.event_time <= EXCLUDED.event_time RETURNING 1",
            profile.customer_key, profile.store_id, profile.model_dump_json(), at))

    async def get(self, customer_key: str) -> ProfileUpdated | None:
        raw = await self.db.fetchval("SELECT profile FROM customer_profiles WHERE customer_key = $1", customer_key)
        return None if raw is None else ProfileUpdated.model_validate(json.loads(raw))

    async def delete(self, customer_key: str) -> bool:
        return bool(await self.db.fetchval(
            "DELETE FROM customer_profiles WHERE customer_key = $1 RETURNING 1", customer_key))
