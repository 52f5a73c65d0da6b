"""A PostgreSQL schema of a test's own: the service's tables created fresh in it (its migrations run
there), nothing shared with other tests or a running dev system that use the same database.

    async with isolated_schema(stack.service_dsn("ingest"), f"it_{uid}") as dsn:
        app = create_app(IngestSettings(database_url=dsn, ...))

Tests that leave rows a relay can't publish use it, so that no other relay on the database (another
test's, a dev system's) ever sees them.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def isolated_schema(dsn: str, name: str) -> AsyncIterator[str]:
    """Create schema `name` in `dsn`'s database; yield a DSN whose connections see only it
    (asyncpg passes unknown DSN parameters on as server settings); drop it afterwards."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        try:
            yield f"{dsn}{'&' if '?' in dsn else '?'}search_path={name}"
        finally:
            await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()
