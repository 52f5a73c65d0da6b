"""The asyncpg pool every service opens (in its Runtime, never at import time)."""
from __future__ import annotations

import asyncpg


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=30)
