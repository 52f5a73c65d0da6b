"""The asyncpg pool every service opens (in its Runtime, never at import time)."""
from __future__ import annotations

import asyncpg


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=30)


async def ping(pool: asyncpg.Pool, timeout_s: float = 1.0) -> None:
    """One round trip (readiness): raises when PostgreSQL doesn't answer in time."""
    await pool.fetchval("SELECT 1", timeout=timeout_s)
