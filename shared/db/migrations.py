"""SQL migrations: numbered .sql files, applied once, in order (shared/db/sql first, then the service's).

Migrations run under an advisory lock so several instances starting together apply each file
exactly once; each file runs in its own transaction with its version row.
"""
from __future__ import annotations

from pathlib import Path

import asyncpg

SHARED_SQL = Path(__file__).parent / "sql"
_LOCK_KEY = 727_001


def _migration_files(dirs: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    out = []
    for prefix, d in dirs:
        for f in sorted(d.glob("*.sql")):
            out.append((f"{prefix}/{f.stem}", f))
    return out


async def apply_migrations(pool: asyncpg.Pool, service_dir: Path, prefix: str) -> list[str]:
    """Apply shared/db/sql then the service's migrations/; returns the versions applied now."""
    files = _migration_files([("shared", SHARED_SQL), (prefix, service_dir)])
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, path in files:
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text())
                    await conn.execute("INSERT INTO schema_migrations(version) VALUES ($1)", version)
                applied_now.append(version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
